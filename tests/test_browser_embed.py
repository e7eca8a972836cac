"""The one-line embed works in real headless Chromium against `make run`'s stack.

The bot is started exactly as `make run` starts it (``python -m bot.stack run``:
gunicorn serving webhook:app, using the test Rasa server), and a community
group's page on another origin embeds it with one script tag.
"""

import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot import create_app
from tests.conftest import free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent

QUESTION = "my brother is in county jail and they said ICE put a hold on him"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed (make test installs the Debian package 'chromium')")
    return path


@pytest.fixture
def bot_and_site(settings_env):
    """The bot (as `make run` starts it) on one origin, a group's page embedding it on another."""
    bot_port, site_port = free_port(), free_port()
    site_origin = f"http://127.0.0.1:{site_port}"
    env = {**os.environ, **settings_env, "PORT": str(bot_port), "ALLOWED_ORIGINS": site_origin, "LOG_LEVEL": "WARNING"}
    env.pop("PUBLIC_URL", None)
    stack = subprocess.Popen([sys.executable, "-m", "bot.stack", "run"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_until_healthy(f"http://127.0.0.1:{bot_port}"):
        stack.kill()
        pytest.fail("make run's stack did not come up")
    app = create_app({k: v for k, v in env.items() if k != "PUBLIC_URL"})  # same content, for expected texts
    page = (
        "<!doctype html><html><head><title>Community group</title></head><body>"
        "<h1>Our community group</h1>"
        f'<script src="http://127.0.0.1:{bot_port}/embed.js" defer></script></body></html>'
    ).encode()

    class Site(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    site_server = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), Site)
    threading.Thread(target=site_server.serve_forever, daemon=True).start()
    yield app, site_origin
    site_server.shutdown()
    stack.send_signal(signal.SIGTERM)  # what Ctrl-C does: the stack stops gunicorn
    stack.wait(20)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


def ask_through_bubble(page, site_origin, question):
    page.goto(site_origin + "/")
    page.click("#kyr-chat-button")
    frame = page.frame_locator("#kyr-chat-frame")
    frame.locator("#message").fill(question)
    frame.locator("#composer button[type=submit]").click()
    answer = frame.locator("li.bot").first
    answer.wait_for(timeout=15000)
    return frame, answer.inner_text()


def test_embedded_bubble_answers_a_question(browser, bot_and_site):
    app, site_origin = bot_and_site
    page = browser.new_page(locale="en-US")
    frame, answer = ask_through_bubble(page, site_origin, QUESTION)
    assert answer.startswith(app.extensions["kyr"].content.text("detainer.first", "en")[:40])
    assert page.get_attribute("#kyr-chat-button", "aria-expanded") == "true"
    assert frame.locator("button.lang").count() == 8  # the language menu


def test_embed_follows_the_browser_language(browser, bot_and_site):
    app, site_origin = bot_and_site
    page = browser.new_page(locale="ar-EG")
    frame, answer = ask_through_bubble(page, site_origin, "MENU")
    assert frame.locator("html").get_attribute("lang") == "ar"
    assert frame.locator("html").get_attribute("dir") == "rtl"
    assert answer.strip() == app.extensions["kyr"].engine.menu_text("ar").strip()
