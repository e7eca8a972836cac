"""Outbound sends: real twilio Client, real RQ worker process, real HTTP peers.

Prism serves Twilio's official OpenAPI description as the happy-path peer;
a small fault peer answers 500, stalls, or refuses with error 21610.
"""

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from rq.job import Job

from bot.config import load_settings
from bot.outbound import enqueue_message, queue_status, retry_failed
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "node_modules" / "@twilio-alpha" / "mcp" / "twilio-oai" / "spec" / "json" / "twilio_api_v2010.json"
PRISM = ROOT / "node_modules" / ".bin" / "prism"
KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
TO = "+13125550178"


@pytest.fixture(scope="module")
def prism_url():
    if not PRISM.exists():
        pytest.fail("Prism is not installed: make test runs npm ci")
    port = free_port()
    process = subprocess.Popen([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(10)


class FaultPeer(http.server.ThreadingHTTPServer):
    """Answers Twilio's Messages endpoint with a chosen failure and counts attempts."""

    def __init__(self, mode):
        self.mode = mode
        self.attempts = 0
        self.bodies = []
        super().__init__(("127.0.0.1", free_port()), FaultHandler)


class FaultHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.attempts += 1
        self.server.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        if self.server.mode == "stall":
            time.sleep(3)
        if self.server.mode == "optout":
            payload = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
            status = 400
        else:
            payload, status = {"code": 20500, "message": "Internal Server Error", "status": 500}, 500
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fault_peer(request):
    peer = FaultPeer(request.param)
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    yield peer
    peer.shutdown()


@pytest.fixture
def outbound_env(redis_url):
    return {
        "REDIS_URL": redis_url, "ENCRYPTION_KEY": KEY, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "test-auth-token-0123456789abcdef", "TWILIO_FROM_NUMBER": "+15005550006",
        "OUTBOUND_RETRY_INTERVALS": "1,2,3", "OUTBOUND_TIMEOUT": "1", "LOG_LEVEL": "INFO",
    }


def run_worker_until(env, job, states, timeout=60.0):
    """Run a real `rq worker` process (with its retry scheduler) until the job ends."""
    rq = Path(sys.executable).parent / "rq"
    worker = subprocess.Popen(
        [str(rq), "worker", "kyr-outbound", "--with-scheduler", "--url", env["REDIS_URL"]],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            job.refresh()
            if job.get_status() in states:
                return job.get_status()
            time.sleep(0.2)
        raise AssertionError(f"job still {job.get_status()} after {timeout} s")
    finally:
        worker.terminate()
        output = worker.communicate(timeout=15)[0].decode(errors="replace")
        assert TO not in output and TO[2:] not in output, "worker output must not contain the number"


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
