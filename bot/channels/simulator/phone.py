"""The simulator's phones: what each test number sent, got back (TwiML) and was sent later (the API).

One Redis stream per address (``+1…`` or ``whatsapp:+1…``), keyed by an HMAC
of the address, never the number. Each entry is Fernet-encrypted with
``ENCRYPTION_KEY``; the stream is capped and expires a day after its last
message (XADD and EXPIRE in one MULTI, so it never lives without a TTL).
Development only: the blueprint is never registered in production.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time

import redis
from cryptography.fernet import Fernet, InvalidToken

from bot.language.segments import count_segments

PREFIX = "kyr:sim:phone:"
OPTED_OUT_PREFIX = "kyr:sim:stopped:"
TTL_SECONDS = 86400
MAX_ENTRIES = 500
#: The test numbers (555-01xx numbers are reserved for fiction: they never reach a real phone).
LINES = ("+13125550101", "+13125550102", "+13125550103", "+13125550104", "+13125550105")
CHANNELS = ("sms", "whatsapp")
#: Twilio's own opt-out words on a long code: after STOP it refuses to send (error 21610) until START.
TWILIO_STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
TWILIO_START_WORDS = frozenset({"start", "unstop", "yes"})
#: Who wrote an entry: the person, the bot's TwiML reply, or a message sent later through the REST API.
KINDS = ("in", "reply", "api")


def address(line: int, channel: str) -> str:
    """The Twilio address of a test number: ``+1…`` for SMS, ``whatsapp:+1…`` for WhatsApp."""
    number = LINES[line]
    return f"whatsapp:{number}" if channel == "whatsapp" else number


@dataclasses.dataclass(frozen=True)
class Entry:
    id: str
    kind: str
    text: str
    at: float

    def as_json(self) -> dict:
        count = count_segments(self.text)
        return {"id": self.id, "kind": self.kind, "text": self.text, "at": self.at,
                "encoding": count.encoding, "units": count.units, "segments": count.segments}


class Phones:
    def __init__(self, client: redis.Redis, fernet: Fernet, hash_key: str):
        self.client = client
        self.fernet = fernet
        self.hash_key = hash_key

    def _key(self, prefix: str, addr: str) -> str:
        return prefix + hmac.new(self.hash_key.encode(), b"sim:" + addr.encode(), hashlib.sha256).hexdigest()

    def add(self, addr: str, kind: str, text: str) -> Entry:
        at = time.time()
        token = self.fernet.encrypt(json.dumps({"kind": kind, "text": text, "at": at}).encode()).decode()
        key = self._key(PREFIX, addr)
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(key, {"d": token}, maxlen=MAX_ENTRIES, approximate=True)
        pipe.expire(key, TTL_SECONDS)
        entry_id = pipe.execute()[0]
        return Entry(entry_id.decode() if isinstance(entry_id, bytes) else entry_id, kind, text, at)

    def since(self, addr: str, after: str | None) -> list[Entry]:
        """Entries after stream id ``after`` (all when None), oldest first."""
        start = f"({after}" if after else "-"
        entries = []
        for entry_id, fields in self.client.xrange(self._key(PREFIX, addr), min=start, max="+", count=MAX_ENTRIES):
            token = fields.get(b"d") or fields.get("d")
            try:
                data = json.loads(self.fernet.decrypt(token if isinstance(token, bytes) else token.encode()))
            except (InvalidToken, TypeError, ValueError):
                continue
            entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            entries.append(Entry(entry_id, data["kind"], data["text"], data["at"]))
        return entries

    def clear(self, addr: str) -> None:
        self.client.delete(self._key(PREFIX, addr), self._key(OPTED_OUT_PREFIX, addr))

    # Twilio's carrier-level opt-out on SMS (Advanced Opt-Out): the app is told through error 21610.
    def note_keyword(self, addr: str, text: str) -> None:
        if addr.startswith("whatsapp:"):
            return
        word = " ".join(text.lower().split())
        if word in TWILIO_STOP_WORDS:
            self.client.set(self._key(OPTED_OUT_PREFIX, addr), "1", ex=TTL_SECONDS)
        elif word in TWILIO_START_WORDS:
            self.client.delete(self._key(OPTED_OUT_PREFIX, addr))

    def opted_out(self, addr: str) -> bool:
        return bool(self.client.exists(self._key(OPTED_OUT_PREFIX, addr)))
