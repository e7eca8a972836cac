"""A hotline volunteer takes over a Spanish SMS conversation in real headless Chromium.

The bot runs exactly as `make run` starts it (``python -m bot.stack run``:
gunicorn plus the outbound RQ worker, the test Rasa server); staff replies go
through the real twilio ``Client`` to a local peer that records what Twilio
would have been asked to send.
"""

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import redis
import requests

from bot.config import load_settings
from bot.content.texts import ContentBase
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.language.segments import sms_text
from bot.console.staff import StaffDirectory
from tests.conftest import AUTH_TOKEN, free_port, sign, sms_form, twiml_messages, wait_until_healthy
from tests.test_browser_embed import browser, chromium_path  # noqa: F401  (fixture and helper)
from tests.test_handoff import KEY, PASSWORD, db_url

ROOT = Path(__file__).resolve().parent.parent
PERSON = "+13125550163"
BROWSER_DB = 11


class RecordingPeer(http.server.ThreadingHTTPServer):
    """Answers Twilio's Messages endpoint like Twilio does (201) and keeps every request."""

    def __init__(self):
        self.sent: list[dict] = []
        super().__init__(("127.0.0.1", free_port()), RecordingHandler)


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        self.server.sent.append({name: values[0] for name, values in form.items()})
        payload = json.dumps({"sid": "SM" + "a" * 32, "status": "queued", "to": form["To"][0]}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def peer():
    server = RecordingPeer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def stack(settings_env, redis_url, peer):
    """`make run`'s stack with handoff on, outbound sends pointed at the recording peer."""
    url = db_url(redis_url, BROWSER_DB)
    redis.Redis.from_url(url).flushdb()
    port = free_port()
    env = {**os.environ, **settings_env, "PORT": str(port), "REDIS_URL": url, "LOG_LEVEL": "WARNING",
           "ENCRYPTION_KEY": KEY, "STAFF_HOURS": "always", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
           "TWILIO_FROM_NUMBER": "+15005550006", "TWILIO_API_BASE_URL": f"http://127.0.0.1:{peer.server_address[1]}",
           "OUTBOUND_RETRY_INTERVALS": "1,1", "WEB_CONCURRENCY": "2"}
    env.pop("PUBLIC_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "bot.stack", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    if not wait_until_healthy(base):
        process.kill()
        pytest.fail("make run's stack did not come up")
    settings = load_settings(env)
    client = redis.Redis.from_url(url, decode_responses=True)
    StaffDirectory(client, settings.staff_account_ttl_seconds, SUPPORTED_LANGUAGES).create("ana", PASSWORD, "staff", ["es"])
    yield base, ContentBase(settings.responses_dir, settings.locales_dir, SUPPORTED_LANGUAGES)
    process.send_signal(signal.SIGTERM)
    process.wait(30)
    redis.Redis.from_url(url).flushdb()


def text_message(base: str, body: str) -> list[str]:
    """The person texts the bot (a signed Twilio webhook call); returns the bot's TwiML replies."""
    form = sms_form(PERSON, body)
    response = requests.post(base + "/sms", data=form, timeout=15,
                             headers={"X-Twilio-Signature": sign(form, "/sms", AUTH_TOKEN, base)})
    assert response.status_code == 200
    return twiml_messages(response.content)


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_staff_take_over_and_hand_back_a_spanish_conversation(browser, stack, peer):
    base, content = stack
    assert "15" in text_message(base, "quiero hablar con una persona")[0]

    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(base + "/console/")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")

    card = page.locator("#queue li.card").first
    card.wait_for(timeout=10000)
    assert "Español" in card.inner_text() and "63" in card.inner_text()
    assert "5550163" not in page.content()
    card.locator("button.claim").click()
    page.wait_for_selector("#reply-form")

    page.fill("#reply-form textarea", "Hola, soy Ana de la línea de ayuda. ¿Dónde está su hermano?")
    page.click("#reply-form button[type=submit]")
    assert wait_for(lambda: any("soy Ana" in m.get("Body", "") for m in peer.sent))
    sent = [m for m in peer.sent if "Ana" in m.get("Body", "")][0]
    assert sent["To"] == PERSON and sent["From"] == "+15005550006"
    page.locator("#transcript .send.sent").first.wait_for(timeout=15000)

    # The person answers by SMS: the bot stays silent, the console shows it without a reload.
    assert text_message(base, "Esta en la carcel del condado desde ayer") == []
    page.locator("#transcript li.person", has_text="carcel del condado desde ayer").wait_for(timeout=15000)

    page.click("#hand-back")
    page.wait_for_selector("#queue")
    returned = sms_text(content.text("system.handoff_returned", "es"), "es")
    assert wait_for(lambda: any(m.get("Body") in (returned, content.text("system.handoff_returned", "es"))
                                for m in peer.sent))

    replies = text_message(base, "a mi hermano le pusieron un hold de ICE")
    assert replies and replies[0].startswith(sms_text(content.text("detainer.first", "es"), "es")[:25])


def test_admin_composes_sends_and_follows_a_broadcast(browser, stack, peer, redis_url):
    """Live segment counter and reach while typing, review, send, progress updated by polling."""
    base, _ = stack
    assert "STOP" in text_message(base, "ALERTAS")[0]
    client = redis.Redis.from_url(db_url(redis_url, BROWSER_DB), decode_responses=True)
    StaffDirectory(client, 3600, SUPPORTED_LANGUAGES).create("root", PASSWORD, "admin", ["en", "es"])

    page = browser.new_page(viewport={"width": 390, "height": 844})
    problems: list[str] = []
    # Script errors and CSP violations (a 400 from the preview of an empty draft is expected).
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(base + "/console/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.click("nav >> text=Broadcasts")
    page.click("text=New broadcast")
    page.fill("#text_es", "Hay actividad de ICE cerca de la estación. No abra la puerta.")
    counter = page.locator("#count_es")
    counter.filter(has_text="1 SMS segment (GSM-7").wait_for(timeout=10000)
    assert "reaches 1 subscriber" in counter.inner_text()
    page.locator("#reach", has_text="Reaches 1 subscriber").wait_for(timeout=10000)
    page.fill("#text_es", "Hay actividad de ICE cerca de la estación. " * 5)
    counter.filter(has_text="2 SMS segments").wait_for(timeout=10000)

    page.click("#broadcast-form button[type=submit]")
    page.click("#confirm-form button[type=submit]")
    page.locator("#progress [data-count=pending]", has_text="0").wait_for(timeout=30000)
    assert page.locator("#progress-bar").evaluate("bar => bar.value") == 1
    assert any("Hay actividad de ICE" in m.get("Body", "") and m["To"] == PERSON for m in peer.sent)
    assert problems == [], problems


def test_english_only_volunteer_sends_a_reviewed_answer_in_kreyol_to_a_web_chat(browser, stack, settings_env, redis_url):
    """Issue #19: the person chats in Kreyòl from Sacramento; a volunteer who speaks only English picks
    "ICE hold" and the person's chat shows the reviewed Kreyòl answer with California's version."""
    from bot import create_app
    from bot.content.location import Location

    base, _ = stack
    url = db_url(redis_url, BROWSER_DB)
    client = redis.Redis.from_url(url, decode_responses=True)
    staff = StaffDirectory(client, 3600, SUPPORTED_LANGUAGES)
    staff.create("sam", PASSWORD, "staff", ["en"])
    staff.update("sam", all_languages=True)
    app = create_app({**settings_env, "REDIS_URL": url, "ENCRYPTION_KEY": KEY, "STAFF_HOURS": "always"})
    answers = app.extensions["kyr"].engine.answers
    expected = answers.first_reply("detainer", Location("CA", "Sacramento"), "ht")

    person = browser.new_page(viewport={"width": 390, "height": 844})
    person.goto(base + "/")
    for said, replies in (("Kreyòl", 1), ("95814", 2), ("MOUN", 3)):
        person.fill("#message", said)
        person.press("#message", "Enter")
        person.locator("#log li.bot").nth(replies - 1).wait_for(timeout=15000)

    volunteer = browser.new_page(viewport={"width": 390, "height": 844})
    problems: list[str] = []
    volunteer.on("pageerror", lambda error: problems.append(str(error)))
    volunteer.goto(base + "/console/")
    volunteer.fill("input[name=username]", "sam")
    volunteer.fill("input[name=password]", PASSWORD)
    volunteer.click("#login-form button[type=submit]")
    card = volunteer.locator("#queue li.card").first
    card.wait_for(timeout=10000)
    assert "Kreyòl" in card.inner_text()
    card.locator("button.claim").click()
    volunteer.wait_for_selector("#answer-form")
    volunteer.select_option("#answer-form select[name=topic]", "detainer")
    volunteer.click("#answer-form button[type=submit]")
    volunteer.locator("#transcript .gloss", has_text="In California, jails may not keep anyone extra").wait_for(timeout=10000)

    shown = person.locator("#log li.staff").first
    shown.wait_for(timeout=15000)
    assert shown.inner_text().strip() == expected.strip()
    assert expected.startswith("Nan California")  # the Kreyòl text of the California variant
    assert problems == [], problems


def test_admin_writes_a_saved_reply_with_a_live_counter_and_sets_up_2fa(browser, stack, redis_url):
    """Saved replies' live segment counter and the 2FA page's inline QR code, under the strict CSP."""
    import pyotp

    base, _ = stack
    client = redis.Redis.from_url(db_url(redis_url, BROWSER_DB), decode_responses=True)
    StaffDirectory(client, 3600, SUPPORTED_LANGUAGES).create("root", PASSWORD, "admin", ["en", "es"])
    page = browser.new_page(viewport={"width": 390, "height": 844})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(base + "/console/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.click("nav >> text=Saved replies")
    page.fill("#reply-create input[name=title]", "Who I am")
    page.fill("#reply-create textarea[name=text_es]", "Hola, soy {first_name_of_staff} de la línea de ayuda.")
    page.locator("#count_es", has_text="1 SMS segment (GSM-7").wait_for(timeout=10000)
    page.fill("#reply-create textarea[name=text_zh]", "你好，我是{first_name_of_staff}。" * 8)
    page.locator("#count_zh", has_text="2 SMS segments (UCS-2").wait_for(timeout=10000)
    page.fill("#reply-create textarea[name=text_fr]", "Appelez {numero}")
    page.locator("#count_fr", has_text="unknown variable").wait_for(timeout=10000)
    page.fill("#reply-create textarea[name=text_fr]", "")
    page.click("#reply-create button[type=submit]")
    page.locator("#replies li.card", has_text="Who I am").wait_for(timeout=10000)

    page.click("nav >> text=Account")
    page.click("#enrol-start button[type=submit]")
    qr = page.locator(".qr svg")
    qr.wait_for(timeout=10000)
    assert qr.bounding_box()["width"] > 100  # drawn, not blocked
    secret = page.inner_text("#totp-secret")
    page.fill("#enrol-form input[name=code]", pyotp.TOTP(secret).now())
    page.click("#enrol-form button[type=submit]")
    assert page.locator("#recovery-codes li").count() == 10
    assert problems == [], problems
