"""The bot never goes silent: Rasa down or stalled, Redis down."""

import socket
import threading
import time

import pytest

from tests.conftest import free_port, post_signed, sms_form, twiml_messages


@pytest.fixture
def stalled_url():
    """A server that accepts connections and never answers (a hung Rasa)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(50)
    accepted = []
    stop = threading.Event()

    def accept_forever():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


def timed_post(client, form):
    start = time.monotonic()
    response = post_signed(client, form)
    return response, time.monotonic() - start


def test_rasa_down_keyword_answer_within_two_seconds(make_app, dead_url, phone):
    app = make_app(RASA_URL=dead_url)
    content = app.extensions["kyr"].content
    response, elapsed = timed_post(app.test_client(), sms_form(phone, "my brother has an ICE hold at the jail"))
    assert response.status_code == 200
    assert elapsed < 2.0
    messages = twiml_messages(response.data)
    assert content.text("detainer.first", "en").split("\n")[0][:40] in messages[0]


def test_rasa_down_unknown_text_gets_the_menu(make_app, dead_url, phone):
    app = make_app(RASA_URL=dead_url)
    engine = app.extensions["kyr"].engine
    response, elapsed = timed_post(app.test_client(), sms_form(phone, "qwerty zxcv"))
    assert response.status_code == 200 and elapsed < 2.0
    assert engine.menu_text("en").split("\n")[1] in twiml_messages(response.data)[0]


def test_rasa_stalled_still_answers_within_two_seconds(make_app, stalled_url, phone):
    app = make_app(RASA_URL=stalled_url)
    response, elapsed = timed_post(app.test_client(), sms_form(phone, "should we pay bail"))
    assert response.status_code == 200
    assert elapsed < 2.0
    content = app.extensions["kyr"].content
    assert content.text("bail.first", "en")[:40] in twiml_messages(response.data)[0]


def test_healthz_reports_rasa_down_as_degraded(make_app, dead_url):
    response = make_app(RASA_URL=dead_url).test_client().get("/healthz")
    assert response.status_code == 200
    health = response.json
    assert {k: health[k] for k in ("status", "rasa", "redis")} == {"status": "degraded", "rasa": "down", "redis": "ok"}
    assert health["content"] in ("ok", "stale")  # stale only as time passes; never a failure by itself


def test_healthz_ok_when_everything_is_up(client):
    health = client.get("/healthz").json
    assert {k: health[k] for k in ("status", "rasa", "redis")} == {"status": "ok", "rasa": "ok", "redis": "ok"}


def test_redis_down_still_answers(make_app, phone):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = app.test_client()
    response, elapsed = timed_post(client, sms_form(phone, "can the police question my son at school"))
    assert response.status_code == 200
    assert elapsed < 2.0
    content = app.extensions["kyr"].content
    assert content.text("school_police.first", "en")[:40] in twiml_messages(response.data)[0]
    health = client.get("/healthz").json
    assert health["status"] == "degraded" and health["redis"] == "down"


def test_without_redis_url_uses_memory_and_says_so(make_app, phone, caplog):
    with caplog.at_level("WARNING"):
        app = make_app(REDIS_URL=None)
    assert any("in-memory store" in record.getMessage() for record in caplog.records)
    client = app.test_client()
    assert post_signed(client, sms_form(phone, "hello")).status_code == 200
    assert client.get("/healthz").json["redis"] == "memory"
