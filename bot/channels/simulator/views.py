"""The simulator page, and its two JSON calls: send a text as a test number, read the phone."""

from __future__ import annotations

import functools
import re
import secrets
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml
from flask import current_app, jsonify, render_template, request
from twilio.request_validator import RequestValidator

from bot.channels.security import origin_allowed
from bot.channels.simulator import bp, phones
from bot.channels.simulator.phone import CHANNELS, LINES, Entry, address
from bot.language.languages import NATIVE_NAMES, RTL_LANGUAGES
from bot.language.segments import MAX_BODY_CHARS
from bot.services import services

EXAMPLES_FILE = Path(__file__).with_name("examples.yml")
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
#: The bot's own number when TWILIO_FROM_NUMBER is unset (Twilio's magic test number).
DEFAULT_BOT_NUMBER = "+15005550006"


@functools.lru_cache(maxsize=1)
def examples() -> dict[str, list[str]]:
    """The "try this" messages per language (examples.yml)."""
    return yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8"))


def _error(message: str, status: int = 400):
    return jsonify(error=message), status


def _pretty(number: str) -> str:
    return f"({number[2:5]}) {number[5:8]}-{number[8:]}"


@bp.get("")
def page():
    return render_template(
        "simulator.html",
        lines=[(index, _pretty(number)) for index, number in enumerate(LINES)],
        languages=NATIVE_NAMES, rtl=RTL_LANGUAGES, examples=examples(),
        phones_ready=phones() is not None,
    )


def _phone_from(payload) -> tuple[str | None, str | None]:
    """(address, error) from {"line": 0..4, "channel": "sms"|"whatsapp"}."""
    line, channel = payload.get("line"), payload.get("channel")
    if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line < len(LINES):
        return None, f'"line" must be a test number between 0 and {len(LINES) - 1}.'
    if channel not in CHANNELS:
        return None, '"channel" must be "sms" or "whatsapp".'
    return address(line, channel), None


def twilio_form(sender: str, bot_number: str, text: str) -> dict[str, str]:
    """The form Twilio posts for an incoming message (the fields the app reads, and the usual others)."""
    whatsapp = sender.startswith("whatsapp:")
    form = {
        "MessageSid": "SM" + secrets.token_hex(16), "AccountSid": services().settings.twilio_account_sid or "AC" + "0" * 32,
        "From": sender, "To": f"whatsapp:{bot_number}" if whatsapp else bot_number, "Body": text,
        "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
    }
    if whatsapp:
        form["WaId"] = sender.removeprefix("whatsapp:+")
    return form


def post_as_twilio(form: dict[str, str]):
    """POST the form to /sms signed as Twilio signs it: the app checks it like any real delivery."""
    settings = services().settings
    base = request.host_url.rstrip("/")
    url = (settings.public_url or base) + "/sms"
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(url, form)
    return current_app.test_client().post("/sms", data=form, base_url=base,
                                          headers={"X-Twilio-Signature": signature})


def twiml_texts(xml: bytes) -> list[str]:
    """The texts of a TwiML <Response>'s <Message> elements (read as XML, never as a string)."""
    root = ET.fromstring(xml)
    if root.tag != "Response":
        raise ValueError(f"not TwiML: <{root.tag}>")
    return [(element.text or "") for element in root.iter("Message")]


@bp.post("/api/send")
def send():
    if not origin_allowed(request.headers.get("Origin")):
        return _error("This page may only be used from the bot's own address.", 403)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error('Send a JSON object like {"line": 0, "channel": "sms", "text": "hello"}.')
    sender, problem = _phone_from(payload)
    if problem:
        return _error(problem)
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        return _error('"text" must be a message.')
    if len(text) > MAX_BODY_CHARS:
        return _error(f'"text" is too long: at most {MAX_BODY_CHARS} characters.')
    settings = services().settings
    if not settings.twilio_auth_token:
        return _error("TWILIO_AUTH_TOKEN is not set, so /sms refuses every message (make run sets one).", 503)
    book = phones()
    added = []
    if book is not None:
        book.note_keyword(sender, text)
        added.append(book.add(sender, "in", text))
    response = post_as_twilio(twilio_form(sender, settings.twilio_from or DEFAULT_BOT_NUMBER, text))
    if response.status_code != 200:
        return _error(f"/sms answered HTTP {response.status_code}: {response.get_data(as_text=True).strip()}", 502)
    try:
        replies = twiml_texts(response.data)
    except (ET.ParseError, ValueError) as exc:
        return _error(f"/sms did not answer TwiML ({exc})", 502)
    if book is None:  # no Redis: the replies are shown, nothing is kept
        return jsonify(entries=[Entry("", "reply", reply, 0).as_json() for reply in replies], stored=False)
    added += [book.add(sender, "reply", reply) for reply in replies]
    return jsonify(entries=[entry.as_json() for entry in added], stored=True)


@bp.get("/api/messages")
def messages():
    """Everything on this phone after entry ``after`` (the page polls every few seconds)."""
    sender, problem = _phone_from({"line": request.args.get("line", type=int),
                                   "channel": request.args.get("channel")})
    if problem:
        return _error(problem)
    after = request.args.get("after") or None
    if after is not None and not _STREAM_ID.match(after):
        return _error('"after" must be an id the page was given, like 1733560000000-0.')
    book = phones()
    entries = book.since(sender, after) if book is not None else []
    return jsonify(entries=[entry.as_json() for entry in entries])


@bp.post("/api/clear")
def clear():
    """A new phone: forget this test number's messages (and its STOP at the carrier)."""
    if not origin_allowed(request.headers.get("Origin")):
        return _error("This page may only be used from the bot's own address.", 403)
    payload = request.get_json(silent=True)
    sender, problem = _phone_from(payload if isinstance(payload, dict) else {})
    if problem:
        return _error(problem)
    book = phones()
    if book is not None:
        book.clear(sender)
    return jsonify(cleared=True)
