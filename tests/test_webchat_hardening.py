"""Web chat hardening from the December 2026 review (issue #15, findings 3, 6, 7).

- #3 new chats per client address are limited (WEBCHAT_NEW_SESSIONS_PER_HOUR),
  counted atomically in the real Redis, also under concurrent requests;
- #6 /embed.js is built from PUBLIC_URL, whatever Host / X-Forwarded-* say;
- #7 the chat token travels in the Authorization header, and chat API answers
  are never cached.

Rasa is not needed here (the keyword fallback answers), so these run fast.
"""

from __future__ import annotations

import concurrent.futures
import random
import secrets
from pathlib import Path

import pytest
import requests

from bot.clients.identity import sender_from_web_token
from tests.conftest import ID_HASH_KEY, serve
from tests.test_handoff import HANDOFF_ENV, desk_of, handoff_url  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rasa_url(dead_url):
    """No Rasa: the engine answers with its keyword fallback at once."""
    return dead_url


def random_address() -> str:
    """A client address no other test (or earlier run on a shared Redis) has used."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


# -- #3: new chats per client address ------------------------------------------------


def test_new_chats_per_address_are_limited_with_a_clear_429(make_app, redis_client):
    app = make_app(WEBCHAT_NEW_SESSIONS_PER_HOUR="3")
    client = app.test_client()
    address = random_address()

    def post(body, addr=address):
        return client.post("/api/chat", json=body, environ_base={"REMOTE_ADDR": addr})

    first = post({"message": "hi"})
    assert first.status_code == 200
    assert post({"message": "hi"}).status_code == 200
    assert post({"message": "hi"}).status_code == 200
    refused = post({"message": "I want to talk to a person"})
    assert refused.status_code == 429
    assert "Too many new chats" in refused.json["error"] and set(refused.json) == {"error"}
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # A token the client made up is a new chat too: it cannot dodge the limit.
    made_up = post({"message": "hi", "session": secrets.token_urlsafe(24)})
    assert made_up.status_code == 429
    forged = post({"message": "hi", "session": first.json["session"][:33] + "A" * 22})
    assert forged.status_code == 429
    # An existing chat goes on; another address is not affected.
    assert post({"message": "more", "session": first.json["session"]}).status_code == 200
    assert post({"message": "hi"}, addr=random_address()).status_code == 200
    # The counter has a TTL and its key holds no address.
    keys = list(redis_client.scan_iter("kyr:webchat-new:*"))
    assert keys and all(0 < redis_client.ttl(key) <= 3600 for key in keys)
    assert not any(address in key for key in keys)


def test_concurrent_new_chats_from_one_address_are_all_counted(make_app):
    """Twenty simultaneous new chats from one address through a real threaded server: exactly 5 pass."""
    app = make_app(WEBCHAT_NEW_SESSIONS_PER_HOUR="5", TRUSTED_PROXY_HOPS="1")
    address = random_address()
    server = serve(app)
    base = next(server)
    try:
        def post(_):
            return requests.post(base + "/api/chat", json={"message": "hi"},
                                 headers={"X-Forwarded-For": address}, timeout=30).status_code

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(post, range(20)))
    finally:
        next(server, None)
    assert sorted(codes) == [200] * 5 + [429] * 15, codes


def test_client_address_follows_the_trusted_proxy_setting(make_app):
    """Behind one trusted proxy the forwarded address counts; without one, X-Forwarded-For is ignored."""
    behind_proxy = make_app(WEBCHAT_NEW_SESSIONS_PER_HOUR="1", TRUSTED_PROXY_HOPS="1").test_client()
    proxy = {"REMOTE_ADDR": random_address()}
    for _ in range(2):  # two people behind the same proxy each get their own allowance
        headers = {"X-Forwarded-For": random_address()}
        assert behind_proxy.post("/api/chat", json={"message": "hi"}, headers=headers,
                                 environ_base=proxy).status_code == 200

    direct = make_app(WEBCHAT_NEW_SESSIONS_PER_HOUR="1").test_client()
    caller = {"REMOTE_ADDR": random_address()}
    codes = [direct.post("/api/chat", json={"message": "hi"}, headers={"X-Forwarded-For": random_address()},
                         environ_base=caller).status_code for _ in range(2)]
    assert codes == [200, 429], "a spoofed X-Forwarded-For must not buy new chats"


# -- #6: /embed.js ---------------------------------------------------------------------


FORGED_HEADERS = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "http",
    "X-Forwarded-Prefix": "/phish",
    "X-Forwarded-Port": "8080",
}


@pytest.mark.parametrize("hops", ["0", "1", "2"])
def test_embed_script_ignores_forged_host_headers(make_app, hops):
    client = make_app(TRUSTED_PROXY_HOPS=hops).test_client()
    honest = client.get("/embed.js")
    forged = client.get("/embed.js", headers=FORGED_HEADERS)
    assert forged.status_code == 200
    script = forged.get_data(as_text=True)
    assert script == honest.get_data(as_text=True)
    assert '"https://bot.example.org/embed"' in script  # PUBLIC_URL from the test settings
    assert "evil" not in script and "phish" not in script and "8080" not in script
    assert forged.headers["Cache-Control"] == "public, max-age=3600"


def test_embed_script_without_public_url_is_never_cached(make_app):
    """Development without PUBLIC_URL uses the request's URL, so no cache may keep (and share) it."""
    response = make_app(PUBLIC_URL=None).test_client().get("/embed.js", headers={"Host": "evil.example"})
    assert response.headers["Cache-Control"] == "no-store"


# -- #7: the chat token in a header, no caching -------------------------------------------


@pytest.fixture
def handoff_client(make_app, handoff_url):  # noqa: F811 (fixture from test_handoff)
    app = make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)
    return app, app.test_client()


def test_updates_take_the_token_from_the_authorization_header(handoff_client):
    app, client = handoff_client
    first = client.post("/api/chat", json={"message": "i want to talk to a real person"})
    assert first.headers["Cache-Control"] == "no-store"
    token = first.json["session"]
    desk = desk_of(app)
    handoff_id = desk.records.for_sender(sender_from_web_token(token, ID_HASH_KEY).key).id
    assert desk.claim(handoff_id, "ana")
    desk.reply(desk.get(handoff_id), "ana", "Hi, this is Ana from the hotline.")

    updates = client.get("/api/chat/updates?after=0", headers={"Authorization": f"Bearer {token}"})
    assert updates.status_code == 200
    assert updates.json["messages"] == ["Hi, this is Ana from the hotline."]
    assert updates.headers["Cache-Control"] == "no-store"

    in_url = client.get(f"/api/chat/updates?session={token}&after=0")
    assert in_url.status_code == 400 and "Authorization: Bearer" in in_url.json["error"]
    assert in_url.headers["Cache-Control"] == "no-store"
    missing = client.get("/api/chat/updates?after=0")
    assert missing.status_code == 401 and "Authorization" in missing.json["error"]
    made_up = client.get("/api/chat/updates?after=0", headers={"Authorization": "Bearer " + "x" * 55})
    assert made_up.status_code == 401


def test_every_chat_api_answer_says_no_store(make_app):
    client = make_app(ALLOWED_ORIGINS="https://community.example.org").test_client()
    answers = [
        client.post("/api/chat", json={"message": "hi"}),
        client.post("/api/chat", json={"message": 5}),
        client.post("/api/chat", data="x" * 200_000, content_type="application/json"),
        client.post("/api/chat", json={"message": "hi"}, headers={"Origin": "https://evil.example"}),
        client.options("/api/chat/updates", headers={"Origin": "https://community.example.org"}),
        client.get("/api/chat/updates"),
    ]
    assert [a.headers.get("Cache-Control") for a in answers] == ["no-store"] * len(answers)
    preflight = answers[4]
    assert preflight.status_code == 204 and "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_chat_page_polls_with_the_header_not_the_url():
    script = (ROOT / "bot" / "static" / "chat.js").read_text()
    poll = script[script.index("function pollUpdates"):]
    poll = poll[: poll.index("window.setInterval")]
    assert '"Authorization": "Bearer " + session' in poll
    assert "session=" not in poll
