"""POST /sms: payloads Twilio really sends (blank and extra fields, WhatsApp, Messaging Services, SHA-256
signatures, bad senders). Signature, replay and body-size cases for every Twilio surface: test_signed_requests.py."""

from tests.conftest import AUTH_TOKEN, PUBLIC_URL, post_signed, sms_form, twiml_messages


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


def test_signed_request_without_sender_is_a_clear_400(client):
    form = sms_form("", "hello")
    response = post_signed(client, form)
    assert response.status_code == 400


def test_signed_request_with_garbage_sender_is_a_clear_400(client):
    response = post_signed(client, sms_form("not a number", "hello"))
    assert response.status_code == 400
