"""The web chat page and its JSON API use the same engine as SMS."""

from bot.language.languages import NATIVE_NAMES


def test_page_is_served_with_language_buttons(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="composer"' in html and "/static/chat.js" in html
    for name in NATIVE_NAMES.values():
        assert name in html


def test_chat_answers_and_keeps_the_session(app, client):
    content = app.extensions["kyr"].content
    first = client.post("/api/chat", json={"message": "can the police question my son at school"})
    assert first.status_code == 200
    data = first.json
    assert data["lang"] == "en"
    assert data["replies"][0].startswith(content.text("school_police.first", "en")[:60])
    more = client.post("/api/chat", json={"message": "more", "session": data["session"]}).json
    assert more["session"] == data["session"]
    assert more["replies"][0].startswith(content.text("school_police.more", "en")[:60])


def test_chat_answers_in_spanish_with_accents(app, client):
    content = app.extensions["kyr"].content
    data = client.post("/api/chat", json={"message": "la policia puede interrogar a mi hijo en la escuela?"}).json
    assert data["lang"] == "es"
    # The web chat shows the text as written (no GSM-7 folding).
    assert data["replies"][0].startswith(content.text("school_police.first", "es")[:60])


def test_bad_requests_get_clear_errors(client):
    assert client.post("/api/chat", data="not json", content_type="application/json").status_code == 400
    assert client.post("/api/chat", json=["list"]).status_code == 400
    response = client.post("/api/chat", json={"message": 5})
    assert response.status_code == 400 and "message" in response.json["error"]
    too_long = client.post("/api/chat", json={"message": "a" * 1601})
    assert too_long.status_code == 400 and "1600" in too_long.json["error"]


def test_forged_session_token_gets_a_new_one(client):
    data = client.post("/api/chat", json={"message": "hi", "session": "../../etc/passwd"}).json
    assert data["session"] != "../../etc/passwd"


def test_huge_request_is_refused(client):
    response = client.post("/api/chat", data="x" * 200_000, content_type="application/json")
    assert response.status_code == 413
