"""A retried MessageSid gets the same reply and advances the conversation once."""

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from bot.clients.identity import sender_from_twilio
from tests.conftest import ID_HASH_KEY, post_signed, sign, sms_form, twiml_messages


def session_turns(redis_client, phone) -> int:
    key = sender_from_twilio(phone, ID_HASH_KEY, "US").key
    raw = redis_client.get("kyr:session:" + key)
    return json.loads(raw)["turns"] if raw else 0


def test_ten_concurrent_deliveries_are_processed_once(live_server, phone, redis_client):
    form = sms_form(phone, "should we pay bail for my brother")
    headers = {"X-Twilio-Signature": sign(form)}

    def deliver(_):
        return requests.post(live_server + "/sms", data=form, headers=headers, timeout=15)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(deliver, range(10)))
    assert {r.status_code for r in responses} == {200}
    bodies = {r.content for r in responses}
    assert len(bodies) == 1, "every delivery must get the same reply"
    assert twiml_messages(bodies.pop())
    assert session_turns(redis_client, phone) == 1


def test_different_message_sids_each_advance(client, phone, redis_client):
    post_signed(client, sms_form(phone, "hello"))
    post_signed(client, sms_form(phone, "bail"))
    assert session_turns(redis_client, phone) == 2


def test_one_senders_concurrent_messages_each_count_once(live_server, phone, redis_client):
    """Eight different messages from one person at once: the sender lock runs them one
    at a time, so no step overwrites another's session and none is lost."""
    forms = [sms_form(phone, text) for text in ["hello", "bail", "ice hold", "MORE"] * 2]

    def deliver(form):
        return requests.post(live_server + "/sms", data=form, headers={"X-Twilio-Signature": sign(form)}, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(deliver, forms))
    assert [r.status_code for r in responses] == [200] * 8
    assert all(twiml_messages(r.content) for r in responses)
    assert session_turns(redis_client, phone) == 8
    key = sender_from_twilio(phone, ID_HASH_KEY, "US").key
    assert redis_client.get("kyr:rate:" + key) == "8"
    assert redis_client.exists("kyr:lock:" + key) == 0, "the lock is released when the step ends"
