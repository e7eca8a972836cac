"""Where a person is, from a ZIP code, a city or a state, offline.

ZIP → county and state comes from the ``zipcodes`` package's data, indexed at
build time into ``zipindex.json.gz`` (no network, and no 50-240 MB database in
every webhook worker). Only the state and county are ever kept (in the
session, with its TTL), never the ZIP code or the city.
"""

from __future__ import annotations

import collections
import dataclasses
import gzip
import json
import re
import sys
from pathlib import Path

from bot.language.languages import fold

#: US states, DC and territories: code → names people use (English and Spanish).
STATE_NAMES: dict[str, tuple[str, ...]] = {
    "AL": ("alabama",), "AK": ("alaska",), "AZ": ("arizona",), "AR": ("arkansas",),
    "CA": ("california",), "CO": ("colorado",), "CT": ("connecticut",), "DE": ("delaware",),
    "DC": ("district of columbia", "washington dc", "washington d c"), "FL": ("florida",),
    "GA": ("georgia",), "HI": ("hawaii",), "ID": ("idaho",), "IL": ("illinois",),
    "IN": ("indiana",), "IA": ("iowa",), "KS": ("kansas",), "KY": ("kentucky",),
    "LA": ("louisiana", "luisiana"), "ME": ("maine",), "MD": ("maryland",),
    "MA": ("massachusetts",), "MI": ("michigan", "michigan state"), "MN": ("minnesota",),
    "MS": ("mississippi", "misisipi"), "MO": ("missouri",), "MT": ("montana",),
    "NE": ("nebraska",), "NV": ("nevada",), "NH": ("new hampshire", "nuevo hampshire"),
    "NJ": ("new jersey", "nueva jersey"), "NM": ("new mexico", "nuevo mexico"),
    "NY": ("new york", "nueva york", "new york state"), "NC": ("north carolina", "carolina del norte"),
    "ND": ("north dakota", "dakota del norte"), "OH": ("ohio",), "OK": ("oklahoma",),
    "OR": ("oregon",), "PA": ("pennsylvania", "pensilvania"), "RI": ("rhode island",),
    "SC": ("south carolina", "carolina del sur"), "SD": ("south dakota", "dakota del sur"),
    "TN": ("tennessee",), "TX": ("texas", "tejas"), "UT": ("utah",), "VT": ("vermont",),
    "VA": ("virginia",), "WA": ("washington", "washington state"),
    "WV": ("west virginia", "virginia occidental"), "WI": ("wisconsin",), "WY": ("wyoming",),
    "PR": ("puerto rico",), "GU": ("guam",), "VI": ("us virgin islands", "islas virgenes"),
}
US_STATE_CODES = frozenset(STATE_NAMES)

#: State names as written in the other supported languages (folded: no accents).
STATE_NAMES_OTHER_LANGUAGES: dict[str, str] = {
    "californie": "CA", "kalifoni": "CA", "californy": "CA", "加州": "CA", "加利福尼亚": "CA", "كاليفورنيا": "CA",
    "floride": "FL", "florid": "FL", "florida": "FL", "佛罗里达": "FL", "佛州": "FL", "فلوريدا": "FL",
    "texas": "TX", "teksas": "TX", "得州": "TX", "德州": "TX", "德克萨斯": "TX", "تكساس": "TX",
    "new york": "NY", "nouyok": "NY", "nova york": "NY", "纽约": "NY", "纽约州": "NY", "نيويورك": "NY",
    "illinois": "IL", "ilinwa": "IL", "伊利诺伊": "IL", "伊利诺伊州": "IL", "إلينوي": "IL", "الينوي": "IL",
    "oregon": "OR", "俄勒冈": "OR", "أوريغون": "OR",
    "georgie": "GA", "jeyoji": "GA", "caroline du nord": "NC", "karolin di no": "NC",
    "louisiane": "LA", "lwizyan": "LA", "massachusetts": "MA", "masachouset": "MA", "massachusets": "MA",
    "new jersey": "NJ", "nouvo jese": "NJ", "pennsylvanie": "PA", "pensilvani": "PA",
    "michigan": "MI", "ميشيغان": "MI", "密歇根": "MI", "washington": "WA", "华盛顿州": "WA",
}

#: ZIP → county, city → place (``make zipindex`` builds it from the zipcodes package).
INDEX_PATH = Path(__file__).with_name("zipindex.json.gz")
_ZIP = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")
#: A city must have at least this share of its ZIP codes in one state to be placed there.
CITY_STATE_SHARE = 0.8


@dataclasses.dataclass(frozen=True)
class Location:
    state: str  # two-letter code
    county: str | None = None  # e.g. "Cook" (without "County")

    def as_session(self) -> dict[str, str | None]:
        return {"state": self.state, "county": self.county}

    @classmethod
    def from_session(cls, data: object) -> "Location | None":
        if isinstance(data, dict) and data.get("state") in US_STATE_CODES:
            county = data.get("county")
            return cls(str(data["state"]), str(county) if county else None)
        return None

    def label(self) -> str:
        return f"{self.county} County, {self.state}" if self.county else self.state


def _county_name(raw: str | None) -> str | None:
    if not raw:
        return None
    for suffix in (" County", " Parish", " Borough", " Census Area", " Municipality"):
        if raw.endswith(suffix):
            return raw[: -len(suffix)]
    return raw


def build_index() -> dict:
    """ZIP → county, city → place and ZIP prefix → counties, from the zipcodes package.

    Run by ``make zipindex`` (``python -m bot.content.location build``), never by the
    webhook: the zipcodes package holds its whole database in memory once used (~47 MB
    in its extension, ~190 MB more after ``list_all()``), in every worker. The result is
    checked in as ``zipindex.json.gz``; tests/test_location_index.py compares the two.
    """
    import zipcodes  # dev requirement: only this builder reads the package

    places: dict[tuple[str, str | None], int] = {}
    by_zip: dict[str, int] = {}
    cities: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    counties: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    zip3: dict[str, set[int]] = collections.defaultdict(set)
    for state in sorted(US_STATE_CODES):
        for record in zipcodes.filter_by_state(state):
            if record.get("state") != state:
                continue
            county = _county_name(record.get("county"))
            place = places.setdefault((state, county), len(places))
            by_zip[record["zip_code"]] = place
            city = fold(record.get("city") or "")
            cities[city][state] += 1
            counties[(city, state)][county] += 1
            if county:
                zip3[record["zip_code"][:3]].add(place)
    city_places: dict[str, int] = {}
    for city, states in cities.items():
        state, count = states.most_common(1)[0]
        if count / sum(states.values()) >= CITY_STATE_SHARE:
            county, county_count = counties[(city, state)].most_common(1)[0]
            key = (state, county if county_count / count >= CITY_STATE_SHARE else None)
            city_places[city] = places.setdefault(key, len(places))
    return {
        "source": f"zipcodes {zipcodes.__version__}",
        "places": [list(key) for key in places],
        "zips": dict(sorted(by_zip.items())),
        "cities": dict(sorted(city_places.items())),
        "zip3": {prefix: sorted(ids) for prefix, ids in sorted(zip3.items())},
    }


class LocationResolver:
    """Resolves ZIP codes, cities and state names, from the checked-in index. Build once per process."""

    def __init__(self, index_path: Path = INDEX_PATH) -> None:
        with gzip.open(index_path, "rt", encoding="utf-8") as handle:
            index = json.load(handle)
        # One Location per county, shared by its ZIP codes (42k ZIPs, ~3k counties).
        places = [Location(state, county) for state, county in index["places"]]
        self.source: str = index.get("source", "")
        self._by_zip: dict[str, Location] = {code: places[i] for code, i in index["zips"].items()}
        self._cities: dict[str, Location] = {city: places[i] for city, i in index["cities"].items()}
        self._counties_by_zip3: dict[str, frozenset[tuple[str, str]]] = {
            prefix: frozenset((places[i].state, places[i].county) for i in ids) for prefix, ids in index["zip3"].items()
        }
        self._state_words = {name: code for code, names in STATE_NAMES.items() for name in names}
        self._state_words.update(STATE_NAMES_OTHER_LANGUAGES)

    def from_zip(self, zip_code: str) -> Location | None:
        return self._by_zip.get(zip_code[:5])

    def counties_for_zip_prefix(self, prefix: str) -> set[tuple[str, str]]:
        """(state, county) pairs that have ZIP codes starting with ``prefix`` (3 digits)."""
        return set(self._counties_by_zip3.get(prefix[:3], ()))

    def from_state(self, text: str) -> Location | None:
        """A state by name ("Texas", "tejas") or by upper-case code ("TX").

        A two-letter code counts only in capitals and never "OK": "ok", "in",
        "me", "or", "hi" are ordinary words far more often than states.
        """
        code = self._state_words.get(fold(text))
        stripped = text.strip()
        if code is None and len(stripped) == 2 and stripped.isupper() and stripped != "OK":
            code = stripped if stripped in US_STATE_CODES else None
        return Location(code) if code else None

    def from_city(self, text: str) -> Location | None:
        return self._cities.get(fold(text))

    def from_text(self, text: str) -> Location | None:
        """A location when the whole message is a ZIP, a state or a city name."""
        stripped = text.strip()
        match = _ZIP.fullmatch(stripped)
        if match:
            return self.from_zip(match.group(1))
        return self.from_state(stripped) or self.from_city(stripped)

    def from_entities(self, entities) -> Location | None:
        """A location from NLU entities (``zip``, ``city``, ``state``); ZIP wins, then city+state."""
        by_name: dict[str, str] = {}
        for entity in entities:
            by_name.setdefault(entity.name, entity.value)
        if "zip" in by_name:
            match = _ZIP.search(by_name["zip"])
            if match and self.from_zip(match.group(1)):
                return self.from_zip(match.group(1))
        state = self.from_state(by_name["state"]) if "state" in by_name else None
        if "city" in by_name:
            city = self.from_city(by_name["city"])
            if city and (state is None or city.state == state.state):
                return city
        return state

    def zip_in_text(self, text: str) -> Location | None:
        """A location from a ZIP code anywhere in the message (the NLU may miss it)."""
        match = _ZIP.search(text)
        return self.from_zip(match.group(1)) if match else None


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.content.location build``: write zipindex.json.gz from the zipcodes package."""
    if (argv if argv is not None else sys.argv[1:]) != ["build"]:
        print("usage: python -m bot.content.location build", file=sys.stderr)
        return 2
    index = build_index()
    payload = json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    INDEX_PATH.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(f"{INDEX_PATH}: {len(index['zips'])} ZIP codes, {len(index['cities'])} cities, "
          f"{len(index['places'])} places ({index['source']}), {INDEX_PATH.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
