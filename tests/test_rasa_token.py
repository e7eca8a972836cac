"""The webhook sends RASA_TOKEN to Rasa as ``?token=`` (issue #15, finding 14).

A real Rasa started with ``--auth-token`` takes minutes to load; a tiny HTTP
server speaking Rasa's parse and status answers records what the app sends.
"""

from __future__ import annotations

import http.server
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.clients.nlu import RasaClient
from tests.net import free_port, write_json

TOKEN = "rasa-token-0123456789abcdef"


class FakeRasa(http.server.ThreadingHTTPServer):
    """Answers like Rasa, but 401 without the right ``?token=`` (as ``rasa run --auth-token`` does)."""

    def __init__(self, token: str):
        self.token = token
        self.seen: list[tuple[str, str, dict]] = []  # (method, path, query)
        super().__init__(("127.0.0.1", free_port()), FakeRasaHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeRasaHandler(http.server.BaseHTTPRequestHandler):
    def _answer(self, payload: dict) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        self.server.seen.append((self.command, parts.path, query))
        if query.get("token") != [self.server.token]:
            payload, status = {"status": "failure", "reason": "NotAuthenticated"}, 401
        else:
            status = 200
        write_json(self, status, payload)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer({"intent": {"name": "greet", "confidence": 0.99},
                      "intent_ranking": [{"name": "greet", "confidence": 0.99}], "entities": []})

    def do_GET(self):
        self._answer({"model_file": "kyr-nlu.tar.gz"})

    def log_message(self, *args):
        pass


@pytest.fixture
def rasa_url(dead_url):
    """The shared real Rasa is not needed: each test points the app at its own fake."""
    return dead_url


@pytest.fixture
def fake_rasa():
    server = FakeRasa(TOKEN)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(5)


def test_client_sends_the_token_on_parse_and_status(fake_rasa):
    client = RasaClient(fake_rasa.url, 1.5, TOKEN)
    assert client.parse("hello").intent == "greet"
    assert client.healthy()
    assert [(m, p, q["token"]) for m, p, q in fake_rasa.seen] == [
        ("POST", "/model/parse", [TOKEN]), ("GET", "/status", [TOKEN])]


def test_the_app_sends_rasa_token_from_its_settings(make_app, fake_rasa):
    app = make_app(RASA_URL=fake_rasa.url, RASA_TOKEN=TOKEN)
    assert app.test_client().post("/api/chat", json={"message": "hello there"}).status_code == 200
    assert app.test_client().get("/healthz").json["rasa"] == "ok"
    assert fake_rasa.seen, "the app never called Rasa"
    assert all(query.get("token") == [TOKEN] for _, _, query in fake_rasa.seen), fake_rasa.seen


def test_without_rasa_token_nothing_is_sent(fake_rasa):
    client = RasaClient(fake_rasa.url, 1.5)
    assert not client.healthy()  # the protected server refuses it
    assert fake_rasa.seen == [("GET", "/status", {})]
