"""Issue #16's "done when", in real headless Chromium: the phone simulator and the staff console.

The app runs in-process on a real threaded HTTP server with a real Redis and
the test Rasa server; a real `rq worker` process (as `make run` starts it)
sends queued messages with twilio's Client to the simulator's Twilio stand-in,
so staff replies and alerts arrive on the simulated phone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis
from werkzeug.serving import make_server

from bot.console.staff import StaffDirectory
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.outreach.worker import WORKER_ARGS
from tests.conftest import free_port
from tests.test_browser_embed import browser, chromium_path  # noqa: F401  (fixture and helper)
from tests.test_handoff import KEY, PASSWORD, db_url

ROOT = Path(__file__).resolve().parent.parent
SIM_BROWSER_DB = 7
ACCOUNT = "AC" + "7" * 32


@pytest.fixture
def sim_stack(make_app, settings_env, redis_url):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = db_url(redis_url, SIM_BROWSER_DB)
    redis.Redis.from_url(url).flushdb()
    overrides = {"REDIS_URL": url, "ENCRYPTION_KEY": KEY, "STAFF_HOURS": "always", "TWILIO_ACCOUNT_SID": ACCOUNT,
                 "TWILIO_FROM_NUMBER": "+15005550006", "TWILIO_API_BASE_URL": base + "/simulator/twilio",
                 "OUTBOUND_RETRY_INTERVALS": "1,1", "LOG_LEVEL": "WARNING"}
    app = make_app(PUBLIC_URL=None, **overrides)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {**os.environ, **settings_env, **overrides}
    env.pop("PUBLIC_URL", None)
    worker = subprocess.Popen([str(Path(sys.executable).parent / "rq"), *WORKER_ARGS, "--url", url], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    StaffDirectory(redis.Redis.from_url(url, decode_responses=True), 3600, SUPPORTED_LANGUAGES).create(
        "root", PASSWORD, "admin", ["en", "es"])
    yield base, app
    worker.terminate()
    worker.wait(20)
    server.shutdown()
    thread.join(5)
    redis.Redis.from_url(url).flushdb()


def watch_for_problems(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    return problems


def console_login(browser, base):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(base + "/console/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    return page


def test_handoff_staff_reply_and_broadcast_arrive_on_the_simulated_phone(browser, sim_stack):
    base, app = sim_stack
    services = app.extensions["kyr"]
    phone = browser.new_page(viewport={"width": 1100, "height": 900})
    problems = watch_for_problems(phone)
    phone.goto(base + "/simulator")
    phone.select_option("#line", "2")

    # 1. Ask for a person: the TwiML reply shows as a bubble with its cost, and the person is queued.
    phone.fill("#sim-message", "I want to talk to a person")
    phone.click("#sim-composer button[type=submit]")
    queued = services.engine.handoff.desk.queued_text("en", services.engine.answers.routed_values(None, "en"))
    reply = phone.locator("#thread li.reply").first
    reply.wait_for(timeout=20000)
    assert reply.locator(".bubble").inner_text().replace("\n", " ") == queued.replace("\n", " ")
    assert "GSM-7" in reply.locator(".meta").inner_text() and "1 SMS segment" in reply.locator(".meta").inner_text()
    assert reply.locator(".bubble a[href^='tel:']").count() >= 1  # the hotline in the reply is tappable

    # 2. Staff claim it in the console and reply: the reply arrives on the phone through the queue.
    console = console_login(browser, base)
    card = console.locator("#queue li.card").first
    card.wait_for(timeout=10000)
    assert "5550103" not in console.content()  # the console never shows the number
    card.locator("button.claim").click()
    console.wait_for_selector("#reply-form")
    console.fill("#reply-form textarea", "Hello, this is Ana from the hotline. Are you safe right now?")
    console.click("#reply-form button[type=submit]")
    staff_reply = phone.locator("#thread li.api", has_text="this is Ana from the hotline")
    staff_reply.wait_for(timeout=30000)
    assert "Sent later through the queue" in staff_reply.locator(".meta").inner_text()

    # 3. Another test number texts JOIN, then an admin broadcasts: the alert arrives on that phone.
    phone.select_option("#line", "3")
    phone.locator("ul.examples[data-lang=en] button.example", has_text="JOIN").click()
    phone.locator("#thread li.reply", has_text="signed up").wait_for(timeout=20000)
    console.click("nav >> text=Broadcasts")
    console.click("text=New broadcast")
    console.fill("#text_en", "Alert: ICE activity reported near the Main St station. You do not have to open the door.")
    console.locator("#reach", has_text="Reaches 1 subscriber").wait_for(timeout=10000)
    console.click("#broadcast-form button[type=submit]")
    console.click("#confirm-form button[type=submit]")
    alert = phone.locator("#thread li.api", has_text="ICE activity reported near the Main St station")
    alert.wait_for(timeout=30000)
    assert "SMS segment" in alert.locator(".meta").inner_text()

    # The first phone still has its own thread (and only its own).
    phone.select_option("#line", "2")
    phone.locator("#thread li.api", has_text="this is Ana").wait_for(timeout=10000)
    assert phone.locator("#thread li.api", has_text="ICE activity").count() == 0
    assert problems == [], problems


def test_web_chat_links_paragraphs_hotline_and_screen_reader_order(browser, sim_stack):
    base, app = sim_stack
    content = app.extensions["kyr"].content
    page = browser.new_page(locale="en-US")
    problems = watch_for_problems(page)
    page.goto(base + "/")

    # The urgent hotline is in the header, tappable, and the first thing Tab reaches.
    hotline = page.locator("#hotline a")
    assert hotline.get_attribute("href").startswith("tel:+1")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#hotline') !== null")
    for _ in SUPPORTED_LANGUAGES:
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "message"
    assert page.get_attribute("#log", "aria-live") == "polite" and page.get_attribute("#log", "role") == "log"
    assert page.evaluate("document.querySelector('#message').labels[0].textContent") == "Your message"

    page.fill("#message", "ICE put a hold on my brother at the jail, what does that mean?")
    page.keyboard.press("Enter")
    first = page.locator("#log li.bot").first
    first.wait_for(timeout=15000)
    assert first.inner_text().startswith(content.text("detainer.first", "en")[:40])
    assert first.get_attribute("data-speaker") == "Bot:"  # read out before the text, not part of it
    answered = page.locator("#log li.bot").count()
    page.fill("#message", "MORE")
    page.keyboard.press("Enter")
    more = page.locator("#log li.bot").nth(answered)
    more.wait_for(timeout=15000)
    # The long MORE answer is several short paragraphs; its link is tappable.
    paragraphs = more.locator("p")
    assert paragraphs.count() >= 3
    assert all(len(text) <= 300 for text in paragraphs.all_inner_texts())
    link = more.locator("a[href^='https://justice.gov/']")
    assert link.count() == 1 and link.get_attribute("rel") == "noopener noreferrer"
    assert " ".join(paragraphs.all_inner_texts()).replace("  ", " ").startswith(
        content.text("detainer.more", "en")[:60])
    assert problems == [], problems


FORMAT_JS = ROOT / "bot" / "static" / "chat-format.js"


def test_numbers_and_links_become_tappable_and_nothing_else_does(browser):
    page = browser.new_page()
    page.set_content("<!doctype html><div id='out'></div>")
    page.add_script_tag(path=str(FORMAT_JS))

    def links(text):
        return page.evaluate("""text => {
            const out = document.getElementById('out'); out.textContent = '';
            window.kyrFormat.fill(out, text, 'en');
            return [out.textContent, [...out.querySelectorAll('a')].map(a => [a.textContent, a.getAttribute('href')])];
        }""", text)

    text, found = links("Call 1-888-624-4752 or (312) 555-0100, or +1 312.555.0199. In danger, call 911.")
    assert text == "Call 1-888-624-4752 or (312) 555-0100, or +1 312.555.0199. In danger, call 911."
    assert found == [["1-888-624-4752", "tel:+18886244752"], ["(312) 555-0100", "tel:+13125550100"],
                     ["+1 312.555.0199", "tel:+13125550199"], ["911", "tel:911"]]
    _, found = links("Find help: justice.gov/eoir/list-pro-bono-legal-service-providers. Or https://example.org/a?b=1")
    assert found == [["justice.gov/eoir/list-pro-bono-legal-service-providers",
                      "https://justice.gov/eoir/list-pro-bono-legal-service-providers"],
                     ["https://example.org/a?b=1", "https://example.org/a?b=1"]]
    # Years, amounts, form and ZIP numbers stay text; markup in a message is never markup.
    text, found = links("Since 2026, bail of $2500, form I-247A, 287(g), ZIP 60601. <b>hi</b>")
    assert found == [] and text.endswith("<b>hi</b>")
