"""Broadcasts from the staff console: admin only, live preview, review, one send, progress, resume.

The app's real Broadcasts on a real redis-server (the console tests' own
database); no worker runs, so every alert stays queued.
"""

from __future__ import annotations

import re

import pytest
import redis
from rq import Queue

from bot.outreach.broadcasts import CAMPAIGN_ID_PATTERN, CAMPAIGN_PREFIX, alert_text, recipients_key
from bot.clients.identity import sender_from_twilio
from bot.language.segments import count_segments
from tests.conftest import ID_HASH_KEY, post_signed, sms_form, twiml_messages
from tests.test_handoff import (  # noqa: F401  (handoff_url is a fixture)
    HANDOFF_ENV, handoff_url, log_in, make_staff, page_token,
)

NEW = "/console/admin/broadcasts/new"
PREVIEW = "/console/api/broadcasts/preview"
ALERT_ES = "Se reporta actividad de ICE cerca de la estación. Tiene derecho a guardar silencio; no abra la puerta."


@pytest.fixture
def app(make_app, handoff_url):
    return make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)


@pytest.fixture
def db(handoff_url):
    return redis.Redis.from_url(handoff_url, decode_responses=True)


@pytest.fixture
def admin(app):
    make_staff(app, "root", role="admin", languages=("en", "es"))
    client = app.test_client()
    assert log_in(client, "root").status_code == 302
    return client


@pytest.fixture
def spanish_subscriber(app, phone):
    """One person in Chicago (ZIP 60614, Cook County) who opted in by texting ALERTAS; their subscription key."""
    client = app.test_client()
    post_signed(client, sms_form(phone, "60614"))
    reply = twiml_messages(post_signed(client, sms_form(phone, "ALERTAS")).data)
    assert "STOP" in reply[0]
    key = sender_from_twilio(phone, ID_HASH_KEY, "US").key
    subscriber = app.extensions["kyr"].broadcasts.subscriptions.get(key)
    assert (subscriber.lang, subscriber.state, subscriber.county) == ("es", "IL", "Cook")
    return key


def campaigns(db) -> list[str]:
    """Broadcast ids in Redis (not their recipients hashes)."""
    return [key[len(CAMPAIGN_PREFIX):] for key in db.scan_iter(CAMPAIGN_PREFIX + "*") if not key.endswith(":r")]


def queued_jobs(handoff_url) -> int:
    return Queue("kyr-outbound", connection=redis.Redis.from_url(handoff_url)).count


def review(client, token, **fields):
    return client.post("/console/admin/broadcasts/review", data={"csrf_token": token, **fields})


def test_staff_cannot_compose_or_send(app):
    make_staff(app, "ana")
    client = app.test_client()
    log_in(client, "ana")
    token = page_token(client)
    assert "/console/admin/broadcasts" not in client.get("/console/").get_data(as_text=True)
    assert client.get("/console/admin/broadcasts").status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.post(PREVIEW, data={"text_es": ALERT_ES}, headers={"X-CSRFToken": token}).status_code == 403
    sent = client.post("/console/admin/broadcasts/send", data={"csrf_token": token, "text_es": ALERT_ES})
    assert sent.status_code == 403
    assert client.get("/console/api/broadcasts/20990101-abcdef").status_code == 403


def test_admin_sees_the_link_and_a_page_without_inline_scripts(admin):
    assert "/console/admin/broadcasts" in admin.get("/console/").get_data(as_text=True)
    response = admin.get(NEW)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="text_ar"' in html and re.search(r'name="text_ar"[^>]*dir="rtl"|dir="rtl"[^>]*name="text_ar"', html)
    assert "Español" in html and "العربية" in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], "the CSP forbids inline scripts"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert admin.get("/console/static/broadcasts.js").status_code == 200


def test_preview_counts_segments_on_the_server_and_the_reach(app, admin, spanish_subscriber):
    token = page_token(admin, NEW)
    response = admin.post(PREVIEW, data={"text_es": ALERT_ES, "text_en": ""}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.json
    expected = count_segments(alert_text(app.extensions["kyr"].content, ALERT_ES, "es", "sms"))
    assert data["segments"]["es"] == {"segments": expected.segments, "encoding": expected.encoding,
                                      "units": expected.units}
    assert expected.encoding == "GSM-7", "accents fold to GSM-7 for Spanish SMS"
    assert data["reach"] == 1 and data["reach_by_language"] == {"es": 1} and data["skipped"] == 0
    # An English-only text skips the Spanish subscriber, and says so.
    english = admin.post(PREVIEW, data={"text_en": "ICE activity reported."}, headers={"X-CSRFToken": token}).json
    assert english["reach"] == 0 and english["without_text"] == {"es": 1} and english["skipped"] == 1
    # Narrowing the audience to another state reaches nobody.
    elsewhere = admin.post(PREVIEW, data={"text_es": ALERT_ES, "states": "TX"}, headers={"X-CSRFToken": token}).json
    assert elsewhere["reach"] == 0
    # Without the CSRF header the preview is refused too.
    assert admin.post(PREVIEW, data={"text_es": ALERT_ES}).status_code == 400
    bad = admin.post(PREVIEW, data={"text_es": "x" * 1401}, headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "too long" in bad.json["error"]


def test_send_without_csrf_is_rejected(admin, db, handoff_url, spanish_subscriber):
    token = page_token(admin, NEW)
    confirm = re.search(r'name="confirm" value="([^"]+)"', review(admin, token, text_es=ALERT_ES).get_data(as_text=True))
    response = admin.post("/console/admin/broadcasts/send", data={"text_es": ALERT_ES, "confirm": confirm.group(1)})
    assert response.status_code == 400
    assert campaigns(db) == [] and queued_jobs(handoff_url) == 0


def test_review_then_send_queues_the_subscriber_once_and_shows_progress(admin, db, handoff_url, spanish_subscriber):
    token = page_token(admin, NEW)
    fields = {"text_es": ALERT_ES, "text_en": "ICE activity reported near the station.", "languages": ["es", "en"],
              "states": "il", "counties": "IL:cook"}
    page = review(admin, token, **fields)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="review-reach">1<' in html and "SMS segment" in html
    assert campaigns(db) == [], "reviewing sends nothing"
    confirm = re.search(r'name="confirm" value="([^"]+)"', html).group(1)

    sent = admin.post("/console/admin/broadcasts/send", data={"csrf_token": token, "confirm": confirm, **fields})
    assert sent.status_code == 302
    campaign_id = re.search(rf"/console/admin/broadcasts/({CAMPAIGN_ID_PATTERN})$", sent.headers["Location"]).group(1)
    stored = db.hgetall(CAMPAIGN_PREFIX + campaign_id)
    assert '"IL:Cook"' in stored["audience"], "the county is spelled as subscriptions store it"
    assert stored["started"] != "0"
    recipients = db.hgetall(recipients_key(campaign_id))
    assert list(recipients) == [spanish_subscriber] and '"s": "queued"' in recipients[spanish_subscriber]
    assert queued_jobs(handoff_url) == 1

    progress = admin.get(f"/console/api/broadcasts/{campaign_id}").json
    assert progress["total"] == 1 and progress["counts"]["pending"] == 1 and progress["done"] == 0
    assert not progress["finished"]
    page = admin.get(f"/console/admin/broadcasts/{campaign_id}").get_data(as_text=True)
    assert "<progress" in page and 'data-count="pending">1<' in page and "Resume unsent" in page
    assert campaign_id in admin.get("/console/admin/broadcasts").get_data(as_text=True)

    # A double click (or the same page submitted again) does not send twice.
    again = admin.post("/console/admin/broadcasts/send", data={"csrf_token": token, "confirm": confirm, **fields})
    assert again.status_code == 302 and again.headers["Location"].endswith(campaign_id)
    assert campaigns(db) == [campaign_id]
    # A confirm POST that skipped the review is refused.
    forged = admin.post("/console/admin/broadcasts/send", data={"csrf_token": token, "confirm": "made-up", **fields})
    assert forged.status_code == 409 and campaigns(db) == [campaign_id]

    resumed = admin.post(f"/console/admin/broadcasts/{campaign_id}/resume", data={"csrf_token": token},
                         follow_redirects=True)
    assert "Queued again 1 unsent alert" in resumed.get_data(as_text=True)
    assert admin.post(f"/console/admin/broadcasts/{campaign_id}/resume").status_code == 400


@pytest.mark.parametrize("fields, message", [
    ({"text_xx": "hello"}, "unknown language(s) xx"),
    ({"text_es": "  "}, "needs a text in at least one language"),
    ({"text_es": ALERT_ES, "counties": "Cook"}, "malformed county"),
    ({"text_es": ALERT_ES, "counties": "IL:Nowhere"}, "unknown county"),
    ({"text_es": ALERT_ES, "states": "IL, ZZ"}, "unknown state code(s) ZZ"),
    ({"text_es": ALERT_ES, "states": "IL", "counties": "TX:Harris"}, "outside the chosen states"),
    ({"text_es": "x" * 1401}, "too long"),
    ({"text_en": "English only"}, "reaches nobody"),
])
def test_bad_input_shows_an_error_and_sends_nothing(admin, db, handoff_url, spanish_subscriber, fields, message):
    token = page_token(admin, NEW)
    for path in ("/console/admin/broadcasts/review", "/console/admin/broadcasts/send"):
        if message == "reaches nobody" and path.endswith("review"):
            continue  # the review page shows it with the send button disabled
        response = admin.post(path, data={"csrf_token": token, "confirm": "x", **fields})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, html
        assert message in html.replace("&#39;", "'") and 'id="broadcast-error"' in html
    assert campaigns(db) == [] and queued_jobs(handoff_url) == 0


def test_unknown_broadcast_is_not_found(admin):
    assert admin.get("/console/admin/broadcasts/20990101-abcdef").status_code == 404
    assert admin.get("/console/api/broadcasts/nonsense").status_code == 404


def test_without_encryption_key_the_page_says_why(make_app, handoff_url):
    app = make_app(REDIS_URL=handoff_url, STAFF_HOURS="always", ENCRYPTION_KEY=None)
    make_staff(app, "root", role="admin")
    client = app.test_client()
    log_in(client, "root")
    response = client.get("/console/admin/broadcasts")
    assert response.status_code == 503 and "ENCRYPTION_KEY" in response.get_data(as_text=True)
