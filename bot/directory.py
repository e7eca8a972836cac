"""The directory of help: who to call, by need, place and language.

``responses/directory.yml`` lists national and local organizations (rapid
response hotlines, public defenders, free legal help, detention help). The
router picks, for a need, the entry whose coverage is closest to the person
(county, then state, then national), preferring entries that speak the
person's language. Coverage by ZIP prefix is turned into counties at load
time, because sessions keep only the state and county.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import phonenumbers
import yaml

from bot.location import Location, LocationResolver

KINDS = ("hotline", "defender", "legal_aid", "detention")


class DirectoryError(ValueError):
    """The directory file is malformed (the message names the entry)."""


@dataclasses.dataclass(frozen=True)
class Resource:
    id: str
    name: str
    short_name: str
    phone: str | None
    url: str | None
    languages: frozenset[str]
    hours: str
    kinds: frozenset[str]
    national: bool
    states: frozenset[str]
    counties: frozenset[tuple[str, str]]  # (state, county)
    verified: bool

    def sms_label(self) -> str:
        """How the resource appears inside a reply: short name and phone (or URL)."""
        contact = self.phone_display() or self.url or ""
        return f"{self.short_name} {contact}".strip()

    def phone_display(self) -> str | None:
        if not self.phone:
            return None
        parsed = phonenumbers.parse(self.phone, "US")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL).replace("(", "").replace(") ", "-")


def _entry(raw: dict, resolver: LocationResolver | None) -> Resource:
    ident = str(raw.get("id") or "")
    if not ident:
        raise DirectoryError(f"an entry has no id: {raw.get('name')!r}")
    coverage = raw.get("coverage") or {}
    counties: set[tuple[str, str]] = set()
    states = frozenset(str(s).upper() for s in coverage.get("states") or ())
    for county in coverage.get("counties") or ():
        if len(states) != 1:
            raise DirectoryError(f"{ident}: counties need exactly one state in coverage.states")
        counties.add((next(iter(states)), str(county)))
    if resolver is not None:
        for prefix in coverage.get("zip_prefixes") or ():
            counties |= resolver.counties_for_zip_prefix(str(prefix))
    return Resource(
        id=ident,
        name=str(raw.get("name") or ident),
        short_name=str(raw.get("short_name") or raw.get("name") or ident),
        phone=str(raw["phone"]) if raw.get("phone") else None,
        url=str(raw["url"]) if raw.get("url") else None,
        languages=frozenset(str(lang) for lang in raw.get("languages") or ("en",)),
        hours=str(raw.get("hours") or ""),
        kinds=frozenset(str(kind) for kind in raw.get("kinds") or ()),
        national=bool(coverage.get("national")),
        states=states,
        counties=frozenset(counties),
        verified=bool(raw.get("verified")),
    )


def load_directory(path: Path, resolver: LocationResolver | None = None) -> list[Resource]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return [_entry(raw, resolver) for raw in data.get("entries") or ()]


class Router:
    """Chooses the best resource for a need, a place and a language."""

    def __init__(self, resources: list[Resource]):
        self.resources = resources

    def best(
        self, kind: str, location: Location | None, lang: str, include_national: bool = False
    ) -> Resource | None:
        """The closest resource of ``kind`` for the person, or ``None``.

        National entries are left out by default: answers then keep their
        national placeholder values from ``resources.yml``, chosen by people.
        """
        candidates = []
        for resource in self.resources:
            if kind not in resource.kinds:
                continue
            closeness = self._closeness(resource, location)
            if closeness is None or (closeness == 2 and not include_national):
                continue
            speaks = lang in resource.languages
            # Closer first; then one that speaks the person's language; then phone over URL.
            candidates.append((closeness, not speaks, resource.phone is None, resource.id, resource))
        return min(candidates)[-1] if candidates else None

    @staticmethod
    def _closeness(resource: Resource, location: Location | None) -> int | None:
        """0 = same county, 1 = same state, 2 = national; None = does not cover the person."""
        if location is not None:
            if location.county and (location.state, location.county) in resource.counties:
                return 0
            if location.state in resource.states and not resource.counties:
                return 1
        if resource.national:
            return 2
        return None
