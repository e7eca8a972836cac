"""Handoff from the conversation side: who gets queued, the bot's silence, idle return, privacy.

Also holds the helpers the console tests share (a clean Redis database,
staff accounts, logins). Messages are ones the NLU was trained on and that
the keyword fallback also places, so the tests hold with or without Rasa.
"""


from __future__ import annotations

import re

import pytest
import redis

from bot.clients.identity import sender_from_twilio
from tests.conftest import ID_HASH_KEY

KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#: Handoff tests read the whole queue, so they use their own database (test_audit uses 13).
HANDOFF_DB = 12
PASSWORD = "correct horse battery staple"
HANDOFF_ENV = {"ENCRYPTION_KEY": KEY, "STAFF_HOURS": "always"}


def db_url(redis_url: str, db: int = HANDOFF_DB) -> str:
    return redis_url.rsplit("/", 1)[0] + f"/{db}"


@pytest.fixture
def handoff_url(redis_url):
    client = redis.Redis.from_url(db_url(redis_url))
    client.flushdb()
    yield db_url(redis_url)
    client.flushdb()


def desk_of(app):
    return app.extensions["kyr"].engine.handoff.desk


def handoff_of(app, phone):
    return desk_of(app).records.for_sender(sender_from_twilio(phone, ID_HASH_KEY, "US").key)


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def make_staff(app, username, role="staff", languages=("es",)):
    return app.extensions["kyr_console"].staff.create(username, PASSWORD, role, list(languages))


def log_in(client, username, password=PASSWORD):
    token = csrf_token(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"csrf_token": token, "username": username, "password": password})


def page_token(client, path="/console/") -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


import datetime
import json
import logging
import threading
import time

from bot.timing.hours import DAYS, HoursError, parse_hours
from bot.handoff.records import masked
from bot.clients.identity import sender_from_web_token
from bot.language.segments import sms_text
from tests.conftest import post_signed, sms_form, twiml_messages

ASK_ES = "quiero hablar con una persona"
URGENT_EN = "ICE is at my door right now"


@pytest.fixture
def app(make_app, handoff_url):
    return make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)


@pytest.fixture
def client(app):
    return app.test_client()


def say(client, phone, body):
    response = post_signed(client, sms_form(phone, body))
    assert response.status_code == 200
    return twiml_messages(response.data)


def text(app, key, lang, web=False, **values):
    """A system text as the person receives it (SMS replies are squeezed into GSM-7 where possible)."""
    value = app.extensions["kyr"].content.text(key, lang, values)
    return value if web else sms_text(value, lang)


def queued_text(app, lang, web=False):
    engine = app.extensions["kyr"].engine
    value = desk_of(app).queued_text(lang, engine.answers.routed_values(None, lang))
    return value if web else sms_text(value, lang)


def test_asking_for_a_person_queues_and_the_bot_keeps_answering(app, client, phone):
    replies = say(client, phone, ASK_ES)
    assert replies[0] == queued_text(app, "es") and "15" in replies[0]
    handoff = handoff_of(app, phone)
    assert (handoff.lang, handoff.channel, handoff.reason, handoff.waiting) == ("es", "sms", "asked", True)
    # Nobody has claimed it: the bot answers as usual (issue #21), and staff see both sides.
    menu = say(client, phone, "MENU")
    assert menu == [sms_text(app.extensions["kyr"].engine.menu_text("es"), "es")]
    said = [(e.who, e.text) for e in desk_of(app).entries(handoff.id) if e.who in ("person", "bot")]
    assert said[0] == ("person", ASK_ES) and said[-2] == ("person", "MENU")
    assert said[-1] == ("bot", app.extensions["kyr"].engine.menu_text("es"))


def test_once_claimed_messages_go_to_staff_and_the_bot_is_quiet(app, client, phone):
    say(client, phone, ASK_ES)
    handoff = handoff_of(app, phone)
    assert desk_of(app).claim(handoff.id, "ana")
    assert say(client, phone, "mi hermano esta detenido") == []
    assert say(client, phone, "MENU") == []
    said = [e.text for e in desk_of(app).entries(handoff.id) if e.who == "person"]
    assert said == [ASK_ES, "mi hermano esta detenido", "MENU"]


def test_help_still_answers_and_stop_ends_the_handoff(app, client, phone):
    say(client, phone, ASK_ES)
    assert say(client, phone, "AYUDA") == [text(app, "system.help_keyword", "es")]
    assert handoff_of(app, phone) is not None
    handoff_id = handoff_of(app, phone).id
    assert say(client, phone, "STOP") == [text(app, "system.stop_done", "es")]
    assert handoff_of(app, phone) is None
    assert desk_of(app).get(handoff_id).closed == "stopped"


def test_delete_erases_the_transcript(app, client, phone):
    say(client, phone, ASK_ES)
    handoff_id = handoff_of(app, phone).id
    say(client, phone, "BORRAR")
    assert desk_of(app).get(handoff_id) is None and desk_of(app).entries(handoff_id) == []


def test_two_misunderstood_messages_in_a_row_offer_a_person(app, client, phone):
    first = say(client, phone, "99")
    assert first[0].startswith(text(app, "system.not_understood", "en"))
    assert handoff_of(app, phone) is None
    second = say(client, phone, "98")
    # Offered, not queued: a person who asks two odd questions is not put in a silent line (issue #21).
    assert second[-1] == text(app, "system.handoff_offer", "en") and handoff_of(app, phone) is None
    assert say(client, phone, "PERSON") == [queued_text(app, "en")]
    assert handoff_of(app, phone).reason == "asked"


def test_a_good_answer_resets_the_fallback_count(app, client, phone):
    say(client, phone, "99")
    say(client, phone, "my brother has an ice hold")  # a topic that is not urgent
    say(client, phone, "99")
    assert handoff_of(app, phone) is None


def test_urgent_topic_answers_first_then_queues_ahead_of_others(app, client, phone):
    other = phone[:-1] + str((int(phone[-1]) + 1) % 10)
    say(client, other, ASK_ES)
    replies = say(client, phone, URGENT_EN)
    assert replies[0].startswith(text(app, "ice_at_home.first", "en", web=True)[:30])
    assert replies[1] == queued_text(app, "en")
    urgent = handoff_of(app, phone)
    assert urgent.urgent and urgent.topic == "ice_at_home"
    assert [h.id for h in desk_of(app).queue()] == [urgent.id, handoff_of(app, other).id]


def closed_today() -> str:
    tomorrow = DAYS[(datetime.datetime.now(datetime.timezone.utc).weekday() + 2) % 7]
    return f"{tomorrow} 09:00-17:00"


def test_outside_staffing_hours_the_bot_gives_the_hotline(make_app, handoff_url, phone):
    app = make_app(REDIS_URL=handoff_url, **{**HANDOFF_ENV, "STAFF_HOURS": closed_today()})
    client = app.test_client()
    values = app.extensions["kyr"].engine.answers.routed_values(None, "es")
    closed = app.extensions["kyr"].content.text("system.handoff_closed", "es", values)
    assert say(client, phone, ASK_ES)[0] == sms_text(closed, "es")
    assert handoff_of(app, phone) is None
    replies = say(client, phone, URGENT_EN)
    assert len(replies) == 1 and handoff_of(app, phone) is None


def test_without_staff_hours_handoff_is_unavailable(make_app, handoff_url, phone):
    app = make_app(REDIS_URL=handoff_url, ENCRYPTION_KEY=KEY)
    assert app.extensions["kyr"].engine.handoff is None
    assert say(app.test_client(), phone, ASK_ES)[0] == text(app, "system.handoff_unavailable", "es")


def test_idle_handoff_returns_to_the_bot(make_app, handoff_url, phone):
    app = make_app(REDIS_URL=handoff_url, HANDOFF_IDLE_MINUTES="0.02", **HANDOFF_ENV)  # 1.2 s
    client = app.test_client()
    say(client, phone, ASK_ES)
    handoff_id = handoff_of(app, phone).id
    time.sleep(1.5)
    replies = say(client, phone, "MENU")
    assert replies[0] == text(app, "system.handoff_returned", "es")
    assert replies[1] == sms_text(app.extensions["kyr"].engine.menu_text("es"), "es")
    assert desk_of(app).get(handoff_id).closed == "idle"


def test_idle_sweep_tells_the_person(make_app, handoff_url, phone):
    app = make_app(REDIS_URL=handoff_url, HANDOFF_IDLE_MINUTES="0.02", **HANDOFF_ENV)
    say(app.test_client(), phone, ASK_ES)
    handoff_id = handoff_of(app, phone).id
    time.sleep(1.5)
    assert desk_of(app).sweep() == 1
    assert desk_of(app).get(handoff_id).closed == "idle"
    assert handoff_of(app, phone) is None
    from rq import Queue

    queue = Queue("kyr-outbound", connection=redis.Redis.from_url(handoff_url))
    assert queue.count == 1  # handoff_returned, encrypted in the job


def test_web_chat_handoff_and_staff_replies_through_the_outbox(app, client):
    first = client.post("/api/chat", json={"message": "i want to talk to a real person"}).json
    token = first["session"]
    assert first["replies"][0] == queued_text(app, "en", web=True)
    sender = sender_from_web_token(token, ID_HASH_KEY)
    handoff = desk_of(app).records.for_sender(sender.key)
    assert handoff.channel == "web" and masked(None, "web") == ""
    assert client.post("/api/chat", json={"message": "MENU", "session": token}).json["replies"] == [
        app.extensions["kyr"].engine.menu_text("en")]
    assert desk_of(app).claim(handoff.id, "ana")
    desk_of(app).reply(desk_of(app).get(handoff.id), "ana", "Hi, this is Ana from the hotline.")
    bearer = {"Authorization": f"Bearer {token}"}
    updates = client.get("/api/chat/updates?after=0", headers=bearer).json
    assert updates["messages"] == ["Hi, this is Ana from the hotline."]
    assert client.get(f"/api/chat/updates?after={updates['last']}", headers=bearer).json["messages"] == []
    assert desk_of(app).hand_back(desk_of(app).get(handoff.id), "ana")
    again = client.get(f"/api/chat/updates?after={updates['last']}", headers=bearer).json
    assert again["messages"] == [text(app, "system.handoff_returned", "en", web=True)]
    assert client.post("/api/chat", json={"message": "MENU", "session": token}).json["replies"] == [
        app.extensions["kyr"].engine.menu_text("en")]


def test_no_number_or_text_in_logs_or_redis(app, client, phone, caplog, handoff_url):
    caplog.set_level(logging.DEBUG)
    body = "mi hermano Juan esta detenido en la carcel del condado"
    say(client, phone, ASK_ES)
    say(client, phone, body)
    handoff = handoff_of(app, phone)
    desk_of(app).claim(handoff.id, "ana")
    desk_of(app).reply(desk_of(app).get(handoff.id), "ana", "Hola Juan, le llamamos pronto")
    logs = "\n".join(record.getMessage() + repr(record.args) for record in caplog.records)
    digits = phone.lstrip("+")
    assert digits[-7:] not in logs and body not in logs and "Hola Juan" not in logs
    client_ = redis.Redis.from_url(handoff_url, decode_responses=True)
    for key in client_.scan_iter("kyr:*"):
        assert client_.ttl(key) > 0, f"{key} has no TTL"
        if key.startswith("kyr:activity:"):  # the reports' daily counters: one hash of counts per day
            assert client_.type(key) == "hash"
            value = repr(client_.hgetall(key))
        else:
            assert client_.type(key) == "string"
            value = client_.get(key)
        assert digits[-7:] not in key + value and "Juan" not in value
    from bot.audit import audit, public_numbers_of

    svc = app.extensions["kyr"]
    report = audit(client_, svc.settings, public_numbers_of(svc.content, svc.router.resources))
    assert report.clean, report.format()


def test_transcript_outlives_the_handoff_only_by_its_ttl(make_app, handoff_url, phone):
    app = make_app(REDIS_URL=handoff_url, HANDOFF_TRANSCRIPT_TTL_HOURS="0.5", **HANDOFF_ENV)
    say(app.test_client(), phone, ASK_ES)
    handoff = handoff_of(app, phone)
    desk_of(app).hand_back(handoff, None)
    client_ = redis.Redis.from_url(handoff_url, decode_responses=True)
    ttls = [client_.ttl(key) for key in client_.scan_iter(f"kyr:handoff:{handoff.id}*")]
    assert ttls and all(0 < ttl <= 1800 for ttl in ttls)


def test_redis_down_the_bot_still_answers(make_app, dead_url, phone):
    app = make_app(REDIS_URL=dead_url.replace("http", "redis") + "/0", **HANDOFF_ENV)
    replies = say(app.test_client(), phone, ASK_ES)
    assert replies[0] == text(app, "system.handoff_unavailable", "es")


def test_concurrent_claims_have_one_winner(app, client, phone):
    say(client, phone, ASK_ES)
    handoff_id = handoff_of(app, phone).id
    barrier = threading.Barrier(12)
    wins = []

    def claim(name):
        barrier.wait()
        wins.append(desk_of(app).claim(handoff_id, name))

    threads = [threading.Thread(target=claim, args=(f"staff{i}",)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1


def test_masked_numbers_show_two_digits():
    assert masked("+13125550178", "sms") == "•••••••••78"
    assert masked("whatsapp:+13125550178", "whatsapp") == "•••••••••78"


def test_staff_hours_parsing():
    hours = parse_hours("Mon-Fri 09:00-17:00; Sat 22:00-02:00", "America/Chicago")
    monday_10am = datetime.datetime(2025, 1, 6, 16, 0, tzinfo=datetime.timezone.utc)
    sunday_1am = datetime.datetime(2025, 1, 5, 7, 0, tzinfo=datetime.timezone.utc)
    sunday_noon = datetime.datetime(2025, 1, 5, 18, 0, tzinfo=datetime.timezone.utc)
    assert hours.is_open(monday_10am) and hours.is_open(sunday_1am) and not hours.is_open(sunday_noon)
    assert parse_hours("", "UTC") is None and parse_hours("always").is_open()
    for bad in ("weekdays 9-5", "Mon-Fri 09:00-25:00", "Funday 09:00-10:00"):
        with pytest.raises(HoursError):
            parse_hours(bad)
    with pytest.raises(HoursError):
        parse_hours("always", "Mars/Olympus")
