"""The directory of help: who to call, by need, place, language and time of day.

Two files hold every number and link a person can be given:

- ``responses/resources.yml``: the default for each ``{placeholder}`` in the
  answers (``{hotline}``, ``{legal_help}``, ``{locator}``, ...), chosen by people;
- ``responses/directory.yml``: national and local organizations (rapid
  response hotlines, public defenders, free legal help, detention help).

Both use one entry shape (``Resource``). The router picks, for a need, the
verified entry whose coverage is closest to the person (county, then state),
then the placeholder's verified default, then a verified national entry,
preferring entries that speak the person's language. An entry marked
``verified: false`` is never given to anyone: a wrong number in a raid is
worse than none. For urgent needs (ICE at the door, someone just taken) only
lines open at that moment count, else a 24/7 line. Coverage by ZIP prefix is
turned into counties at load time, because sessions keep only the state and
county.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Iterable

import phonenumbers
import yaml

from bot.timing.hours import HoursError, OpeningHours, parse_hours
from bot.content.location import Location, LocationResolver

KINDS = ("hotline", "defender", "legal_aid", "detention")
#: Placeholder → the kind of directory entry that can stand in for it near the person.
ROUTED_PLACEHOLDERS = {"hotline": "hotline", "legal_help": "legal_aid", "defender": "defender"}
#: ``hours:`` value when nobody confirmed them: never counted as open for urgent needs.
UNKNOWN_HOURS = "unknown"


class DirectoryError(ValueError):
    """The directory or resources file is malformed (the message names the file and entry)."""


@dataclasses.dataclass(frozen=True)
class Resource:
    id: str
    name: str
    short_name: str
    phone: str | None
    url: str | None
    languages: frozenset[str]
    hours: OpeningHours | None  # None: hours unknown
    kinds: frozenset[str]
    national: bool
    states: frozenset[str]
    counties: frozenset[tuple[str, str]]  # (state, county)
    verified: bool
    checked: datetime.date | None = None
    #: Shipped sample data a deployment must replace (production refuses it for the hotline).
    sample: bool = False
    #: resources.yml only: the placeholder whose value stands in when nothing verified fills this one.
    fallback: str | None = None

    def sms_label(self) -> str:
        """How the resource appears inside a reply: the organization's name, then phone (or URL)."""
        contact = self.phone_display() or self.url or ""
        return f"{self.short_name} {contact}".strip()

    def phone_display(self) -> str | None:
        if not self.phone:
            return None
        parsed = phonenumbers.parse(self.phone, "US")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL).replace("(", "").replace(") ", "-")

    @property
    def always_open(self) -> bool:
        return self.hours is not None and self.hours.always

    def is_open(self, now: datetime.datetime) -> bool:
        """Open at ``now`` by its own hours; unknown hours never count as open."""
        return self.hours is not None and self.hours.is_open(now)


def _hours(raw: dict, where: str) -> OpeningHours | None:
    text = str(raw.get("hours") or UNKNOWN_HOURS).strip()
    if text.lower() == UNKNOWN_HOURS:
        return None
    try:
        return parse_hours(text, str(raw.get("timezone") or "UTC"), what=f"{where}.hours", zone_what=f"{where}.timezone")
    except HoursError as exc:
        raise DirectoryError(str(exc)) from None


def _date(value: object, where: str) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise DirectoryError(f"{where}.checked must be a date like 2026-12-07, got {value!r}") from None


def _entry(raw: dict, resolver: LocationResolver | None, where: str = "directory") -> Resource:
    ident = str(raw.get("id") or "")
    if not ident:
        raise DirectoryError(f"{where}: an entry has no id: {raw.get('name')!r}")
    where = f"{where}.{ident}"
    coverage = raw.get("coverage") or {}
    counties: set[tuple[str, str]] = set()
    states = frozenset(str(s).upper() for s in coverage.get("states") or ())
    for county in coverage.get("counties") or ():
        if len(states) != 1:
            raise DirectoryError(f"{where}: counties need exactly one state in coverage.states")
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
        hours=_hours(raw, where),
        kinds=frozenset(str(kind) for kind in raw.get("kinds") or ()),
        national=bool(coverage.get("national")),
        states=states,
        counties=frozenset(counties),
        verified=raw.get("verified") is True,
        checked=_date(raw.get("checked"), where),
        sample=raw.get("sample") is True,
        fallback=str(raw["fallback"]) if raw.get("fallback") else None,
    )


def _read(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path}: cannot read YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DirectoryError(f"{path}: expected a mapping at the top level")
    return data


def load_directory(path: Path, resolver: LocationResolver | None = None) -> list[Resource]:
    if not path.exists():
        return []
    return [_entry(raw, resolver, path.name) for raw in _read(path).get("entries") or ()]


def _looks_like_phone(text: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(text, "US"))
    except phonenumbers.NumberParseException:
        return False


def load_resources(path: Path) -> dict[str, Resource]:
    """``resources.yml``: the default entry for each ``{placeholder}``, in the directory's shape.

    ``text`` is the bare number or link; ``label`` the organization's name shown before it.
    """
    resources: dict[str, Resource] = {}
    for name, raw in (_read(path).get("placeholders") or {}).items():
        if not isinstance(raw, dict) or not raw.get("text"):
            raise DirectoryError(f"{path.name}.placeholders.{name}: needs a 'text' (the number or link)")
        text = str(raw["text"]).strip()
        phone = text if _looks_like_phone(text) else None
        entry = dict(raw, id=str(name), phone=phone, url=None if phone else text)
        entry.setdefault("short_name", raw.get("label") or "")
        entry.setdefault("kinds", [ROUTED_PLACEHOLDERS[name]] if name in ROUTED_PLACEHOLDERS else [])
        entry.setdefault("coverage", {"national": True})
        resource = _entry(entry, None, f"{path.name}.placeholders")
        if not raw.get("label"):
            # No name: show the bare link (a number always needs a name, checked by make check-content).
            resource = dataclasses.replace(resource, short_name="")
        resources[str(name)] = resource
    for name, resource in resources.items():
        if resource.fallback and resource.fallback not in resources:
            raise DirectoryError(f"{path.name}.placeholders.{name}.fallback: no placeholder {resource.fallback!r}")
    return resources


class Router:
    """Chooses the best verified resource for a need, a place, a language and a moment."""

    def __init__(self, resources: list[Resource], defaults: dict[str, Resource] | None = None):
        self.resources = resources
        self.defaults = defaults or {}

    def ranked(self, placeholder: str, location: Location | None, lang: str) -> list[Resource]:
        """Every verified resource that can fill ``placeholder`` for this person, best first.

        Local entries (county, then state) come first, then the placeholder's
        default from ``resources.yml``, then national directory entries; within a
        level, one that speaks the person's language, then phone over URL.
        Unverified entries never appear.
        """
        kind = ROUTED_PLACEHOLDERS.get(placeholder)
        ranked = []
        if kind is not None:
            for resource in self.resources:
                if kind not in resource.kinds or not resource.verified:
                    continue
                closeness = self._closeness(resource, location)
                if closeness is None:
                    continue
                level = closeness if closeness < 2 else 3
                ranked.append((level, lang not in resource.languages, resource.phone is None, resource.id, resource))
        default = self.defaults.get(placeholder)
        if default is not None and default.verified:
            ranked.append((2, False, False, "", default))
        return [entry[-1] for entry in sorted(ranked)]

    def pick(
        self, placeholder: str, location: Location | None, lang: str, now: datetime.datetime | None = None
    ) -> Resource | None:
        """The resource to give, or ``None`` when no verified one exists.

        With ``now`` (urgent needs) the best line open at that moment wins;
        failing that a 24/7 line; failing that the best line at all (it may
        take a message), since giving nothing is worse.
        """
        ranked = self.ranked(placeholder, location, lang)
        default = self.defaults.get(placeholder)
        if not ranked and default is not None and default.fallback and default.fallback != placeholder:
            return self.pick(default.fallback, location, lang, now)
        if now is not None:
            for test in (lambda r: r.is_open(now), lambda r: r.always_open):
                for resource in ranked:
                    if test(resource):
                        return resource
        return ranked[0] if ranked else None

    def best(self, kind: str, location: Location | None, lang: str, include_national: bool = False) -> Resource | None:
        """The closest verified directory entry of ``kind`` (local only unless ``include_national``)."""
        placeholder = next((p for p, k in ROUTED_PLACEHOLDERS.items() if k == kind), None)
        for resource in self.ranked(placeholder, location, lang) if placeholder else ():
            if resource in self.resources and (include_national or not resource.national):
                return resource
        return None

    def default_values(self) -> dict[str, str]:
        """Each placeholder's national value: its verified default, else a verified national entry."""
        values = {}
        for name in set(self.defaults) | set(ROUTED_PLACEHOLDERS):
            resource = self.pick(name, None, "en")
            if resource is not None:
                values[name] = resource.sms_label()
        return values

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


def unverified(entries: Iterable[Resource]) -> list[Resource]:
    return [entry for entry in entries if not entry.verified]


def urgent_hotline_problem(resources: dict[str, Resource], path: Path) -> str | None:
    """Why the ``{hotline}`` default cannot be trusted in a raid, or ``None``.

    Production refuses to start with such a hotline; development starts and says so.
    """
    hotline = resources.get("hotline")
    where = f"{path} (placeholders.hotline)"
    if hotline is None:
        return f"{where} is missing: set your verified rapid-response hotline"
    if hotline.sample:
        return f"{where} is the shipped sample: set your own verified rapid-response hotline and remove 'sample: true'"
    if not hotline.verified:
        return f"{where} is not verified: confirm the number with the organization, then set 'verified: true'"
    return None
