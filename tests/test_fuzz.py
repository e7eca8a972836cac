"""Hostile input never causes a 5xx and never corrupts stored state (property tests)."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clients.identity import sender_from_twilio
from tests.conftest import ID_HASH_KEY, sign, sms_form, twiml_messages

INJECTIONS = [
    "'; DROP TABLE users; --", "<script>alert(1)</script>", "]]><Redirect>http://x</Redirect>",
    "{hotline}", "{0.__class__}", "%s%s%n", "\x00\x1b[31m", "../../etc/passwd", "${jndi:ldap://x}",
    "\u202e\u2066", "A" * 10_000, "🙏" * 500, "KEYS *\r\nFLUSHALL\r\n",
]
text = st.one_of(st.text(max_size=2000), st.sampled_from(INJECTIONS), st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=50))
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(body=text, extra=st.dictionaries(st.text(min_size=1, max_size=20), text, max_size=4))
def test_sms_form_never_5xx_and_state_survives(app, redis_client, body, extra):
    client = app.test_client()
    phone = "+13125550142"
    key = "kyr:session:" + sender_from_twilio(phone, ID_HASH_KEY, "US").key
    form = sms_form(phone, body)
    form.update({k: v for k, v in extra.items() if k not in form})
    response = client.post("/sms", data=form, headers={"X-Twilio-Signature": sign(form)})
    assert response.status_code < 500
    if response.status_code == 200:
        twiml_messages(response.data)  # well-formed TwiML with only <Message> children
    raw = redis_client.get(key)
    if raw is not None:
        session = json.loads(raw)
        assert session["v"] == 1 and isinstance(session.get("turns"), int)


@FUZZ
@given(payload=st.one_of(
    st.dictionaries(st.text(max_size=10), st.one_of(text, st.integers(), st.none(), st.lists(st.integers(), max_size=3)), max_size=4),
    st.builds(lambda m, s: {"message": m, "session": s}, text, st.one_of(st.none(), text)),
    text,
))
def test_chat_api_never_5xx(app, payload):
    client = app.test_client()
    response = client.post("/api/chat", data=json.dumps(payload), content_type="application/json")
    assert response.status_code < 500
    assert response.is_json


@FUZZ
@given(raw=st.binary(max_size=3000))
def test_raw_bytes_never_5xx(app, raw):
    client = app.test_client()
    assert client.post("/api/chat", data=raw, content_type="application/json").status_code < 500
    assert client.post("/sms", data=raw, content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": "x"}).status_code < 500


def test_duplicate_fields_are_signed_and_handled(client):
    form = [("From", "+13125550143"), ("Body", "bail"), ("Body", "hold"), ("MessageSid", "SM" + "1" * 32)]
    from twilio.request_validator import RequestValidator
    from werkzeug.datastructures import MultiDict

    from tests.conftest import AUTH_TOKEN, PUBLIC_URL

    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms", MultiDict(form))
    response = client.post("/sms", data=MultiDict(form), headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert twiml_messages(response.data)
