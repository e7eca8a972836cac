"""Aggregate handoff counters for the stats page: no person, no text, just counts.

Per day (days since 1970, so keys hold no date-like digit runs): handoffs by
language and by topic, and a histogram of waits in whole minutes (the median
comes from it). Counters expire after ``STATS_TTL_DAYS``.
"""

from __future__ import annotations

import dataclasses
import time

import redis

PREFIX = "kyr:stats:"
STATS_TTL_DAYS = 40
#: Waits longer than this many minutes share the last histogram bucket.
MAX_WAIT_BUCKET = 240


def today(now: float | None = None) -> int:
    return int((now or time.time()) // 86400)


@dataclasses.dataclass
class Summary:
    days: list[int]
    by_lang: dict[int, dict[str, int]]
    by_topic: dict[int, dict[str, int]]
    median_wait_minutes: int | None


class HandoffStats:
    def __init__(self, client: redis.Redis):
        self.client = client

    def _incr(self, key: str) -> None:
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, STATS_TTL_DAYS * 86400)
        pipe.execute()

    def opened(self, lang: str, topic: str) -> None:
        day = today()
        self._incr(f"{PREFIX}handoffs:{day}:lang:{lang}")
        self._incr(f"{PREFIX}handoffs:{day}:topic:{topic}")

    def claimed(self, wait_seconds: float) -> None:
        self._incr(f"{PREFIX}wait:{today()}:{min(int(wait_seconds // 60), MAX_WAIT_BUCKET)}")

    def summary(self, days: int = 14) -> Summary:
        last = today()
        wanted = list(range(last - days + 1, last + 1))
        by_lang: dict[int, dict[str, int]] = {day: {} for day in wanted}
        by_topic: dict[int, dict[str, int]] = {day: {} for day in wanted}
        waits: dict[int, int] = {}
        for key in self.client.scan_iter(match=PREFIX + "*", count=500):
            parts = key.split(":")
            value = int(self.client.get(key) or 0)
            if parts[2] == "handoffs" and len(parts) == 6 and int(parts[3]) in by_lang:
                target = by_lang if parts[4] == "lang" else by_topic
                target[int(parts[3])][parts[5]] = value
            elif parts[2] == "wait" and len(parts) == 5 and int(parts[3]) in by_lang:
                waits[int(parts[4])] = waits.get(int(parts[4]), 0) + value
        return Summary(wanted, by_lang, by_topic, median(waits))


def median(histogram: dict[int, int]) -> int | None:
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for minutes in sorted(histogram):
        seen += histogram[minutes]
        if seen * 2 >= total:
            return minutes
    return None  # pragma: no cover
