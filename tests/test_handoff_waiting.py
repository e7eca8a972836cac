"""Waiting for a person never means silence (issue #21), and DELETE erases every handoff (issue #15.1).

Real Redis, the real trained model, Twilio-signed requests; TwiML read by its
XML structure. Times are shrunk with the HANDOFF_* settings (fractions of a
minute) rather than patched clocks, so the code under test is the shipped code.
"""

from __future__ import annotations

import threading
import time

import pytest
import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from bot.timing.hours import parse_hours
from bot.clients.identity import sender_from_web_token
from bot.language.segments import sms_text
from tests.conftest import ID_HASH_KEY, post_signed, sms_form, twiml_messages
from tests.test_handoff import (  # noqa: F401  (app, client and handoff_url are fixtures)
    HANDOFF_ENV, app, client, closed_today, desk_of, handoff_of, handoff_url, queued_text, say, text,
)

#: Per language: an urgent message, a follow-up question on the same topic, and the topic.
URGENT = {
    "en": ("ICE is at my door right now", "can they come in without a warrant?", "ice_at_home"),
    "es": ("la migra esta en mi puerta ahorita", "pueden entrar a mi casa sin una orden?", "ice_at_home"),
}
ASK = {"en": "i want to talk to a real person", "es": "quiero hablar con una persona"}
LEAVE = {"en": "NEVER MIND", "es": "CANCELAR"}
PERSON = {"en": "PERSON", "es": "PERSONA"}
#: A question on a non-urgent topic, for "the bot answers while you wait".
QUESTION = {"en": ("my brother has an ice hold at the jail", "detainer"),
            "es": ("mi hermano tiene un hold de ICE en la carcel", "detainer")}


def engine(app):
    return app.extensions["kyr"].engine


def first_words(app, key: str, lang: str) -> str:
    """The start of an answer as the person receives it (enough to tell topics apart)."""
    return sms_text(app.extensions["kyr"].content.text(key, lang), lang)[:25]


def jobs_queue(url: str) -> Queue:
    return Queue("kyr-outbound", connection=redis.Redis.from_url(url))


# -- 1. while waiting, the bot keeps answering ------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_after_an_urgent_message_questions_menu_and_language_still_get_answers(app, client, phone, lang):
    urgent, follow_up, topic = URGENT[lang]
    replies = say(client, phone, urgent)
    assert replies[0].startswith(first_words(app, f"{topic}.first", lang))
    handoff = handoff_of(app, phone)
    assert handoff.waiting and handoff.urgent
    answer = say(client, phone, follow_up)
    assert answer and answer[0].startswith(first_words(app, f"{topic}.first", lang)), answer
    assert say(client, phone, "MENU") == [sms_text(engine(app).menu_text(lang), lang)]
    languages = say(client, phone, "LANGUAGE" if lang == "en" else "IDIOMA")
    assert languages and "Tiếng Việt" in languages[0] or "Tieng Viet" in languages[0]
    assert handoff_of(app, phone).waiting  # still in line for a person
    # Staff see what the bot told the person, marked as the bot's.
    bot_lines = [e.text for e in desk_of(app).entries(handoff.id) if e.who == "bot"]
    assert sms_text(engine(app).menu_text(lang), lang) in [sms_text(t, lang) for t in bot_lines]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_place_in_line_is_said_now_and_then_with_an_honest_estimate(make_app, handoff_url, phone, lang):
    app = make_app(REDIS_URL=handoff_url, HANDOFF_LINE_NOTICE_MINUTES="0.05", **HANDOFF_ENV)  # 3 s
    client = app.test_client()
    say(client, phone, ASK[lang])
    question, _ = QUESTION[lang]
    # Right after "a person will reply", no place in line yet: just the answer.
    assert len(say(client, phone, question)) == 1
    time.sleep(3.2)
    # No recent claims: no minutes promised.
    replies = say(client, phone, question)
    assert replies[-1] == text(app, "system.handoff_in_line_unknown", lang, position="1")
    assert len(say(client, phone, question)) == 1  # not on every message
    now = time.time()
    for at in (now - 600, now - 300, now - 60):  # staff claimed someone every 4-5 minutes lately
        desk_of(app).stats.claimed(0, now=at)
    time.sleep(3.2)
    replies = say(client, phone, question)
    assert replies[-1] == text(app, "system.handoff_in_line", lang, position="1", minutes="5")


def test_estimate_follows_the_pace_of_recent_claims(app):
    stats = desk_of(app).stats
    now = time.time()
    assert stats.estimate_minutes(1, now) is None
    for at in (now - 1200, now - 900, now - 600, now - 300):
        stats.claimed(0, now=at)
    assert stats.estimate_minutes(1, now) == 5
    assert stats.estimate_minutes(3, now) == 15
    assert stats.estimate_minutes(3, now + 3 * 3600) is None  # old claims say nothing about now


def test_asking_again_while_waiting_gives_the_place_in_line(app, client, phone):
    other = phone[:-1] + str((int(phone[-1]) + 1) % 10)
    say(client, other, ASK["en"])
    say(client, phone, ASK["en"])
    assert say(client, phone, PERSON["en"]) == [text(app, "system.handoff_in_line_unknown", "en", position="2")]
    assert len(desk_of(app).queue()) == 2  # not queued twice


def test_an_urgent_message_while_waiting_moves_the_person_up(app, client, phone):
    other = phone[:-1] + str((int(phone[-1]) + 1) % 10)
    say(client, other, ASK["en"])
    say(client, phone, ASK["en"])
    assert [h.id for h in desk_of(app).queue()][0] == handoff_of(app, other).id
    say(client, phone, URGENT["en"][0])
    queue = desk_of(app).queue()
    assert queue[0].id == handoff_of(app, phone).id and queue[0].urgent


# -- 2. once claimed ------------------------------------------------------------------------


@pytest.mark.parametrize("lang, switch, new", [("en", "ESPAÑOL", "es"), ("es", "ENGLISH", "en")])
def test_claimed_language_switch_is_confirmed_and_shown_to_staff(app, client, phone, lang, switch, new):
    say(client, phone, ASK[lang])
    handoff = handoff_of(app, phone)
    assert desk_of(app).claim(handoff.id, "ana")
    assert say(client, phone, "hello" if lang == "en" else "hola") == []
    assert say(client, phone, switch) == [text(app, "system.handoff_language_set", new)]
    assert desk_of(app).get(handoff.id).lang == new
    assert f"language:{new}" in [e.text for e in desk_of(app).entries(handoff.id) if e.who == "event"]
    assert say(client, phone, "ok") == []  # staff hold the conversation again


@pytest.mark.parametrize("lang", ["en", "es"])
def test_claimed_but_unanswered_gets_one_reading_notice_with_the_hotline(make_app, handoff_url, phone, lang):
    app = make_app(REDIS_URL=handoff_url, HANDOFF_REPLY_MINUTES="0.05", **HANDOFF_ENV)  # 3 s
    client = app.test_client()
    say(client, phone, ASK[lang])
    handoff = handoff_of(app, phone)
    desk_of(app).claim(handoff.id, "ana")
    assert say(client, phone, "?") == []  # inside the window: quiet
    time.sleep(3.2)
    reading = say(client, phone, "hello??")
    values = engine(app).answers.routed_values(None, lang, urgent=True)
    expected = app.extensions["kyr"].content.text("system.handoff_reading", lang, values)
    assert reading == [sms_text(expected, lang)] and values["hotline"] in expected
    assert say(client, phone, "hello???") == []  # once per unanswered stretch
    desk_of(app).reply(desk_of(app).get(handoff.id), "ana", "Hi, Ana here")
    assert say(client, phone, "thanks") == []  # answered: the clock starts again
    time.sleep(3.2)
    assert say(client, phone, "are you there") == [sms_text(expected, lang)]


def test_sweep_tells_a_claimed_person_nobody_has_written_yet(make_app, handoff_url, phone):
    app = make_app(REDIS_URL=handoff_url, HANDOFF_REPLY_MINUTES="0.02", **HANDOFF_ENV)
    say(app.test_client(), phone, ASK["es"])
    handoff = handoff_of(app, phone)
    desk_of(app).claim(handoff.id, "ana")
    before = jobs_queue(handoff_url).count
    time.sleep(1.3)
    assert desk_of(app).sweep() == 1 and desk_of(app).sweep() == 0
    assert jobs_queue(handoff_url).count == before + 1


# -- 3. the person controls the wait ----------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_leaving_the_line_brings_the_bot_back(app, client, phone, lang):
    say(client, phone, ASK[lang])
    handoff_id = handoff_of(app, phone).id
    assert say(client, phone, LEAVE[lang]) == [text(app, "system.handoff_left", lang)]
    assert handoff_of(app, phone) is None and desk_of(app).get(handoff_id).closed == "cancelled"
    assert say(client, phone, "MENU") == [sms_text(engine(app).menu_text(lang), lang)]


def test_cancel_leaves_the_line_in_the_web_chat_but_stays_stop_on_sms(app, client, phone):
    first = client.post("/api/chat", json={"message": ASK["en"]}).json
    token = first["session"]
    sender = sender_from_web_token(token, ID_HASH_KEY)
    handoff_id = desk_of(app).records.for_sender(sender.key).id
    replies = client.post("/api/chat", json={"message": "cancel", "session": token}).json["replies"]
    assert replies == [text(app, "system.handoff_left", "en", web=True)]
    assert desk_of(app).get(handoff_id).closed == "cancelled"
    # On SMS, CANCEL is one of Twilio's opt-out words: it must stay an opt-out.
    say(client, phone, ASK["en"])
    sms_id = handoff_of(app, phone).id
    assert say(client, phone, "CANCEL") == [text(app, "system.stop_done", "en")]
    assert desk_of(app).get(sms_id).closed == "stopped"


def test_the_console_shows_why_a_handoff_ended(app, client, phone):
    from tests.test_handoff import log_in, make_staff

    say(client, phone, ASK["en"])
    handoff_id = handoff_of(app, phone).id
    say(client, phone, LEAVE["en"])
    make_staff(app, "ana", role="admin")
    log_in(client, "ana")
    page = client.get(f"/console/h/{handoff_id}").get_data(as_text=True)
    assert "the person left the line" in page


# -- 4. nobody comes -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_nobody_claims_in_time_the_person_is_told_and_the_bot_answers(make_app, handoff_url, phone, lang):
    app = make_app(REDIS_URL=handoff_url, HANDOFF_MAX_WAIT_MINUTES="0.02", **HANDOFF_ENV)
    client = app.test_client()
    say(client, phone, ASK[lang])
    handoff_id = handoff_of(app, phone).id
    time.sleep(1.3)
    replies = say(client, phone, "MENU")
    values = engine(app).answers.routed_values(None, lang, urgent=True)
    told = app.extensions["kyr"].content.text("system.handoff_nobody_came", lang, values)
    assert replies == [sms_text(told, lang), sms_text(engine(app).menu_text(lang), lang)]
    assert values["hotline"] in told and values["legal_help"] in told
    assert desk_of(app).get(handoff_id).closed == "timeout" and handoff_of(app, phone) is None


def test_sweep_ends_unclaimed_waits_and_sends_the_notice(make_app, handoff_url, phone):
    app = make_app(REDIS_URL=handoff_url, HANDOFF_MAX_WAIT_MINUTES="0.02", **HANDOFF_ENV)
    say(app.test_client(), phone, ASK["es"])
    handoff_id = handoff_of(app, phone).id
    before = jobs_queue(handoff_url).count
    time.sleep(1.3)
    assert desk_of(app).sweep() == 1
    assert desk_of(app).get(handoff_id).closed == "timeout"
    assert jobs_queue(handoff_url).count == before + 1


@pytest.mark.parametrize("lang", ["en", "es"])
def test_staffing_hours_end_while_waiting(app, client, phone, lang):
    say(client, phone, ASK[lang])
    handoff_id = handoff_of(app, phone).id
    desk_of(app).hours = parse_hours(closed_today(), "UTC")  # the shift is over
    replies = say(client, phone, "MENU")
    values = engine(app).answers.routed_values(None, lang, urgent=True)
    told = app.extensions["kyr"].content.text("system.handoff_hours_ended", lang, values)
    assert replies[0] == sms_text(told, lang)
    assert desk_of(app).get(handoff_id).closed == "hours_ended"


# -- 5. gentler on misunderstanding (Spanish; English is in test_handoff.py) --------------------


def test_two_misunderstood_spanish_messages_offer_a_person(app, client, phone):
    say(client, phone, "ESPAÑOL")
    say(client, phone, "99")
    replies = say(client, phone, "98")
    assert replies[-1] == text(app, "system.handoff_offer", "es") and handoff_of(app, phone) is None
    assert say(client, phone, PERSON["es"]) == [queued_text(app, "es")]


# -- 6. concurrent messages while a staff member claims -------------------------------------------


def test_messages_racing_a_claim_are_answered_before_it_and_recorded_once(app, client, phone):
    say(client, phone, ASK["en"])
    handoff_id = handoff_of(app, phone).id
    results: list[tuple[float, float, list[str]]] = []
    claimed_at: list[float] = []
    start = threading.Barrier(9)

    def person(n: int) -> None:
        start.wait()
        time.sleep(n * 0.05)
        began = time.monotonic()
        replies = twiml_messages(post_signed(app.test_client(), sms_form(phone, f"hello {n}")).data)
        results.append((began, time.monotonic(), replies))

    def staff() -> None:
        start.wait()
        time.sleep(0.15)
        claimed_at.append(time.monotonic())  # the claim may take effect from here...
        assert desk_of(app).claim(handoff_id, "ana")
        claimed_at.append(time.monotonic())  # ...and has by here

    threads = [threading.Thread(target=person, args=(n,)) for n in range(8)] + [threading.Thread(target=staff)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(claimed_at) == 2
    for began, ended, replies in results:
        if ended < claimed_at[0]:
            assert replies, "a message answered before the claim got no reply"
        if began > claimed_at[1]:
            assert replies == [], "the bot spoke after staff claimed the conversation"
    said = [e.text for e in desk_of(app).entries(handoff_id) if e.who == "person"]
    assert sorted(said[1:]) == sorted(f"hello {n}" for n in range(8))


# -- issue #15 finding 1: DELETE erases every handoff, not only an open one --------------------------


def test_delete_after_hand_back_erases_transcript_jobs_and_every_key(app, client, phone, handoff_url):
    say(client, phone, ASK["es"])
    handoff = handoff_of(app, phone)
    desk_of(app).claim(handoff.id, "ana")
    desk_of(app).reply(desk_of(app).get(handoff.id), "ana", "Hola, soy Ana")
    assert desk_of(app).hand_back(desk_of(app).get(handoff.id), "ana")
    jobs = [e.job for e in desk_of(app).entries(handoff.id) if e.job]
    assert len(jobs) == 2  # the staff reply and "you are back with the bot", both still held by RQ
    connection = redis.Redis.from_url(handoff_url)
    assert say(client, phone, "BORRAR") == [text(app, "system.delete_done", "es")]
    assert desk_of(app).get(handoff.id) is None and desk_of(app).entries(handoff.id) == []
    for job_id in jobs:
        with pytest.raises(NoSuchJobError):
            Job.fetch(job_id, connection=connection)
    left = [key for key in connection.scan_iter("kyr:handoff:*") if handoff.id.encode() in key]
    assert left == []
    sender_key = handoff.sender.encode()
    assert [key for key in connection.scan_iter("kyr:*") if sender_key in key] == []


def test_delete_after_hand_back_empties_the_web_outbox(app, client):
    token = client.post("/api/chat", json={"message": ASK["en"]}).json["session"]
    sender = sender_from_web_token(token, ID_HASH_KEY)
    handoff = desk_of(app).records.for_sender(sender.key)
    desk_of(app).claim(handoff.id, "ana")
    desk_of(app).reply(desk_of(app).get(handoff.id), "ana", "Hi, this is Ana")
    desk_of(app).hand_back(desk_of(app).get(handoff.id), "ana")
    assert desk_of(app).delivery.outbox.since(sender.key, 0)[0]  # staff messages are waiting
    client.post("/api/chat", json={"message": "DELETE", "session": token})
    assert desk_of(app).delivery.outbox.since(sender.key, 0) == ([], 0)
    assert desk_of(app).entries(handoff.id) == [] and desk_of(app).get(handoff.id) is None


# -- issue #15 finding 3: a web-chat flood cannot fill the queue, and the queue page stays small ----------------


def test_a_flood_of_web_chats_from_one_address_cannot_fill_the_queue(app):
    """20 new chats asking for a person at once, from one address: 3 are queued, the rest get the hotline."""
    start = threading.Barrier(20)
    replies: list[list[str]] = []

    def ask() -> None:
        start.wait()
        replies.append(app.test_client().post("/api/chat", json={"message": ASK["en"]}).json["replies"])

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(desk_of(app).queue()) == 3  # WEBCHAT_OPEN_HANDOFFS_PER_ADDRESS
    values = engine(app).answers.routed_values(None, "en", urgent=True)
    refused = app.extensions["kyr"].content.text("system.handoff_unavailable", "en", values)
    assert sorted(r[0] == refused for r in replies).count(True) == 17
    # Another network is not affected.
    other = app.test_client().post("/api/chat", json={"message": ASK["en"]}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.json["replies"][0] == queued_text(app, "en", web=True)


def test_the_staff_queue_is_paged_with_thousands_waiting(app, client):
    from tests.test_handoff import log_in, make_staff

    records = desk_of(app).records
    for n in range(1500):
        records.open(sender=f"{n:064x}", channel="web", lang="es" if n % 2 else "en", topic="none",
                     reason="asked", urgent=n == 1499, address=None)
    make_staff(app, "ana", role="admin")
    log_in(client, "ana")
    response = client.get("/console/api/queue")
    data = response.json
    assert data["waiting"] == 1500 and data["paging"]["has_next"]
    assert data["html"].count('class="card') == 50 and len(response.data) < 100_000
    assert 'class="card urgent"' in data["html"].split("</li>")[0]  # urgent first, even the newest
    last = client.get("/console/api/queue?page=30").json
    assert last["html"].count('class="card') == 50 and not last["paging"]["has_next"]
    staff_page = client.get("/console/").get_data(as_text=True)
    assert "Showing 1–50 of 1500" in staff_page
