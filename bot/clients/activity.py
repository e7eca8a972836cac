"""Daily counts of what the bot did without staff, for the console's reports and /console/stats.csv.

One Redis hash per day (``kyr:activity:<days since 1970>``) with fields such as
``conversations:channel:sms``, ``conversations:lang:ht``, ``topic:detainer``,
``event:not_understood`` and ``event:opt_out``. Counts only: no key or field
names a person, a number or a message. Each hash expires
``REPORT_RETENTION_DAYS`` after its day (HINCRBY and EXPIRE in one MULTI, so
no counter is ever left without a TTL).
"""

from __future__ import annotations

import time

import redis

PREFIX = "kyr:activity:"
#: The dimensions a field starts with, in the order reports show them.
DIMENSIONS = ("conversations:channel", "conversations:lang", "topic", "event")


def day_number(now: float | None = None) -> int:
    return int((now or time.time()) // 86400)


class DailyActivity:
    """Implements bot.conversation.activity.ActivityTally; read by the console's stats page."""

    def __init__(self, client: redis.Redis, ttl_seconds: int):
        self.client = client
        self.ttl_seconds = ttl_seconds

    def record(self, *, channel: str, lang: str, new_conversation: bool, topic: str | None,
               event: str | None, now: float | None = None) -> None:
        day = day_number(now)
        fields = []
        if new_conversation:
            fields += ["conversations:total", f"conversations:channel:{channel}", f"conversations:lang:{lang}"]
        if topic:
            fields.append(f"topic:{topic}")
        if event:
            fields.append(f"event:{event}")
        if not fields:
            return
        key = f"{PREFIX}{day}"
        pipe = self.client.pipeline(transaction=True)
        for field in fields:
            pipe.hincrby(key, field, 1)
        # Lives REPORT_RETENTION_DAYS after the end of its day.
        pipe.expireat(key, (day + 1) * 86400 + self.ttl_seconds)
        pipe.execute()

    def days(self, first: int, last: int) -> dict[int, dict[str, int]]:
        """Counters per day from ``first`` to ``last`` (day numbers, inclusive); empty days included."""
        wanted = list(range(first, last + 1))
        pipe = self.client.pipeline(transaction=False)
        for day in wanted:
            pipe.hgetall(f"{PREFIX}{day}")
        return {day: {field: int(value) for field, value in (raw or {}).items()}
                for day, raw in zip(wanted, pipe.execute())}
