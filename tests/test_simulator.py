"""The phone simulator (/simulator) and its Twilio stand-in, against a real Redis and Rasa.

The simulator posts to /sms signed as Twilio signs (the app's own check lets it
through, a wrong token would not), parses the TwiML as XML, and shows what the
outbound worker later sends through the twilio Client pointed at the stand-in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.channels.simulator.phone import LINES, OPTED_OUT_PREFIX, PREFIX, TTL_SECONDS
from bot.outreach.outbound import enqueue_message
from tests.conftest import AUTH_TOKEN, serve
from tests.test_handoff import KEY, db_url

ROOT = Path(__file__).resolve().parent.parent
SIM_DB = 8
ACCOUNT = "AC" + "5" * 32


@pytest.fixture
def sim_url(redis_url):
    url = db_url(redis_url, SIM_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def sim_env(sim_url):
    return {"REDIS_URL": sim_url, "ENCRYPTION_KEY": KEY, "STAFF_HOURS": "always", "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_FROM_NUMBER": "+15005550006"}


@pytest.fixture
def app(make_app, sim_env):
    return make_app(**sim_env)


@pytest.fixture
def client(app):
    return app.test_client()


def send(client, text, line=0, channel="sms"):
    response = client.post("/simulator/api/send", json={"line": line, "channel": channel, "text": text})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["entries"]


def test_a_message_goes_through_signed_sms_and_the_twiml_reply_shows_with_its_cost(client, app):
    entries = send(client, "I want to talk to a person")
    assert [e["kind"] for e in entries][:2] == ["in", "reply"]
    services = app.extensions["kyr"]
    desk = services.engine.handoff.desk
    reply = entries[1]
    assert reply["text"] == desk.queued_text("en", services.engine.answers.routed_values(None, "en"))
    assert reply["encoding"] == "GSM-7" and reply["segments"] == 1 and reply["units"] == len(reply["text"])
    # The test number really is in the staff queue now, as an SMS conversation.
    queue = desk.queue()
    assert [(h.channel, h.waiting) for h in queue] == [("sms", True)]
    # The phone keeps the thread: the page's poll returns the same entries.
    polled = client.get("/simulator/api/messages?line=0&channel=sms").get_json()["entries"]
    assert [e["id"] for e in polled] == [e["id"] for e in entries]
    later = client.get(f"/simulator/api/messages?line=0&channel=sms&after={entries[-1]['id']}").get_json()
    assert later["entries"] == []


def test_whatsapp_and_unicode_replies_count_ucs2_segments(client):
    entries = send(client, "移民局的人在敲我家门，怎么办？", line=1, channel="whatsapp")
    replies = [e for e in entries if e["kind"] == "reply"]
    assert replies and all(e["encoding"] == "UCS-2" for e in replies)
    assert any(e["segments"] > 1 for e in replies)
    # Each channel of a test number is its own phone.
    assert client.get("/simulator/api/messages?line=1&channel=sms").get_json()["entries"] == []


def test_the_simulator_signs_for_public_url_and_fails_loudly_without_a_token(make_app, sim_env):
    # settings_env sets PUBLIC_URL: the signature must be over PUBLIC_URL + /sms to pass.
    assert send(make_app(**sim_env).test_client(), "HELP")[1]["kind"] == "reply"
    no_token = make_app(**sim_env, TWILIO_AUTH_TOKEN=None).test_client()
    response = no_token.post("/simulator/api/send", json={"line": 0, "channel": "sms", "text": "HELP"})
    assert response.status_code == 503 and "TWILIO_AUTH_TOKEN" in response.get_json()["error"]


@pytest.mark.parametrize("payload, error", [
    ({"line": 9, "channel": "sms", "text": "hi"}, '"line"'),
    ({"line": True, "channel": "sms", "text": "hi"}, '"line"'),
    ({"line": 0, "channel": "fax", "text": "hi"}, '"channel"'),
    ({"line": 0, "channel": "sms", "text": "   "}, '"text"'),
    ({"line": 0, "channel": "sms", "text": "x" * 1601}, "too long"),
    ([1, 2], "JSON object"),
])
def test_bad_input_gets_a_clear_answer_and_stores_nothing(client, sim_url, payload, error):
    response = client.post("/simulator/api/send", json=payload)
    assert response.status_code == 400 and error in response.get_json()["error"]
    assert list(redis.Redis.from_url(sim_url).scan_iter(PREFIX + "*")) == []


def test_bad_poll_parameters_are_refused(client):
    assert client.get("/simulator/api/messages?line=0&channel=sms&after=0;DROP").status_code == 400
    assert client.get("/simulator/api/messages?line=x&channel=sms").status_code == 400


def test_other_websites_cannot_drive_the_simulator(client):
    response = client.post("/simulator/api/send", json={"line": 0, "channel": "sms", "text": "JOIN"},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_phones_keep_only_encrypted_entries_with_a_ttl(client, sim_url):
    send(client, "I want to talk to a person", line=2)
    raw = redis.Redis.from_url(sim_url)
    keys = list(raw.scan_iter("kyr:sim:*"))
    assert keys
    for key in keys:
        assert 0 < raw.ttl(key) <= TTL_SECONDS
        assert LINES[2][2:].encode() not in key
        dumped = repr(raw.xrange(key) if raw.type(key) == b"stream" else raw.get(key))
        assert "talk to a person" not in dumped and LINES[2][2:] not in dumped


@pytest.fixture
def live(app):
    yield from serve(app)


def twilio(base, token=AUTH_TOKEN):
    client = Client(ACCOUNT, token)
    client.api.base_url = base + "/simulator/twilio"
    return client


def test_the_stand_in_answers_like_twilio_and_the_message_reaches_the_phone(live, client):
    message = twilio(live).messages.create(to=LINES[3], from_="+15005550006", body="Hola, soy Ana de la línea.")
    assert message.sid.startswith("SM") and message.status == "queued" and message.num_segments == "1"
    entries = client.get("/simulator/api/messages?line=3&channel=sms").get_json()["entries"]
    assert [(e["kind"], e["text"], e["encoding"]) for e in entries] == [("api", "Hola, soy Ana de la línea.", "UCS-2")]  # í is not GSM-7
    # The broadcast worker's "did Twilio already get it?" check lists by To.
    listed = twilio(live).messages.list(to=LINES[3], limit=50)
    assert [m.body for m in listed] == ["Hola, soy Ana de la línea."]


def test_the_stand_in_refuses_a_wrong_token_and_missing_fields(live):
    with pytest.raises(TwilioRestException) as wrong:
        twilio(live, token="not-the-token-0123456789").messages.create(to=LINES[0], from_="+15005550006", body="x")
    assert wrong.value.status == 401 and wrong.value.code == 20003
    with pytest.raises(TwilioRestException) as empty:
        twilio(live).messages.create(to=LINES[0], from_="+15005550006", body="")
    assert empty.value.code == 21602


def test_after_stop_on_sms_the_stand_in_refuses_like_twilio_until_start(live, client, sim_url):
    send(client, "STOP", line=4)
    with pytest.raises(TwilioRestException) as refused:
        twilio(live).messages.create(to=LINES[4], from_="+15005550006", body="alert")
    assert refused.value.status == 400 and refused.value.code == 21610
    assert list(redis.Redis.from_url(sim_url).scan_iter(OPTED_OUT_PREFIX + "*"))
    send(client, "START", line=4)
    assert twilio(live).messages.create(to=LINES[4], from_="+15005550006", body="alert").status == "queued"


def test_a_queued_message_reaches_the_phone_through_a_real_rq_worker(live, client, sim_env, settings_env):
    """The worker (its own process, like make run's) sends with twilio's Client to the stand-in."""
    env = {**os.environ, **settings_env, **sim_env, "TWILIO_API_BASE_URL": live + "/simulator/twilio",
           "LOG_LEVEL": "INFO"}
    env.pop("PUBLIC_URL", None)
    from bot.config import load_settings

    job = enqueue_message(load_settings(env), LINES[0], "A person from the hotline: how can we help?")
    rq = Path(sys.executable).parent / "rq"
    worker = subprocess.Popen([str(rq), "worker", "kyr-outbound", "--burst", "--url", env["REDIS_URL"]],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = worker.communicate(timeout=60)[0].decode(errors="replace")
    job.refresh()
    assert job.get_status() == "finished", output[-2000:]
    assert LINES[0] not in output and LINES[0][2:] not in output
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entries = client.get("/simulator/api/messages?line=0&channel=sms").get_json()["entries"]
        if entries:
            break
        time.sleep(0.1)
    assert [(e["kind"], e["text"]) for e in entries] == [("api", "A person from the hotline: how can we help?")]


def test_production_never_registers_the_simulator(tmp_path):
    from bot import create_app
    from tests.test_deploy_config import own_hotline, production_env

    app = create_app(production_env(RESPONSES_DIR=own_hotline(tmp_path)))
    assert "simulator" not in app.blueprints
    client = app.test_client()
    assert client.get("/simulator").status_code == 404
    assert client.post("/simulator/api/send", json={"line": 0, "channel": "sms", "text": "hi"}).status_code == 404
    assert client.post(f"/simulator/twilio/2010-04-01/Accounts/{ACCOUNT}/Messages.json").status_code == 404


@pytest.mark.parametrize("lang", ["en", "es", "fr", "ht", "pt", "vi", "zh", "ar"])
def test_each_languages_try_this_person_example_reaches_the_queue_in_that_language(client, app, lang):
    """The "try this" list promises a handoff in every language: the example must deliver it."""
    from bot.channels.simulator.views import examples

    assert len(examples()[lang]) >= 5
    send(client, examples()[lang][2], line=["en", "es", "fr", "ht", "pt", "vi", "zh", "ar"].index(lang) % len(LINES))
    queue = app.extensions["kyr"].engine.handoff.desk.queue()
    assert [(h.lang, h.reason) for h in queue] == [(lang, "asked")]


@pytest.mark.parametrize("lang", ["en", "es", "fr", "ht", "pt", "vi", "zh", "ar"])
def test_each_languages_try_this_examples_get_the_promised_answer_in_that_language(app, lang):
    """Urgent question, ICE hold question, alerts word: each from a new number, answered in its language."""
    from bot.channels.simulator.views import examples
    from bot.clients.identity import sender_from_twilio

    items = examples()[lang]
    engine = app.extensions["kyr"].engine
    settings = app.extensions["kyr"].settings
    for number, (text, intent) in enumerate(zip((items[0], items[1], items[3]), ("ice_at_home", "detainer", "subscribe"))):
        sender = sender_from_twilio(f"+1312555{9000 + 10 * ['en', 'es', 'fr', 'ht', 'pt', 'vi', 'zh', 'ar'].index(lang) + number}",
                                    settings.id_hash_key, "US")
        with app.app_context():
            reply = engine.handle(sender, text)
        assert (reply.intent, reply.lang) == (intent, lang), text
    assert items[4].strip().lower() in {"more", "mas", "plus", "plis", "mais", "thêm", "更多", "المزيد"}
