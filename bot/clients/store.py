"""Conversation state and message de-duplication, in Redis or in memory.

Two implementations with one interface, chosen by config: ``RedisStore`` when
``REDIS_URL`` is set, ``MemoryStore`` otherwise (one process only; the app
says so at start-up). Redis errors fail soft: the bot keeps answering without
state rather than going silent, and ``healthy()`` reports the outage.

Every key written has a TTL. Keys hold only keyed hashes, never a number.
With ``ENCRYPTION_KEY`` set (required in production), ``RedisStore`` keeps
session values Fernet-encrypted: Redis's append-only file keeps a deleted or
expired value on disk until the next rewrite, and there it is unreadable.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
import time
from typing import Any, Iterator, Protocol

import redis
from cryptography.fernet import Fernet, InvalidToken
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

#: Value of a dedupe claim while the first request is still being answered.
PENDING = "\x00pending"

SESSION_PREFIX = "kyr:session:"
MESSAGE_PREFIX = "kyr:msg:"
RATE_PREFIX = "kyr:rate:"
LOCK_PREFIX = "kyr:lock:"
#: A conversation step holds its sender's lock at most this long (then it expires).
LOCK_TTL_SECONDS = 10
#: How long a second message from the same sender waits for the first one's step.
LOCK_WAIT_SECONDS = 8
LOCK_POLL_SECONDS = 0.05

#: Start of a step: take the sender's lock (KEYS[1]) with token ARGV[1] for ARGV[2] ms;
#: if taken, return the session (KEYS[2], "" when none) and count this message in
#: the rate window (KEYS[3], ARGV[3] s). Returns {0} when someone else holds the lock.
BEGIN_TURN = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0}
end
local session = redis.call('GET', KEYS[2]) or ''
local count = redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[3], 'NX')
return {1, session, count}
"""

#: End of a step: save the session (KEYS[2] = ARGV[2] for ARGV[3] s, when ARGV[2]
#: is not empty), then release the lock (KEYS[1]) if it still holds our token ARGV[1].
END_TURN = """
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
end
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1
"""


class Turn:
    """One conversation step of one sender, as the store hands it to the engine.

    ``session`` is what was stored (None: first contact, or storage is down);
    ``count`` is this sender's messages in the current rate window, this one
    included (0 when storage is down). ``save`` schedules the new session; the
    store writes it when the step ends, together with releasing the sender's
    lock, so a step costs two storage round trips instead of six.
    """

    def __init__(self, session: Any, count: int):
        self.session = session
        self.count = count
        self.pending: tuple[dict[str, Any], int] | None = None

    def save(self, session: dict[str, Any], ttl: int) -> None:
        self.pending = (session, ttl)


class Store(Protocol):
    """What the engine and the webhook need from storage."""

    kind: str

    def turn(self, key: str, rate_window: int) -> contextlib.AbstractContextManager[Turn]: ...
    def delete_session(self, key: str) -> None: ...
    def claim_message(self, message_key: str, ttl: int) -> bool: ...
    def save_reply(self, message_key: str, reply: str, ttl: int) -> None: ...
    def get_reply(self, message_key: str) -> str | None: ...
    def forget_rate(self, key: str) -> None: ...
    def healthy(self) -> bool: ...


class MemoryStore:
    """Process-local store for development without Redis. Not shared across workers."""

    kind = "memory"

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._sender_locks: dict[str, threading.Lock] = {}

    @contextlib.contextmanager
    def turn(self, key: str, rate_window: int) -> Iterator[Turn]:
        """One step per sender at a time; the session is saved when the step ends."""
        with self._lock:
            lock = self._sender_locks.setdefault(key, threading.Lock())
        acquired = lock.acquire(timeout=LOCK_WAIT_SECONDS)
        try:
            with self._lock:
                raw = self._get(SESSION_PREFIX + key)
                count = self._hit(key, rate_window)
            step = Turn(json.loads(raw) if raw else None, count)
            yield step
            if step.pending is not None:
                session, ttl = step.pending
                with self._lock:
                    self._set(SESSION_PREFIX + key, json.dumps(session), ttl)
        finally:
            if acquired:
                lock.release()

    def _get(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    def _set(self, key: str, value: str, ttl: int) -> None:
        self._data[key] = (time.monotonic() + ttl, value)

    def delete_session(self, key: str) -> None:
        with self._lock:
            self._data.pop(SESSION_PREFIX + key, None)

    def claim_message(self, message_key: str, ttl: int) -> bool:
        with self._lock:
            if self._get(MESSAGE_PREFIX + message_key) is not None:
                return False
            self._set(MESSAGE_PREFIX + message_key, PENDING, ttl)
            return True

    def save_reply(self, message_key: str, reply: str, ttl: int) -> None:
        with self._lock:
            self._set(MESSAGE_PREFIX + message_key, reply, ttl)

    def get_reply(self, message_key: str) -> str | None:
        with self._lock:
            return self._get(MESSAGE_PREFIX + message_key)

    def _hit(self, key: str, window: int) -> int:
        """Count one message in a fixed window (caller holds ``self._lock``)."""
        full = RATE_PREFIX + key
        count = int(self._get(full) or 0) + 1
        expires = self._data[full][0] if full in self._data else time.monotonic() + window
        self._data[full] = (expires, str(count))
        return count

    def forget_rate(self, key: str) -> None:
        with self._lock:
            self._data.pop(RATE_PREFIX + key, None)

    def healthy(self) -> bool:
        return True


class RedisStore:
    """Redis-backed store shared by every worker and replica.

    After a Redis error the store skips Redis for ``cooldown`` seconds, so a
    dead Redis costs one short timeout per request instead of one per call.
    """

    kind = "redis"

    def __init__(self, url: str, *, socket_timeout: float = 0.5, cooldown: float = 1.0,
                 encryption_key: str | None = None):
        self._fernet = Fernet(encryption_key.encode()) if encryption_key else None
        options = dict(
            decode_responses=True,
            socket_connect_timeout=socket_timeout,
            socket_timeout=socket_timeout,
            # One immediate retry on a fresh connection: after Redis restarts, the
            # pooled connections are dead and the first command on each would fail.
            retry=Retry(NoBackoff(), 1),
            health_check_interval=15,
        )
        if url.startswith(SENTINEL_SCHEME):
            self._client = sentinel_client(url, options)
        else:
            self._client = redis.Redis.from_url(url, **options)
        self._cooldown = cooldown
        self._down_until = 0.0
        self._begin_turn = self._client.register_script(BEGIN_TURN)
        self._end_turn = self._client.register_script(END_TURN)

    @property
    def client(self) -> redis.Redis:
        return self._client

    def _call(self, fallback: Any, operation, *args):
        if time.monotonic() < self._down_until:
            return fallback
        try:
            return operation(*args)
        except redis.RedisError as exc:
            self._down_until = time.monotonic() + self._cooldown
            log.warning("redis unavailable, continuing without state: %s", type(exc).__name__)
            return fallback

    def delete_session(self, key: str) -> None:
        self._call(None, self._client.delete, SESSION_PREFIX + key)

    def claim_message(self, message_key: str, ttl: int) -> bool:
        """Atomic first-writer-wins claim (SET NX). With Redis down, process it."""
        claimed = self._call(
            True,
            lambda: self._client.set(MESSAGE_PREFIX + message_key, PENDING, nx=True, ex=ttl),
        )
        return bool(claimed)

    def save_reply(self, message_key: str, reply: str, ttl: int) -> None:
        self._call(None, self._client.set, MESSAGE_PREFIX + message_key, reply, ttl)

    def get_reply(self, message_key: str) -> str | None:
        return self._call(None, self._client.get, MESSAGE_PREFIX + message_key)

    def forget_rate(self, key: str) -> None:
        self._call(None, self._client.delete, RATE_PREFIX + key)

    @contextlib.contextmanager
    def turn(self, key: str, rate_window: int) -> Iterator[Turn]:
        """One conversation step per sender at a time, across workers and replicas.

        Two messages from one person processed at once would each read the
        session and the later write would drop the earlier step, so the step
        holds a Redis lock (SET NX with a TTL and a random token). Taking the
        lock also reads the session and counts the message (one script, one
        round trip); the end of the step writes the session and releases the
        lock (one script). If the lock cannot be had (Redis down, or a step
        stuck), the step runs anyway: answering matters more than a perfect
        turn count.
        """
        token = secrets.token_hex(16)
        keys = [LOCK_PREFIX + key, SESSION_PREFIX + key, RATE_PREFIX + key]
        acquired, raw, count = self._begin(keys, token, rate_window)
        step = Turn(self._decode_session(raw), count)
        try:
            yield step
        finally:
            if acquired or step.pending is not None:
                session, ttl = step.pending or (None, 0)
                self._call(
                    None, self._end_turn, keys[:2],
                    [token if acquired else "", self._encode_session(session) if session is not None else "", ttl],
                )

    def _begin(self, keys: list[str], token: str, rate_window: int) -> tuple[bool, str | None, int]:
        """Lock, session and rate count; waits up to LOCK_WAIT_SECONDS for a busy lock."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            result = self._call(None, self._begin_turn, keys, [token, LOCK_TTL_SECONDS * 1000, rate_window])
            if result is None:  # Redis down: no state this step
                return False, None, 0
            if int(result[0]) == 1:
                return True, result[1] or None, int(result[2])
            if time.monotonic() >= deadline:
                break
            time.sleep(LOCK_POLL_SECONDS)
        log.warning("sender lock not acquired in %s s; answering without it", LOCK_WAIT_SECONDS)

        def unlocked() -> tuple[bool, str | None, int]:
            pipe = self._client.pipeline()
            pipe.get(keys[1])
            pipe.incr(keys[2])
            pipe.expire(keys[2], rate_window, nx=True)
            raw, count, _ = pipe.execute()
            return False, raw, int(count)

        return self._call((False, None, 0), unlocked)

    def _encode_session(self, session: dict[str, Any]) -> str:
        """The stored form: JSON, Fernet-encrypted when ENCRYPTION_KEY is set."""
        text = json.dumps(session)
        return self._fernet.encrypt(text.encode()).decode() if self._fernet else text

    def _decode_session(self, raw: str | None) -> dict[str, Any] | None:
        if not raw:
            return None
        try:
            return json.loads(session_json(raw, self._fernet))
        except (ValueError, InvalidToken):
            log.warning("discarding unreadable session record")
            return None

    def healthy(self) -> bool:
        """Ping Redis; a success also ends the cooldown, so recovery is immediate."""
        try:
            ok = bool(self._client.ping())
        except redis.RedisError:
            return False
        if ok:
            self._down_until = 0.0
        return ok


def session_json(raw: str, fernet: Fernet | None) -> str:
    """The JSON text of a stored session value (decrypted when it is a Fernet token).

    A plain JSON value (written before ENCRYPTION_KEY was set) is still read;
    the next save encrypts it. Raises InvalidToken for a token of another key.
    """
    if raw.startswith("{") or fernet is None:
        return raw
    return fernet.decrypt(raw.encode()).decode()


SENTINEL_SCHEME = "redis+sentinel://"


def sentinel_client(url: str, options: dict) -> redis.Redis:
    """A client for the current master behind Redis Sentinel.

    URL form: ``redis+sentinel://[:password@]host1:26379,host2:26379/<service>[/<db>]``.
    The client asks the sentinels for the master on every reconnect, so a
    failover is followed without a restart.
    """
    from urllib.parse import unquote

    from redis.sentinel import Sentinel

    rest = url[len(SENTINEL_SCHEME):]
    password = None
    if "@" in rest:
        credentials, rest = rest.rsplit("@", 1)
        password = unquote(credentials.split(":", 1)[-1]) or None
    hosts_part, _, path = rest.partition("/")
    service, _, db = path.partition("/")
    if not hosts_part or not service:
        raise ValueError("REDIS_URL for Sentinel must look like redis+sentinel://host:26379/mymaster/0")
    hosts = []
    for item in hosts_part.split(","):
        host, _, port = item.partition(":")
        hosts.append((host, int(port or 26379)))
    sentinel = Sentinel(hosts, socket_timeout=options["socket_timeout"])
    return sentinel.master_for(service, db=int(db or 0), password=password, **options)


def create_store(redis_url: str | None, encryption_key: str | None = None) -> Store:
    """The store the config asks for (sessions encrypted at rest with ``encryption_key``)."""
    return RedisStore(redis_url, encryption_key=encryption_key) if redis_url else MemoryStore()
