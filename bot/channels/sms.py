"""``POST /sms``: Twilio's Messaging webhook for SMS and WhatsApp.

Each ``MessageSid`` is claimed atomically in the store before any work, so a
Twilio retry (sequential or concurrent) advances the conversation once and
gets the same TwiML as the first delivery. Replies are built with twilio's
``MessagingResponse``; nothing here logs the body or the number.
"""

from __future__ import annotations

import logging
import time
import traceback

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from bot.clients.identity import InvalidSender, message_key, sender_from_twilio
from bot.services import services
from bot.language.segments import sms_text
from bot.clients.store import PENDING
from bot.channels.twilio_signature import validate_twilio_request

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)

#: How long a duplicate delivery waits for the first one's reply (Twilio waits 15 s).
DUPLICATE_WAIT_SECONDS = 10.0
DUPLICATE_POLL_SECONDS = 0.05


def twiml(messages: tuple[str, ...] | list[str]) -> str:
    response = MessagingResponse()
    for text in messages:
        response.message(text)
    return str(response)


def twiml_response(xml: str, status: int = 200) -> Response:
    return Response(xml, status=status, mimetype="application/xml")


def wait_for_first_reply(key: str, fallback: str | None = None) -> str:
    """The TwiML the first delivery of this request produced (``fallback``, default empty, if it never finishes).

    Used for MessageSids here and for each step of a call (bot/channels/voice).
    """
    store = services().store
    deadline = time.monotonic() + DUPLICATE_WAIT_SECONDS
    while time.monotonic() < deadline:
        reply = store.get_reply(key)
        if reply is not None and reply != PENDING:
            return reply
        time.sleep(DUPLICATE_POLL_SECONDS)
    return twiml([]) if fallback is None else fallback


@bp.post("/sms")
@validate_twilio_request
def incoming_message():
    svc = services()
    settings = svc.settings
    form = request.form
    try:
        sender = sender_from_twilio(form.get("From", ""), settings.id_hash_key, settings.default_region)
    except InvalidSender:
        log.warning("rejected a signed message without a usable From field")
        return twiml_response(twiml([]), 400)

    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    key = message_key(sid, settings.id_hash_key) if sid else None
    if key and not svc.store.claim_message(key, settings.dedupe_ttl_seconds):
        log.info("duplicate delivery of a message; replaying the first reply")
        return twiml_response(wait_for_first_reply(key))

    try:
        reply = svc.engine.handle(sender, form.get("Body", ""))
        texts = [sms_text(text, reply.lang) for text in reply.messages]
        xml = twiml(texts)
        log.info("answered channel=%s intent=%s lang=%s", sender.channel, reply.intent, reply.lang)
    except Exception as exc:  # never let a bug silence the bot or send Twilio a 5xx
        # Type and place only: an exception message could quote the person's text.
        where = traceback.format_tb(exc.__traceback__)[-1].strip().splitlines()[0]
        log.error("engine failed (%s) at %s; sending the menu", type(exc).__name__, where)
        xml = twiml([sms_text(svc.engine.menu_text(settings.default_language), settings.default_language)])
    if key:
        svc.store.save_reply(key, xml, settings.dedupe_ttl_seconds)
    return twiml_response(xml)
