"""Faults with real processes: Redis killed and restarted, Rasa stalled, killed and restarted.

Each time the person still gets a useful reply in under 2 s, /healthz says
"degraded", and everything recovers when the process is back.
"""

import os
import signal
import subprocess
import time

import pytest
import redis

from bot.clients.rasa_process import start_rasa, stop, wait_until_ready
from tests.conftest import free_port, post_signed, sms_form, twiml_messages

DETAINER = "my brother is in county jail and they said ICE put a hold on him"


def timed(client, phone, body):
    start = time.monotonic()
    response = post_signed(client, sms_form(phone, body))
    elapsed = time.monotonic() - start
    assert response.status_code == 200
    return twiml_messages(response.data), elapsed


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


class RedisProcess:
    """A redis-server with AOF (fsync always) that a test can kill -9 and start again."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        assert wait_for(lambda: _pings(client), 10), "redis-server did not start"

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


def _pings(client):
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture
def own_redis(tmp_path):
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


def test_redis_killed_and_restarted_mid_conversation(make_app, own_redis, phone):
    app = make_app(REDIS_URL=own_redis.url)
    client = app.test_client()
    content = app.extensions["kyr"].content
    timed(client, phone, DETAINER)

    own_redis.kill()
    messages, elapsed = timed(client, phone, "should we pay bail")
    assert elapsed < 2.0
    assert messages[0].startswith(content.text("bail.first", "en")[:40])
    assert client.get("/healthz").json["status"] == "degraded"

    own_redis.start()
    assert wait_for(lambda: client.get("/healthz").json["status"] == "ok", 15)
    # The state written before the crash survived (AOF), so MORE continues the conversation.
    messages, elapsed = timed(client, phone, "MORE")
    assert messages[0].startswith(content.text("detainer.more", "en")[:40])


@pytest.fixture(scope="module")
def own_rasa(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("own-rasa") / "rasa.log"
    process = start_rasa(port, log)
    wait_until_ready(f"http://127.0.0.1:{port}", process, timeout=300)
    state = {"process": process, "port": port, "log": log}
    yield state
    stop(state["process"])


def test_rasa_stalled_then_killed_then_restarted(make_app, own_rasa, phone):
    url = f"http://127.0.0.1:{own_rasa['port']}"
    app = make_app(RASA_URL=url)
    client = app.test_client()
    content = app.extensions["kyr"].content
    assert client.get("/healthz").json["status"] == "ok"

    # Stalled: the process is frozen (SIGSTOP) for 20 s; connections hang.
    pid = own_rasa["process"].pid
    os.kill(pid, signal.SIGSTOP)
    stalled_at = time.monotonic()
    try:
        messages, elapsed = timed(client, phone, "should we pay bail for my son")
        assert elapsed < 2.0
        assert messages[0].startswith(content.text("bail.first", "en")[:40])
        assert client.get("/healthz").json["status"] == "degraded"
        time.sleep(max(0.0, 20 - (time.monotonic() - stalled_at)))
    finally:
        os.kill(pid, signal.SIGCONT)
    assert wait_for(lambda: client.get("/healthz").json["status"] == "ok", 30)

    # Killed: connection refused; keyword answers, then the menu for anything else.
    stop(own_rasa["process"])
    messages, elapsed = timed(client, phone, "can the police question my son at school")
    assert elapsed < 2.0
    assert messages[0].startswith(content.text("school_police.first", "en")[:40])
    health = client.get("/healthz").json
    assert {k: health[k] for k in ("status", "rasa", "redis")} == {"status": "degraded", "rasa": "down", "redis": "ok"}

    # Restarted: understanding comes back without restarting the webhook.
    own_rasa["process"] = start_rasa(own_rasa["port"], own_rasa["log"])
    wait_until_ready(url, own_rasa["process"], timeout=300)
    assert client.get("/healthz").json["status"] == "ok"
    messages, _ = timed(client, phone, "la migra esta tocando mi puerta ahorita")
    assert messages[0].startswith(content.text("ice_at_home.first", "es")[:30].replace("á", "a").replace("í", "i").replace("ó", "o").replace("ú", "u"))
