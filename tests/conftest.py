"""Shared fixtures: a real redis-server, a real Rasa server on the trained model,
apps built from explicit settings, and Twilio-signed requests.

``REDIS_URL`` / ``TEST_RASA_URL`` in the environment reuse running services;
otherwise the suite starts its own on free loopback ports and stops them.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import redis
import requests
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from bot import create_app
from bot.clients.rasa_process import start_rasa, stop, wait_until_ready
from tests.net import free_port, start_redis_server

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://bot.example.org"
ID_HASH_KEY = "test-id-hash-key"


def wait_until_healthy(base_url: str, timeout: float = 60.0) -> bool:
    """Poll ``/healthz`` until the server answers 200; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(base_url + "/healthz", timeout=1).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed (make test installs it; or set REDIS_URL)")
    try:
        process, url = start_redis_server(binary, tmp_path_factory.mktemp("redis"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def rasa_url(tmp_path_factory):
    if os.environ.get("TEST_RASA_URL"):
        yield os.environ["TEST_RASA_URL"].rstrip("/")
        return
    port = free_port()
    log_path = tmp_path_factory.mktemp("rasa") / "rasa.log"
    process = start_rasa(port, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process, timeout=300)
    except Exception:
        stop(process)
        print(log_path.read_text(errors="replace")[-3000:])
        raise
    yield url
    stop(process)


@pytest.fixture(scope="session")
def dead_url():
    """A loopback URL where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def settings_env(redis_url, rasa_url):
    return {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_URL": PUBLIC_URL,
        "ID_HASH_KEY": ID_HASH_KEY,
        "SECRET_KEY": "test-secret-key",
        "REDIS_URL": redis_url,
        "RASA_URL": rasa_url,
        "LOG_LEVEL": "DEBUG",
        # Every test posts its new web chats from 127.0.0.1 into one shared Redis;
        # tests of the limit itself set their own value and client address.
        "WEBCHAT_NEW_SESSIONS_PER_HOUR": "1000000",
    }


@pytest.fixture
def make_app(settings_env):
    def factory(**overrides):
        env = dict(settings_env)
        for name, value in overrides.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return create_app(env)

    return factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def unused_lines():
    """Line numbers 1000-8999 in random order, each handed out once: with ~400 tests,
    drawing at random would give two tests the same number (and session) most runs."""
    return iter(random.sample(range(1000, 9000), 8000))


@pytest.fixture
def phone(unused_lines):
    """A fresh, valid-looking US number per test, so tests never share a session."""
    return f"+1312555{next(unused_lines):04d}"


def new_sid() -> str:
    return "SM" + "".join(random.choice("0123456789abcdef") for _ in range(32))


def sign(form: dict, path: str = "/sms", token: str = AUTH_TOKEN, base: str = PUBLIC_URL) -> str:
    return RequestValidator(token).compute_signature(base + path, form)


def sms_form(phone: str, body: str, **extra) -> dict:
    form = {
        "MessageSid": new_sid(),
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    form.update(extra)
    return form


def post_signed(client, form: dict, path: str = "/sms", headers: dict | None = None, **sign_kwargs):
    all_headers = {"X-Twilio-Signature": sign(form, path, **sign_kwargs)}
    all_headers.update(headers or {})
    return client.post(path, data=form, headers=all_headers)


def twiml_messages(xml: bytes | str) -> list[str]:
    """Texts of the <Message> elements of a TwiML <Response>, checked by structure."""
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    for child in root:
        assert child.tag == "Message", f"unexpected TwiML element {child.tag}"
    return [child.text or "" for child in root]


def serve(app):
    """Run ``app`` on a real threaded HTTP server; yields its base URL (use in a fixture)."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def live_server(app):
    """The app on a real threaded HTTP server (for concurrency tests)."""
    yield from serve(app)


@pytest.fixture
def redis_client(redis_url):
    return redis.Redis.from_url(redis_url, decode_responses=True)


def session_key_count(redis_client, prefix: str = "kyr:session:") -> int:
    return sum(1 for _ in redis_client.scan_iter(prefix + "*"))


ROOT = Path(__file__).resolve().parent.parent


# Twilio REST peers (Prism, fault peer) and outbound settings, shared by outbound tests.
from tests.twilio_peers import fault_peer, outbound_env, prism_url, recording_peer  # noqa: E402,F401
