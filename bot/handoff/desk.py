"""The handoff desk: every action on a handoff, shared by the engine and the console.

Opening, claiming, replying, notes, release, hand back and idle return all
live here so both sides follow one set of rules (one owner, the person told
in their language when the bot is back, stats counted once).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable

from bot.content.texts import ContentBase
from bot.content.location import Location
from bot.handoff.delivery import Delivery
from bot.timing.hours import OpeningHours
from bot.handoff.records import Entry, Handoff, HandoffRecords
from bot.handoff.stats import HandoffStats
from bot.language.segments import sms_text

log = logging.getLogger(__name__)


#: Channels whose staff replies go out as SMS (a voice caller's callback request gets a text).
TEXTED_CHANNELS = frozenset({"sms", "voice"})


class NotOwner(PermissionError):
    """Only the staff member who claimed a conversation may write in it."""


@dataclasses.dataclass(frozen=True)
class WaitRules:
    """How long people wait and how often they hear about it (HANDOFF_* settings)."""

    told_minutes: int = 15  # "usually within 15 minutes" (HANDOFF_WAIT_MINUTES)
    max_wait_seconds: int = 30 * 60  # nobody claimed: the bot takes over again
    reply_seconds: int = 10 * 60  # claimed but unanswered: "a person is reading your message"
    line_notice_seconds: int = 5 * 60  # "you are #3 in line" at most this often
    web_open_per_origin: int = 3  # web chats from one client address in the queue at once


#: Held while one worker sweeps (the console's queue page polls every few seconds, from every staff member).
SWEEP_LOCK = "kyr:handoff:sweeping"
#: A voice caller's request to be contacted (bot/channels/voice/person.py): waits for staff, not for a reply.
CALLBACK = "callback"
#: Why a handoff ended without staff, as the console shows it; each has a text for the person.
UNSTAFFED_ENDINGS = {"timeout": "system.handoff_nobody_came", "hours_ended": "system.handoff_hours_ended"}


class HandoffDesk:
    def __init__(self, records: HandoffRecords, delivery: Delivery, stats: HandoffStats, content: ContentBase,
                 hours: OpeningHours, rules: WaitRules,
                 routed_values: Callable[[Location | None, str], dict[str, str]] | None = None):
        self.records = records
        self.delivery = delivery
        self.stats = stats
        self.content = content
        self.hours = hours
        self.rules = rules
        #: The urgent hotline and legal help for a person (bot/content/answers.py), for notices sent by the sweep.
        self.routed_values = routed_values or (lambda location, lang: {})

    @property
    def wait_minutes(self) -> int:
        return self.rules.told_minutes

    # -- from the conversation side -----------------------------------------

    def open(self, *, sender: str, channel: str, address: str | None, lang: str, topic: str, reason: str,
             urgent: bool, lines: list[tuple[str, str]], location: dict | None = None,
             handoff_id: str | None = None) -> Handoff:
        handoff = self.records.open(sender=sender, channel=channel, lang=lang, topic=topic, reason=reason,
                                    urgent=urgent, address=address, location=location, handoff_id=handoff_id)
        for who, text in lines:
            self.records.append(handoff.id, who, text)
        self.stats.opened(lang, topic)
        log.info("handoff queued id=%s channel=%s lang=%s topic=%s reason=%s", handoff.id, channel, lang, topic, reason)
        return handoff

    def person_wrote(self, handoff: Handoff, text: str) -> None:
        self.records.append(handoff.id, "person", text)
        self.records.touch(handoff.id)

    def bot_said(self, handoff: Handoff, messages: tuple[str, ...]) -> None:
        """The bot answered while the person waits: staff see it in the transcript, marked as the bot's."""
        for text in messages:
            self.records.append(handoff.id, "bot", text)

    def line_text(self, handoff: Handoff, lang: str) -> str | None:
        """"You are #3 in line, about 10 minutes" (no minutes without recent claims to go by)."""
        position = self.records.position(handoff.id)
        if position is None:
            return None
        minutes = self.stats.estimate_minutes(position)
        if minutes is None:
            return self.content.text("system.handoff_in_line_unknown", lang, {"position": str(position)})
        return self.content.text("system.handoff_in_line", lang, {"position": str(position), "minutes": str(minutes)})

    def unstaffed_ending(self, handoff: Handoff, now: float | None = None) -> str | None:
        """Why a waiting handoff must end without staff now ("timeout", "hours_ended"), or None."""
        if not handoff.waiting:
            return None
        at = now or time.time()
        if handoff.reason == CALLBACK:
            # A caller was told "our team will contact you as soon as they can": the request waits
            # through closed hours, for as long as a transcript is kept.
            return "timeout" if at - handoff.created >= self.records.transcript_ttl else None
        if at - handoff.created >= self.rules.max_wait_seconds:
            return "timeout"
        if not self.hours.is_open():
            return "hours_ended"
        return None

    def end_unstaffed(self, handoff: Handoff, reason: str, lang: str | None = None) -> str | None:
        """End a handoff nobody claimed; the text that tells the person (None if it had already ended)."""
        if not self.records.close(handoff.id, reason):
            return None
        self.records.append(handoff.id, "event", reason, ended=True)
        log.info("handoff ended id=%s reason=%s", handoff.id, reason)
        lang = lang or handoff.lang
        return self.content.text(UNSTAFFED_ENDINGS[reason], lang, self.routed_values(handoff.location, lang))

    def cancel(self, handoff: Handoff) -> bool:
        """The person left the line (CANCELAR, "never mind"); the console shows it as cancelled."""
        if not self.records.close(handoff.id, "cancelled"):
            return False
        self.records.append(handoff.id, "event", "cancelled", ended=True)
        return True

    def reading_notice(self, handoff: Handoff, now: float | None = None) -> str | None:
        """Once per unanswered stretch, after HANDOFF_REPLY_MINUTES: "a person is reading your message"."""
        if handoff.owner is None or handoff.closed:
            return None
        since = self.records.unanswered_since(handoff.id)
        at = now or time.time()
        if since is None or at - since < self.rules.reply_seconds:
            return None
        if not self.records.reading_notice_once(handoff.id):
            return None
        self.records.append(handoff.id, "event", "reading_notice")
        return self.content.text("system.handoff_reading", handoff.lang, self.routed_values(handoff.location, handoff.lang))

    def erase_person(self, sender: str) -> int:
        """DELETE: every handoff of the person, their web outbox and the send jobs holding their number."""
        jobs = self.records.erase_sender(sender)
        self.delivery.forget(sender, jobs)
        return len(jobs)

    # -- from the console ---------------------------------------------------

    def claim(self, handoff_id: str, staff: str) -> bool:
        if not self.records.claim(handoff_id, staff):
            return False
        handoff = self.records.get(handoff_id)
        if handoff is not None:
            self.stats.claimed(handoff.wait_seconds())
        self.records.append(handoff_id, "event", "claimed", by=staff)
        self.records.touch(handoff_id)
        # From now the person waits for this staff member's first words.
        self.records.person_unanswered(handoff_id)
        log.info("handoff claimed id=%s", handoff_id)
        return True

    def reply(self, handoff: Handoff, staff: str, text: str, *, gloss: str | None = None, lang: str | None = None) -> int:
        """Send a staff message to the person; the transcript entry remembers the send job.

        ``gloss`` (an English version for staff) and ``lang`` come with a reviewed answer or a
        saved reply: by SMS it is folded to GSM-7 where the language allows, as the bot's own are.
        """
        if handoff.owner != staff or handoff.closed:
            raise NotOwner(handoff.id)
        if lang is not None and handoff.channel in TEXTED_CHANNELS:
            text = sms_text(text, lang)
        job = self.delivery.send(handoff.channel, handoff.sender, self.records.address(handoff), text)
        number = self.records.append(handoff.id, "staff", text, by=staff, job=job, gloss=gloss)
        self.records.touch(handoff.id)
        self.records.staff_answered(handoff.id)
        return number

    def note(self, handoff: Handoff, staff: str, text: str) -> int:
        """An internal note: other staff see it, the person never does."""
        return self.records.append(handoff.id, "note", text, by=staff)

    def release(self, handoff: Handoff, staff: str, force: bool = False) -> bool:
        """Back into the queue for someone else (the person keeps waiting for a person)."""
        if not self.records.release(handoff.id, staff, force):
            return False
        self.records.staff_answered(handoff.id)  # back in line: no "a person is reading" from nobody
        self.records.append(handoff.id, "event", "released", by=staff)
        return True

    def hand_back(self, handoff: Handoff, staff: str | None, reason: str = "handed_back") -> bool:
        """End the handoff and tell the person, in their language, that the bot answers again."""
        if not self.records.close(handoff.id, reason):
            return False
        job = self._tell(handoff, self.content.text("system.handoff_returned", handoff.lang))
        self.records.append(handoff.id, "event", reason, by=staff, job=job, ended=True)
        log.info("handoff ended id=%s reason=%s", handoff.id, reason)
        return True

    def sweep(self, now: float | None = None) -> int:
        """Keep promises to people who are not writing right now; the number of handoffs changed.

        Idle handoffs go back to the bot; people nobody claimed in time (or whose
        wait outlasted staffing hours) are told and get the hotline; people whose
        claimed message went unanswered get one "a person is reading" notice.
        Runs while staff watch the queue, and from ``flask handoff-sweep`` (cron).
        """
        changed = 0
        for handoff in self.records.open_handoffs():
            if self.records.is_idle(handoff, now):
                changed += self.hand_back(handoff, None, "idle")
                continue
            reason = self.unstaffed_ending(handoff, now)
            notice = self.end_unstaffed(handoff, reason) if reason else self.reading_notice(handoff, now)
            if notice:
                job = self._tell(handoff, notice)
                self.records.append(handoff.id, "bot", notice, job=job, ended=bool(reason))
                changed += 1
        return changed

    def _tell(self, handoff: Handoff, text: str) -> str | None:
        """Send a notice the person did not ask for; its job id goes in the transcript (DELETE finds it)."""
        try:
            return self.delivery.send(handoff.channel, handoff.sender, self.records.address(handoff), text)
        except Exception as exc:  # the log says the notice failed; the person's next message still gets it
            log.warning("could not send a handoff notice (%s)", type(exc).__name__)
            return None

    def queue(self, languages: set[str] | None = None) -> list[Handoff]:
        """Open handoffs, urgent first then longest wait, in the given languages only."""
        return [h for h in self.records.open_handoffs() if languages is None or h.lang in languages]

    def queue_page(self, languages: set[str] | None, page: int = 1, size: int = 50) -> tuple[list[Handoff], int]:
        """One page of the queue (page 1 = the first ``size``) and the total, read from the index."""
        return self.records.page(languages, (max(page, 1) - 1) * size, size)

    def sweep_now(self, every_seconds: int = 10) -> int:
        """``sweep`` at most once per ``every_seconds`` across workers: the queue page polls often."""
        if not self.records.client.set(SWEEP_LOCK, "1", nx=True, ex=every_seconds):
            return 0
        return self.sweep()

    def get(self, handoff_id: str) -> Handoff | None:
        return self.records.get(handoff_id)

    def entries(self, handoff_id: str, after: int = 0) -> list[Entry]:
        return self.records.entries(handoff_id, after)

    def queued_text(self, lang: str, values: dict[str, str] | None = None) -> str:
        return self.content.text("system.handoff_queued", lang, {**(values or {}), "minutes": str(self.wait_minutes)})

    def now_open(self) -> bool:
        return self.hours.is_open()