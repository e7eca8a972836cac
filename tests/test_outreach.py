"""Outreach end to end: opt in by text, broadcast through real RQ workers to a
Twilio-speaking HTTP peer, opt out in many ways, status callbacks, restarts.

Everything is real: redis-server, the Flask app with signed Twilio requests,
`rq worker` processes, twilio's Client, and an HTTP peer (tests/twilio_peers.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Queue

from bot.outreach.broadcasts import CAMPAIGN_ID_PATTERN, recipients_key
from bot.outreach.subscriptions import Audience
from tests.conftest import post_signed, sign, sms_form, twiml_messages

ROOT = Path(__file__).resolve().parent.parent


def forget_outreach(redis_url: str) -> None:
    """No subscriber, broadcast or queued alert job left over for another test."""
    client = redis.Redis.from_url(redis_url)
    for pattern in ("kyr:sub:*", "kyr:campaign:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)
    queue = Queue("kyr-outbound", connection=client)
    queue.empty()
    for registry in (queue.scheduled_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    # A worker killed on purpose keeps RQ's scheduler lock until it expires (minutes);
    # the next test's worker must be able to schedule its retries at once.
    for key in client.scan_iter("rq:scheduler-lock:*"):
        client.delete(key)


@pytest.fixture
def outreach_env(outbound_env, redis_url):
    """App and worker settings for outreach, on a clean slate."""
    forget_outreach(redis_url)
    yield {**outbound_env, "BROADCAST_RATE_PER_SECOND": "500", "BROADCAST_BATCH_SIZE": "20",
           "OUTBOUND_RETRY_INTERVALS": "1,1,1"}
    forget_outreach(redis_url)


@pytest.fixture
def outreach_app(make_app, outreach_env):
    def build(peer_url: str | None = None, **extra):
        env = dict(outreach_env, **extra)
        if peer_url:
            env["TWILIO_API_BASE_URL"] = peer_url
        return make_app(**env)

    return build


class Workers:
    """Real `rq worker` processes on the outbound queue, killed at teardown."""

    def __init__(self):
        self.processes: list[subprocess.Popen] = []

    def start(self, env: dict) -> subprocess.Popen:
        rq = Path(sys.executable).parent / "rq"
        process = subprocess.Popen(
            [str(rq), "worker", "kyr-outbound", "--with-scheduler", "-w", "bot.outreach.worker.OutboundWorker", "--url", env["REDIS_URL"]],
            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the job's work horse dies with it
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> str:
        output = []
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            output.append(process.communicate(timeout=20)[0].decode(errors="replace"))
        return "\n".join(output)


@pytest.fixture
def workers():
    pool = Workers()
    yield pool
    pool.stop_all()


def text(client, phone: str, body: str) -> list[str]:
    response = post_signed(client, sms_form(phone, body))
    assert response.status_code == 200
    return twiml_messages(response.data)


def wait_until(condition, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def broadcast(app, texts: dict, audience: Audience = Audience()) -> str:
    book = app.extensions["kyr"].broadcasts
    campaign = book.create(texts, audience)
    book.start(campaign.id)
    return campaign.id


def finished(app, campaign_id: str):
    book = app.extensions["kyr"].broadcasts
    return lambda: book.progress(campaign_id).by_summary.get("pending", 0) == 0


def test_spanish_subscriber_gets_the_spanish_alert(outreach_app, outreach_env, recording_peer, workers, phone, redis_client):
    peer = recording_peer()
    app = outreach_app(peer.url)
    client = app.test_client()
    confirmation = text(client, phone, "ALERTAS")
    assert "STOP" in confirmation[0] and "alertas" in confirmation[0].lower()
    # The subscription is keyed by a hash; the number is stored only encrypted, with a TTL.
    keys = list(redis_client.scan_iter("kyr:sub:*"))
    assert len(keys) == 1 and redis_client.ttl(keys[0]) > 0
    stored = json.dumps(redis_client.hgetall(keys[0]))
    assert phone not in stored and phone[2:] not in stored
    assert redis_client.hget(keys[0], "lang") == "es"

    campaign = broadcast(app, {"en": "ICE activity reported downtown.", "es": "Se reporta actividad de ICE en el centro."})
    workers.start({**outreach_env, "TWILIO_API_BASE_URL": peer.url})
    wait_until(finished(app, campaign), what="broadcast")
    assert peer.sent_to() == [phone]
    body = peer.messages[0]["Body"]
    assert body.startswith("Se reporta actividad de ICE") and "STOP" in body
    output = workers.stop_all()
    assert phone not in output and phone[2:] not in output and "Se reporta" not in output


def test_broadcast_request_matches_twilios_openapi_description(outreach_app, outreach_env, prism_url, workers, phone):
    """Prism validates each request against Twilio's spec and answers with its example message."""
    app = outreach_app(prism_url)
    text(app.test_client(), phone, "JOIN")
    campaign = broadcast(app, {"en": "Know your rights workshop Saturday 10am."})
    workers.start({**outreach_env, "TWILIO_API_BASE_URL": prism_url})
    wait_until(finished(app, campaign), what="broadcast via Prism")
    progress = app.extensions["kyr"].broadcasts.progress(campaign)
    assert progress.by_summary == {"sent": 1}, progress


@pytest.mark.parametrize("opt_out", ["STOP", "  stop. ", "ALTO", "Revoke", "OPTOUT", "unsubscribe!",
                                     "Please stop texting me", "No más mensajes, por favor", "arrêtez les messages"])
def test_every_kind_of_opt_out_excludes_from_the_next_broadcast(outreach_app, phone, opt_out, redis_client):
    app = outreach_app()
    client = app.test_client()
    text(client, phone, "JOIN")
    other = "+1773555" + phone[-4:]
    text(client, other, "JOIN")
    book = app.extensions["kyr"].broadcasts
    assert book.preview({"en": "x"}, Audience()).reach == 2
    reply = text(client, phone, opt_out)
    assert len(reply) == 1, "one confirmation"
    assert "START" in reply[0]
    assert book.preview({"en": "x", "es": "x", "fr": "x"}, Audience()).reach == 1
    stopped = [redis_client.hgetall(k) for k in redis_client.scan_iter("kyr:sub:*")]
    assert sorted(s["status"] for s in stopped) == ["active", "stopped"]
    assert all("to" not in s for s in stopped if s["status"] == "stopped"), "a stopped record keeps no number"


def test_start_and_yes_resume_after_stop(outreach_app, phone):
    app = outreach_app()
    client = app.test_client()
    book = app.extensions["kyr"].broadcasts
    text(client, phone, "JOIN")
    text(client, phone, "STOP")
    assert book.preview({"en": "x"}, Audience()).reach == 0
    assert "STOP" in text(client, phone, "START")[0]
    assert book.preview({"en": "x"}, Audience()).reach == 1
    text(client, phone, "stop")
    text(client, phone, "yes")
    assert book.preview({"en": "x"}, Audience()).reach == 1
    # "yes" means nothing special when nobody stopped: it is an ordinary answer.
    assert text(client, phone, "JOIN")[0].startswith("You are already signed up")


def test_help_is_compliant_in_english_and_spanish(outreach_app, phone):
    app = outreach_app()
    client = app.test_client()
    hotline = app.extensions["kyr"].content.placeholders["hotline"]  # name and number, verified
    english = text(client, phone, "HELP")[0]
    for needed in ("Know Your Rights", "STOP", "Msg & data rates may apply", hotline):
        assert needed in english
    spanish = text(client, "+1646555" + phone[-4:], "AYUDA")[0]
    assert "STOP" in spanish and hotline in spanish


def test_opted_out_error_marks_the_person_stopped(outreach_app, outreach_env, recording_peer, workers, phone, redis_client):
    blocked = "+1872555" + phone[-4:]
    peer = recording_peer(refuse={blocked: 21610})
    app = outreach_app(peer.url)
    client = app.test_client()
    text(client, phone, "JOIN")
    text(client, blocked, "JOIN")
    campaign = broadcast(app, {"en": "Alert one."})
    workers.start({**outreach_env, "TWILIO_API_BASE_URL": peer.url})
    wait_until(finished(app, campaign), what="first broadcast")
    progress = app.extensions["kyr"].broadcasts.progress(campaign)
    assert progress.by_summary == {"sent": 1, "failed": 1} and progress.errors == {"21610": 1}
    # Next broadcast goes to the one who did not opt out only, and 21610 is never retried.
    assert app.extensions["kyr"].broadcasts.preview({"en": "x"}, Audience()).reach == 1
    second = broadcast(app, {"en": "Alert two."})
    wait_until(finished(app, second), what="second broadcast")
    assert peer.sent_to() == [phone, phone]


def test_worker_killed_mid_broadcast_sends_nobody_twice(outreach_app, outreach_env, recording_peer, workers, make_app):
    """Kill the worker while a send is in flight (the peer accepted it but the
    response never came), restart, resume: everyone gets exactly one alert."""
    count = 120
    peer = recording_peer(delay=0.005, hang_on=40)
    app = outreach_app(peer.url)
    client = app.test_client()
    numbers = [f"+1312666{n:04d}" for n in range(count)]
    for number in numbers:
        text(client, number, "JOIN")
    campaign = broadcast(app, {"en": "Rapid response training tonight."})
    env = {**outreach_env, "TWILIO_API_BASE_URL": peer.url, "BROADCAST_STALE_SECONDS": "1"}
    first = workers.start(env)
    wait_until(lambda: peer.creates >= 40, what="the 40th send")
    time.sleep(0.3)
    os.killpg(first.pid, signal.SIGKILL)  # the worker and its work horse, as in a crash
    first.wait(10)
    assert len(peer.sent_to()) < count, "the worker died mid-broadcast"
    time.sleep(1.5)  # the dead worker's claim is now stale
    book = app.extensions["kyr"].broadcasts
    assert book.resume(campaign) > 0
    workers.start(env)
    wait_until(finished(app, campaign), timeout=90, what="resumed broadcast")
    sent = peer.sent_to()
    twice = sorted({number for number in sent if sent.count(number) > 1})
    assert not twice, f"sent twice: {twice}"
    assert sorted(sent) == sorted(numbers), "everyone exactly once"
    assert book.progress(campaign).by_summary == {"sent": count}


def one_queued_alert(outreach_app, phone, peer_url=None, alert="x"):
    """A subscriber with one started broadcast: (app, client, broadcasts, campaign, status callback path)."""
    app = outreach_app(peer_url) if peer_url else outreach_app()
    client = app.test_client()
    text(client, phone, "JOIN")
    book = app.extensions["kyr"].broadcasts
    campaign = book.create({"en": alert}, Audience())
    book.start(campaign.id)
    recipient = book.client.hkeys(recipients_key(campaign.id))[0]
    return app, client, book, campaign, f"/sms/status?s={book.new_send_id(campaign.id, recipient)}"


def test_status_callback_url_carries_an_opaque_id_not_the_subscriber_hash(outreach_app, recording_peer, phone,
                                                                         redis_client):
    """The URL Twilio keeps (and logs) names no subscriber; a callback to it still records the status."""
    from bot.outreach.broadcasts import AlertSender
    from tests.conftest import PUBLIC_URL

    peer = recording_peer()
    app, client, book, campaign, _ = one_queued_alert(outreach_app, phone, peer.url, "Know your rights workshop.")
    recipient = book.client.hkeys(recipients_key(campaign.id))[0]
    assert AlertSender(book, book.get(campaign.id)).send(recipient) == "sent"  # what the worker runs
    url = peer.messages[0]["StatusCallback"]
    assert url.startswith(PUBLIC_URL + "/sms/status?s=")
    assert recipient not in url and recipient[:16] not in url and campaign.id not in url
    send_id = url.rsplit("=", 1)[1]
    assert 0 < redis_client.ttl("kyr:status-cb:" + send_id) <= book.settings.campaign_ttl_seconds
    path = url[len(PUBLIC_URL):]
    form = {"MessageSid": peer.messages[0]["sid"], "MessageStatus": "delivered"}
    assert client.post(path, data=form, headers={"X-Twilio-Signature": sign(form, path)}).status_code == 204
    assert book.progress(campaign.id).by_status == {"delivered": 1}
    # A made-up id records nothing.
    other = f"/sms/status?s={'0' * 32}"
    form = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "failed", "ErrorCode": "21610"}
    assert client.post(other, data=form, headers={"X-Twilio-Signature": sign(form, other)}).status_code == 204
    assert book.progress(campaign.id).by_status == {"delivered": 1}
    assert book.preview({"en": "x"}, Audience()).reach == 1


def test_status_callbacks_out_of_order_end_at_the_right_status(outreach_app, phone):
    app, client, book, campaign, path = one_queued_alert(outreach_app, phone)

    def callback(status, **extra):
        form = {"MessageSid": "SM" + "a" * 32, "MessageStatus": status, **extra}
        return client.post(path, data=form, headers={"X-Twilio-Signature": sign(form, path)})

    for status in ("delivered", "sent", "queued", "sending", "delivered"):
        assert callback(status).status_code == 204
    assert book.progress(campaign.id).by_status == {"delivered": 1}
    callback("failed", ErrorCode="30003")
    assert book.progress(campaign.id).by_status == {"delivered": 1}, "status never moves back"
    callback("read")
    assert book.progress(campaign.id).by_status == {"read": 1}
    forged = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "failed"}
    assert client.post(path, data=forged, headers={"X-Twilio-Signature": "bad"}).status_code == 403
    assert client.post(path, data={}, headers={"X-Twilio-Signature": sign({}, path)}).status_code == 400


def test_undelivered_callback_with_21610_stops_the_person(outreach_app, phone):
    app, client, book, campaign, path = one_queued_alert(outreach_app, phone)
    form = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "undelivered", "ErrorCode": "21610"}
    assert client.post(path, data=form, headers={"X-Twilio-Signature": sign(form, path)}).status_code == 204
    assert book.preview({"en": "x"}, Audience()).reach == 0


def test_whatsapp_outside_the_window_uses_the_template_and_63016_is_visible(
    outreach_app, outreach_env, recording_peer, workers, phone, redis_client
):
    refused = "+1415555" + phone[-4:]
    peer = recording_peer(refuse={refused: 63016})
    extra = {"WHATSAPP_ALERT_TEMPLATES": "en:HX" + "1" * 32, "TWILIO_WHATSAPP_FROM": "whatsapp:+15005550006"}
    app = outreach_app(peer.url, **extra)
    client = app.test_client()
    old, fresh = "+1213555" + phone[-4:], "+1305555" + phone[-4:]
    for number in (old, fresh, refused):
        text(client, "whatsapp:" + number, "JOIN")
    # The window closed for two of them: their last message was two days ago.
    for key in redis_client.scan_iter("kyr:sub:*"):
        redis_client.hset(key, "last_inbound", str(time.time() - 2 * 86400))
    text(client, "whatsapp:" + fresh, "thanks")
    campaign = broadcast(app, {"en": "Community meeting moved to 6pm."})
    workers.start({**outreach_env, **extra, "TWILIO_API_BASE_URL": peer.url})
    wait_until(finished(app, campaign), what="WhatsApp broadcast")
    by_to = {m["To"]: m for m in peer.messages}
    assert by_to["whatsapp:" + old]["ContentSid"] == "HX" + "1" * 32 and "Body" not in by_to["whatsapp:" + old]
    assert json.loads(by_to["whatsapp:" + old]["ContentVariables"]) == {"1": "Community meeting moved to 6pm."}
    assert by_to["whatsapp:" + fresh]["Body"].startswith("Community meeting") and "ContentSid" not in by_to["whatsapp:" + fresh]
    assert by_to["whatsapp:" + fresh]["From"] == "whatsapp:+15005550006"
    progress = app.extensions["kyr"].broadcasts.progress(campaign)
    assert progress.errors == {"63016": 1} and progress.by_summary == {"sent": 2, "failed": 1}


def test_cli_preview_send_and_status(outreach_app, outreach_env, recording_peer, workers, phone, tmp_path):
    peer = recording_peer()
    app = outreach_app(peer.url)
    client = app.test_client()
    text(client, phone, "ALERTAS")
    text(client, "+1650555" + phone[-4:], "订阅")
    runner = app.test_cli_runner()
    preview = runner.invoke(args=["broadcast", "preview", "--text", "es=Hola, hay una reunion hoy."])
    assert preview.exit_code == 0, preview.output
    assert "reaches 1 subscriber(s)" in preview.output and "es: 1 subscriber(s), 1 SMS segment(s) (GSM-7" in preview.output
    assert "zh: 1 subscriber(s) skipped" in preview.output
    bad = runner.invoke(args=["broadcast", "preview", "--text", "xx=hello"])
    assert bad.exit_code != 0 and "unknown language" in bad.output
    alert = tmp_path / "alert.yml"
    alert.write_text("es: Hola, hay una reunion hoy.\nzh: 今天有社区会议。\n", encoding="utf-8")
    sent = runner.invoke(args=["broadcast", "send", "--file", str(alert), "--yes"])
    assert sent.exit_code == 0, sent.output
    campaign = re.search(rf"broadcast ({CAMPAIGN_ID_PATTERN}): queued 2 alert", sent.output).group(1)
    workers.start({**outreach_env, "TWILIO_API_BASE_URL": peer.url})
    wait_until(finished(app, campaign), what="CLI broadcast")
    status = runner.invoke(args=["broadcast", "status", campaign, "--watch"])
    assert "2 recipients: sent 2" in status.output
    assert runner.invoke(args=["broadcast", "status", "20990101-abcdef"]).exit_code != 0


def test_delete_by_text_erases_the_subscription(outreach_app, phone, redis_client):
    client = outreach_app().test_client()
    text(client, phone, "JOIN")
    assert len(list(redis_client.scan_iter("kyr:sub:*"))) == 1
    text(client, phone, "DELETE")
    assert list(redis_client.scan_iter("kyr:sub:*")) == []


def test_audit_sees_subscriptions_and_broadcasts_and_would_flag_a_number(outreach_app, phone, redis_client):
    from bot.audit import audit

    app = outreach_app()
    text(app.test_client(), phone, "JOIN")
    broadcast(app, {"en": "Call the hotline 1-844-363-1423."})
    settings = app.extensions["kyr"].settings
    mine = lambda report: [f for f in report.findings if f.startswith(("kyr:sub", "kyr:campaign"))]  # noqa: E731
    report = audit(redis_client, settings, {"+18443631423"})
    assert mine(report) == [] and "kyr:sub" in report.kinds and "kyr:campaign" in report.kinds
    redis_client.hset("kyr:sub:planted", mapping={"status": "active", "to": phone, "note": "x"})
    redis_client.expire("kyr:sub:planted", 60)
    findings = mine(audit(redis_client, settings, {"+18443631423"}))
    redis_client.delete("kyr:sub:planted")
    assert any("phone number" in f for f in findings) and any("unexpected subscription fields" in f for f in findings)


def test_send_rate_never_exceeds_the_configured_limit(outreach_app, outreach_env, recording_peer, workers):
    peer = recording_peer()
    app = outreach_app(peer.url)
    client = app.test_client()
    for n in range(12):
        text(client, f"+1708555{n:04d}", "JOIN")
    campaign = broadcast(app, {"en": "Rate test."})
    env = {**outreach_env, "TWILIO_API_BASE_URL": peer.url, "BROADCAST_RATE_PER_SECOND": "4"}
    workers.start(env)
    workers.start(env)  # two workers share one limit
    wait_until(finished(app, campaign), what="rate-limited broadcast")
    per_second = {}
    for message in peer.messages:
        per_second[int(message["date"])] = per_second.get(int(message["date"]), 0) + 1
    assert len(peer.messages) == 12
    # 4 per second means 12 alerts span at least three clock seconds (unlimited, they take ~50 ms).
    # One send granted at the very end of a second may arrive just after it: allow that one.
    assert len(per_second) >= 3 and max(per_second.values()) <= 5, per_second


@pytest.mark.parametrize("fault_peer", ["optout"], indirect=True)
def test_21610_on_a_staff_reply_also_stops_alerts(outreach_app, outreach_env, fault_peer, phone):
    from bot.config import load_settings
    from bot.outreach.outbound import enqueue_message
    from tests.twilio_peers import run_worker_until

    env = {**outreach_env, "TWILIO_API_BASE_URL": f"http://127.0.0.1:{fault_peer.server_address[1]}"}
    app = outreach_app()
    text(app.test_client(), phone, "JOIN")
    job = enqueue_message(load_settings(env), phone, "A staff member's reply")
    assert run_worker_until(env, job, {"failed"}) == "failed"
    assert app.extensions["kyr"].broadcasts.preview({"en": "x"}, Audience()).reach == 0
