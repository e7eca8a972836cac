"""Outbound sends: real twilio Client, real RQ worker process, real HTTP peers.

Prism serves Twilio's official OpenAPI description as the happy-path peer;
a small fault peer answers 500, stalls, or refuses with error 21610
(both in tests/twilio_peers.py).
"""

import time

import pytest
import redis
from rq.job import Job

from bot.config import load_settings
from bot.outreach.outbound import enqueue_message, queue_status, retry_failed
from tests.twilio_peers import TO, run_worker_until

def test_message_is_sent_through_prism(outbound_env, prism_url):
    env = {**outbound_env, "TWILIO_API_BASE_URL": prism_url}
    job = enqueue_message(load_settings(env), TO, "Your ICE hold question: reply MORE")
    assert run_worker_until(env, job, {"finished", "failed"}) == "finished"
    assert job.return_value()["message_sid"].startswith("SM")


def test_job_payload_holds_no_number_or_text(outbound_env, redis_url):
    job = enqueue_message(load_settings(outbound_env), TO, "private text 123")
    raw = redis.Redis.from_url(redis_url).hgetall(f"rq:job:{job.id}")
    blob = b" ".join(raw.values())
    assert TO.encode() not in blob and TO[2:].encode() not in blob and b"private text" not in blob
    assert redis.Redis.from_url(redis_url).ttl(f"rq:job:{job.id}") > 0
    job.delete()


@pytest.mark.parametrize("fault_peer", ["error500", "stall"], indirect=True)
def test_temporary_failures_retry_with_backoff_then_fail_visibly(outbound_env, fault_peer, make_app):
    env = {**outbound_env, "TWILIO_API_BASE_URL": f"http://127.0.0.1:{fault_peer.server_address[1]}"}
    settings = load_settings(env)
    start = time.monotonic()
    job = enqueue_message(settings, TO, "hello")
    assert run_worker_until(env, job, {"failed"}, timeout=90) == "failed"
    assert fault_peer.attempts == 4, "one try and three retries"
    assert time.monotonic() - start >= 1 + 2 + 3, "retries wait with growing intervals"
    status = queue_status(settings)
    assert job.id in {job_id for job_id, _ in status.failed}
    reason = dict(status.failed)[job.id]
    assert "TemporarySendError" in reason
    # The failure is visible from the CLI, and can be retried from there.
    app = make_app(**{k: v for k, v in env.items()})
    result = app.test_cli_runner().invoke(args=["outbound", "status"])
    assert job.id in result.output and "failed: " in result.output
    assert retry_failed(settings) >= 1
    Job.fetch(job.id, connection=redis.Redis.from_url(env["REDIS_URL"])).delete()


@pytest.mark.parametrize("fault_peer", ["optout"], indirect=True)
def test_opted_out_recipient_is_not_retried(outbound_env, fault_peer):
    env = {**outbound_env, "TWILIO_API_BASE_URL": f"http://127.0.0.1:{fault_peer.server_address[1]}"}
    settings = load_settings(env)
    job = enqueue_message(settings, TO, "hello")
    assert run_worker_until(env, job, {"failed"}) == "failed"
    assert fault_peer.attempts == 1
    assert "21610" in dict(queue_status(settings).failed)[job.id]
    job.delete()
