"""Floods get one polite notice, shared across workers; oversized requests are refused."""

from bot.language.segments import sms_text
from tests.conftest import post_signed, sms_form, twiml_messages


def test_flood_gets_one_notice_then_silence(make_app, phone):
    app = make_app(RATE_LIMIT_PER_MINUTE="3")
    client = app.test_client()
    replies = [twiml_messages(post_signed(client, sms_form(phone, "bail?")).data) for _ in range(6)]
    assert all(replies[i] for i in range(3)), "messages within the limit are answered"
    notice = sms_text(app.extensions["kyr"].content.text("system.rate_limited", "en"), "en")
    assert replies[3] == [notice]
    assert replies[4] == [] and replies[5] == []


def test_limit_is_shared_across_app_instances(make_app, phone):
    first, second = make_app(RATE_LIMIT_PER_MINUTE="2"), make_app(RATE_LIMIT_PER_MINUTE="2")
    post_signed(first.test_client(), sms_form(phone, "hello"))
    post_signed(second.test_client(), sms_form(phone, "bail"))
    third = twiml_messages(post_signed(first.test_client(), sms_form(phone, "more")).data)
    notice = sms_text(first.extensions["kyr"].content.text("system.rate_limited", "en"), "en")
    assert third == [notice]


def test_other_senders_are_not_affected(make_app, phone):
    app = make_app(RATE_LIMIT_PER_MINUTE="1")
    client = app.test_client()
    post_signed(client, sms_form(phone, "hello"))
    other = "+13125559876" if phone != "+13125559876" else "+13125559875"
    assert twiml_messages(post_signed(client, sms_form(other, "hello")).data)


def test_oversized_sms_request_is_refused(client, phone):
    form = sms_form(phone, "x" * 70_000)
    assert post_signed(client, form).status_code == 413
