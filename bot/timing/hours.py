"""Weekly opening hours: when hotline staff can take over, and when a help line answers.

Hours read like a sign on a door: ``Mon-Fri 09:00-17:00; Sat 10:00-14:00``
in a time zone, or ``always`` / ``24/7``. ``STAFF_HOURS`` uses them (outside
them the bot queues nobody, since nobody would answer), and so does each
entry of ``responses/directory.yml`` (urgent answers only give lines that are
open at that moment).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import zoneinfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(?P<days>[a-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


class HoursError(ValueError):
    """Hours or a time zone cannot be read (the message names the setting and shows the expected form)."""


@dataclasses.dataclass(frozen=True)
class OpeningHours:
    """Weekly opening windows as (weekday 0=Mon, start minute, end minute), local time."""

    windows: tuple[tuple[int, int, int], ...]
    timezone: str = "UTC"
    always: bool = False

    def is_open(self, now: datetime.datetime | None = None) -> bool:
        if self.always:
            return True
        local = (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(zoneinfo.ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute
        today, yesterday = local.weekday(), (local.weekday() - 1) % 7
        for day, start, end in self.windows:
            if start < end and day == today and start <= minute < end:
                return True
            # An overnight window (22:00-02:00) belongs to the day it starts.
            if start >= end and ((day == today and minute >= start) or (day == yesterday and minute < end)):
                return True
        return False


def _minutes(value: str, what: str) -> int:
    hours, minutes = (int(part) for part in value.split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 1440:
        raise HoursError(f"{what} has an impossible time {value!r}")
    return hours * 60 + minutes


def _days(spec: str, what: str) -> list[int]:
    days: list[int] = []
    for part in spec.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        try:
            start = DAYS.index(first[:3])
            end = DAYS.index(last[:3]) if last else start
        except ValueError:
            raise HoursError(f"{what}: unknown day in {spec!r} (use Mon Tue Wed Thu Fri Sat Sun)") from None
        day = start
        while True:
            days.append(day)
            if day == end:
                break
            day = (day + 1) % 7
    return days


def parse_hours(
    raw: str | None, timezone: str = "UTC", what: str = "STAFF_HOURS", zone_what: str = "STAFF_TIMEZONE"
) -> OpeningHours | None:
    """``None`` when unset (for staff: handoff is off); raises ``HoursError`` naming ``what`` for unreadable values."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"{zone_what} must be a time zone like America/Chicago, got {timezone!r}") from None
    text = (raw or "").strip().lower()
    if not text:
        return None
    if text in ("always", "24/7"):
        return OpeningHours((), timezone, always=True)
    windows = []
    for chunk in filter(None, (part.strip() for part in text.split(";"))):
        match = _WINDOW.match(chunk)
        if not match:
            raise HoursError(f"{what} must look like 'Mon-Fri 09:00-17:00; Sat 10:00-14:00', got {chunk!r}")
        start, end = _minutes(match["start"], what), _minutes(match["end"], what)
        windows += [(day, start, end) for day in _days(match["days"], what)]
    return OpeningHours(tuple(windows), timezone)
