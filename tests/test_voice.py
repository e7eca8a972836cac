"""The voice line (/voice), against a real Redis and the real model, with requests signed as Twilio signs them.

A call is a chain of signed webhooks: each answer's <Gather> or <Dial> names the URL of the next
step, and the tests follow those URLs the way Twilio would, checking every TwiML by its XML
structure (which verbs, in which order, with which attributes), never by substring.
"""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor
import logging
import random
import re
import time
import wave
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import requests
from cryptography.fernet import Fernet
from rq import Queue

from bot.channels.voice.prompts import recording_names
from bot.channels.voice.speech import for_the_ear, read_numbers
from bot.channels.voice.voices import voice_language
from bot.clients.identity import sender_from_twilio
from bot.config import ConfigError, load_settings
from bot.conversation.engine import language_line
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.language.segments import sms_text
from bot.timing.hours import DAYS
from tests.conftest import ID_HASH_KEY, PUBLIC_URL, ROOT, free_port, sign
from tests.test_audit import audit_url, clean_db  # noqa: F401  (fixtures)
from tests.test_handoff import KEY, handoff_url, log_in, make_staff  # noqa: F401  (handoff_url: fixture)
from tests.test_resilience import stalled_url  # noqa: F401  (fixture)
from tests.test_sms_dedupe import session_turns

STAFF = {"en": "+13125550100", "es": "+13125550101", "ht": "+13125550102"}
LINE = "+13125550199"  # the line's own number (TWILIO_FROM_NUMBER): the caller ID staff phones show
STAFF_ENV = {"ENCRYPTION_KEY": KEY, "STAFF_HOURS": "always", "VOICE_DIAL_TIMEOUT": "15", "TWILIO_FROM_NUMBER": LINE,
             "VOICE_STAFF_NUMBERS": ",".join(f"{lang}:{number}" for lang, number in STAFF.items())}
#: A question per language, in words a caller might use (not lines of intents/data), and its topic.
SPOKEN = {
    "en": ("the jail told us immigration placed a hold on my cousin", "detainer"),
    "es": ("hay agentes de inmigración golpeando mi puerta ahora mismo", "ice_at_home"),
    "fr": ("l'immigration a arrêté mon mari ce matin, où est-il", "family_detained"),
    "pt": ("fui parado pela polícia no carro sem habilitação", "driving"),
    "zh": ("移民局的人在敲我家的门，我该怎么办", "ice_at_home"),
    "vi": ("di trú vừa bắt chồng tôi, tôi phải làm gì", "family_detained"),
    "ar": ("أوقفني شرطي في الشارع ماذا أفعل", "police_stop"),
}


# -- a call, step by step -------------------------------------------------------


class Call:
    """One phone call: a CallSid and a caller, posting signed webhooks to the step URLs TwiML names."""

    def __init__(self, client, phone: str):
        self.client = client
        self.phone = phone
        self.sid = "CA" + "".join(random.choice("0123456789abcdef") for _ in range(32))
        self.twiml: ET.Element | None = None

    def form(self, **fields) -> dict:
        return {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.phone, "To": "+15005550006",
                "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01", **fields}

    def post(self, path: str, **fields):
        form = self.form(**fields)
        response = self.client.post(path, data=form, headers={"X-Twilio-Signature": sign(form, path)})
        assert response.status_code == 200, response.data[:300]
        assert response.mimetype == "application/xml"
        self.twiml = parse(response.data)
        return response

    def start(self) -> ET.Element:
        self.post("/voice")
        return self.twiml

    def next_path(self, verb: str = "Gather") -> str:
        """Where Twilio posts next: the action of the first <Gather> (or <Dial>) of the last TwiML."""
        element = self.twiml.find(verb)
        assert element is not None, f"no <{verb}> in {ET.tostring(self.twiml)[:300]!r}"
        action = element.get("action")
        assert action.startswith(PUBLIC_URL + "/voice?"), action
        return action.removeprefix(PUBLIC_URL)

    def press(self, digits: str) -> ET.Element:
        self.post(self.next_path(), Digits=digits)
        return self.twiml

    def say(self, speech: str) -> ET.Element:
        self.post(self.next_path(), SpeechResult=speech, Confidence="0.91")
        return self.twiml

    def choose(self, lang: str) -> ET.Element:
        self.start()
        return self.press(str(SUPPORTED_LANGUAGES.index(lang) + 1))


def parse(xml: bytes) -> ET.Element:
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return root


def query(action: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(action).query).items()}


def says(element: ET.Element) -> list[str]:
    return [child.text or "" for child in element if child.tag == "Say"]


def plays(element: ET.Element) -> list[str]:
    return [child.text.removeprefix(PUBLIC_URL) for child in element if child.tag == "Play"]


def tags(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def content_of(app):
    return app.extensions["kyr"].content


def text(app, key: str, lang: str, **values) -> str:
    """A voice text as the line says it (phone numbers digit by digit)."""
    if key in ("system.voice_nobody", "system.voice_hotline") and not values:
        values = app.extensions["kyr"].engine.answers.routed_values(None, lang, urgent=True)
    return read_numbers(content_of(app).text(key, lang, values))


def check_voice_and_language(app, say: ET.Element, lang: str) -> None:
    language = voice_language(lang, app.extensions["kyr"].settings)
    assert (say.get("voice"), say.get("language")) == (language.voice, language.say_language)


def check_ends_with_hotline(app, root: ET.Element, lang: str) -> None:
    """The last words of every menu: the hotline, goodbye, and the call ends (never dead air)."""
    assert tags(root)[-3:] == ["Say", "Say", "Hangup"]
    assert says(root)[-2:] == [text(app, "system.voice_hotline", lang), text(app, "system.voice_goodbye", lang)]


def check_offered_twice(app, root: ET.Element, lang: str, keypad: str) -> list[ET.Element]:
    """A menu is a <Gather>, said once more after silence (same action), then the hotline."""
    gathers = root.findall("Gather")
    assert len(gathers) == 2
    assert gathers[0].get("action") == gathers[1].get("action")
    assert query(gathers[0].get("action"))["k"] == keypad
    assert says(gathers[1])[0] == text(app, "system.voice_silence", lang)
    check_ends_with_hotline(app, root, lang)
    return gathers


def spoken_answer(app, reply_text: str, lang: str) -> str:
    return for_the_ear((reply_text,), lang, content_of(app), (language_line(),)).text


@pytest.fixture
def call(client, phone):
    return Call(client, phone)


# -- the language menu ------------------------------------------------------------


def test_the_language_menu_speaks_each_option_in_its_own_language_and_voice(app, call):
    root = call.start()
    gathers = root.findall("Gather")
    assert [(g.get("input"), g.get("numDigits")) for g in gathers] == [("dtmf", "1")] * 2
    assert query(gathers[0].get("action"))["step"] == "language"
    options = list(gathers[0])
    assert len(options) == len(SUPPORTED_LANGUAGES)
    for digit, (option, lang) in enumerate(zip(options, SUPPORTED_LANGUAGES), start=1):
        if lang == "ht":  # no Twilio voice reads Kreyòl: a recording
            assert option.tag == "Play" and option.text == f"{PUBLIC_URL}/static/voice/ht/language_option.wav"
            continue
        assert option.tag == "Say"
        assert option.text == text(app, "system.voice_language_option", lang, digit=str(digit))
        check_voice_and_language(app, option, lang)
    assert says(gathers[1])[0] == text(app, "system.voice_silence", "en")
    check_ends_with_hotline(app, root, "en")


@pytest.mark.parametrize("lang", [code for code in SUPPORTED_LANGUAGES if code != "ht"])
def test_choosing_a_language_asks_for_the_question_in_it(app, call, lang):
    root = call.choose(lang)
    first = root[0]
    # A first contact also hears the welcome ("legal information, not legal advice").
    welcome = text(app, "system.welcome", lang)
    assert first.tag == "Say" and first.text == f"{text(app, 'system.language_changed', lang)} {welcome}"
    check_voice_and_language(app, first, lang)
    gathers = check_offered_twice(app, root, lang, "ask")
    language = voice_language(lang, app.extensions["kyr"].settings)
    gather = gathers[0]
    assert gather.get("input") == "speech dtmf"
    assert gather.get("language") == language.recognition
    assert gather.get("speechModel") == language.speech_model  # None (absent) for Chinese: Twilio chooses
    assert gather.get("speechTimeout") == "2"  # an integer: Twilio refuses "auto" with a speechModel
    assert says(gather) == [text(app, "system.voice_ask", lang)]
    assert query(gather.get("action"))["lang"] == lang


def test_haitian_creole_gets_the_keypad_topic_menu_from_recordings(app, call):
    root = call.choose("ht")
    assert plays(root)[0] == "/static/voice/ht/language_changed.wav"
    gathers = root.findall("Gather")
    assert len(gathers) == 2 and all(g.get("input") == "dtmf" for g in gathers)
    assert plays(gathers[0]) == ["/static/voice/ht/menu.wav"]
    assert plays(gathers[1]) == ["/static/voice/ht/silence.wav", "/static/voice/ht/menu.wav"]
    assert plays(root)[-2:] == ["/static/voice/ht/hotline.wav", "/static/voice/ht/goodbye.wav"]
    assert not root.findall(".//Say"), "no Twilio voice reads Kreyòl"
    # 3 = the jail group: its own recorded sub-menu; then 1 = its first topic, sent by text.
    root = call.press("3")
    assert plays(root.find("Gather")) == ["/static/voice/ht/menu-jail.wav"]
    root = call.press("1")
    assert plays(root)[0] == "/static/voice/ht/text_failed.wav"  # no outbound queue configured here
    assert plays(root)[1] == "/static/voice/ht/hotline.wav"
    assert plays(root.find("Gather")) == ["/static/voice/ht/menu.wav"]


def test_arabic_is_heard_with_the_configured_regional_tag(make_app, phone):
    app = make_app(VOICE_ARABIC_LANGUAGE="ar-SA")
    root = Call(app.test_client(), phone).choose("ar")
    assert root.find("Gather").get("language") == "ar-SA"


def test_a_key_that_is_no_language_repeats_the_menu_and_changes_nothing(app, call, redis_client):
    call.start()
    root = call.press("9")
    assert query(root.find("Gather").get("action"))["step"] == "language"
    assert len(root.find("Gather")) == len(SUPPORTED_LANGUAGES)
    assert session_turns(redis_client, call.phone) == 0


def test_every_recording_the_line_plays_exists_at_telephone_quality(app):
    folder = ROOT / "bot" / "static" / "voice" / "ht"
    for name in recording_names(content_of(app)):
        with wave.open(str(folder / f"{name}.wav")) as recording:
            assert (recording.getframerate(), recording.getnchannels(), recording.getsampwidth()) == (8000, 1, 2)
            assert recording.getnframes() > 8000 * 0.5, f"{name}.wav is under half a second"
    assert app.test_client().get("/static/voice/ht/menu.wav").status_code == 200


# -- questions out loud -----------------------------------------------------------


@pytest.mark.parametrize("lang", list(SPOKEN))
def test_a_spoken_question_is_answered_on_topic_for_the_ear(app, call, lang):
    question, topic = SPOKEN[lang]
    call.choose(lang)
    root = call.say(question)
    engine = app.extensions["kyr"].engine
    answer = root[0]
    assert answer.tag == "Say"
    check_voice_and_language(app, answer, lang)
    assert answer.text == spoken_answer(app, engine.answers.first_reply(topic, None, lang), lang)
    assert "http" not in answer.text and "MORE" not in answer.text
    if engine.answers.names_local_help(topic):  # the text asks for a ZIP by text; the call asks to say it
        assert root[1].tag == "Say" and root[1].text == text(app, "system.voice_ask_zip", lang)
    gathers = check_offered_twice(app, root, lang, "answer")
    assert query(gathers[0].get("action"))["t"] == topic
    assert says(gathers[0]) == [text(app, "system.voice_after_answer", lang)]


def test_a_spoken_zip_code_gives_the_local_answer(app, call):
    call.choose("en")
    call.say(SPOKEN["en"][0])  # detainer: better with local help
    root = call.say("6 0 6 2 3")
    engine = app.extensions["kyr"].engine
    place = engine.resolver.from_zip("60623")
    expected = f"{content_of(app).text('system.location_thanks', 'en', {'place': place.label()})}\n" \
               f"{engine.answers.first_reply('detainer', place, 'en')}"
    assert says(root)[0] == spoken_answer(app, expected, "en")
    assert query(root.find("Gather").get("action"))["t"] == "detainer"


def test_after_an_answer_1_tells_more(app, call):
    call.choose("en")
    call.say(SPOKEN["en"][0])
    root = call.press("1")
    engine = app.extensions["kyr"].engine
    assert says(root)[0] == spoken_answer(app, engine.answers.more_reply("detainer", None, "en"), "en")
    check_offered_twice(app, root, "en", "answer")


def test_after_an_answer_2_texts_it_with_its_links_through_the_outbound_queue(make_app, phone, redis_url):
    app = make_app(ENCRYPTION_KEY=KEY)
    queue = Queue("kyr-outbound", connection=redis.Redis.from_url(redis_url))
    queue.empty()
    call = Call(app.test_client(), phone)
    call.choose("es")
    call.say(SPOKEN["es"][0])
    root = call.press("2")
    assert says(root)[0] == text(app, "system.voice_texted", "es")
    check_offered_twice(app, root, "es", "answer")
    assert queue.count == 1
    job = queue.jobs[0]
    fernet = Fernet(KEY.encode())
    assert fernet.decrypt(job.args[0].encode()).decode() == phone
    body = fernet.decrypt(job.args[1].encode()).decode()
    answers = app.extensions["kyr"].engine.answers
    first = content_of(app).text("ice_at_home.first", "es", answers.routed_values(None, "es", urgent=True))
    # The whole answer with its number and review date, as a text (not the spoken summary).
    assert body == sms_text(f"{first}\n{answers.more_reply('ice_at_home', None, 'es')}", "es")
    queue.empty()


def test_no_text_goes_to_a_caller_who_texted_stop(make_app, phone, redis_url):
    app = make_app(ENCRYPTION_KEY=KEY)
    client = app.test_client()
    form = {"MessageSid": "SM" + "".join(random.choice("0123456789abcdef") for _ in range(32)),
            "AccountSid": "AC" + "0" * 32, "From": phone, "To": "+15005550006", "Body": "STOP", "NumMedia": "0"}
    assert client.post("/sms", data=form, headers={"X-Twilio-Signature": sign(form, "/sms")}).status_code == 200
    queue = Queue("kyr-outbound", connection=redis.Redis.from_url(redis_url))
    queue.empty()
    call = Call(client, phone)
    call.choose("en")
    call.say(SPOKEN["en"][0])
    root = call.press("2")
    assert says(root)[0] == text(app, "system.voice_text_failed", "en")
    assert queue.count == 0


def test_texting_without_an_outbound_queue_says_so(app, call):
    call.choose("en")
    call.say(SPOKEN["en"][0])
    root = call.press("2")
    assert says(root)[0] == text(app, "system.voice_text_failed", "en")


def test_9_reads_the_topic_menu_and_keys_walk_it_like_texted_numbers(app, call):
    content = content_of(app)
    call.choose("fr")
    root = call.press("9")
    gathers = check_offered_twice(app, root, "fr", "topics")
    labels = [content.menu_label(item, "fr") for item in content.menu]
    spoken = says(gathers[0])
    assert spoken[0] == " ".join(text(app, "system.voice_menu_item", "fr", label=label, digit=str(n))
                                 for n, label in enumerate(labels, start=1))
    assert spoken[1] == text(app, "system.voice_menu_end", "fr")
    root = call.press(str(content.menu.index("group:jail") + 1))
    items = content.menu_groups["group:jail"]
    assert says(root.find("Gather"))[0] == " ".join([f"{content.menu_label('group:jail', 'fr')}."] + [
        text(app, "system.voice_menu_item", "fr", label=content.menu_label(item, "fr"), digit=str(n))
        for n, item in enumerate(items, start=1)])
    root = call.press("1")
    engine = app.extensions["kyr"].engine
    assert says(root)[0] == spoken_answer(app, engine.answers.first_reply("detainer", None, "fr"), "fr")


def test_rasa_down_means_the_keypad_topic_menu(make_app, phone, dead_url):
    app = make_app(RASA_URL=dead_url)
    call = Call(app.test_client(), phone)
    call.choose("en")
    root = call.say("blue bicycle on a sunny afternoon")
    assert says(root)[0] == text(app, "system.voice_keypad_only", "en")
    gathers = check_offered_twice(app, root, "en", "topics")
    assert all(g.get("input") == "dtmf" and g.get("language") is None for g in gathers), "keys only"
    root = call.press("1")  # the keypad still works: topic 1
    assert query(root.find("Gather").get("action"))["t"] == content_of(app).menu[0]


def test_a_stalled_rasa_still_answers_the_caller_well_inside_twilios_15_seconds(make_app, phone, stalled_url):  # noqa: F811
    app = make_app(RASA_URL=stalled_url)
    call = Call(app.test_client(), phone)
    call.choose("en")
    started = time.monotonic()
    root = call.say("blue bicycle on a sunny afternoon")
    assert time.monotonic() - started < 2.0
    assert says(root)[0] == text(app, "system.voice_keypad_only", "en")


def test_with_redis_down_the_call_still_goes_on(make_app, phone):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    call = Call(app.test_client(), phone)
    call.choose("en")
    started = time.monotonic()
    root = call.say(SPOKEN["en"][0])
    assert time.monotonic() - started < 2.0
    assert query(root.find("Gather").get("action"))["t"] == "detainer"


def test_silence_hears_the_prompt_once_more_then_the_hotline(app, call, redis_client):
    root = call.choose("pt")
    gathers = check_offered_twice(app, root, "pt", "ask")
    assert says(gathers[1]) == [text(app, "system.voice_silence", "pt"), text(app, "system.voice_ask", "pt")]
    # A request with neither speech nor keys (a stray retry) asks again and changes nothing.
    turns = session_turns(redis_client, call.phone)
    call.post(call.next_path())
    assert says(call.twiml.find("Gather")) == [text(app, "system.voice_ask", "pt")]
    assert session_turns(redis_client, call.phone) == turns


def test_an_error_reads_the_hotline_and_ends_the_call_politely(app, call, monkeypatch):
    call.choose("vi")

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(app.extensions["kyr"].engine, "handle", broken)
    root = call.say("xin chào")
    assert tags(root) == ["Say", "Say", "Say", "Hangup"]
    assert says(root) == [text(app, "system.voice_error", "vi"), text(app, "system.voice_hotline", "vi"),
                          text(app, "system.voice_goodbye", "vi")]


def test_a_retried_step_replays_its_twiml_and_counts_once(app, call, redis_client):
    call.choose("es")
    path = call.next_path()
    first = call.post(path, SpeechResult=SPOKEN["es"][0]).data
    again = call.post(path, SpeechResult=SPOKEN["es"][0]).data
    assert first == again
    assert session_turns(redis_client, call.phone) == 2  # the language choice and the question, once each
    # The same URL in another call is another step.
    other = Call(call.client, call.phone)
    other.sid = other.sid[:-1] + ("0" if other.sid[-1] != "0" else "1")
    other.post(path, SpeechResult=SPOKEN["es"][0])
    assert session_turns(redis_client, call.phone) == 3


def test_concurrent_retries_of_a_step_are_answered_alike_and_counted_once(live_server, phone, redis_client):
    form = Call(None, phone).form(SpeechResult=SPOKEN["en"][0])
    path = "/voice?step=input&lang=en&n=2&k=ask"
    headers = {"X-Twilio-Signature": sign(form, path)}

    def deliver(_):
        return requests.post(live_server + path, data=form, headers=headers, timeout=15)

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(deliver, range(6)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert query(parse(responses[0].content).find("Gather").get("action"))["t"] == "detainer"
    assert session_turns(redis_client, phone) == 1


def test_unsigned_and_unconfigured_requests_are_refused(make_app, call):
    form = call.form()
    assert call.client.post("/voice", data=form).status_code == 403
    app = make_app(TWILIO_AUTH_TOKEN=None)
    assert app.test_client().post("/voice", data=form, headers={"X-Twilio-Signature": sign(form, "/voice")}) \
        .status_code == 503


def test_nothing_the_caller_says_and_not_their_number_reaches_the_logs(app, call, caplog):
    caplog.set_level(logging.DEBUG)
    call.choose("en")
    call.say(SPOKEN["en"][0])
    call.press("1")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert SPOKEN["en"][0] not in logged and "placed a hold" not in logged
    assert call.phone not in logged and call.phone[2:] not in logged


# -- a person -----------------------------------------------------------------------


@pytest.fixture
def staffed(make_app, handoff_url):  # noqa: F811
    return make_app(REDIS_URL=handoff_url, **STAFF_ENV)


def closed_now() -> str:
    """STAFF_HOURS that are closed right now: one hour on a day three days away."""
    return f"{DAYS[(datetime.datetime.now(datetime.timezone.utc).weekday() + 3) % 7].title()} 10:00-11:00"


def test_0_dials_the_staff_number_for_the_language_with_a_timeout(staffed, phone):
    call = Call(staffed.test_client(), phone)
    call.choose("es")
    root = call.press("0")
    assert tags(root) == ["Say", "Dial"]
    assert says(root) == [text(staffed, "system.voice_connecting", "es")]
    dial = root.find("Dial")
    assert dial.get("timeout") == "15"
    assert dial.get("callerId") == LINE, "staff phones show the line's number, not the caller's"
    assert [n.text for n in dial.findall("Number")] == [STAFF["es"]]
    assert query(dial.get("action"))["step"] == "dialed"


def test_asking_out_loud_for_a_person_dials_too(staffed, phone):
    call = Call(staffed.test_client(), phone)
    call.choose("en")
    root = call.say("can I speak with somebody from your team")
    assert tags(root) == ["Say", "Dial"] and root.find("Dial/Number").text == STAFF["en"]


def test_kreyol_callers_reach_kreyol_staff_with_recorded_prompts(staffed, phone):
    call = Call(staffed.test_client(), phone)
    call.choose("ht")
    root = call.press("0")
    assert tags(root) == ["Play", "Dial"]
    assert plays(root) == ["/static/voice/ht/connecting.wav"]
    assert root.find("Dial/Number").text == STAFF["ht"]
    call.post(call.next_path("Dial"), DialCallStatus="no-answer")
    assert plays(call.twiml)[0] == "/static/voice/ht/nobody.wav"
    assert plays(call.twiml.find("Gather")) == ["/static/voice/ht/callback_offer.wav"]


def test_staff_who_answered_end_the_call_with_goodbye(staffed, phone):
    call = Call(staffed.test_client(), phone)
    call.choose("en")
    call.press("0")
    call.post(call.next_path("Dial"), DialCallStatus="completed")
    root = call.twiml
    assert tags(root) == ["Say", "Hangup"]
    assert says(root) == [text(staffed, "system.voice_goodbye", "en")]


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
def test_nobody_answering_gives_the_hotline_and_a_callback_request_in_the_queue(staffed, phone, status):
    client = staffed.test_client()
    call = Call(client, phone)
    call.choose("en")
    call.say(SPOKEN["en"][0])  # detainer
    call.press("0")
    call.post(call.next_path("Dial"), DialCallStatus=status)
    root = call.twiml
    assert says(root)[0] == text(staffed, "system.voice_nobody", "en")
    gathers = check_offered_twice(staffed, root, "en", "answer")
    assert gathers[0].get("input") == "dtmf"
    assert query(gathers[0].get("action"))["step"] == "callback"
    assert says(gathers[0]) == [text(staffed, "system.voice_callback_offer", "en")]
    root = call.press("1")
    assert says(root) == [text(staffed, "system.voice_callback_done", "en"), text(staffed, "system.voice_goodbye", "en")]
    assert tags(root)[-1] == "Hangup"
    desk = staffed.extensions["kyr"].engine.handoff.desk
    [handoff] = desk.queue()
    assert (handoff.channel, handoff.lang, handoff.topic, handoff.reason) == ("voice", "en", "detainer", "callback")
    assert handoff.sender == sender_from_twilio(phone, ID_HASH_KEY, "US").key
    assert desk.records.address(handoff) == phone  # kept encrypted, for a staff reply by text
    # Staff see it in the console queue: a voice caller, language and topic, the number masked.
    make_staff(staffed, "ana", languages=("en",))
    log_in(client, "ana")
    page = client.get("/console/").get_data(as_text=True)
    assert "VOICE" in page and content_of(staffed).menu_label("detainer", "en") in page
    assert phone[2:] not in page


def test_outside_staff_hours_0_gives_the_hotline_and_the_callback_request(make_app, handoff_url, phone):  # noqa: F811
    app = make_app(REDIS_URL=handoff_url, **{**STAFF_ENV, "STAFF_HOURS": closed_now()})
    call = Call(app.test_client(), phone)
    call.choose("es")
    root = call.press("0")
    assert root.find("Dial") is None
    assert says(root)[0] == text(app, "system.voice_nobody", "es")
    call.press("1")
    desk = app.extensions["kyr"].engine.handoff.desk
    [handoff] = desk.queue()
    assert (handoff.channel, handoff.lang, handoff.topic) == ("voice", "es", "none")
    # A callback request waits through closed hours and quiet hours (no idle return)...
    assert desk.sweep() == 0 and desk.queue() == [handoff]
    assert desk.sweep(now=time.time() + 3 * 3600) == 0 and [h.id for h in desk.queue()] == [handoff.id]
    # ...for as long as a transcript is kept, then it ends like any unanswered request.
    assert desk.sweep(now=time.time() + 24 * 3600 + 60) == 1 and desk.queue() == []


def test_an_urgent_topic_during_hours_is_answered_then_dialed(staffed, phone):
    call = Call(staffed.test_client(), phone)
    call.choose("es")
    root = call.say(SPOKEN["es"][0])  # ICE at the door
    assert tags(root) == ["Say", "Say", "Dial"]
    assert says(root)[1] == text(staffed, "system.voice_connecting", "es")
    assert root.find("Dial/Number").text == STAFF["es"]


def test_without_handoff_0_gives_the_hotline_and_no_callback_offer(app, call):
    call.choose("en")
    root = call.press("0")
    assert tags(root) == ["Say", "Say", "Hangup"]
    assert says(root) == [text(app, "system.voice_nobody", "en"), text(app, "system.voice_goodbye", "en")]


# -- settings and words for the ear ----------------------------------------------------


@pytest.mark.parametrize("env, message", [
    ({"VOICE_STAFF_NUMBERS": "en:555"}, "no valid phone number"),
    ({"VOICE_STAFF_NUMBERS": "xx:+13125550100"}, "unknown language"),
    ({"VOICE_DIAL_TIMEOUT": "2"}, "between 5 and 600"),
    ({"VOICE_ARABIC_LANGUAGE": "ar"}, "VOICE_ARABIC_LANGUAGE must be one of"),
])
def test_voice_settings_are_checked_at_start(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_staff_numbers_are_read_as_e164():
    settings = load_settings({"VOICE_STAFF_NUMBERS": "en:(312) 555-0100, es:+1 312 555 0101"})
    assert settings.voice_staff_numbers == {"en": "+13125550100", "es": "+13125550101"}


def test_answers_are_rewritten_for_the_ear(app):
    content = content_of(app)
    spoken = for_the_ear(("Call CHIRLA 888-624-4752 or 911. Details: https://example.org/kyr and ilrc.org/red-cards.",
                          content.text("system.more_footer", "en")), "en", content)
    assert spoken.text == "Call CHIRLA 8 8 8, 6 2 4, 4 7 5 2 or 9 1 1. Details: and."
    assert spoken.had_links and not spoken.is_menu
    legal = for_the_ear((content.text("system.other_legal", "es"),), "es", content).text
    assert "MENU" not in legal and legal.startswith(content.text("system.other_legal", "es").split(".")[0])
    # Chinese has no space after a link: the sentence after it is still said; a dangling colon is not.
    chinese = for_the_ear(("免费法律帮助：justice.gov/eoir/list-pro-bono。请带上您的证件。",), "zh", content)
    assert chinese.text == "免费法律帮助。请带上您的证件。" and chinese.had_links
    menu = for_the_ear((content.menu_text("en"),), "en", content)
    assert menu.is_menu and menu.text.startswith(content.text("system.voice_menu_item", "en", {
        "label": content.menu_label(content.menu[0], "en"), "digit": "1"}))


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_sentences_naming_a_word_to_text_are_not_read_out(app, lang):
    """"Reply MENU…" in capitals, "回复“菜单”…" and "أرسل «قائمة»…" in quotation marks: none is read out."""
    content = content_of(app)
    written = content.text("system.other_legal", lang)
    spoken = for_the_ear((written,), lang, content).text
    first_sentence = re.split(r"(?<=[.!?。！？])", written)[0].strip()
    assert spoken.startswith(first_sentence[:12])
    assert len(spoken) < len(written)
    for word in ("MENU", "MENÚ", "菜单", "قائمة", "MENI"):
        assert word not in spoken, (lang, spoken)


def test_readme_documents_every_voice_setting():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in ("VOICE_STAFF_NUMBERS", "VOICE_DIAL_TIMEOUT", "VOICE_ARABIC_LANGUAGE"):
        assert name in readme and name in example, name


def test_the_prompt_script_makes_exactly_the_files_the_line_plays(app):
    folder = Path(ROOT / "bot" / "static" / "voice" / "ht")
    assert sorted(p.stem for p in folder.glob("*.wav")) == sorted(recording_names(content_of(app)))


def test_a_call_leaves_nothing_the_retention_audit_objects_to(make_app, audit_url, clean_db, phone):  # noqa: F811
    """Every key a call writes expires; the stored TwiML names only public and staff numbers."""
    app = make_app(REDIS_URL=audit_url, **STAFF_ENV)
    call = Call(app.test_client(), phone)
    call.choose("en")
    call.say(SPOKEN["en"][0])
    call.press("1")
    call.press("0")
    call.post(call.next_path("Dial"), DialCallStatus="no-answer")
    call.press("1")
    result = app.test_cli_runner().invoke(args=["audit-data"])
    assert result.exit_code == 0, result.output


def test_while_staff_hold_the_callers_texts_the_line_says_so(staffed, phone):
    client = staffed.test_client()
    form = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": phone, "To": "+15005550006",
            "Body": "quiero hablar con una persona", "NumMedia": "0"}
    assert client.post("/sms", data=form, headers={"X-Twilio-Signature": sign(form, "/sms")}).status_code == 200
    desk = staffed.extensions["kyr"].engine.handoff.desk
    [handoff] = desk.queue()
    assert desk.claim(handoff.id, "ana")
    call = Call(client, phone)
    call.choose("es")
    root = call.say(SPOKEN["es"][0])
    assert says(root)[0] == text(staffed, "system.voice_staff_texting", "es")
    check_offered_twice(staffed, root, "es", "ask")


def test_a_call_in_the_terminal_follows_the_same_steps(app, redis_client):
    """``flask voice call``: signed steps to /voice, spoken text printed, typed keys and words sent back."""
    result = app.test_cli_runner().invoke(args=["voice", "call", "--caller", "+13125550177"],
                                          input=f"1\n{SPOKEN['en'][0]}\n\n\n")
    assert result.exit_code == 0, result.output
    engine = app.extensions["kyr"].engine
    lines = [line.strip() for line in result.output.splitlines()]
    answer = spoken_answer(app, engine.answers.first_reply("detainer", None, "en"), "en")
    assert any(line.endswith(f"[en-US] {answer}") for line in lines)
    assert lines[-1] == "[the line hangs up]"
    assert session_turns(redis_client, "+13125550177") >= 2
