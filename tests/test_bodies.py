"""Odd bodies get a clear answer and leave state intact."""

from bot.language.segments import sms_text
from tests.conftest import post_signed, sms_form, twiml_messages


def test_empty_body_gets_the_menu(app, client, phone):
    response = post_signed(client, sms_form(phone, ""))
    assert response.status_code == 200
    content = app.extensions["kyr"].content
    assert twiml_messages(response.data)[0].startswith(sms_text(content.text("system.empty_message", "en"), "en"))


def test_emoji_only_body_gets_the_menu(app, client, phone):
    response = post_signed(client, sms_form(phone, "🙏🙏😢"))
    assert response.status_code == 200
    content = app.extensions["kyr"].content
    assert twiml_messages(response.data)[0].startswith(sms_text(content.text("system.empty_message", "en"), "en"))


def test_question_with_emoji_is_understood(app, client, phone):
    response = post_signed(client, sms_form(phone, "😢 my brother has an ICE hold at the jail 🙏"))
    content = app.extensions["kyr"].content
    assert twiml_messages(response.data)[0].startswith(sms_text(content.text("detainer.first", "en"), "en")[:60])


def test_1600_character_body_is_answered(client, phone):
    body = ("my brother is in jail with an ice hold and we do not know what to do " * 30)[:1600]
    response = post_signed(client, sms_form(phone, body))
    assert response.status_code == 200
    assert twiml_messages(response.data)


def test_longer_than_twilio_allows_is_still_answered(client, phone):
    response = post_signed(client, sms_form(phone, "a" * 5000))
    assert response.status_code == 200
    assert twiml_messages(response.data)


def test_control_characters_and_markup_are_harmless(client, phone):
    response = post_signed(client, sms_form(phone, "<Response><Redirect>x</Redirect>\x00\x07 bail?"))
    assert response.status_code == 200
    messages = twiml_messages(response.data)  # well-formed TwiML, only <Message> children
    assert messages


def test_state_survives_a_bad_message(app, client, phone):
    post_signed(client, sms_form(phone, "a mi hermano le pusieron un hold de migracion en la carcel"))
    post_signed(client, sms_form(phone, "\x00\x01"))
    response = post_signed(client, sms_form(phone, "MAS"))
    content = app.extensions["kyr"].content
    assert twiml_messages(response.data)[0].startswith(sms_text(content.text("detainer.more", "es"), "es")[:60])
