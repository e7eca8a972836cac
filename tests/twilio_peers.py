"""Twilio REST peers for outbound tests: Prism serving Twilio's OpenAPI
description (happy path) and a small fault peer (500, stall, 21610), plus a
real `rq worker` runner. Fixtures are registered in conftest.py.
"""

import http.server
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.net import free_port, write_json

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "node_modules" / "@twilio-alpha" / "mcp" / "twilio-oai" / "spec" / "json" / "twilio_api_v2010.json"
PRISM = ROOT / "node_modules" / ".bin" / "prism"
KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
TO = "+13125550178"


@pytest.fixture(scope="session")
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
        write_json(self, status, payload)

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
        # The app's key (conftest.ID_HASH_KEY), so a worker finds the same person the webhook saw.
        "ID_HASH_KEY": "test-id-hash-key",
    }


def run_worker_until(env, job, states, timeout=60.0):
    """Run a real `rq worker` process (with its retry scheduler) until the job ends."""
    rq = Path(sys.executable).parent / "rq"
    worker = subprocess.Popen(
        [str(rq), "worker", "kyr-outbound", "--with-scheduler", "-w", "bot.outreach.worker.OutboundWorker", "--url", env["REDIS_URL"]],
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




class RecordingPeer(http.server.ThreadingHTTPServer):
    """A small Twilio Messages API: records every accepted message and lists them back.

    POST .../Messages.json creates a message (201 with a MessageSid), GET lists
    them filtered by To and DateSent>, like Twilio's REST API. ``refuse`` maps a
    number to a Twilio error code answered with HTTP 400 (21610, 63016, ...);
    ``delay`` slows every create; ``hang_on`` makes the Nth create record the
    message and then stall, like a response lost when a worker dies.
    """

    daemon_threads = True

    def __init__(self, delay: float = 0.0, refuse: dict | None = None, hang_on: int | None = None):
        self.delay = delay
        self.refuse = dict(refuse or {})
        self.hang_on = hang_on
        self.creates = 0
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", free_port()), RecordingHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def sent_to(self) -> list[str]:
        with self.lock:
            return [message["To"] for message in self.messages]


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    def _json(self, status: int, payload: dict) -> None:
        write_json(self, status, payload)

    def do_POST(self):
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()).items()}
        peer = self.server
        if peer.delay:
            time.sleep(peer.delay)
        code = peer.refuse.get(form.get("To", "").removeprefix("whatsapp:"))
        if code:
            self._json(400, {"code": code, "message": f"refused with {code}", "status": 400, "more_info": ""})
            return
        with peer.lock:
            peer.creates += 1
            number = peer.creates
            message = {**form, "sid": "SM%032x" % random.getrandbits(128), "date": time.time()}
            peer.messages.append(message)
        if peer.hang_on == number:
            time.sleep(60)
        self._json(201, self._resource(message))

    def do_GET(self):
        from urllib.parse import parse_qs, urlparse

        query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        since = query.get("DateSent>")
        with self.server.lock:
            found = [m for m in self.server.messages if m.get("To") == query.get("To")]
        if since:
            cutoff = time.mktime(time.strptime(since[:10], "%Y-%m-%d")) - 86400
            found = [m for m in found if m["date"] >= cutoff]
        self._json(200, {"messages": [self._resource(m) for m in found], "next_page_uri": None, "page": 0,
                         "page_size": 50, "uri": self.path})

    @staticmethod
    def _resource(message: dict) -> dict:
        return {"sid": message["sid"], "to": message.get("To"), "from": message.get("From"), "body": message.get("Body"),
                "status": "queued", "num_segments": "1", "direction": "outbound-api", "error_code": None}

    def log_message(self, *args):
        pass


@pytest.fixture
def recording_peer():
    peers = []

    def start(**options) -> RecordingPeer:
        peer = RecordingPeer(**options)
        threading.Thread(target=peer.serve_forever, daemon=True).start()
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.shutdown()
