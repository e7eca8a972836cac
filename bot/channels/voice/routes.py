"""``POST /voice``: Twilio's Voice webhook, one step of a call per request.

Signed and checked exactly like ``/sms``. Each step is claimed in the store under its ``CallSid``
and URL, so a retried request replays the first TwiML and advances the conversation once; the
TwiML itself is built by ``flow.CallFlow``. Any failure reads the hotline and ends the call
politely: never a 5xx, never dead air.

Nothing here logs what the caller said or their number: step, language and intent only.
"""

from __future__ import annotations

import logging
import traceback

from flask import Blueprint, request
from twilio.twiml.voice_response import VoiceResponse

from bot.channels.sms import twiml_response, wait_for_first_reply
from bot.channels.twilio_signature import validate_twilio_request
from bot.channels.voice.flow import STEPS, Call, CallFlow
from bot.channels.voice.prompts import Speaker
from bot.channels.voice.voices import voice_language
from bot.clients.identity import InvalidSender, call_step_key, sender_from_call
from bot.services import Services, services

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__)


def base_url() -> str:
    """Where Twilio reaches us: PUBLIC_URL (the URL it signs) or the request's own root."""
    return services().settings.public_url or request.url_root.rstrip("/")


def emergency_twiml(svc: Services, lang: str) -> str:
    """Something failed: the hotline, a polite goodbye, and the call ends."""
    response = VoiceResponse()
    speaker = Speaker(svc.content, voice_language(lang, svc.settings), f"{base_url()}/static/voice")
    speaker.prompt(response, "error")
    try:
        values = svc.engine.answers.routed_values(None, lang, urgent=True)
    except Exception:  # the directory itself failed: the national default line
        values = {}
    speaker.prompt(response, "hotline", values)
    speaker.prompt(response, "goodbye")
    response.hangup()
    return str(response)


@bp.post("/voice")
@validate_twilio_request
def incoming_call():
    svc = services()
    settings = svc.settings
    call = Call.from_args(request.args, svc.content.has_topic)
    step = request.args.get("step", "start")
    step = step if step in STEPS else "start"
    lang = call.lang or settings.default_language
    sid = (request.form.get("CallSid") or "").strip()
    key = call_step_key(sid, request.query_string.decode("latin-1"), settings.id_hash_key) if sid else None
    if key and not svc.store.claim_message(key, settings.dedupe_ttl_seconds):
        log.info("repeated request for a call step; replaying its TwiML")
        return twiml_response(wait_for_first_reply(key, emergency_twiml(svc, lang)))
    try:
        sender = sender_from_call(request.form.get("From", ""), settings.id_hash_key, settings.default_region)
        flow = CallFlow(svc, sender, call, request.form, base_url())
        xml = str(getattr(flow, step)())
        log.info("voice step=%s lang=%s", step, call.lang)
    except InvalidSender:
        log.warning("a signed call without a usable From number; giving the hotline")
        xml = emergency_twiml(svc, lang)
    except Exception as exc:  # never a 5xx or dead air: the hotline and a polite goodbye
        where = traceback.format_tb(exc.__traceback__)[-1].strip().splitlines()[0]
        log.error("voice step %s failed (%s) at %s; giving the hotline", step, type(exc).__name__, where)
        xml = emergency_twiml(svc, lang)
    if key:
        svc.store.save_reply(key, xml, settings.dedupe_ttl_seconds)
    return twiml_response(xml)
