"""A deleted session leaves nothing readable on disk (issue #15, finding 5).

Redis's append-only file (AOF) records every write; a DEL or an expiry only
appends another record, so the value stays on disk until the next rewrite.
With ENCRYPTION_KEY, session values are Fernet tokens, so what stays is
unreadable. A real redis-server with ``appendonly yes`` writes the files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import redis

from bot.config import load_settings
from bot.services import build_services
from bot.clients.store import SESSION_PREFIX
from tests.net import start_redis_server

KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#: Something a session really holds (a county) plus a marker no other write contains.
DISTINCTIVE = "Kankakee County zz-marker-5f2c"


@pytest.fixture
def aof_redis(tmp_path):
    """A redis-server that writes its AOF to tmp_path at every command."""
    process, url = start_redis_server(shutil.which("redis-server"), tmp_path,
                                      "--appendonly", "yes", "--appendfsync", "always")
    yield url, tmp_path
    process.terminate()
    process.wait(10)


def on_disk(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def store_then_delete(url: str, encryption_key: str | None) -> None:
    """Save a session through the real store API, read it back, then DELETE it."""
    env = {"REDIS_URL": url, "ID_HASH_KEY": "test-id-hash-key", "SECRET_KEY": "s",
           "RASA_URL": "http://127.0.0.1:9"}
    if encryption_key:
        env["ENCRYPTION_KEY"] = encryption_key
    store = build_services(load_settings(env)).store
    session = {"v": 1, "lang": "en", "topic": "detainer", "loc": {"state": "IL", "county": DISTINCTIVE}}
    with store.turn("a" * 64, 60) as step:
        assert step.session is None
        step.save(session, 3600)
    with store.turn("a" * 64, 60) as step:
        assert step.session == session  # the store reads back what it wrote
    store.delete_session("a" * 64)
    assert not redis.Redis.from_url(url).exists(SESSION_PREFIX + "a" * 64)


def test_deleted_session_is_not_readable_in_the_aof(aof_redis):
    url, directory = aof_redis
    store_then_delete(url, KEY)
    disk = on_disk(directory)
    assert b"detainer" not in disk and DISTINCTIVE.encode() not in disk
    assert SESSION_PREFIX.encode() in disk, "the AOF recorded the session's writes (only encrypted)"


def test_the_aof_check_itself_sees_plaintext_without_a_key(aof_redis):
    """Without ENCRYPTION_KEY (development) the plaintext does stay on disk: the check above can fail."""
    url, directory = aof_redis
    store_then_delete(url, None)
    assert DISTINCTIVE.encode() in on_disk(directory)


def test_sessions_written_before_the_key_was_set_are_still_read(aof_redis):
    url, _ = aof_redis
    plain = build_services(load_settings({"REDIS_URL": url, "ID_HASH_KEY": "k", "RASA_URL": "http://127.0.0.1:9"})).store
    with plain.turn("b" * 64, 60) as step:
        step.save({"v": 1, "lang": "es"}, 3600)
    encrypted = build_services(load_settings({"REDIS_URL": url, "ID_HASH_KEY": "k", "ENCRYPTION_KEY": KEY,
                                              "RASA_URL": "http://127.0.0.1:9"})).store
    with encrypted.turn("b" * 64, 60) as step:
        assert step.session == {"v": 1, "lang": "es"}
        step.save({"v": 1, "lang": "fr"}, 3600)
    raw = redis.Redis.from_url(url, decode_responses=True).get(SESSION_PREFIX + "b" * 64)
    # Re-saved encrypted: a Fernet token, not JSON ("fr" alone could appear in the token's base64 by chance).
    assert raw.startswith("gAAAA") and '"lang"' not in raw and "{" not in raw


def test_audit_reads_encrypted_sessions_and_still_finds_bodies(aof_redis):
    import json

    from cryptography.fernet import Fernet

    from bot.audit import audit

    url, _ = aof_redis
    settings = load_settings({"REDIS_URL": url, "ID_HASH_KEY": "k", "ENCRYPTION_KEY": KEY, "RASA_URL": "http://127.0.0.1:9"})
    store = build_services(settings).store
    with store.turn("c" * 64, 60) as step:
        step.save({"v": 1, "lang": "en"}, 3600)
    client = redis.Redis.from_url(url, decode_responses=True)
    assert audit(client, settings).clean
    planted = Fernet(KEY.encode()).encrypt(json.dumps({"v": 1, "body": "my brother was arrested"}).encode())
    client.set(SESSION_PREFIX + "d" * 64, planted.decode(), ex=60)
    assert any("unexpected session fields ['body']" in finding for finding in audit(client, settings).findings)
