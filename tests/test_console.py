"""The staff console: logins, CSRF, roles, claiming, replies through the outbound queue, stats."""

import re
import threading

import pytest
import requests
from rq.job import Job


from tests.conftest import post_signed, serve, sms_form, twiml_messages
from tests.test_handoff import (  # noqa: F401  (handoff_url is a fixture)
    ASK_ES, HANDOFF_ENV, PASSWORD, csrf_token, desk_of, handoff_of, handoff_url, log_in, make_staff, page_token,
)
from tests.twilio_peers import TO, run_worker_until


@pytest.fixture
def app(make_app, handoff_url):
    return make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def waiting(app, phone):
    """A Spanish SMS conversation waiting for a person; returns its handoff id."""
    post_signed(app.test_client(), sms_form(phone, ASK_ES))
    return handoff_of(app, phone).id


def test_console_needs_a_login(client):
    response = client.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    assert client.get("/console/api/queue").status_code == 401


def test_login_renews_the_session_and_sets_safe_cookies(app, client):
    make_staff(app, "ana")
    before = client.get("/console/login")
    old_token = csrf_token(before.get_data(as_text=True))
    old_cookie = client.get_cookie("session").value
    response = log_in(client, "ana")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert client.get_cookie("session").value != old_cookie
    # The pre-login form token is gone with the old session.
    assert client.post("/console/logout", data={"csrf_token": old_token}).status_code == 400
    assert client.get("/console/").status_code == 200


def test_wrong_password_is_refused(app, client):
    make_staff(app, "ana")
    assert log_in(client, "ana", "not the password at all").status_code == 401
    assert client.get("/console/").status_code == 302


def test_forms_without_csrf_token_are_rejected(app, client, waiting):
    make_staff(app, "ana")
    assert client.post("/console/login", data={"username": "ana", "password": PASSWORD}).status_code == 400
    log_in(client, "ana")
    assert client.post(f"/console/h/{waiting}/claim").status_code == 400
    assert client.post(f"/console/h/{waiting}/claim", data={"csrf_token": "forged"}).status_code == 400
    assert desk_of(app).get(waiting).waiting


def test_login_rate_limit_holds_across_app_instances(make_app, handoff_url):
    first = make_app(REDIS_URL=handoff_url, CONSOLE_LOGIN_ATTEMPTS="3", **HANDOFF_ENV)
    second = make_app(REDIS_URL=handoff_url, CONSOLE_LOGIN_ATTEMPTS="3", **HANDOFF_ENV)
    make_staff(first, "ana")
    one, two = first.test_client(), second.test_client()
    assert log_in(one, "ana", "wrong password 1").status_code == 401
    assert log_in(two, "ana", "wrong password 2").status_code == 401
    assert log_in(one, "ana", "wrong password 3").status_code == 401
    blocked = log_in(two, "ana")  # the right password, but too late
    assert blocked.status_code == 429 and "Too many" in blocked.get_data(as_text=True)
    assert two.get("/console/").status_code == 302


def test_staff_cannot_use_admin_pages(app, client):
    make_staff(app, "ana")
    log_in(client, "ana")
    assert client.get("/console/admin/staff").status_code == 403
    token = page_token(client)
    created = client.post("/console/admin/staff", data={"csrf_token": token, "username": "eve", "password": PASSWORD,
                                                         "role": "admin", "languages": ["es"]})
    assert created.status_code == 403
    assert app.extensions["kyr_console"].staff.get("eve") is None


def test_admin_creates_staff_and_disabling_ends_their_login(app, client):
    make_staff(app, "root", role="admin", languages=("en", "es"))
    log_in(client, "root")
    token = page_token(client, "/console/admin/staff")
    client.post("/console/admin/staff", data={"csrf_token": token, "username": "luis", "password": PASSWORD,
                                              "role": "staff", "languages": ["es", "pt"]})
    assert app.extensions["kyr_console"].staff.get("luis").languages == ("es", "pt")
    luis = app.test_client()
    assert log_in(luis, "luis").status_code == 302
    client.post("/console/admin/staff/luis", data={"csrf_token": token, "action": "disable"})
    assert luis.get("/console/").status_code == 302


def test_queue_shows_only_my_languages_and_masked_numbers(app, phone, waiting):
    make_staff(app, "ana", languages=("es",))
    make_staff(app, "minh", languages=("vi",))
    ana, minh = app.test_client(), app.test_client()
    log_in(ana, "ana")
    log_in(minh, "minh")
    html = ana.get("/console/").get_data(as_text=True)
    assert f'data-id="{waiting}"' in html and "Español" in html
    digits = phone.lstrip("+")
    assert "•" * 9 + digits[-2:] in html
    assert digits[-4:] not in html.replace("•" * 9 + digits[-2:], "")
    assert waiting not in minh.get("/console/").get_data(as_text=True)
    assert minh.get(f"/console/h/{waiting}").status_code == 403


def test_queue_json_for_polling(app, client, waiting):
    make_staff(app, "ana")
    log_in(client, "ana")
    data = client.get("/console/api/queue").json
    assert data["waiting"] == 1 and waiting in data["html"]


@pytest.fixture
def live_server(make_app, handoff_url):
    """The console on a real threaded HTTP server (plain http, so cookies without Secure)."""
    yield from serve(make_app(REDIS_URL=handoff_url, CONSOLE_SECURE_COOKIES="false", **HANDOFF_ENV))


def test_two_staff_claiming_at_once_one_wins(app, live_server, waiting):
    make_staff(app, "ana")
    make_staff(app, "luis")
    sessions = []
    for name in ("ana", "luis"):
        session = requests.Session()
        token = csrf_token(session.get(live_server + "/console/login").text)
        session.post(live_server + "/console/login", data={"csrf_token": token, "username": name, "password": PASSWORD})
        sessions.append((session, csrf_token(session.get(live_server + "/console/").text)))
    barrier = threading.Barrier(2)
    results = []

    def claim(session, token):
        barrier.wait()
        response = session.post(f"{live_server}/console/h/{waiting}/claim", data={"csrf_token": token},
                                allow_redirects=False)
        results.append(response.headers["Location"])

    threads = [threading.Thread(target=claim, args=pair) for pair in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted("/console/h/" in location for location in results) == [False, True]
    assert desk_of(app).get(waiting).owner in ("ana", "luis")


def claim_and_reply(client, handoff_id, text):
    token = page_token(client)
    assert client.post(f"/console/h/{handoff_id}/claim", data={"csrf_token": token}).status_code == 302
    response = client.post(f"/console/h/{handoff_id}/reply", data={"csrf_token": token, "text": text})
    assert response.status_code == 302
    return token


def test_only_the_owner_replies_and_notes_stay_internal(app, waiting):
    make_staff(app, "ana")
    make_staff(app, "luis")
    ana, luis = app.test_client(), app.test_client()
    log_in(ana, "ana")
    log_in(luis, "luis")
    claim_and_reply(ana, waiting, "Hola, soy Ana")
    token = page_token(luis)
    assert luis.post(f"/console/h/{waiting}/reply", data={"csrf_token": token, "text": "hi"}).status_code == 403
    assert luis.post(f"/console/h/{waiting}/handback", data={"csrf_token": token}).status_code == 403
    luis.post(f"/console/h/{waiting}/note", data={"csrf_token": token, "text": "llamar al abogado"})
    entries = desk_of(app).entries(waiting)
    assert [e.who for e in entries if e.who in ("staff", "note")] == ["staff", "note"]
    assert ana.get(f"/console/api/h/{waiting}").json["html"].count("llamar al abogado") == 1


def test_release_puts_it_back_in_the_queue(app, client, waiting):
    make_staff(app, "ana")
    log_in(client, "ana")
    token = claim_and_reply(client, waiting, "un momento")
    client.post(f"/console/h/{waiting}/release", data={"csrf_token": token})
    assert desk_of(app).get(waiting).waiting


def test_reply_goes_through_twilio_and_hand_back_returns_to_the_bot(make_app, handoff_url, outbound_env, prism_url):
    env = {**outbound_env, "REDIS_URL": handoff_url, "TWILIO_API_BASE_URL": prism_url}
    app = make_app(**{**env, **HANDOFF_ENV})
    client = app.test_client()
    post_signed(client, sms_form(TO, ASK_ES))
    handoff_id = handoff_of(app, TO).id
    make_staff(app, "ana")
    log_in(client, "ana")
    token = claim_and_reply(client, handoff_id, "Hola, soy Ana del equipo")
    job_id = [e.job for e in desk_of(app).entries(handoff_id) if e.who == "staff"][0]
    job = Job.fetch(job_id, connection=desk_of(app).delivery._rq)
    assert run_worker_until(env, job, {"finished", "failed"}) == "finished"
    assert 'class="send sent"' in client.get(f"/console/h/{handoff_id}").get_data(as_text=True)
    assert twiml_messages(post_signed(client, sms_form(TO, "gracias")).data) == []
    client.post(f"/console/h/{handoff_id}/handback", data={"csrf_token": token})
    assert desk_of(app).get(handoff_id).closed == "handed_back"
    replies = twiml_messages(post_signed(client, sms_form(TO, "MENU")).data)
    assert replies and replies[0].startswith("Responda")


@pytest.mark.parametrize("fault_peer", ["optout"], indirect=True)
def test_failed_send_is_visible_with_the_twilio_error(make_app, handoff_url, outbound_env, fault_peer):
    env = {**outbound_env, "REDIS_URL": handoff_url,
           "TWILIO_API_BASE_URL": f"http://127.0.0.1:{fault_peer.server_address[1]}"}
    app = make_app(**{**env, **HANDOFF_ENV})
    client = app.test_client()
    post_signed(client, sms_form(TO, ASK_ES))
    handoff_id = handoff_of(app, TO).id
    make_staff(app, "ana")
    log_in(client, "ana")
    claim_and_reply(client, handoff_id, "Hola")
    job_id = [e.job for e in desk_of(app).entries(handoff_id) if e.who == "staff"][0]
    job = Job.fetch(job_id, connection=desk_of(app).delivery._rq)
    assert run_worker_until(env, job, {"failed"}) == "failed"
    html = client.get(f"/console/api/h/{handoff_id}").json["html"]
    assert re.search(r'class="send failed">failed \(Twilio error 21610\)', html)


def test_stats_page_counts_without_personal_data(app, client, phone, waiting):
    make_staff(app, "ana")
    make_staff(app, "root", role="admin")
    log_in(client, "ana")
    claim_and_reply(client, waiting, "hola")
    admin = app.test_client()
    log_in(admin, "root")
    html = admin.get("/console/stats").get_data(as_text=True)
    assert "<svg" in html and "Español" in html
    assert re.search(r'id="stat-total">1<', html) and re.search(r'id="stat-median">0 min<', html)
    assert phone.lstrip("+")[-4:] not in html and ASK_ES not in html


def test_cli_creates_the_first_admin(app, monkeypatch):
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", PASSWORD)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["console", "create-admin", "root", "--languages", "en,es"])
    assert result.exit_code == 0, result.output
    account = app.extensions["kyr_console"].staff.get("root")
    assert account.is_admin and account.password_hash.startswith("$argon2id$")
    again = runner.invoke(args=["console", "create-admin", "root"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_pages_are_served_under_a_strict_policy(app, client):
    response = client.get("/console/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script>" not in response.get_data(as_text=True)
    assert client.get("/console/static/console.js").status_code == 200
