"""Issue #19 items 4-5: the audit log (who did what, never a text or number) and the reports.

Real Redis, the real trained Rasa model, signed SMS webhooks; the console through the
Flask test client with its CSRF tokens. A second app on the same Redis stands in for
a restart or a redeploy.
"""

from __future__ import annotations

import csv
import datetime
import io
import time

import pytest

from bot.console.audit_log import AUDIT_KEY, AuditLog
from tests.conftest import post_signed, sms_form
from tests.test_handoff import (  # noqa: F401  (handoff_url is a fixture)
    ASK_ES, HANDOFF_ENV, PASSWORD, desk_of, handoff_of, handoff_url, log_in, make_staff, page_token,
)


@pytest.fixture
def app(make_app, handoff_url):
    return make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)


def audit_rows(client, **query) -> list[dict]:
    response = client.get("/console/admin/audit.csv", query_string=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_staff_work_is_audited_without_texts_or_numbers_and_survives_a_restart(app, make_app, handoff_url, phone):
    make_staff(app, "root", role="admin", languages=("en",))
    make_staff(app, "ana")
    root, ana = app.test_client(), app.test_client()
    log_in(root, "root")
    assert log_in(ana, "ana", "not her password at all").status_code == 401
    assert log_in(app.test_client(), "nobody-here", "whatever password").status_code == 401
    log_in(ana, "ana")
    secret_words = "mi hermano Jose esta en la carcel"
    post_signed(app.test_client(), sms_form(phone, ASK_ES))
    handoff_id = handoff_of(app, phone).id
    token = page_token(ana)
    ana.post(f"/console/h/{handoff_id}/claim", data={"csrf_token": token})
    ana.post(f"/console/h/{handoff_id}/note", data={"csrf_token": token, "text": secret_words})
    ana.post(f"/console/h/{handoff_id}/answer", data={"csrf_token": token, "topic": "detainer", "part": "first"})
    ana.post(f"/console/h/{handoff_id}/handback", data={"csrf_token": token})
    admin_token = page_token(root, "/console/admin/staff")
    root.post("/console/admin/staff", data={"csrf_token": admin_token, "username": "luis", "password": PASSWORD,
                                            "role": "staff", "languages": ["pt"]})
    root.post("/console/admin/staff/luis", data={"csrf_token": admin_token, "action": "disable"})

    restarted = make_app(REDIS_URL=handoff_url, **HANDOFF_ENV).test_client()  # a new process on the same Redis
    log_in(restarted, "root")
    rows = audit_rows(restarted)
    actions = [(r["who"], r["action"]) for r in rows]
    for expected in (("ana", "login_failed"), ("(unknown name)", "login_failed"), ("ana", "login"),
                     ("ana", "claim"), ("ana", "note"), ("ana", "answer_sent"), ("ana", "hand_back"),
                     ("root", "account_created"), ("root", "account_disabled")):
        assert expected in actions, expected
    answer = next(r for r in rows if r["action"] == "answer_sent")
    assert answer["detail"] == "lang=es topic=detainer part=first"
    claim = next(r for r in rows if r["action"] == "claim")
    assert claim["target"] == handoff_id and claim["detail"] == "lang=es"
    assert datetime.datetime.fromisoformat(claim["time"])  # ISO 8601 with the staff time zone
    everything = app.extensions["kyr"].store.client.xrange(AUDIT_KEY)
    dump = repr(everything) + repr(rows)
    assert secret_words not in dump and "hermano" not in dump
    assert phone.lstrip("+") not in dump and phone[-7:] not in dump and "nobody-here" not in dump
    assert 0 < app.extensions["kyr"].store.client.ttl(AUDIT_KEY) <= 365 * 86400


def test_audit_page_filters_by_person_and_action_for_admins_only(app):
    make_staff(app, "root", role="admin", languages=("en",))
    make_staff(app, "ana")
    root, ana = app.test_client(), app.test_client()
    log_in(root, "root")
    log_in(ana, "ana")
    assert ana.get("/console/admin/audit").status_code == 403
    assert ana.get("/console/admin/audit.csv").status_code == 403
    page = root.get("/console/admin/audit?who=ana&action=login").get_data(as_text=True)
    assert page.count('data-action="login"') == 1 and 'data-action="export_audit"' not in page
    only_root = audit_rows(root, who="root")
    assert {r["who"] for r in only_root} == {"root"}
    assert {r["action"] for r in audit_rows(root, action="login")} == {"login"}
    assert [r["action"] for r in audit_rows(root, action="export_audit")][-1] == "export_audit"  # exports are logged


def test_entries_past_the_retention_period_are_trimmed(handoff_url):
    import redis

    client = redis.Redis.from_url(handoff_url, decode_responses=True)
    log = AuditLog(client, retention_seconds=1)
    log.record("ana", "login")
    time.sleep(1.2)
    log.record("root", "login")
    assert [e.who for e in log.entries()] == ["root"]
    with pytest.raises(ValueError):
        log.record("ana", "read the person's messages")  # only known action codes


# -- reports (what the bot did without staff) ------------------------------------------------------


def test_reports_count_conversations_topics_not_understood_and_opt_outs(app, phone, unused_lines):
    other = f"+1312555{next(unused_lines):04d}"
    client = app.test_client()
    post_signed(client, sms_form(phone, "my brother has an ice hold"))  # a topic
    post_signed(client, sms_form(phone, "zzqx vbnm"))  # not understood
    post_signed(client, sms_form(phone, "STOP"))  # opt-out
    post_signed(client, sms_form(other, "español"))  # switches to Spanish
    web = app.test_client().post("/api/chat", json={"message": "Kreyòl"})
    assert web.status_code == 200
    activity = app.extensions["kyr"].engine.activity
    today = int(time.time() // 86400)
    counts = activity.days(today, today)[today]
    assert counts["conversations:total"] == 3  # three people, each counted once today
    assert counts["conversations:channel:sms"] == 2 and counts["conversations:channel:web"] == 1
    assert counts["conversations:lang:es"] == 1 and counts["conversations:lang:ht"] == 1
    assert counts["topic:detainer"] == 1
    assert counts["event:not_understood"] == 1 and counts["event:opt_out"] == 1
    key_ttl = app.extensions["kyr"].store.client.ttl(f"kyr:activity:{today}")
    assert 399 * 86400 < key_ttl <= 401 * 86400

    make_staff(app, "root", role="admin", languages=("en",))
    root = app.test_client()
    log_in(root, "root")
    html = root.get("/console/stats").get_data(as_text=True)
    assert 'id="stat-conversations">3<' in html and 'id="stat-opt-outs">1<' in html
    assert 'id="stat-not-understood">1<' in html and "Web chat" in html
    assert phone.lstrip("+")[-4:] not in html


def test_stats_csv_for_a_date_range_and_bad_ranges(app, phone):
    post_signed(app.test_client(), sms_form(phone, ASK_ES))
    make_staff(app, "root", role="admin", languages=("en",))
    make_staff(app, "ana")
    root, ana = app.test_client(), app.test_client()
    log_in(root, "root")
    log_in(ana, "ana")
    today = datetime.datetime.now(datetime.timezone.utc).date()
    start = (today - datetime.timedelta(days=6)).isoformat()
    assert ana.get("/console/stats.csv").status_code == 403
    response = root.get(f"/console/stats.csv?from={start}&to={today.isoformat()}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["date"] for r in rows} == {(today - datetime.timedelta(days=n)).isoformat() for n in range(7)}
    mine = {(r["measure"], r["name"]): int(r["count"]) for r in rows if r["date"] == today.isoformat()}
    assert mine[("conversations", "all")] >= 1 and mine[("conversations_by_language", "es")] >= 1
    assert mine[("handoffs_by_language", "es")] == 1
    assert phone.lstrip("+") not in response.get_data(as_text=True)
    for query, why in (("from=yesterday", "YYYY-MM-DD"), (f"from={today.isoformat()}&to={start}", "ends before"),
                       ("from=2020-01-01&to=2026-12-01", "At most")):
        bad = root.get(f"/console/stats.csv?{query}")
        assert bad.status_code == 400 and why in bad.get_data(as_text=True)
    assert "export_stats" in {r["action"] for r in audit_rows(root)}
