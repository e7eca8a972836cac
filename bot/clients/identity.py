"""Turn a sender (phone number or web-chat token) into a keyed hash.

The raw number is never stored or logged: every key in the store is derived
from ``HMAC-SHA256(ID_HASH_KEY, "<kind>:<E.164 number>")``. Normalizing with
phonenumbers first means "+1 (312) 555-0100", "13125550100" and
"whatsapp:+13125550100" are the same person.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

import phonenumbers


class InvalidSender(ValueError):
    """The sender field is empty or not a phone number we can normalize."""


@dataclasses.dataclass(frozen=True)
class Sender:
    """Who wrote, without saying who: a channel name and an opaque key."""

    channel: str  # "sms", "whatsapp", "voice" or "web"
    key: str  # hex HMAC, safe to store and log
    #: Where to send later messages ("+1…" or "whatsapp:+1…"), for this request only.
    #: Never stored or logged as is: subscriptions and handoffs keep it encrypted.
    address: str | None = dataclasses.field(default=None, repr=False, compare=False)
    #: Web chat only: a keyed hash of the client's network address (limits per address; never the address).
    origin: str | None = dataclasses.field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:  # pragma: no cover - repr is for debugging only
        return f"Sender(channel={self.channel!r}, key={self.key[:8]}…)"


def _hmac(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def normalize_number(raw: str, default_region: str) -> str:
    """E.164 form of a number, or ``InvalidSender``."""
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidSender("sender is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidSender("sender is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def sender_from_twilio(from_field: str, secret: str, default_region: str) -> Sender:
    """Sender for Twilio's ``From`` (``+1…`` for SMS, ``whatsapp:+1…`` for WhatsApp)."""
    value = (from_field or "").strip()
    channel = "sms"
    if value.lower().startswith("whatsapp:"):
        channel, value = "whatsapp", value.split(":", 1)[1]
    if not value:
        raise InvalidSender("sender is empty")
    e164 = normalize_number(value, default_region)
    address = f"whatsapp:{e164}" if channel == "whatsapp" else e164
    # One person, one key across SMS and WhatsApp: erasing by text erases both.
    return Sender(channel=channel, key=_hmac(secret, "tel:" + e164), address=address)


def sender_from_call(from_field: str, secret: str, default_region: str) -> Sender:
    """Sender for a Voice webhook's ``From``: the same key as the number's texts (one person, one key)."""
    texting = sender_from_twilio(from_field, secret, default_region)
    if texting.channel != "sms":
        raise InvalidSender("a call comes from a phone number")
    return Sender(channel="voice", key=texting.key, address=texting.address)


def call_step_key(call_sid: str, step: str, secret: str) -> str:
    """Store key for one step of one call (``CallSid`` + step), so Twilio's retry replays its TwiML."""
    return _hmac(secret, f"call:{call_sid}:{step}")


def sender_from_web_token(token: str, secret: str) -> Sender:
    """Sender for a web-chat visitor, identified only by a random browser token."""
    return Sender(channel="web", key=_hmac(secret, "web:" + token))


def message_key(message_sid: str, secret: str) -> str:
    """Store key for a Twilio MessageSid (keyed hash, so keys reveal nothing)."""
    return _hmac(secret, "msg:" + message_sid)
