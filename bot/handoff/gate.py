"""Where the conversation engine meets the handoff desk.

``intercept`` runs before the bot decides anything: while a person owns (or
is about to own) the conversation the bot stays silent and the message goes
to the transcript; only STOP/HELP/DELETE-type keywords get through, and an
idle handoff returns to the bot. ``follow_up`` runs after the bot decided:
asking for a person, two misunderstood messages in a row, or an urgent topic
queue a handoff (or, outside staffing hours, point to the hotline).

Redis errors never silence the bot: the gate then behaves as if handoff were off.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import redis

from bot import keywords
from bot.answers import URGENT_TOPICS, AnswerComposer
from bot.engine import Reply
from bot.handoff.desk import HandoffDesk
from bot.identity import Sender
from bot.location import Location

log = logging.getLogger(__name__)

#: Reply intents that mean "the bot did not understand".
FALLBACK_INTENTS = frozenset({"fallback", "out_of_scope"})
#: This many misunderstood messages in a row bring in a person.
FALLBACKS_BEFORE_HANDOFF = 2
#: Keywords that still reach the bot during a handoff (carrier rules: STOP and HELP always work).
PASS_THROUGH = frozenset({"stop", "help", "delete"})


@dataclasses.dataclass(frozen=True)
class Held:
    """What ``intercept`` decided: a reply to send instead of the bot's (maybe none), or let the bot answer."""

    reply: Reply | None = None
    returned: bool = False  # the handoff just went idle: tell the person the bot is back


class HandoffGate:
    def __init__(self, desk: HandoffDesk, answers: AnswerComposer):
        self.desk = desk
        self.answers = answers

    def intercept(self, sender: Sender, body: str) -> Held | None:
        """None when nobody holds the conversation; otherwise what to do with this message."""
        try:
            handoff = self.desk.records.for_sender(sender.key)
            if handoff is None:
                return None
            command = keywords.command(body)
            opt_out = keywords.is_opt_out(body)
            if command in PASS_THROUGH or opt_out:
                if command == "delete":
                    self.desk.records.close(handoff.id, "deleted")
                    self.desk.records.purge(handoff.id)
                elif (command == "stop" or opt_out) and self.desk.records.close(handoff.id, "stopped"):
                    self.desk.records.append(handoff.id, "event", "stopped", ended=True)
                return Held()
            if self.desk.records.is_idle(handoff):
                if self.desk.records.close(handoff.id, "idle"):
                    self.desk.records.append(handoff.id, "event", "idle", ended=True)
                return Held(returned=True)
            self.desk.person_wrote(handoff, body)
            if handoff.waiting and self.desk.records.nudge_once(handoff.id):
                text = self.desk.content.text("system.handoff_still_waiting", handoff.lang)
                return Held(Reply((text,), handoff.lang, "handoff_waiting"))
            return Held(Reply((), handoff.lang, "handoff"))
        except redis.RedisError as exc:
            log.warning("handoff store unavailable, the bot answers: %s", type(exc).__name__)
            return None

    def follow_up(self, sender: Sender, body: str, session: dict[str, Any], reply: Reply, returned: bool = False) -> Reply:
        """The bot's reply, changed when this message should bring in a person."""
        if returned:
            back = self.desk.content.text("system.handoff_returned", reply.lang)
            reply = dataclasses.replace(reply, messages=(back, *reply.messages))
        reason = self._reason(session, reply)
        if reason is None:
            return reply
        session.pop("fallbacks", None)
        # Someone who needs a person now gets a line that is open now.
        values = self.answers.routed_values(Location.from_session(session.get("loc")), reply.lang, urgent=True)
        if not self.desk.now_open():
            closed = self.desk.content.text("system.handoff_closed", reply.lang, values)
            if reason == "asked":
                return dataclasses.replace(reply, messages=(closed,))
            if reason == "not_understood":
                return dataclasses.replace(reply, messages=(*reply.messages, closed))
            return reply  # urgent: the answer already starts with the hotline
        if sender.channel != "web" and not sender.address:
            return reply
        queued = self.desk.queued_text(reply.lang, values)
        messages = (*reply.messages, queued) if reason == "urgent" else (queued,)
        try:
            self.desk.open(
                sender=sender.key, channel=sender.channel, address=sender.address, lang=reply.lang,
                topic=reply.intent if reason == "urgent" else (session.get("topic") or "none"),
                reason=reason, urgent=reason == "urgent",
                lines=[("person", body), *(("bot", text) for text in messages)],
            )
        except redis.RedisError as exc:
            log.warning("could not queue a handoff: %s", type(exc).__name__)
            return reply
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
        if int(session.get("fallbacks") or 0) >= FALLBACKS_BEFORE_HANDOFF:
            return "not_understood"
        return None
