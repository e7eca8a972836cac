"""Reaching a person from a call: dial the on-call number, or the hotline and a callback request.

During ``STAFF_HOURS``, 0, asking for a person or an urgent topic dials the number in
``VOICE_STAFF_NUMBERS`` for the caller's language with ``VOICE_DIAL_TIMEOUT``. Nobody answering,
closed hours or no number for the language: the caller hears the hotline and may press 1 to leave
a callback request, a handoff with channel "voice" in the console queue (no transcript of the call:
there is none; no recording).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import redis
from twilio.twiml.voice_response import Dial, VoiceResponse

from bot.content.answers import URGENT_TOPICS

if TYPE_CHECKING:
    from bot.channels.voice.flow import CallFlow

log = logging.getLogger(__name__)

#: Twilio's DialCallStatus values that mean staff picked up.
ANSWERED = frozenset({"completed", "answered"})
#: The key that leaves a callback request.
CALLBACK_KEY = "1"


class PersonLine:
    def __init__(self, flow: CallFlow):
        self.flow = flow
        self.settings = flow.settings

    def desk(self):
        """The handoff desk (None when handoff is off: no Redis, ENCRYPTION_KEY or STAFF_HOURS)."""
        gate = self.flow.svc.engine.handoff
        return gate.desk if gate is not None else None

    def can_dial(self, lang: str) -> bool:
        hours = self.settings.staff_hours
        return bool(self.settings.voice_staff_numbers.get(lang)) and hours is not None and hours.is_open()

    def connect(self, response: VoiceResponse, lang: str, topic: str | None = None) -> VoiceResponse:
        topic = topic or self.flow.call.topic
        if not self.can_dial(lang):
            return self.unreached(response, lang, topic)
        self.flow.speaker(lang).prompt(response, "connecting")
        # Staff phones show the line's own number (TWILIO_FROM_NUMBER, else the number called), not the
        # caller's: as in the console, staff never see a caller's number.
        line_number = self.settings.twilio_from or (self.flow.form.get("To") or "").strip() or None
        dial = Dial(timeout=self.settings.voice_dial_timeout, action=self.flow.url("dialed", lang, topic=topic),
                    method="POST", caller_id=line_number)
        dial.number(self.settings.voice_staff_numbers[lang])
        response.append(dial)
        log.info("voice dialing staff lang=%s", lang)
        return response

    def dialed(self, status: str, lang: str) -> VoiceResponse:
        """Dial's action: staff talked with the caller (goodbye), or nobody answered (hotline, callback)."""
        response = VoiceResponse()
        if status in ANSWERED:
            return self.flow.farewell(response, lang, hotline=False)
        log.info("voice staff not reached status=%s lang=%s", status or "none", lang)
        return self.unreached(response, lang, self.flow.call.topic)

    def unreached(self, response: VoiceResponse, lang: str, topic: str | None) -> VoiceResponse:
        speaker = self.flow.speaker(lang)
        speaker.prompt(response, "nobody", self.flow.hotline(lang))
        if self.desk() is None:
            return self.flow.farewell(response, lang, hotline=False)
        return self.flow.offer(
            response, lang,
            lambda: self.flow.gather(lang, "answer", topic, speech=False, step="callback"),
            lambda gather: speaker.prompt(gather, "callback_offer"),
        )

    def callback(self, digits: str, lang: str) -> VoiceResponse:
        """Key 1 after "nobody can take your call": a request in the staff queue (one per person)."""
        response = VoiceResponse()
        desk = self.desk()
        if digits != CALLBACK_KEY or desk is None:
            return self.flow.farewell(response, lang, hotline=False)
        sender = self.flow.sender
        topic = self.flow.call.topic
        try:
            if desk.records.for_sender(sender.key) is None:
                desk.open(sender=sender.key, channel="voice", address=sender.address, lang=lang,
                          topic=topic or "none", reason="callback", urgent=topic in URGENT_TOPICS,
                          lines=[("event", "callback")])
        except redis.RedisError as exc:
            log.warning("could not queue a callback request: %s", type(exc).__name__)
            return self.flow.farewell(response, lang, hotline=True)
        self.flow.speaker(lang).prompt(response, "callback_done")
        return self.flow.farewell(response, lang, hotline=False)
