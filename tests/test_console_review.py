"""Regression tests for the December 2026 security review (issue #15): staff accounts,
login limits and the console (findings 2, 4, 8, 9, 10, 12).

Real Redis (the handoff test database), real HTTP through the Flask test client or
a threaded werkzeug server, real threads where the finding is a race.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import urllib.parse

import pytest
import requests
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from bot.outreach.broadcasts import CAMPAIGN_PREFIX

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
    """Why TRUSTED_PROXY_HOPS must be set behind a proxy: with 0, everyone has the proxy's address.

    A warning says so once, without the address."""
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


# -- #2: a login in progress never undoes an admin's change ----------------------------

NEW_PASSWORD = "a brand new passphrase 2026"
#: Argon2 parameters weaker than today's, so a login rehashes (the compare-and-set path).
OLD_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def verifies(account, password) -> bool:
    try:
        return PasswordHasher().verify(account.password_hash, password)
    except VerificationError:
        return False


#: action → (the admin's change, whether the stored account still shows it)
ADMIN_CHANGES = {
    "disable": (lambda staff: staff.update("luis", active=False), lambda a: a is not None and not a.active),
    "delete": (lambda staff: staff.delete("luis"), lambda a: a is None),
    "demote": (lambda staff: staff.update("luis", role="staff"), lambda a: a is not None and a.role == "staff"),
    "reset": (lambda staff: staff.update("luis", password=NEW_PASSWORD),
              lambda a: a is not None and verifies(a, NEW_PASSWORD) and not verifies(a, PASSWORD)),
}


def fresh_luis(app, db, outdated_hash: bool) -> None:
    staff = app.extensions["kyr_console"].staff
    staff.delete("luis")
    make_staff(app, "luis", role="admin")
    if outdated_hash:
        account = dataclasses.replace(staff.get("luis"), password_hash=OLD_HASHER.hash(PASSWORD))
        db.set("kyr:staff:luis", json.dumps(dataclasses.asdict(account)), keepttl=True)
        assert staff.hasher.check_needs_rehash(staff.get("luis").password_hash)


@pytest.mark.parametrize("action", sorted(ADMIN_CHANGES))
def test_a_login_in_progress_never_reverts_an_admin_change(make_app, handoff_url, db, action):
    app = make_app(REDIS_URL=handoff_url, CONSOLE_SECURE_COOKIES="false", CONSOLE_LOGIN_ATTEMPTS="1000",
                   **HANDOFF_ENV)
    staff = app.extensions["kyr_console"].staff
    change, holds = ADMIN_CHANGES[action]
    server = serve(app)
    base_url = next(server)
    trials, reverted, codes = 16, [], []
    try:
        for trial in range(trials):
            fresh_luis(app, db, outdated_hash=trial % 2 == 1)
            [(session, token)] = login_sessions(base_url, 1)
            # The admin's change starts from 0.2 s before to 0.25 s after the login: across
            # the login's Argon2 check (about 0.1-0.2 s) and its rehash.
            offset = -0.2 + 0.45 * trial / (trials - 1)
            barrier = threading.Barrier(2)

            def log_in_luis():
                barrier.wait()
                time.sleep(max(0.0, -offset))
                codes.append(session.post(base_url + "/console/login", allow_redirects=False, timeout=60,
                                          data={"csrf_token": token, "username": "luis",
                                                "password": PASSWORD}).status_code)

            def admin_changes():
                barrier.wait()
                time.sleep(max(0.0, offset))
                change(staff)

            threads = [threading.Thread(target=log_in_luis), threading.Thread(target=admin_changes)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            if not holds(staff.get("luis")):
                reverted.append(round(offset, 3))
    finally:
        next(server, None)
    assert set(codes) <= {302, 401} and len(codes) == trials, codes
    assert reverted == [], f"{action} was undone by a login in {len(reverted)} of {trials} trials (offsets {reverted})"


def test_login_renews_the_ttl_and_rehashes_without_rewriting_a_changed_account(app, db):
    staff = app.extensions["kyr_console"].staff
    fresh_luis(app, db, outdated_hash=True)
    db.expire("kyr:staff:luis", 100)
    account = staff.verify("luis", PASSWORD)
    assert account is not None and 100 < db.ttl("kyr:staff:luis") <= staff.ttl
    stored = staff.get("luis")
    assert not staff.hasher.check_needs_rehash(stored.password_hash) and verifies(stored, PASSWORD)
    assert stored.revision == account.revision + 1
    # A rehash that lost the race (a password reset since the account was read) writes nothing.
    staff.update("luis", password=NEW_PASSWORD)
    staff._rehash(account, PASSWORD)
    assert verifies(staff.get("luis"), NEW_PASSWORD) and not verifies(staff.get("luis"), PASSWORD)
    # A deleted account is not brought back by renewing its TTL.
    staff.delete("luis")
    assert staff.verify("luis", PASSWORD) is None and db.get("kyr:staff:luis") is None
