"""What the engine needs from the opt-in book (alert subscriptions).

The engine records opt-ins, opt-outs and "the person wrote" through this interface; the
Redis-backed book lives in outreach (bot/outreach/subscriptions.py ``Subscriptions``) and is
handed in by the wiring (bot/services.py), as the handoff gate is. So the conversation never
imports outreach.
"""
from __future__ import annotations

from typing import Protocol

from bot.clients.identity import Sender
from bot.content.location import Location


class OptInBook(Protocol):
    def subscribe(self, sender: Sender, lang: str, location: Location | None) -> str:
        """Opt in (or update language/area). Returns "new", "already" or "resumed"."""

    def stop(self, sender_key: str, reason: str = "keyword") -> bool:
        """Stop all outreach at once; True when there was a subscription."""

    def resume(self, sender: Sender) -> bool:
        """Re-activate a stopped subscription, if any."""

    def record_inbound(self, sender_key: str, lang: str | None = None) -> None:
        """The person wrote (keeps the reply window and language current)."""

    def erase(self, sender_key: str) -> None:
        """Forget the subscription (DELETE)."""
