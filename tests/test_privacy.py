"""No log record holds a message body or a phone number; stored keys are hashes with TTLs."""

import logging
import re

import pytest

from tests.conftest import post_signed, sms_form

BODIES = [
    "my brother Juan is in county jail and they said ICE put a hold on him",
    "debemos pagar la fianza de mi esposo",
    "i live in 60623",
]


def number_variants(phone: str) -> list[str]:
    digits = phone.lstrip("+")
    return [phone, digits, digits[1:], f"({digits[1:4]}) {digits[4:7]}-{digits[7:]}", f"{digits[1:4]}-{digits[4:7]}-{digits[7:]}"]


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_no_log_record_contains_body_or_number(client, phone, all_logs):
    for body in BODIES:
        assert post_signed(client, sms_form(phone, body)).status_code == 200
    post_signed(client, sms_form(f"whatsapp:{phone}", BODIES[0]))
    client.post("/api/chat", json={"message": BODIES[1]})
    text = "\n".join(record.getMessage() + " " + repr(record.args) for record in all_logs.records)
    assert all_logs.records, "the app should log something (intent, channel)"
    for body in BODIES:
        assert body not in text
        assert body.lower() not in text.lower()
    for variant in number_variants(phone):
        assert variant not in text


def test_redis_keys_hold_no_number_and_all_expire(client, phone, redis_client):
    post_signed(client, sms_form(phone, BODIES[0]))
    digits = phone.lstrip("+")
    keys = list(redis_client.scan_iter("kyr:*"))
    assert keys
    for key in keys:
        assert digits[-7:] not in key
        # -1 means no TTL. 0 or -2: an older test's key expiring, or gone, since the scan.
        assert redis_client.ttl(key) != -1, f"{key} has no TTL"
        kind = redis_client.type(key)
        value = " ".join(redis_client.hvals(key)) if kind == "hash" else (redis_client.get(key) or "")
        assert digits[-7:] not in value
        assert BODIES[0] not in value


def test_session_ttl_follows_config(make_app, phone, redis_client):
    from bot.clients.identity import sender_from_twilio
    from tests.conftest import ID_HASH_KEY

    app = make_app(STATE_TTL_DAYS="2")
    post_signed(app.test_client(), sms_form(phone, "hello"))
    key = "kyr:session:" + sender_from_twilio(phone, ID_HASH_KEY, "US").key
    assert 2 * 86400 - 60 < redis_client.ttl(key) <= 2 * 86400


def test_same_person_same_key_across_formats_and_channels():
    from bot.clients.identity import sender_from_twilio

    keys = {
        sender_from_twilio(raw, "k", "US").key
        for raw in ["+13125550100", "13125550100", "(312) 555-0100", "whatsapp:+13125550100"]
    }
    assert len(keys) == 1
    assert re.fullmatch(r"[0-9a-f]{64}", keys.pop())


def test_hash_depends_on_the_secret():
    from bot.clients.identity import sender_from_twilio

    assert sender_from_twilio("+13125550100", "a", "US").key != sender_from_twilio("+13125550100", "b", "US").key
