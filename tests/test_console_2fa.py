"""Issue #19 item 3: your own password, TOTP two-factor login, recovery codes, admin reset, CONSOLE_REQUIRE_2FA.

Codes come from pyotp with the secret the account page shows (what an authenticator
app would read from the QR code); real Redis, real Argon2id, the real CSRF checks.
"""

from __future__ import annotations

import re
import time
import urllib.parse

import pyotp
import pytest

from tests.test_handoff import (  # noqa: F401  (handoff_url is a fixture)
    HANDOFF_ENV, PASSWORD, csrf_token, handoff_url, log_in, make_staff, page_token,
)


@pytest.fixture
def app(make_app, handoff_url):
    return make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)


def directory(app):
    return app.extensions["kyr_console"].staff


def next_code(secret: str) -> str:
    """The authenticator's next code (the current one was used up by the step before)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def enrol(client) -> tuple[str, list[str]]:
    """Set up 2FA from the account page as a person would; (secret, recovery codes)."""
    token = page_token(client, "/console/account")
    assert client.post("/console/account/2fa/start", data={"csrf_token": token}).status_code == 302
    page = client.get("/console/account").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    uri = re.search(r'id="totp-uri" class="wrap">([^<]+)<', page).group(1).replace("&amp;", "&")
    assert uri.startswith("otpauth://totp/") and urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"] == [secret]
    assert "<svg" in page and "QR code for your authenticator app" in page
    done = client.post("/console/account/2fa/confirm", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.get_data(as_text=True))
    return secret, codes


def password_step(client, username="ana", password=PASSWORD):
    return log_in(client, username, password)


def code_step(client, code):
    token = csrf_token(client.get("/console/login/code").get_data(as_text=True))
    return client.post("/console/login/code", data={"csrf_token": token, "code": code})


def test_enrolment_shows_a_qr_code_uri_and_secret_and_needs_a_right_code(app, handoff_url):
    make_staff(app, "ana")
    client = app.test_client()
    log_in(client, "ana")
    token = page_token(client, "/console/account")
    assert client.post("/console/account/2fa/start").status_code == 400  # CSRF
    client.post("/console/account/2fa/start", data={"csrf_token": token})
    page = client.get("/console/account").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = client.post("/console/account/2fa/confirm", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 400 and "did not match" in wrong.get_data(as_text=True)
    assert not directory(app).get("ana").has_2fa

    done = client.post("/console/account/2fa/confirm", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.get_data(as_text=True))
    assert len(set(codes)) == 10
    account = directory(app).get("ana")
    assert account.has_2fa and len(account.recovery) == 10
    assert all(h.startswith("$argon2id$") for h in account.recovery)
    raw = app.extensions["kyr"].store.client.get("kyr:staff:ana")
    assert secret not in raw and not any(code in raw for code in codes)  # secret encrypted, codes hashed
    assert "On: every login asks for a code" in client.get("/console/account").get_data(as_text=True)


def test_login_asks_for_the_code_and_refuses_wrong_and_reused_codes(app):
    make_staff(app, "ana")
    first = app.test_client()
    log_in(first, "ana")
    secret, _ = enrol(first)

    client = app.test_client()
    response = password_step(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/login/code")
    assert client.get("/console/").status_code == 302  # the password alone is not a login
    assert code_step(client, "123456").status_code == 401
    code = next_code(secret)
    assert code_step(client, code).status_code == 302
    assert client.get("/console/").status_code == 200

    replay = app.test_client()
    password_step(replay)
    assert code_step(replay, code).status_code == 401  # a code works once
    assert replay.get("/console/").status_code == 302
    assert password_step(app.test_client(), password="wrong password here").status_code == 401


def test_a_recovery_code_works_once(app):
    make_staff(app, "ana")
    client = app.test_client()
    log_in(client, "ana")
    _, codes = enrol(client)
    one = app.test_client()
    password_step(one)
    assert code_step(one, codes[0].upper().replace("-", " ")).status_code == 302  # as typed from paper
    assert one.get("/console/").status_code == 200
    assert len(directory(app).get("ana").recovery) == 9
    two = app.test_client()
    password_step(two)
    assert code_step(two, codes[0]).status_code == 401
    assert code_step(two, codes[1]).status_code == 302


def test_admin_resets_a_lost_authenticator_and_staff_cannot(app):
    make_staff(app, "ana")
    make_staff(app, "luis")
    make_staff(app, "root", role="admin")
    ana = app.test_client()
    log_in(ana, "ana")
    secret, _ = enrol(ana)
    luis = app.test_client()
    log_in(luis, "luis")
    assert luis.post("/console/admin/staff/ana", data={"csrf_token": page_token(luis), "action": "reset_2fa"}).status_code == 403
    root = app.test_client()
    log_in(root, "root")
    token = page_token(root, "/console/admin/staff")
    assert root.post("/console/admin/staff/ana", data={"action": "reset_2fa"}).status_code == 400  # CSRF
    assert directory(app).get("ana").has_2fa
    assert "2FA on" in root.get("/console/admin/staff").get_data(as_text=True)
    root.post("/console/admin/staff/ana", data={"csrf_token": token, "action": "reset_2fa"})
    account = directory(app).get("ana")
    assert not account.has_2fa and account.recovery == ()
    assert ana.get("/console/").status_code == 302  # the reset ended her logins
    again = app.test_client()
    assert password_step(again).headers["Location"].endswith("/console/")  # password only, until she enrols again


def test_require_2fa_sends_accounts_without_it_to_enrol_first(make_app, handoff_url):
    app = make_app(REDIS_URL=handoff_url, CONSOLE_REQUIRE_2FA="true", **HANDOFF_ENV)
    make_staff(app, "ana")
    client = app.test_client()
    log_in(client, "ana")
    response = client.get("/console/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/account")
    assert client.get("/console/api/queue").status_code == 403
    assert client.get("/console/replies").status_code == 302
    assert "This console requires it" in client.get("/console/account").get_data(as_text=True)
    enrol(client)
    assert client.get("/console/").status_code == 200


def test_require_2fa_needs_an_encryption_key(make_app, handoff_url):
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        make_app(REDIS_URL=handoff_url, CONSOLE_REQUIRE_2FA="true", STAFF_HOURS="always")


def test_staff_change_their_own_password(app):
    make_staff(app, "ana")
    here, elsewhere = app.test_client(), app.test_client()
    log_in(here, "ana")
    log_in(elsewhere, "ana")
    token = page_token(here, "/console/account")
    new = "a brand new long passphrase"
    assert here.post("/console/account/password", data={"current": PASSWORD, "new": new, "again": new}).status_code == 400
    here.post("/console/account/password", data={"csrf_token": token, "current": "wrong one entirely", "new": new, "again": new})
    here.post("/console/account/password", data={"csrf_token": token, "current": PASSWORD, "new": new, "again": new + "x"})
    here.post("/console/account/password", data={"csrf_token": token, "current": PASSWORD, "new": "short", "again": "short"})
    assert directory(app).verify("ana", PASSWORD) is not None  # none of those changed it
    page = here.post("/console/account/password", data={"csrf_token": token, "current": PASSWORD, "new": new,
                                                         "again": new}, follow_redirects=True)
    assert "Password changed" in page.get_data(as_text=True)
    assert here.get("/console/").status_code == 200  # this login goes on
    assert elsewhere.get("/console/").status_code == 302  # the others ended
    assert log_in(app.test_client(), "ana", new).status_code == 302
    assert log_in(app.test_client(), "ana").status_code == 401


def test_every_new_form_refuses_a_missing_or_forged_csrf_token(app):
    """Issue #19 routes, posted by a logged-in admin (who may use all of them) without a valid token."""
    make_staff(app, "root", role="admin", languages=("en",))
    root = app.test_client()
    log_in(root, "root")
    reply = app.extensions["kyr_console"].replies.save(None, "Hello", {"en": "Hello"}, "root")
    paths = ["/console/account/password", "/console/account/name", "/console/account/2fa/start",
             "/console/account/2fa/confirm", "/console/replies", f"/console/replies/{reply.id}",
             "/console/api/replies/preview", "/console/admin/staff/root",
             "/console/h/0123456789abcdef/answer", "/console/h/0123456789abcdef/saved"]
    for path in paths:
        for data in ({}, {"csrf_token": "forged"}):
            response = root.post(path, data={**data, "first_name": "Eve", "title": "x", "text_en": "y",
                                             "action": "reset_2fa", "current": PASSWORD, "new": "n" * 20,
                                             "again": "n" * 20, "code": "000000"})
            assert response.status_code == 400, path
    account = directory(app).get("root")
    assert account.first_name == "" and directory(app).verify("root", PASSWORD) is not None
    assert app.extensions["kyr_console"].replies.get(reply.id).texts == {"en": "Hello"}
    pending = app.test_client()
    password_step(pending)  # the code step is a form too: the token is checked before anything else
    assert pending.post("/console/login/code", data={"code": "000000"}).status_code == 400


def test_staff_set_their_own_first_name_for_saved_replies(app):
    make_staff(app, "maria.lopez")
    client = app.test_client()
    log_in(client, "maria.lopez")
    assert directory(app).get("maria.lopez").display_name == "Maria"
    token = page_token(client, "/console/account")
    client.post("/console/account/name", data={"csrf_token": token, "first_name": "  María  José "})
    assert directory(app).get("maria.lopez").display_name == "María José"
    client.post("/console/account/name", data={"csrf_token": token, "first_name": "{hotline}"})
    assert directory(app).get("maria.lopez").first_name == "María José"  # refused, unchanged


def test_cli_resets_2fa_when_no_admin_can_log_in(app):
    make_staff(app, "root", role="admin")
    client = app.test_client()
    log_in(client, "root")
    enrol(client)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["console", "reset-2fa", "root"])
    assert result.exit_code == 0, result.output
    assert not directory(app).get("root").has_2fa
    assert client.get("/console/").status_code == 302  # logins ended
    assert runner.invoke(args=["console", "reset-2fa", "nobody"]).exit_code != 0
    entries = app.extensions["kyr_console"].audit.entries(action="2fa_reset")
    assert [(e.who, e.target) for e in entries] == [("(command line)", "root")]
