"""The retention audit passes after a realistic conversation and catches what must not be kept."""

import json

import pytest
import redis

from bot.audit import audit, public_numbers_of
from tests.conftest import post_signed, sms_form

#: The audit scans a whole database, so these tests use their own (never the app's usual db 0).
AUDIT_DB = 13


def run_audit(app, redis_client):
    svc = app.extensions["kyr"]
    return audit(redis_client, svc.settings, public_numbers_of(svc.content, svc.router.resources))


@pytest.fixture
def audit_url(redis_url):
    return redis_url.rsplit("/", 1)[0] + f"/{AUDIT_DB}"


@pytest.fixture
def clean_db(audit_url):
    client = redis.Redis.from_url(audit_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def app(make_app, audit_url):
    return make_app(REDIS_URL=audit_url)


@pytest.fixture
def client(app):
    return app.test_client()


def realistic_conversation(client, phone):
    for body in ["hola", "vivo en 60623", "a mi hermano le pusieron un hold de ICE", "MAS", "english",
                 "my number is 312-555-0199 call me", "ICE is at my door right now"]:
        assert post_signed(client, sms_form(phone, body)).status_code == 200
    client.post("/api/chat", json={"message": "where can i find a free lawyer, text me at 773 555 0123"})


def test_clean_after_a_realistic_conversation(app, client, phone, clean_db):
    realistic_conversation(client, phone)
    report = run_audit(app, clean_db)
    assert report.clean, report.format()
    assert report.kinds["kyr:session"].count == 2 and report.kinds["kyr:msg"].count == 7


def test_finds_keys_without_ttl_numbers_and_bodies(app, clean_db):
    clean_db.set("kyr:session:abc", json.dumps({"v": 1, "lang": "en", "body": "my brother was arrested"}))
    clean_db.set("kyr:leak:+13125550100", "x", ex=60)
    clean_db.set("kyr:note:1", "call me at (312) 555-0101", ex=60)
    report = run_audit(app, clean_db)
    text = report.format()
    assert "kyr:session:abc: no TTL" in text
    assert "unexpected session fields ['body']" in text
    assert "the key contains a phone number" in text
    assert "the value contains a phone number" in text
    assert not report.clean


def test_random_ids_are_not_phone_numbers():
    """A handoff id or RQ job id can hold a valid-looking number by chance; a number
    written in a key or text is still found, bare or in the formats people use."""
    from bot.audit import phone_numbers_in

    assert phone_numbers_in("kyr:handoff:03facc9105556584") == set()
    assert phone_numbers_in('{"id": "03facc9105556584", "lang": "es"}') == set()
    assert phone_numbers_in("rq:job:31255501-0042-4abc-8def-3125550100ab") == set()
    for leak in ["kyr:x:3125550100", "kyr:x:+13125550100", "call (312) 555-0100", "whatsapp:+13125550100"]:
        assert phone_numbers_in(leak) == {"+13125550100"}, leak


def test_cli_exit_code(app, clean_db, phone):
    runner = app.test_cli_runner()
    post_signed(app.test_client(), sms_form(phone, "hello"))
    assert runner.invoke(args=["audit-data"]).exit_code == 0
    clean_db.set("kyr:forever", "1")
    result = runner.invoke(args=["audit-data"])
    assert result.exit_code == 1 and "no TTL" in result.output


@pytest.mark.parametrize("word", ["DELETE", "BORRAR", "EFASE", "SUPPRIMER", "APAGAR", "删除", "XÓA", "احذف"])
def test_erase_by_text_in_every_language(app, client, phone, clean_db, word):
    redis_client = clean_db
    from bot.clients.identity import sender_from_twilio
    from tests.conftest import ID_HASH_KEY

    post_signed(client, sms_form(phone, "i live in 60623"))
    key = sender_from_twilio(phone, ID_HASH_KEY, "US").key
    assert redis_client.exists("kyr:session:" + key)
    assert post_signed(client, sms_form(phone, word)).status_code == 200
    assert not redis_client.exists("kyr:session:" + key)
    assert not redis_client.exists("kyr:rate:" + key)
