"""Behind a TLS-terminating proxy: signatures stay right, spoofed X-Forwarded-* does not help."""

from tests.conftest import sign, sms_form


def test_spoofed_forwarded_host_does_not_validate_a_forged_signature(make_app, phone):
    app = make_app(TRUSTED_PROXY_HOPS="1")
    form = sms_form(phone, "hello")
    # The attacker signs for their own host with a token they know, and claims that host...
    forged = sign(form, base="https://evil.example.com", token="attacker-token")
    headers = {"X-Twilio-Signature": forged, "X-Forwarded-Host": "evil.example.com, bot.example.org",
               "X-Forwarded-Proto": "https"}
    assert app.test_client().post("/sms", data=form, headers=headers).status_code == 403


def test_without_public_url_only_the_trusted_hop_counts(make_app, phone):
    """With PUBLIC_URL unset the URL comes from X-Forwarded-*, taking only the last (trusted) value."""
    app = make_app(TRUSTED_PROXY_HOPS="1", PUBLIC_URL=None)
    form = sms_form(phone, "hello")
    good = sign(form, base="https://bot.example.org")
    headers = {"X-Twilio-Signature": good, "X-Forwarded-Host": "evil.example.com, bot.example.org",
               "X-Forwarded-Proto": "https"}
    assert app.test_client().post("/sms", data=form, headers=headers).status_code == 200
    evil = sign(form, base="https://evil.example.com")
    headers["X-Twilio-Signature"] = evil
    assert app.test_client().post("/sms", data=form, headers=headers).status_code == 403


def test_hsts_is_sent_when_the_proxy_says_https(make_app):
    app = make_app(TRUSTED_PROXY_HOPS="1")
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
