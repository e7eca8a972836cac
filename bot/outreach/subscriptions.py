"""Alert subscriptions: who opted in, in which language and area, and who said STOP.

One Redis hash per person, keyed by the same HMAC as their conversation
(``kyr:sub:<hash>``). The number itself is needed to send, so it is kept only
Fernet-encrypted (``ENCRYPTION_KEY``) and decrypted inside the send job.

A STOP keeps the record with ``status=stopped`` (and no way to send) until it
expires, so START can resume it; every write renews the TTL
(``SUBSCRIPTION_TTL_DAYS``). Broadcasts only ever read ``status=active``.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Iterator

import redis
from cryptography.fernet import Fernet

from bot.clients.identity import Sender
from bot.content.location import Location

SUBSCRIPTION_PREFIX = "kyr:sub:"
ACTIVE = "active"
STOPPED = "stopped"


class SubscriptionsUnavailable(RuntimeError):
    """Subscriptions need Redis (REDIS_URL) and ENCRYPTION_KEY."""


@dataclasses.dataclass(frozen=True)
class Subscriber:
    key: str
    status: str
    lang: str
    channel: str  # "sms" or "whatsapp"
    state: str | None = None
    county: str | None = None
    #: Fernet token of the address ("+1…" or "whatsapp:+1…"); decrypted only to send.
    address_token: str | None = None
    #: When the person last wrote to us (WhatsApp's 24-hour window), epoch seconds.
    last_inbound: float = 0.0
    stop_reason: str | None = None

    @classmethod
    def from_hash(cls, key: str, data: dict[str, str]) -> "Subscriber":
        return cls(
            key=key,
            status=data.get("status", STOPPED),
            lang=data.get("lang", "en"),
            channel=data.get("channel", "sms"),
            state=data.get("state") or None,
            county=data.get("county") or None,
            address_token=data.get("to") or None,
            last_inbound=float(data.get("last_inbound") or 0),
            stop_reason=data.get("stop_reason") or None,
        )


@dataclasses.dataclass(frozen=True)
class Audience:
    """Who a broadcast reaches: empty tuples mean "everyone"."""

    languages: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()  # "IL:Cook"

    def includes(self, subscriber: Subscriber) -> bool:
        if self.languages and subscriber.lang not in self.languages:
            return False
        if self.states and subscriber.state not in self.states:
            return False
        if self.counties and f"{subscriber.state}:{subscriber.county}" not in self.counties:
            return False
        return True

    def as_dict(self) -> dict[str, list[str]]:
        return {"languages": list(self.languages), "states": list(self.states), "counties": list(self.counties)}

    @classmethod
    def from_dict(cls, data: dict) -> "Audience":
        return cls(tuple(data.get("languages") or ()), tuple(data.get("states") or ()), tuple(data.get("counties") or ()))


class Subscriptions:
    """Opt-in, opt-out and audience queries over Redis."""

    def __init__(self, client: redis.Redis, fernet: Fernet, ttl_seconds: int):
        self.client = client
        self.fernet = fernet
        self.ttl = ttl_seconds

    @staticmethod
    def _key(sender_key: str) -> str:
        return SUBSCRIPTION_PREFIX + sender_key

    def get(self, sender_key: str) -> Subscriber | None:
        data = self.client.hgetall(self._key(sender_key))
        return Subscriber.from_hash(sender_key, data) if data else None

    def subscribe(self, sender: Sender, lang: str, location: Location | None) -> str:
        """Opt in (or update language/area). Returns "new", "already" or "resumed"."""
        if not sender.address:
            raise SubscriptionsUnavailable("this channel cannot receive alerts")
        existing = self.get(sender.key)
        fields = {
            "status": ACTIVE,
            "lang": lang,
            "channel": sender.channel,
            "to": self.fernet.encrypt(sender.address.encode()).decode(),
            "since": str(int(time.time())),
            "last_inbound": str(time.time()),
            "stop_reason": "",
        }
        if location is not None:
            fields.update(state=location.state, county=location.county or "")
        self._write(sender.key, fields)
        if existing is None:
            return "new"
        return "already" if existing.status == ACTIVE else "resumed"

    def stop(self, sender_key: str, reason: str = "keyword") -> bool:
        """Stop all outreach at once. Drops the number; True when there was a subscription."""
        key = self._key(sender_key)
        if not self.client.exists(key):
            return False
        # The encrypted number goes: nothing can be sent until the person opts in again.
        self.client.hdel(key, "to")
        self._write(sender_key, {"status": STOPPED, "stop_reason": reason, "stopped_at": str(int(time.time()))})
        return True

    def resume(self, sender: Sender) -> bool:
        """START/UNSTOP/YES after a STOP: re-activate a stopped subscription, if any."""
        existing = self.get(sender.key)
        if existing is None or existing.status != STOPPED:
            return False
        self.subscribe(sender, existing.lang, Location(existing.state, existing.county) if existing.state else None)
        return True

    def record_inbound(self, sender_key: str, lang: str | None = None) -> None:
        """The person wrote: WhatsApp's 24-hour window is open; keep their language current."""
        key = self._key(sender_key)
        if self.client.exists(key):
            fields = {"last_inbound": str(time.time())}
            if lang:
                fields["lang"] = lang
            self._write(sender_key, fields)

    def erase(self, sender_key: str) -> None:
        self.client.delete(self._key(sender_key))

    def _write(self, sender_key: str, fields: dict[str, str]) -> None:
        key = self._key(sender_key)
        pipe = self.client.pipeline()
        pipe.hset(key, mapping=fields)
        pipe.expire(key, self.ttl)
        pipe.execute()

    def active(self, audience: Audience, batch: int = 500) -> Iterator[Subscriber]:
        """Every active subscriber the audience includes (SCAN, so it never blocks Redis)."""
        keys: list[str] = []
        for key in self.client.scan_iter(match=SUBSCRIPTION_PREFIX + "*", count=batch):
            keys.append(key)
            if len(keys) >= batch:
                yield from self._matching(keys, audience)
                keys = []
        if keys:
            yield from self._matching(keys, audience)

    def _matching(self, keys: list[str], audience: Audience) -> Iterator[Subscriber]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        for key, data in zip(keys, pipe.execute()):
            if not data:
                continue
            subscriber = Subscriber.from_hash(key[len(SUBSCRIPTION_PREFIX):], data)
            if subscriber.status == ACTIVE and subscriber.address_token and audience.includes(subscriber):
                yield subscriber

    def address_of(self, subscriber: Subscriber) -> str:
        return self.fernet.decrypt(subscriber.address_token.encode()).decode()
