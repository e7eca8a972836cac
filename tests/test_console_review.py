"""Regression tests for the December 2026 security review (issue #15): staff accounts,
login limits and the console (findings 2, 4, 8, 9, 10, 12).

Real Redis (the handoff test database), real HTTP through the Flask test client or
a threaded werkzeug server, real threads where the finding is a race.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.parse

import pytest
import requests

from bot.broadcasts import CAMPAIGN_PREFIX

from tests.conftest import post_signed, serve, sms_form
from tests.test_console_broadcasts import (  # noqa: F401  (admin, db, spanish_subscriber are fixtures)
    ALERT_ES, NEW, admin, campaigns, db, queued_jobs, review, spanish_subscriber,
)
from tests.test_handoff import (  # noqa: F401  (handoff_url is a fixture)
    ASK_ES, HANDOFF_ENV, PASSWORD, csrf_token, desk_of, handoff_of, handoff_url, log_in, make_staff, page_token,
)


@pytest.fixture
def app(make_app, handoff_url):
    return make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)


@pytest.fixture
def waiting(app, phone):
    """A Spanish SMS conversation waiting for a person; returns its handoff id."""
    post_signed(app.test_client(), sms_form(phone, ASK_ES))
    return handoff_of(app, phone).id


# -- #8: /console/stats is for admins ------------------------------------------------


def test_stats_are_for_admins_only(app, waiting):
    make_staff(app, "ana", languages=("es",))
    make_staff(app, "root", role="admin")
    staff, admin = app.test_client(), app.test_client()
    log_in(staff, "ana")
    log_in(admin, "root")
    assert staff.get("/console/stats").status_code == 403
    assert 'href="/console/stats"' not in staff.get("/console/").get_data(as_text=True)
    assert admin.get("/console/stats").status_code == 200
    assert 'href="/console/stats"' in admin.get("/console/").get_data(as_text=True)


# -- #10: ids in console URLs ---------------------------------------------------------


def console_rules(app, argument):
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("console.") and argument in rule.arguments]


def test_every_console_route_argument_has_a_checked_format(app):
    from bot.console.ids import FORMATS

    arguments = {name for rule in app.url_map.iter_rules()
                 if rule.endpoint.startswith("console.") and rule.endpoint != "console.static"
                 for name in rule.arguments}
    assert arguments and arguments <= set(FORMATS)
    assert len(console_rules(app, "handoff_id")) >= 7
    assert app.test_client().get("/console/static/console.js").status_code == 200


def test_malformed_campaign_ids_and_usernames_are_404(make_app, handoff_url):
    app = make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)
    make_staff(app, "root", role="admin")
    admin = app.test_client()
    log_in(admin, "root")
    token = page_token(admin)
    for bad in ("root:x", "ROOT", "r" * 40, "1root"):
        path = "/console/admin/staff/" + urllib.parse.quote(bad, safe=":")
        assert admin.post(path, data={"csrf_token": token, "action": "delete"}).status_code == 404
    assert admin.get("/console/admin/broadcasts/open").status_code in (404, 503)


def test_malformed_handoff_ids_are_404_on_every_console_route(app, waiting):
    make_staff(app, "root", role="admin", languages=("es",))
    admin = app.test_client()
    log_in(admin, "root")
    token = page_token(admin)
    assert admin.post(f"/console/h/{waiting}/claim", data={"csrf_token": token}).status_code == 302
    sender = desk_of(app).get(waiting).sender
    bad_ids = ["open", f"sender:{sender}", "sender:abc", "../x", f"{waiting}:owner", waiting.upper(),
               waiting + waiting, "a" * 300]
    rules = console_rules(app, "handoff_id")
    for rule in rules:
        for bad in bad_ids:
            path = rule.rule.replace("<handoff_id>", urllib.parse.quote(bad, safe=":"))
            if "POST" in rule.methods:
                response = admin.post(path, data={"csrf_token": token, "text": "hola"})
            else:
                response = admin.get(path)
            assert response.status_code == 404, (path, response.status_code)
    # The real id still works everywhere it is read.
    assert admin.get(f"/console/h/{waiting}").status_code == 200
    assert admin.get(f"/console/api/h/{waiting}").status_code == 200


# -- #9: the broadcast confirm token is bound to what was reviewed ---------------------

SEND = "/console/admin/broadcasts/send"


def test_confirm_token_only_sends_the_reviewed_texts_and_audience(admin, db, handoff_url, spanish_subscriber):
    token = page_token(admin, NEW)
    reviewed = {"text_es": ALERT_ES, "languages": ["es"], "states": "IL"}
    html = review(admin, token, **reviewed).get_data(as_text=True)
    confirm = re.search(r'name="confirm" value="([^"]+)"', html).group(1)
    changed = [
        {**reviewed, "text_es": "Mensaje cambiado después de la revisión."},  # other words
        {**reviewed, "text_en": "An English text nobody reviewed."},  # a language added
        {**reviewed, "states": ""},  # a wider audience (everywhere)
        {**reviewed, "languages": ["es", "en"]},
        {**reviewed, "counties": "IL:Cook"},
    ]
    for fields in changed:
        response = admin.post(SEND, data={"csrf_token": token, "confirm": confirm, **fields})
        assert response.status_code == 409, fields
        assert "changed after the review" in response.get_data(as_text=True)
        assert campaigns(db) == [] and queued_jobs(handoff_url) == 0
    sent = admin.post(SEND, data={"csrf_token": token, "confirm": confirm, **reviewed})
    assert sent.status_code == 302
    [campaign_id] = campaigns(db)
    stored = db.hgetall(CAMPAIGN_PREFIX + campaign_id)
    assert ALERT_ES in stored["texts"] and '"IL"' in stored["audience"]
    assert queued_jobs(handoff_url) == 1


# -- #4: simultaneous guesses cannot pass the login limit -------------------------------


def login_sessions(base_url: str, count: int) -> list[tuple[requests.Session, str]]:
    """Browser-like sessions, each with its own login form token."""
    sessions = []
    for _ in range(count):
        session = requests.Session()
        token = csrf_token(session.get(base_url + "/console/login", timeout=10).text)
        sessions.append((session, token))
    return sessions


def post_logins_at_once(base_url, sessions, username, passwords, headers=None) -> list[int]:
    """POST every login in its own thread, released together; their status codes."""
    barrier = threading.Barrier(len(sessions))
    codes: list[int] = []

    def attempt(session, token, password):
        barrier.wait()
        response = session.post(base_url + "/console/login", allow_redirects=False, timeout=60, headers=headers,
                                data={"csrf_token": token, "username": username, "password": password})
        codes.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(session, token, password))
               for (session, token), password in zip(sessions, passwords)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return codes


def test_simultaneous_wrong_passwords_cannot_pass_the_limit(make_app, handoff_url):
    app = make_app(REDIS_URL=handoff_url, CONSOLE_SECURE_COOKIES="false", **HANDOFF_ENV)
    make_staff(app, "ana")
    server = serve(app)
    base_url = next(server)
    try:
        sessions = login_sessions(base_url, 25)
        codes = post_logins_at_once(base_url, sessions, "ana", [f"wrong password {n}" for n in range(25)])
    finally:
        next(server, None)
    limit = app.extensions["kyr_console"].limiter.attempts
    assert len(codes) == 25 and set(codes) <= {401, 429}, codes
    assert codes.count(401) <= limit, f"{codes.count(401)} guesses were checked, the limit is {limit}"
    assert codes.count(429) >= 25 - limit


# -- #12: the proxy setting, and a slowdown instead of a lockout ------------------------


def login_from(client, address, username, password=PASSWORD):
    token = csrf_token(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", headers={"X-Forwarded-For": address},
                       data={"csrf_token": token, "username": username, "password": password})


def exhaust_address(client, address, attempts):
    """Use up an address's limit (4 x attempts) with wrong passwords on throwaway usernames."""
    for n in range(attempts * 4):
        assert login_from(client, address, f"nobody{n // attempts}", "wrong password!").status_code == 401
    assert login_from(client, address, "nobody-else", "wrong password!").status_code == 429


def test_behind_one_proxy_each_client_address_has_its_own_limit(make_app, handoff_url):
    app = make_app(REDIS_URL=handoff_url, TRUSTED_PROXY_HOPS="1", CONSOLE_LOGIN_ATTEMPTS="2", **HANDOFF_ENV)
    make_staff(app, "ana")
    attacker, colleague = app.test_client(), app.test_client()
    exhaust_address(attacker, "198.51.100.1", 2)
    assert login_from(colleague, "198.51.100.2", "someone", "wrong password!").status_code == 401
    assert login_from(colleague, "198.51.100.2", "ana").status_code == 302


def test_without_trusted_proxy_hops_forwarded_addresses_share_one_limit(make_app, handoff_url, caplog, monkeypatch):
    """Why TRUSTED_PROXY_HOPS must be set behind a proxy: with 0, everyone has the proxy's address (and a warning says so)."""
    from bot.console import auth

    monkeypatch.setattr(auth, "_warned_about_proxy", False)
    app = make_app(REDIS_URL=handoff_url, TRUSTED_PROXY_HOPS="0", CONSOLE_LOGIN_ATTEMPTS="2", **HANDOFF_ENV)
    make_staff(app, "ana")
    exhaust_address(app.test_client(), "198.51.100.1", 2)
    assert login_from(app.test_client(), "198.51.100.2", "ana").status_code == 429
    warnings = [r.getMessage() for r in caplog.records if "TRUSTED_PROXY_HOPS=0" in r.getMessage()]
    assert len(warnings) == 1 and "198.51.100" not in warnings[0]


def test_a_username_over_the_limit_is_slowed_down_not_locked_out(make_app, handoff_url):
    app = make_app(REDIS_URL=handoff_url, TRUSTED_PROXY_HOPS="1", CONSOLE_LOGIN_ATTEMPTS="3",
                   CONSOLE_LOGIN_SLOWDOWN_SECONDS="2", **HANDOFF_ENV)
    make_staff(app, "ana")
    attacker, ana = app.test_client(), app.test_client()
    for n in range(3):
        assert login_from(attacker, "198.51.100.7", "ana", f"guess number {n}").status_code == 401
    slowed = login_from(attacker, "198.51.100.7", "ana", "guess number 3")
    assert slowed.status_code == 429 and 1 <= int(slowed.headers["Retry-After"]) <= 2
    # After the delay the attacker gets one more guess, and then waits again: one guess per 2 s.
    time.sleep(int(slowed.headers["Retry-After"]) + 0.05)
    assert login_from(attacker, "198.51.100.7", "ana", "guess number 4").status_code == 401
    waiting = login_from(ana, "203.0.113.9", "ana")
    assert waiting.status_code == 429 and "Try again in" in waiting.get_data(as_text=True)
    assert int(waiting.headers["Retry-After"]) <= 2, "a short wait, not the 15-minute window"
    # The real person is not locked out: after the wait, the right password works.
    time.sleep(int(waiting.headers["Retry-After"]) + 0.05)
    assert login_from(ana, "203.0.113.9", "ana").status_code == 302
    assert ana.get("/console/").status_code == 200
    # A successful login clears the username's count: the next mistake is an ordinary 401.
    assert login_from(app.test_client(), "203.0.113.9", "ana", "typo in password").status_code == 401


@pytest.mark.parametrize("value, message", [
    ("0", "at least 1"), ("soon", "CONSOLE_LOGIN_SLOWDOWN_SECONDS"), ("901", "at most"),
])
def test_slowdown_setting_is_validated(value, message):
    from bot.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match=message):
        load_settings({"CONSOLE_LOGIN_SLOWDOWN_SECONDS": value, "CONSOLE_LOGIN_WINDOW_MINUTES": "15"})
    assert load_settings({}).console_login_slowdown_seconds == 60
