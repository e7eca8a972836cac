"""Issue #19 items 1-2: staff send the bot's reviewed answer, or a saved reply, in the person's language.

Real Redis (the handoff database), the real trained Rasa model, the real web chat
outbox and the signed SMS webhook; the console through the Flask test client with
its CSRF tokens.
"""

from __future__ import annotations

import re

import pytest
from rq.job import Job

from bot.clients.identity import sender_from_web_token
from bot.content.location import Location
from bot.language.segments import count_segments, sms_text
from tests.conftest import ID_HASH_KEY, post_signed, sms_form
from tests.test_handoff import (  # noqa: F401  (handoff_url is a fixture)
    ASK_ES, HANDOFF_ENV, desk_of, handoff_of, handoff_url, log_in, make_staff, page_token,
)

SACRAMENTO = Location("CA", "Sacramento")


@pytest.fixture
def app(make_app, handoff_url):
    return make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)


def kreyol_web_chat(client) -> tuple[str, str]:
    """A person in Sacramento writes in Kreyòl in the web chat and asks for a person: (token, handoff id)."""
    token = client.post("/api/chat", json={"message": "Kreyòl"}).json["session"]
    client.post("/api/chat", json={"message": "95814", "session": token})
    client.post("/api/chat", json={"message": "MOUN", "session": token})
    sender = sender_from_web_token(token, ID_HASH_KEY)
    handoff = desk_of(client.application).records.for_sender(sender.key)
    assert handoff is not None and handoff.lang == "ht"
    return token, handoff.id


def english_only(app, name="sam"):
    """A volunteer who speaks only English but takes conversations in any language."""
    make_staff(app, name, languages=("en",))
    return app.extensions["kyr_console"].staff.update(name, all_languages=True)


def outbox(client, token) -> list[str]:
    return client.get("/api/chat/updates?after=0", headers={"Authorization": f"Bearer {token}"}).json["messages"]


def test_english_only_staff_send_the_reviewed_kreyol_answer_for_the_persons_state(app):
    person = app.test_client()
    token, handoff_id = kreyol_web_chat(person)
    english_only(app)
    sam = app.test_client()
    log_in(sam, "sam")
    assert handoff_id in sam.get("/console/").get_data(as_text=True)  # a Kreyòl conversation, for an English speaker
    token_ = page_token(sam)
    assert sam.post(f"/console/h/{handoff_id}/claim", data={"csrf_token": token_}).status_code == 302
    page = sam.get(f"/console/h/{handoff_id}").get_data(as_text=True)
    assert 'id="answer-form"' in page and 'value="detainer"' in page

    response = sam.post(f"/console/h/{handoff_id}/answer",
                        data={"csrf_token": token_, "topic": "detainer", "part": "first"})
    assert response.status_code == 302
    answers = app.extensions["kyr"].engine.answers
    expected = answers.first_reply("detainer", SACRAMENTO, "ht")
    assert expected.startswith("Nan California")  # the California variant, in Kreyòl
    assert expected != answers.first_reply("detainer", None, "ht")
    assert outbox(person, token) == [expected]

    staff_lines = [e for e in desk_of(app).entries(handoff_id) if e.who == "staff"]
    assert [e.text for e in staff_lines] == [expected]
    assert staff_lines[0].gloss == answers.first_reply("detainer", SACRAMENTO, "en")
    html = sam.get(f"/console/api/h/{handoff_id}").json["html"]
    assert "In English: In California, jails may not keep anyone extra" in html

    # The person's next MORE continues from the topic staff sent, as after the bot's own answer.
    more = sam.post(f"/console/h/{handoff_id}/answer", data={"csrf_token": token_, "topic": "detainer", "part": "more"})
    assert more.status_code == 302
    assert outbox(person, token)[-1] == answers.more_reply("detainer", SACRAMENTO, "ht")
    sam.post(f"/console/h/{handoff_id}/handback", data={"csrf_token": token_})
    again = person.post("/api/chat", json={"message": "PLIS", "session": token}).json["replies"]
    assert again == [answers.more_reply("detainer", SACRAMENTO, "ht")]


def test_answer_by_sms_is_folded_like_the_bots_and_queued_through_the_outbound_queue(
        make_app, handoff_url, outbound_env, phone):
    app = make_app(**{**outbound_env, "REDIS_URL": handoff_url, **HANDOFF_ENV})
    client = app.test_client()
    post_signed(client, sms_form(phone, ASK_ES))
    handoff_id = handoff_of(app, phone).id
    make_staff(app, "ana")
    log_in(client, "ana")
    token = page_token(client)
    client.post(f"/console/h/{handoff_id}/claim", data={"csrf_token": token})
    client.post(f"/console/h/{handoff_id}/answer", data={"csrf_token": token, "topic": "detainer", "part": "first"})
    expected = sms_text(app.extensions["kyr"].engine.answers.first_reply("detainer", None, "es"), "es")
    entry = [e for e in desk_of(app).entries(handoff_id) if e.who == "staff"][0]
    assert entry.text == expected and entry.job
    assert Job.fetch(entry.job, connection=desk_of(app).delivery._rq).get_status() in ("queued", "scheduled")


def test_answer_route_checks_owner_topic_and_csrf(app, phone):
    post_signed(app.test_client(), sms_form(phone, ASK_ES))
    handoff_id = handoff_of(app, phone).id
    make_staff(app, "ana")
    make_staff(app, "luis")
    make_staff(app, "root", role="admin", languages=("en",))
    ana, luis, root = app.test_client(), app.test_client(), app.test_client()
    for client, name in ((ana, "ana"), (luis, "luis"), (root, "root")):
        log_in(client, name)
    token = page_token(ana)
    form = {"topic": "detainer", "part": "first"}
    assert ana.post(f"/console/h/{handoff_id}/answer", data=form).status_code == 400  # no CSRF token
    assert ana.post(f"/console/h/{handoff_id}/answer", data={**form, "csrf_token": token}).status_code == 403  # unclaimed
    ana.post(f"/console/h/{handoff_id}/claim", data={"csrf_token": token})
    for other in (luis, root):  # not the owner: not even an admin writes in someone else's conversation
        assert other.post(f"/console/h/{handoff_id}/answer",
                          data={**form, "csrf_token": page_token(other)}).status_code == 403
    bad = ana.post(f"/console/h/{handoff_id}/answer", data={"csrf_token": token, "topic": "no_such_topic"})
    assert bad.status_code == 400 and "Pick a topic" in bad.get_data(as_text=True)
    assert ana.post(f"/console/h/{handoff_id}/answer",
                    data={"csrf_token": token, "topic": "detainer", "part": "all"}).status_code == 400
    assert [e for e in desk_of(app).entries(handoff_id) if e.who == "staff"] == []  # nothing sent by bad input
    assert ana.post(f"/console/h/{handoff_id}/answer", data={**form, "csrf_token": token}).status_code == 302
    assert len([e for e in desk_of(app).entries(handoff_id) if e.who == "staff"]) == 1


def test_staff_without_the_persons_language_do_not_see_it_unless_they_take_any_language(app):
    person = app.test_client()
    _, handoff_id = kreyol_web_chat(person)
    make_staff(app, "ana", languages=("es",))
    ana = app.test_client()
    log_in(ana, "ana")
    assert handoff_id not in ana.get("/console/").get_data(as_text=True)
    assert ana.get(f"/console/h/{handoff_id}").status_code == 403


# -- saved replies ------------------------------------------------------------------------------


def create_reply(client, title, **texts):
    token = page_token(client, "/console/replies")
    return client.post("/console/replies", data={"csrf_token": token, "title": title,
                                                 **{f"text_{lang}": text for lang, text in texts.items()}})


def test_admins_write_saved_replies_and_staff_cannot(app):
    make_staff(app, "root", role="admin", languages=("en",))
    make_staff(app, "ana")
    root, ana = app.test_client(), app.test_client()
    log_in(root, "root")
    log_in(ana, "ana")
    assert create_reply(ana, "Hello", es="Hola").status_code == 403
    assert ana.post("/console/replies", data={"title": "Hello", "text_es": "Hola"}).status_code == 400  # no CSRF
    assert create_reply(root, "Hello", es="Hola").status_code in (302, 303)
    assert root.post("/console/replies", data={"title": "x", "text_es": "y"}).status_code == 400  # no CSRF
    book = app.extensions["kyr_console"].replies
    (reply,) = book.all()
    assert reply.texts == {"es": "Hola"}

    # Bad input: a clear message, nothing stored.
    for title, texts, why in (("", {"es": "x"}, "a title"), ("T", {}, "at least one language"),
                              ("T", {"es": "Llame al {numero}"}, "unknown variable"),
                              ("T", {"es": "Llame al {hotline"}, "without its pair"),
                              ("T", {"es": "{hotline:>999}"}, "plainly")):
        response = create_reply(root, title, **texts)
        assert why in root.get("/console/replies").get_data(as_text=True), why
        assert response.status_code in (302, 303)
    assert len(book.all()) == 1

    page = ana.get("/console/replies").get_data(as_text=True)  # staff read them
    assert "Hello" in page and 'id="reply-create"' not in page
    token = page_token(root, "/console/replies")
    assert ana.post(f"/console/replies/{reply.id}", data={"csrf_token": page_token(ana, "/console/replies"),
                                                          "action": "delete"}).status_code == 403
    root.post(f"/console/replies/{reply.id}", data={"csrf_token": token, "title": "Hello", "text_es": "Hola",
                                                    "text_ht": "Bonjou", "action": "save"})
    assert book.get(reply.id).texts == {"es": "Hola", "ht": "Bonjou"}
    assert root.post("/console/replies/nothex", data={"csrf_token": token}).status_code == 404
    root.post(f"/console/replies/{reply.id}", data={"csrf_token": token, "action": "delete"})
    assert book.all() == []


def test_staff_send_a_saved_reply_in_the_persons_language_with_variables_and_cost(app, phone):
    make_staff(app, "root", role="admin", languages=("en",))
    root = app.test_client()
    log_in(root, "root")
    create_reply(root, "Who I am", en="Hi, I'm {first_name_of_staff}. Urgent? {hotline}",
                 es="Hola, soy {first_name_of_staff}. ¿Urgente? {hotline}")
    create_reply(root, "Only Kreyol", ht="Bonjou, mwen se {first_name_of_staff}.")
    post_signed(app.test_client(), sms_form(phone, ASK_ES))
    handoff_id = handoff_of(app, phone).id
    make_staff(app, "maria.lopez")
    maria = app.test_client()
    log_in(maria, "maria.lopez")
    token = page_token(maria)
    maria.post(f"/console/h/{handoff_id}/claim", data={"csrf_token": token})
    page = maria.get(f"/console/h/{handoff_id}").get_data(as_text=True)
    book = app.extensions["kyr_console"].replies
    who, kreyol = sorted(book.all(), key=lambda r: r.title, reverse=True)
    hotline = app.extensions["kyr"].engine.answers.routed_values(None, "es")["hotline"]
    filled = f"Hola, soy Maria. ¿Urgente? {hotline}"
    segments = count_segments(sms_text(filled, "es"))
    assert "[en, es]" in page and "[ht]" in page
    assert re.search(rf'value="{kreyol.id}" disabled', page)  # not in Spanish: cannot be sent
    assert f"{segments.segments} SMS segment" in page and segments.encoding in page

    refused = maria.post(f"/console/h/{handoff_id}/saved", data={"csrf_token": token, "reply": kreyol.id})
    assert refused.status_code == 400 and "language" in refused.get_data(as_text=True)
    assert maria.post(f"/console/h/{handoff_id}/saved", data={"reply": who.id}).status_code == 400  # no CSRF
    outsider = app.test_client()
    make_staff(app, "luis")
    log_in(outsider, "luis")
    assert outsider.post(f"/console/h/{handoff_id}/saved",
                         data={"csrf_token": page_token(outsider), "reply": who.id}).status_code == 403
    sent = maria.post(f"/console/h/{handoff_id}/saved", data={"csrf_token": token, "reply": who.id})
    assert sent.status_code == 302
    (entry,) = [e for e in desk_of(app).entries(handoff_id) if e.who == "staff"]
    assert entry.text == sms_text(filled, "es") and entry.job  # queued like any staff reply
    assert entry.gloss == f"Hi, I'm Maria. Urgent? {app.extensions['kyr'].engine.answers.routed_values(None, 'en')['hotline']}"


def test_saved_reply_goes_out_filled_with_an_english_gloss(app):
    make_staff(app, "root", role="admin", languages=("en",))
    root = app.test_client()
    log_in(root, "root")
    create_reply(root, "Who I am", en="Hi, I'm {first_name_of_staff}.", ht="Bonjou, mwen se {first_name_of_staff}.")
    person = app.test_client()
    token, handoff_id = kreyol_web_chat(person)
    sam = english_only(app)
    app.extensions["kyr_console"].staff.update(sam.username, first_name="Samuel")
    client = app.test_client()
    log_in(client, "sam")
    form_token = page_token(client)
    client.post(f"/console/h/{handoff_id}/claim", data={"csrf_token": form_token})
    (reply,) = app.extensions["kyr_console"].replies.all()
    client.post(f"/console/h/{handoff_id}/saved", data={"csrf_token": form_token, "reply": reply.id})
    assert outbox(person, token) == ["Bonjou, mwen se Samuel."]
    entry = [e for e in desk_of(app).entries(handoff_id) if e.who == "staff"][0]
    assert entry.gloss == "Hi, I'm Samuel."


def test_live_segment_counter_for_saved_replies(app):
    make_staff(app, "root", role="admin", languages=("en",))
    make_staff(app, "ana")
    root, ana = app.test_client(), app.test_client()
    log_in(root, "root")
    log_in(ana, "ana")
    token = page_token(root, "/console/replies")
    form = {"text_es": "Hola, soy {first_name_of_staff}. Línea: {hotline}", "text_zh": "你好，我是{first_name_of_staff}",
            "text_fr": "Appelez {numero}"}
    assert root.post("/console/api/replies/preview", data=form).status_code == 400  # CSRF
    assert ana.post("/console/api/replies/preview", data={**form, "csrf_token": page_token(ana)}).status_code == 403
    data = root.post("/console/api/replies/preview", data={**form, "csrf_token": token}).json
    hotline = app.extensions["kyr"].engine.answers.routed_values(None, "es")["hotline"]
    spanish = count_segments(sms_text(f"Hola, soy Root. Línea: {hotline}", "es"))
    assert data["segments"]["es"] == {"segments": spanish.segments, "encoding": "GSM-7", "units": spanish.units}
    assert data["segments"]["zh"]["encoding"] == "UCS-2" and data["segments"]["zh"]["units"] == len("你好，我是Root")
    assert "unknown variable" in data["errors"]["fr"] and "en" not in data["segments"]
