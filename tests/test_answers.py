"""Real questions through /sms and the real trained Rasa model get the right answers."""

import re

import pytest

from bot.language.segments import sms_text
from tests.conftest import post_signed, sms_form, twiml_messages


def answer(client, phone, body):
    response = post_signed(client, sms_form(phone, body))
    assert response.status_code == 200
    return twiml_messages(response.data)


def expected_start(app, key, lang):
    content = app.extensions["kyr"].content
    return sms_text(content.text(key, lang), lang)[:60]


@pytest.mark.parametrize(
    ("body", "topic", "lang"),
    [
        ("my brother is in county jail and they said ICE put a hold on him", "detainer", "en"),
        ("should we pay bail for my son, they arrested him yesterday", "bail", "en"),
        ("can the police question my son at school", "school_police", "en"),
        ("a mi hermano le pusieron un hold de migracion en la carcel, que significa", "detainer", "es"),
        ("debemos pagar la fianza de mi esposo que esta en la carcel del condado?", "bail", "es"),
        ("la policia puede interrogar a mi hijo en la escuela?", "school_police", "es"),
    ],
)
def test_topic_answers_in_the_persons_language(app, client, phone, body, topic, lang):
    messages = answer(client, phone, body)
    assert messages[0].startswith(expected_start(app, f"{topic}.first", lang))


def test_ice_at_the_door_puts_the_hotline_first(app, client, phone):
    messages = answer(client, phone, "ICE is at my door right now what do i do")
    hotline = app.extensions["kyr"].content.placeholders["hotline"]
    first_sentence = re.split(r"[.!?]\s", messages[0], maxsplit=1)[0]
    assert hotline in first_sentence
    assert messages[0].startswith(expected_start(app, "ice_at_home.first", "en"))


def test_report_ice_activity_puts_the_hotline_first(app, client, phone):
    messages = answer(client, phone, "there is an ICE raid happening on my street right now")
    hotline = app.extensions["kyr"].content.placeholders["hotline"]
    first_sentence = re.split(r"[.!?]\s", messages[0], maxsplit=1)[0]
    assert hotline in first_sentence


def test_more_gives_the_follow_up_of_the_last_topic(app, client, phone):
    answer(client, phone, "my brother is in county jail and they said ICE put a hold on him")
    more = answer(client, phone, "MORE")
    assert more[0].startswith(expected_start(app, "detainer.more", "en"))


def test_spanish_more_is_mas(app, client, phone):
    answer(client, phone, "a mi hermano le pusieron un hold de migracion en la carcel")
    more = answer(client, phone, "MAS")
    assert more[0].startswith(expected_start(app, "detainer.more", "es"))


def test_first_contact_adds_the_disclaimer_once(app, client, phone):
    content = app.extensions["kyr"].content
    from bot.conversation.engine import language_line

    first = answer(client, phone, "hello")
    assert first[-1] == sms_text(content.text("system.welcome", "en") + "\n" + language_line(), "en")
    second = answer(client, phone, "can the police question my son at school")
    assert len(second) == 1


def test_low_confidence_gets_a_numbered_menu_not_a_guess(app, client, phone):
    messages = answer(client, phone, "the purple elephant sings at noon")
    engine = app.extensions["kyr"].engine
    assert engine.menu_text("en").split("\n")[1] in messages[0]


def test_menu_number_picks_the_topic(app, client, phone):
    answer(client, phone, "MENU")
    content = app.extensions["kyr"].content
    messages = answer(client, phone, "2")
    assert messages[0].startswith(expected_start(app, f"{content.menu[1]}.first", "en"))


def test_language_switch_by_word_persists(app, client, phone):
    answer(client, phone, "hello")
    switched = answer(client, phone, "español")
    content = app.extensions["kyr"].content
    assert switched[0].startswith(sms_text(content.text("system.language_changed", "es"), "es"))
    # A short, language-neutral message keeps Spanish.
    answer(client, phone, "ok")
    menu = answer(client, phone, "MENU")
    assert menu[0] == sms_text(app.extensions["kyr"].engine.menu_text("es"), "es")


def test_short_message_does_not_flip_language(app, client, phone):
    answer(client, phone, "a mi hermano le pusieron un hold de migracion en la carcel")
    answer(client, phone, "ok")
    topic = answer(client, phone, "1")
    first_item = app.extensions["kyr"].content.menu[0]
    assert topic[0].startswith(expected_start(app, f"{first_item}.first", "es"))


def test_delete_data_erases_the_session(app, client, phone, redis_client):
    from bot.clients.identity import sender_from_twilio
    from tests.conftest import ID_HASH_KEY

    answer(client, phone, "my brother has an ice hold")
    key = "kyr:session:" + sender_from_twilio(phone, ID_HASH_KEY, "US").key
    assert redis_client.exists(key)
    messages = answer(client, phone, "DELETE")
    assert not redis_client.exists(key)
    assert messages[0] == sms_text(app.extensions["kyr"].content.text("system.delete_done", "en"), "en")


def test_handoff_is_answered_honestly_with_the_hotline(app, client, phone):
    messages = answer(client, phone, "i want to talk to a real person please")
    hotline = app.extensions["kyr"].content.placeholders["hotline"]
    assert hotline in messages[0]


def test_location_entities_are_extracted(app):
    nlu = app.extensions["kyr"].nlu
    result = nlu.parse("i live in 60623")
    assert result.intent == "give_location"
    assert ("zip", "60623") in {(e.name, e.value) for e in result.entities}
    result = nlu.parse("im in Houston Texas")
    names = {e.name for e in result.entities}
    assert result.intent == "give_location" and {"city", "state"} <= names


def test_language_menu_by_number(app, client, phone):
    from bot.language.languages import SUPPORTED_LANGUAGES

    answer(client, phone, "hello")
    menu = answer(client, phone, "LANGUAGE")
    assert "2 Español" in menu[0]
    switched = answer(client, phone, str(SUPPORTED_LANGUAGES.index("es") + 1))
    content = app.extensions["kyr"].content
    assert switched[0].startswith(sms_text(content.text("system.language_changed", "es"), "es"))
    # The number only meant a language right after the language menu.
    topic = answer(client, phone, "1")
    assert topic[0].startswith(expected_start(app, f"{content.menu[0]}.first", "es"))


def test_a_menu_label_picks_its_topic(app, client, phone):
    messages = answer(client, phone, "'Fix an old conviction'")
    assert messages[0].startswith(expected_start(app, "fix_old_conviction.first", "en"))
