"""What the engine tells the reports about its own work: counts only, never who or what was said.

The engine calls ``record`` once per answered message; the Redis-backed
counters live in bot/clients/activity.py (``DailyActivity``) and are handed
in by bot/services.py, as the opt-in book is. ``None`` (no Redis): nothing is
counted.
"""
from __future__ import annotations

from typing import Protocol

#: Reply intents that count as "the bot did not understand".
NOT_UNDERSTOOD_INTENTS = frozenset({"fallback", "out_of_scope"})
#: Reply intents that count as an opt-out.
OPT_OUT_INTENTS = frozenset({"stop"})


class ActivityTally(Protocol):
    def record(self, *, channel: str, lang: str, new_conversation: bool, topic: str | None,
               event: str | None) -> None:
        """Count one answered message: a conversation's first message of the day (by channel and
        language), the topic answered, and "not_understood" or "opt_out"."""
