"""Security headers on every page; the chat API and embed only for allowed origins."""

import pytest

ALLOWED = "https://community.example.org"


@pytest.fixture
def client(make_app):
    return make_app(ALLOWED_ORIGINS=ALLOWED).test_client()


def test_pages_have_strict_headers(client):
    for path in ("/", "/healthz", "/embed.js"):
        response = client.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_embed_page_may_be_framed_by_allowed_origins_only(client):
    response = client.get("/embed?lang=es")
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {ALLOWED}" in policy
    assert "X-Frame-Options" not in response.headers
    assert '<html lang="es"' in response.get_data(as_text=True)


def test_embed_follows_browser_language(client):
    html = client.get("/embed", headers={"Accept-Language": "ar,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html


def test_embed_script_points_at_this_bot(client):
    script = client.get("/embed.js").get_data(as_text=True)
    assert '"https://bot.example.org/embed"' in script and "navigator.language" in script


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    assert "Strict-Transport-Security" in client.get("/", base_url="https://localhost").headers


def test_chat_api_rejects_other_origins(client):
    response = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "ALLOWED_ORIGINS" in response.json["error"]
    assert "Access-Control-Allow-Origin" not in response.headers


def test_chat_api_accepts_allowed_origin_with_cors_headers(client):
    preflight = client.options("/api/chat", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    response = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_same_origin_and_non_browser_calls_are_fine(client):
    assert client.post("/api/chat", json={"message": "hi"}).status_code == 200
    same = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": "http://localhost"})
    assert same.status_code == 200
