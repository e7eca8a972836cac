"""Where the conversation engine meets the handoff desk.

``intercept`` runs before the bot decides anything, ``follow_up`` after.
Waiting for a person never means silence:

- **queued, nobody has claimed it yet:** the bot keeps answering as usual
  (staff see its answers in the transcript), with "you are #3 in line" at
  most every few minutes; NEVER MIND / CANCELAR leaves the line; after
  ``HANDOFF_MAX_WAIT_MINUTES`` or the end of staffing hours the person is
  told, gets the urgent hotline and legal help, and the bot takes over;
- **claimed:** messages go to staff and the bot is quiet, except STOP, HELP,
  DELETE, a language change (the staff member is told), and one "a person is
  reading your message" with the hotline when staff have not answered within
  ``HANDOFF_REPLY_MINUTES``;
- **bringing a person in:** asking for one (or PERSON) and urgent topics queue
  at once; two misunderstood messages in a row only *offer* a person.

DELETE erases every handoff of the person, open or ended, with their web
outbox and send jobs. Redis errors never silence the bot: the gate then
behaves as if handoff were off.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import redis

from bot.language import keywords
from bot.content.answers import URGENT_TOPICS, AnswerComposer
from bot.conversation.engine import Reply
from bot.handoff.desk import HandoffDesk
from bot.handoff.records import Handoff
from bot.clients.identity import Sender
from bot.language.languages import SUPPORTED_LANGUAGES, explicit_switch
from bot.content.location import Location

log = logging.getLogger(__name__)

#: Reply intents that mean "the bot did not understand".
FALLBACK_INTENTS = frozenset({"fallback", "out_of_scope"})
#: This many misunderstood messages in a row offer a person ("Reply PERSON").
FALLBACKS_BEFORE_OFFER = 2
#: Keywords that still reach the bot while staff hold the conversation (carrier rules: STOP and HELP always work).
PASS_THROUGH = frozenset({"stop", "help", "delete"})


@dataclasses.dataclass(frozen=True)
class Held:
    """What ``intercept`` decided. With ``reply`` set, that is the whole answer (staff hold the
    conversation); otherwise the bot answers and ``follow_up`` uses the rest."""

    reply: Reply | None = None
    returned: bool = False  # the handoff just went idle: tell the person the bot is back
    waiting: Handoff | None = None  # queued, not claimed: the bot answers, the transcript keeps it
    claimed: Handoff | None = None  # claimed, and the message changes the language
    notice: str | None = None  # said before the bot's answer ("nobody could answer in time")


class HandoffGate:
    def __init__(self, desk: HandoffDesk, answers: AnswerComposer):
        self.desk = desk
        self.answers = answers

    # -- before the bot decides ----------------------------------------------

    def intercept(self, sender: Sender, body: str, session: dict[str, Any] | None = None) -> Held | None:
        """None when no handoff concerns this message; otherwise what to do with it."""
        session = session or {}
        try:
            command = keywords.command(body)
            if command == "delete":
                # Everything tied to the person, open or ended; the bot then confirms and erases the rest.
                self.desk.erase_person(sender.key)
                return Held()
            handoff = self.desk.records.for_sender(sender.key)
            if handoff is None:
                return None
            return self._held(sender, body, session, handoff, command)
        except redis.RedisError as exc:
            log.warning("handoff store unavailable, the bot answers: %s", type(exc).__name__)
            return None

    def _held(self, sender: Sender, body: str, session: dict[str, Any], handoff: Handoff, command: str | None) -> Held:
        lang = session.get("lang") or handoff.lang
        records = self.desk.records
        leaving = keywords.leaves_queue(body, sender.channel)  # CANCEL in the web chat is not an opt-out
        if not leaving and (command in PASS_THROUGH or keywords.is_opt_out(body)):
            if command != "help" and records.close(handoff.id, "stopped"):
                records.append(handoff.id, "event", "stopped", ended=True)
            return Held()
        if records.is_idle(handoff):
            if records.close(handoff.id, "idle"):
                records.append(handoff.id, "event", "idle", ended=True)
            return Held(returned=True)
        self.desk.person_wrote(handoff, body)
        if leaving:
            self.desk.cancel(handoff)
            return Held(Reply((self.desk.content.text("system.handoff_left", lang),), lang, "handoff_left"))
        if handoff.waiting:
            reason = self.desk.unstaffed_ending(handoff)
            if reason:
                return Held(notice=self.desk.end_unstaffed(handoff, reason, lang))
            return Held(waiting=handoff)
        if self._changes_language(body, command, session):
            return Held(claimed=handoff)
        records.person_unanswered(handoff.id)
        notice = self.desk.reading_notice(handoff)
        if notice:
            return Held(Reply((notice,), lang, "handoff_reading"))
        return Held(Reply((), lang, "handoff"))

    @staticmethod
    def _changes_language(body: str, command: str | None, session: dict[str, Any]) -> bool:
        """LANGUAGE, ESPAÑOL / "in English please", or a number right after the language menu."""
        if command == "language" or explicit_switch(body):
            return True
        number = keywords.menu_number(body)
        return bool(session.get("awaiting_language")) and number is not None and 1 <= number <= len(SUPPORTED_LANGUAGES)

    # -- after the bot decided -----------------------------------------------

    def follow_up(self, sender: Sender, body: str, session: dict[str, Any], reply: Reply,
                  held: Held | None = None) -> Reply:
        """The bot's reply, changed by the handoff around it (or one this message starts)."""
        held = held or Held()
        if held.claimed is not None:
            return self._language_while_claimed(held.claimed, reply, showed_menu=bool(session.get("awaiting_language")))
        lead = tuple(text for text in (
            self.desk.content.text("system.handoff_returned", reply.lang) if held.returned else None,
            held.notice,
        ) if text)
        if lead:
            reply = dataclasses.replace(reply, messages=(*lead, *reply.messages))
        reason = self._reason(session, reply)
        if held.waiting is not None:
            return self._while_waiting(held.waiting, reason, reply)
        if reason is None:
            return reply
        session.pop("fallbacks", None)
        # Someone who needs a person now gets a line that is open now.
        location = Location.from_session(session.get("loc"))
        values = self.answers.routed_values(location, reply.lang, urgent=True)
        if not self.desk.now_open():
            closed = self.desk.content.text("system.handoff_closed", reply.lang, values)
            if reason == "asked":
                return dataclasses.replace(reply, messages=(closed,))
            if reason == "not_understood":
                return dataclasses.replace(reply, messages=(*reply.messages, closed))
            return reply  # urgent: the answer already starts with the hotline
        if reason == "not_understood":
            offer = self.desk.content.text("system.handoff_offer", reply.lang)
            return dataclasses.replace(reply, messages=(*reply.messages, offer))
        if sender.channel != "web" and not sender.address:
            return reply
        queued = self.desk.queued_text(reply.lang, values)
        messages = (*reply.messages, queued) if reason == "urgent" else (queued,)
        try:
            handoff_id = None
            if sender.channel == "web" and sender.origin:
                handoff_id = self.desk.records.reserve_for_origin(sender.origin, self.desk.rules.web_open_per_origin)
                if handoff_id is None:
                    # This network already has several chats in line: a flood must not push real people down.
                    log.warning("web handoff refused: too many open from one address")
                    full = self.desk.content.text("system.handoff_unavailable", reply.lang, values)
                    return dataclasses.replace(reply, messages=(*reply.messages, full) if reason == "urgent" else (full,))
            handoff = self.desk.open(
                sender=sender.key, channel=sender.channel, address=sender.address, lang=reply.lang,
                topic=reply.intent if reason == "urgent" else (session.get("topic") or "none"),
                reason=reason, urgent=reason == "urgent", location=session.get("loc"),
                lines=[("person", body), *(("bot", text) for text in messages)], handoff_id=handoff_id,
            )
            # The queued text says how long people usually wait; "#3 in line" comes later.
            self.desk.records.line_notice_due(handoff.id, self.desk.rules.line_notice_seconds)
        except redis.RedisError as exc:
            log.warning("could not queue a handoff: %s", type(exc).__name__)
            return reply
        return dataclasses.replace(reply, messages=messages)

    def _while_waiting(self, handoff: Handoff, reason: str | None, reply: Reply) -> Reply:
        """Queued and unclaimed: the bot's answer, with the person's place in line now and then."""
        records = self.desk.records
        messages = reply.messages
        try:
            if reason == "urgent":
                records.mark_urgent(handoff.id)
            line = None
            if reason == "asked" or records.line_notice_due(handoff.id, self.desk.rules.line_notice_seconds):
                line = self.desk.line_text(handoff, reply.lang)
            if reason == "asked":
                # Asking again: no "we can't connect you" text, just where they are in line.
                messages = (line,) if line else (self.desk.queued_text(reply.lang),)
            elif line:
                messages = (*messages, line)
            self.desk.bot_said(handoff, messages)
        except redis.RedisError as exc:
            log.warning("handoff store unavailable while waiting: %s", type(exc).__name__)
        return dataclasses.replace(reply, messages=messages)

    def _language_while_claimed(self, handoff: Handoff, reply: Reply, showed_menu: bool) -> Reply:
        """Staff hold the conversation: a new language is confirmed briefly and shown to staff."""
        records = self.desk.records
        messages = reply.messages
        try:
            # LANGUAGE first shows the numbered list; the language changes with the next message.
            if reply.intent == "change_language" and reply.lang != handoff.lang and not showed_menu:
                records.set_lang(handoff.id, reply.lang)
                records.append(handoff.id, "event", f"language:{reply.lang}")
                messages = (self.desk.content.text("system.handoff_language_set", reply.lang),)
            self.desk.bot_said(handoff, messages)
        except redis.RedisError as exc:
            log.warning("handoff store unavailable: %s", type(exc).__name__)
        return dataclasses.replace(reply, messages=messages)

    @staticmethod
    def _reason(session: dict[str, Any], reply: Reply) -> str | None:
        if reply.intent in FALLBACK_INTENTS:
            session["fallbacks"] = int(session.get("fallbacks") or 0) + 1
        else:
            session.pop("fallbacks", None)
        if reply.intent == "human_handoff":
            return "asked"
        if reply.intent in URGENT_TOPICS:
            return "urgent"
        if int(session.get("fallbacks") or 0) >= FALLBACKS_BEFORE_OFFER:
            return "not_understood"
        return None

