"""Aggregate handoff counters for the stats page: no person, no text, just counts.

Per day (days since 1970, so keys hold no date-like digit runs): handoffs by
language and by topic, and a histogram of waits in whole minutes (the median
comes from it). Counters expire after ``STATS_TTL_DAYS``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time

import redis

PREFIX = "kyr:stats:"
STATS_TTL_DAYS = 40
#: Waits longer than this many minutes share the last histogram bucket.
MAX_WAIT_BUCKET = 240
#: Times of the latest claims (a JSON list), for "about 10 minutes" estimates.
RECENT_CLAIMS = PREFIX + "recent_claims"
RECENT_CLAIMS_KEPT = 20
RECENT_CLAIMS_WINDOW = 2 * 3600
#: Append a claim time, keep the newest ARGV[2], expire after ARGV[3] seconds (one atomic step).
_RECENT_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
local times = {}
if raw then times = cjson.decode(raw) end
table.insert(times, tonumber(ARGV[1]))
while #times > tonumber(ARGV[2]) do table.remove(times, 1) end
redis.call('SET', KEYS[1], cjson.encode(times), 'EX', tonumber(ARGV[3]))
return #times
"""


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
        self._recent = client.register_script(_RECENT_SCRIPT)

    def _incr(self, key: str) -> None:
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, STATS_TTL_DAYS * 86400)
        pipe.execute()

    def opened(self, lang: str, topic: str) -> None:
        day = today()
        self._incr(f"{PREFIX}handoffs:{day}:lang:{lang}")
        self._incr(f"{PREFIX}handoffs:{day}:topic:{topic}")

    def claimed(self, wait_seconds: float, now: float | None = None) -> None:
        self._incr(f"{PREFIX}wait:{today()}:{min(int(wait_seconds // 60), MAX_WAIT_BUCKET)}")
        self._recent(keys=[RECENT_CLAIMS], args=[now or time.time(), RECENT_CLAIMS_KEPT, RECENT_CLAIMS_WINDOW])

    def estimate_minutes(self, position: int, now: float | None = None) -> int | None:
        """About how long someone at ``position`` will wait, from the pace of recent claims.

        Staff claimed the last few people every ``pace`` seconds (the median gap between
        claims in the last two hours); the person waits about ``position x pace``. With
        fewer than three recent claims there is no honest estimate: None.
        """
        at = now or time.time()
        raw = self.client.get(RECENT_CLAIMS)
        times = sorted(float(t) for t in (json.loads(raw) if raw else []) if at - float(t) <= RECENT_CLAIMS_WINDOW)
        if len(times) < 3:
            return None
        gaps = sorted(b - a for a, b in zip(times, times[1:]))
        pace = gaps[len(gaps) // 2]
        return max(1, math.ceil(position * pace / 60))

    def summary(self, days: int = 14) -> Summary:
        last = today()
        wanted = list(range(last - days + 1, last + 1))
        by_lang: dict[int, dict[str, int]] = {day: {} for day in wanted}
        by_topic: dict[int, dict[str, int]] = {day: {} for day in wanted}
        waits: dict[int, int] = {}
        for key in self.client.scan_iter(match=PREFIX + "*", count=500):
            if key == RECENT_CLAIMS:
                continue
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
