"""The handoff desk: every action on a handoff, shared by the engine and the console.

Opening, claiming, replying, notes, release, hand back and idle return all
live here so both sides follow one set of rules (one owner, the person told
in their language when the bot is back, stats counted once).
"""

from __future__ import annotations

import logging

from bot.content import ContentBase
from bot.handoff.delivery import Delivery
from bot.hours import OpeningHours
from bot.handoff.records import Entry, Handoff, HandoffRecords
from bot.handoff.stats import HandoffStats

log = logging.getLogger(__name__)


class NotOwner(PermissionError):
    """Only the staff member who claimed a conversation may write in it."""


class HandoffDesk:
    def __init__(self, records: HandoffRecords, delivery: Delivery, stats: HandoffStats, content: ContentBase,
                 hours: OpeningHours, wait_minutes: int):
        self.records = records
        self.delivery = delivery
        self.stats = stats
        self.content = content
        self.hours = hours
        self.wait_minutes = wait_minutes

    # -- from the conversation side -----------------------------------------

    def open(self, *, sender: str, channel: str, address: str | None, lang: str, topic: str, reason: str,
             urgent: bool, lines: list[tuple[str, str]]) -> Handoff:
        handoff = self.records.open(sender=sender, channel=channel, lang=lang, topic=topic, reason=reason,
                                    urgent=urgent, address=address)
        for who, text in lines:
            self.records.append(handoff.id, who, text)
        self.stats.opened(lang, topic)
        log.info("handoff queued id=%s channel=%s lang=%s topic=%s reason=%s", handoff.id, channel, lang, topic, reason)
        return handoff

    def person_wrote(self, handoff: Handoff, text: str) -> None:
        self.records.append(handoff.id, "person", text)
        self.records.touch(handoff.id)

    # -- from the console ---------------------------------------------------

    def claim(self, handoff_id: str, staff: str) -> bool:
        if not self.records.claim(handoff_id, staff):
            return False
        handoff = self.records.get(handoff_id)
        if handoff is not None:
            self.stats.claimed(handoff.wait_seconds())
        self.records.append(handoff_id, "event", "claimed", by=staff)
        self.records.touch(handoff_id)
        log.info("handoff claimed id=%s", handoff_id)
        return True

    def reply(self, handoff: Handoff, staff: str, text: str) -> int:
        """Send a staff message to the person; the transcript entry remembers the send job."""
        if handoff.owner != staff or handoff.closed:
            raise NotOwner(handoff.id)
        job = self.delivery.send(handoff.channel, handoff.sender, self.records.address(handoff), text)
        number = self.records.append(handoff.id, "staff", text, by=staff, job=job)
        self.records.touch(handoff.id)
        return number

    def note(self, handoff: Handoff, staff: str, text: str) -> int:
        """An internal note: other staff see it, the person never does."""
        return self.records.append(handoff.id, "note", text, by=staff)

    def release(self, handoff: Handoff, staff: str, force: bool = False) -> bool:
        """Back into the queue for someone else (the person keeps waiting for a person)."""
        if not self.records.release(handoff.id, staff, force):
            return False
        self.records.append(handoff.id, "event", "released", by=staff)
        return True

    def hand_back(self, handoff: Handoff, staff: str | None, reason: str = "handed_back") -> bool:
        """End the handoff and tell the person, in their language, that the bot answers again."""
        if not self.records.close(handoff.id, reason):
            return False
        self.records.append(handoff.id, "event", reason, by=staff, ended=True)
        try:
            self.delivery.send(handoff.channel, handoff.sender, self.records.address(handoff),
                               self.content.text("system.handoff_returned", handoff.lang))
        except Exception as exc:  # the handoff is over either way; the log says the notice failed
            log.warning("could not tell the person the bot is back (%s)", type(exc).__name__)
        log.info("handoff ended id=%s reason=%s", handoff.id, reason)
        return True

    def sweep(self, now: float | None = None) -> int:
        """Return idle handoffs to the bot (called while staff watch the queue)."""
        returned = 0
        for handoff in self.records.open_handoffs():
            if self.records.is_idle(handoff, now) and self.hand_back(handoff, None, "idle"):
                returned += 1
        return returned

    def queue(self, languages: set[str] | None = None) -> list[Handoff]:
        """Open handoffs, urgent first then longest wait, in the given languages only."""
        return [h for h in self.records.open_handoffs() if languages is None or h.lang in languages]

    def get(self, handoff_id: str) -> Handoff | None:
        return self.records.get(handoff_id)

    def entries(self, handoff_id: str, after: int = 0) -> list[Entry]:
        return self.records.entries(handoff_id, after)

    def queued_text(self, lang: str, values: dict[str, str] | None = None) -> str:
        return self.content.text("system.handoff_queued", lang, {**(values or {}), "minutes": str(self.wait_minutes)})

    def now_open(self) -> bool:
        return self.hours.is_open()