"""POST /sms accepts only requests Twilio signed with our auth token."""

from tests.conftest import AUTH_TOKEN, PUBLIC_URL, post_signed, session_key_count, sign, sms_form, twiml_messages


def test_signed_request_gets_twiml_reply(client, phone):
    response = post_signed(client, sms_form(phone, "hello"))
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert twiml_messages(response.data)


def test_missing_signature_is_rejected_without_side_effect(client, phone, redis_client):
    before = session_key_count(redis_client)
    response = client.post("/sms", data=sms_form(phone, "hello"))
    assert response.status_code == 403
    assert session_key_count(redis_client) == before


def test_signature_with_wrong_token_is_rejected(client, phone, redis_client):
    before = session_key_count(redis_client)
    response = post_signed(client, sms_form(phone, "hello"), token="not-the-token")
    assert response.status_code == 403
    assert session_key_count(redis_client) == before


def test_tampered_body_is_rejected(client, phone, redis_client):
    form = sms_form(phone, "hello")
    signature = sign(form)
    form["Body"] = "something else"
    before = session_key_count(redis_client)
    response = client.post("/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert session_key_count(redis_client) == before


def test_signature_for_another_url_is_rejected(client, phone):
    form = sms_form(phone, "hello")
    response = post_signed(client, form, base="https://evil.example.com")
    assert response.status_code == 403


def test_validates_against_public_url_not_the_local_host(client, phone):
    # The test client calls http://localhost/sms; Twilio signed https://bot.example.org/sms.
    response = post_signed(client, sms_form(phone, "hello"), base=PUBLIC_URL)
    assert response.status_code == 200


def test_query_string_is_part_of_the_signed_url(client, phone):
    form = sms_form(phone, "hello")
    signature = sign(form, path="/sms?campaign=1")
    ok = client.post("/sms?campaign=1", data=form, headers={"X-Twilio-Signature": signature})
    assert ok.status_code == 200
    form2 = sms_form(phone, "hello")
    signature2 = sign(form2, path="/sms?campaign=1")
    bad = client.post("/sms?campaign=2", data=form2, headers={"X-Twilio-Signature": signature2})
    assert bad.status_code == 403


def test_blank_and_extra_parameters_still_validate(client, phone):
    form = sms_form(phone, "", NumSegments="1", SmsStatus="received", ApiVersion="2010-04-01", FromCity="")
    response = post_signed(client, form)
    assert response.status_code == 200
    assert twiml_messages(response.data)


def test_whatsapp_sender_is_accepted(client, phone):
    form = sms_form(f"whatsapp:{phone}", "hola", To="whatsapp:+14155238886", ProfileName="")
    response = post_signed(client, form)
    assert response.status_code == 200
    assert twiml_messages(response.data)


def test_messaging_service_payload_is_accepted(client, phone):
    form = sms_form(phone, "hello", MessagingServiceSid="MG" + "1" * 32)
    response = post_signed(client, form)
    assert response.status_code == 200


def test_sha256_signature_settings_header_is_honoured(client, phone):
    from twilio.request_validator import RequestValidator

    form = sms_form(phone, "hello")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms", form, "HMAC_SHA256")
    response = client.post(
        "/sms",
        data=form,
        headers={"X-Twilio-Signature": signature, "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256"},
    )
    assert response.status_code == 200


def test_without_auth_token_every_request_is_refused(make_app, phone, redis_client):
    app = make_app(TWILIO_AUTH_TOKEN=None)
    before = session_key_count(redis_client)
    response = post_signed(app.test_client(), sms_form(phone, "hello"))
    assert response.status_code == 503
    assert session_key_count(redis_client) == before


def test_signed_request_without_sender_is_a_clear_400(client):
    form = sms_form("", "hello")
    response = post_signed(client, form)
    assert response.status_code == 400


def test_signed_request_with_garbage_sender_is_a_clear_400(client):
    response = post_signed(client, sms_form("not a number", "hello"))
    assert response.status_code == 400


def test_get_is_not_allowed(client):
    assert client.get("/sms").status_code == 405
