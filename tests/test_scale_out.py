"""Scale-out: two webhook processes on one Redis behave as one bot; Sentinel URLs work."""

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests

from bot.clients.identity import sender_from_twilio
from tests.conftest import ID_HASH_KEY, free_port, wait_until_healthy, post_signed, sign, sms_form, twiml_messages

ROOT = Path(__file__).resolve().parent.parent


def start_webhook(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "webhook:app", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    if wait_until_healthy(url):
        return process, url
    process.kill()
    raise RuntimeError("webhook process did not start")


@pytest.fixture
def two_webhooks(settings_env):
    env = {**os.environ, **settings_env, "LOG_LEVEL": "WARNING"}
    started = [start_webhook(env) for _ in range(2)]
    yield [url for _, url in started]
    for process, _ in started:
        process.terminate()
        process.wait(10)


def post(url, form):
    response = requests.post(url + "/sms", data=form, headers={"X-Twilio-Signature": sign(form)}, timeout=15)
    assert response.status_code == 200
    return twiml_messages(response.content)


def test_conversation_continues_across_processes(two_webhooks, phone, app):
    first, second = two_webhooks
    post(first, sms_form(phone, "my brother is in county jail and they said ICE put a hold on him"))
    more = post(second, sms_form(phone, "MORE"))
    content = app.extensions["kyr"].content
    assert more[0].startswith(content.text("detainer.more", "en")[:50])


def test_duplicates_are_caught_across_processes(two_webhooks, phone, redis_client):
    form = sms_form(phone, "should we pay bail")
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda i: post(two_webhooks[i % 2], form), range(10)))
    assert all(reply == replies[0] for reply in replies)
    raw = redis_client.get("kyr:session:" + sender_from_twilio(phone, ID_HASH_KEY, "US").key)
    assert json.loads(raw)["turns"] == 1


@pytest.fixture
def sentinel(tmp_path):
    """A real Redis master and a real Redis Sentinel watching it."""
    master_port, sentinel_port = free_port(), free_port()
    master = subprocess.Popen(
        ["redis-server", "--port", str(master_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor kyrmaster 127.0.0.1 {master_port} 1\n"
    )
    watcher = subprocess.Popen(["redis-server", str(config), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    probe = redis.Redis(port=sentinel_port)
    while time.monotonic() < deadline:
        try:
            if probe.execute_command("SENTINEL", "get-master-addr-by-name", "kyrmaster"):
                break
        except redis.RedisError:
            time.sleep(0.1)
    yield f"redis+sentinel://127.0.0.1:{sentinel_port}/kyrmaster/0", master_port
    for process in (watcher, master):
        process.terminate()
        process.wait(10)


def test_sentinel_url_reaches_the_master(make_app, sentinel, phone):
    url, master_port = sentinel
    app = make_app(REDIS_URL=url)
    client = app.test_client()
    assert post_signed(client, sms_form(phone, "hello")).status_code == 200
    assert client.get("/healthz").json["redis"] == "ok"
    master = redis.Redis(port=master_port, decode_responses=True)
    key = "kyr:session:" + sender_from_twilio(phone, ID_HASH_KEY, "US").key
    assert master.exists(key) and master.ttl(key) > 0
