"""Every key is written together with its TTL (issue #15, finding 11: broadcasts, web outbox, handoffs).

A write followed by a separate EXPIRE leaves a key without TTL forever if the
process dies in between. Redis's MONITOR shows every command the code sends:
each write to a ``kyr:`` key must carry its TTL itself (SET ... EX) or share
one MULTI/EXEC (or one Lua script) with the EXPIRE of that key. And after the
call, every key has a TTL.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import pytest
import redis
from cryptography.fernet import Fernet

from bot.outreach.broadcasts import broadcasts_for, recipients_key
from bot.config import load_settings
from bot.handoff.outbox import WebOutbox
from bot.clients.identity import sender_from_twilio
from bot.outreach.subscriptions import Audience
from tests.test_handoff import KEY, db_url

#: Commands that can create a key (and so need a TTL with them).
CREATING = {"SET", "SETNX", "HSET", "HSETNX", "HMSET", "HINCRBY", "INCR", "INCRBY", "RPUSH", "LPUSH", "SADD", "ZADD"}
EXPIRING = {"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"}
ATOMIC_DB = 10


@pytest.fixture
def atomic_url(redis_url):
    url = db_url(redis_url, ATOMIC_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@contextlib.contextmanager
def monitored(url: str):
    """Yields a list that fills with the MONITOR records of everything sent meanwhile."""
    watcher = redis.Redis.from_url(url, decode_responses=True)
    records: list[dict] = []
    marker = "end-of-monitor-" + uuid.uuid4().hex
    ready = threading.Event()

    def listen():
        with watcher.monitor() as monitor:
            ready.set()
            for record in monitor.listen():
                if marker in record["command"]:
                    return
                records.append(record)

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(5)
    time.sleep(0.2)  # MONITOR is registered once the server has answered it
    try:
        yield records
    finally:
        redis.Redis.from_url(url).echo(marker)
        thread.join(10)


def units(records: list[dict]) -> list[list[str]]:
    """Group commands into what Redis runs atomically: a MULTI..EXEC block, a script, or one command."""
    grouped: list[list[str]] = []
    open_blocks: dict[str, list[str]] = {}
    for record in records:
        command, client = record["command"], record["client_port"]
        name = command.split(" ", 1)[0].upper()
        if record["client_type"] == "lua":
            grouped[-1].append(command)  # runs inside the EVAL just logged
        elif name == "MULTI":
            open_blocks[client] = []
        elif name in ("EXEC", "DISCARD"):
            grouped.append(open_blocks.pop(client, []))
        elif client in open_blocks:
            open_blocks[client].append(command)
        else:
            grouped.append([command])
    return grouped


def writes_without_ttl(records: list[dict], prefix: str = "kyr:") -> list[str]:
    """Writes to ``prefix`` keys whose TTL is not set in the same atomic unit."""
    problems = []
    for unit in units(records):
        expired = set()
        for command in unit:
            parts = command.split(" ")
            name = parts[0].upper()
            if name in EXPIRING or (name == "SET" and {"EX", "PX", "EXAT", "PXAT", "KEEPTTL"} & {p.upper() for p in parts[3:]}):
                expired.add(parts[1])
        for command in unit:
            parts = command.split(" ")
            if parts[0].upper() in CREATING and parts[1].startswith(prefix) and parts[1] not in expired:
                problems.append(command[:120])
    return problems


def keys_without_ttl(url: str, pattern: str = "kyr:*") -> list[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    return [key for key in client.scan_iter(pattern) if client.ttl(key) < 0]


def test_the_checker_catches_a_separate_expire(atomic_url):
    """The check itself: a write and a later EXPIRE are flagged; SET EX and MULTI are not."""
    client = redis.Redis.from_url(atomic_url)
    with monitored(atomic_url) as records:
        client.hset("kyr:two-steps", "a", "1")
        client.expire("kyr:two-steps", 60)
        client.set("kyr:one-step", "x", ex=60)
        pipe = client.pipeline(transaction=True)
        pipe.incr("kyr:multi")
        pipe.expire("kyr:multi", 60)
        pipe.execute()
    assert writes_without_ttl(records) == ["HSET kyr:two-steps a 1"]


def test_broadcast_create_and_start_write_every_key_with_its_ttl(atomic_url):
    env = {"REDIS_URL": atomic_url, "ENCRYPTION_KEY": KEY, "ID_HASH_KEY": "test-id-hash-key",
           "BROADCAST_BATCH_SIZE": "2"}
    book = broadcasts_for(load_settings(env))
    for n, lang in enumerate(["en", "es", "en", "fr"]):
        sender = sender_from_twilio(f"+1312555{n:04d}", env["ID_HASH_KEY"], "US")
        book.subscriptions.subscribe(sender, lang, None)
    with monitored(atomic_url) as records:
        campaign = book.create({"en": "Workshop Saturday.", "es": "Taller el sábado."}, Audience())
        assert book.start(campaign.id) == 3  # fr has no text: skipped, not queued
    assert records, "MONITOR saw nothing"
    assert writes_without_ttl(records) == []
    assert keys_without_ttl(atomic_url) == []
    client = redis.Redis.from_url(atomic_url)
    assert client.hlen(recipients_key(campaign.id)) == 4


def test_web_outbox_push_writes_every_key_with_its_ttl(atomic_url):
    client = redis.Redis.from_url(atomic_url, decode_responses=True)
    outbox = WebOutbox(client, Fernet(KEY.encode()), ttl=3600)
    with monitored(atomic_url) as records:
        first = outbox.push("a" * 64, "Hi, this is Ana from the hotline.")
        second = outbox.push("a" * 64, "Are you still there?")
    assert (first, second) == (1, 2)
    assert writes_without_ttl(records) == []
    assert keys_without_ttl(atomic_url) == []
    assert outbox.since("a" * 64, 0) == (["Hi, this is Ana from the hotline.", "Are you still there?"], 2)


def test_handoff_writes_carry_their_ttl(atomic_url):
    """A whole handoff: queued, written to, moved up, claimed, answered, ended, erased."""
    from bot.handoff.outbox import WebOutbox
    from bot.handoff.records import HandoffRecords
    from bot.handoff.stats import HandoffStats

    client = redis.Redis.from_url(atomic_url, decode_responses=True)
    records = HandoffRecords(client, Fernet(KEY.encode()), idle_seconds=600, transcript_ttl=3600)
    stats = HandoffStats(client)
    with monitored(atomic_url) as records_seen:
        reserved = records.reserve_for_origin("b" * 64, 3)
        handoff = records.open(sender="a" * 64, channel="web", lang="es", topic="none", reason="asked",
                               urgent=False, address=None, handoff_id=reserved)
        records.append(handoff.id, "person", "hola")
        records.line_notice_due(handoff.id, 60)
        records.mark_urgent(handoff.id)
        assert records.claim(handoff.id, "ana")
        stats.claimed(30)
        records.person_unanswered(handoff.id)
        records.reading_notice_once(handoff.id)
        records.set_lang(handoff.id, "en")
        records.touch(handoff.id)
        records.staff_answered(handoff.id)
        records.close(handoff.id, "handed_back")
        records.append(handoff.id, "event", "handed_back", ended=True)
    assert records_seen, "MONITOR saw nothing"
    assert writes_without_ttl(records_seen) == []
    assert keys_without_ttl(atomic_url) == []
    records.erase_sender("a" * 64)
    WebOutbox(client, Fernet(KEY.encode()), 3600).erase("a" * 64)
    assert [key for key in client.scan_iter("kyr:handoff:*") if handoff.id in key or "a" * 64 in key] == []
