"""Every Twilio webhook, one table: how requests are signed, replayed and malformed, and what each surface answers.

Laid out like nyaruka/courier's handler tests: a surface is a path, a way to
build its form and a way to check a good answer (TwiML read by XML structure,
or an empty 204); a row is (surface, case, expected status). One test function
runs every row against the real app, a real Redis and the real model. A new
Twilio surface (``/voice`` next) adds a ``Surface`` and its rows, not a new
file of copied tests.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from typing import Callable

import pytest
from flask.testing import FlaskClient

from tests.conftest import AUTH_TOKEN, PUBLIC_URL, session_key_count, sign, sms_form, twiml_messages
from tests.test_handoff import KEY
from tests.test_sms_dedupe import session_turns

#: An unknown alert send id: a validly signed callback for it is accepted and tracks nothing.
UNKNOWN_SEND = "0" * 32
PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.example.org", "X-Forwarded-For": "54.0.0.1"}


def check_twiml_reply(response) -> None:
    assert response.mimetype == "application/xml"
    assert twiml_messages(response.data), "a TwiML <Response> with at least one <Message>"


def check_voice_twiml(response) -> None:
    """A Voice TwiML <Response> that says something and ends in a prompt's hang-up or a dial, never dead air."""
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response" and len(root)
    assert {child.tag for child in root} <= {"Say", "Play", "Gather", "Dial", "Hangup"}
    assert root[-1].tag in ("Hangup", "Dial")


def voice_form(phone: str, **extra) -> dict:
    """What Twilio posts for a call (the CallSid stays the same across a call's steps)."""
    return {"CallSid": "CA" + sms_form(phone, "")["MessageSid"][2:], "AccountSid": "AC" + "0" * 32, "From": phone,
            "To": "+15005550006", "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01",
            **extra}


def check_empty(response) -> None:
    assert response.data == b""


@dataclasses.dataclass(frozen=True)
class Surface:
    """One Twilio webhook: where it is, what Twilio posts to it, what a good answer looks like."""

    path: str
    form: Callable[[str, str], dict]  # (phone, body) -> the form Twilio would post
    ok: int
    check_ok: Callable
    touches_sessions: bool  # a refused request must leave the person's session alone
    app_env: dict = dataclasses.field(default_factory=dict)  # what the surface needs configured


SURFACES = {
    "sms": Surface("/sms", lambda phone, body: sms_form(phone, body), 200, check_twiml_reply, True),
    "sms-status": Surface(
        f"/sms/status?s={UNKNOWN_SEND}",
        lambda phone, body: {"MessageSid": sms_form(phone, body)["MessageSid"], "AccountSid": "AC" + "0" * 32,
                             "MessageStatus": "delivered", "To": phone, "From": "+15005550006"},
        204, check_empty, False, {"ENCRYPTION_KEY": KEY},  # alerts (and so their callbacks) need the key
    ),
    # A call's first request (the language menu), and a spoken question in Spanish (bot/channels/voice).
    "voice": Surface("/voice", lambda phone, body: voice_form(phone), 200, check_voice_twiml, False),
    "voice-question": Surface("/voice?step=input&lang=es&n=2&k=ask",
                              lambda phone, body: voice_form(phone, SpeechResult=body, Confidence="0.9"),
                              200, check_voice_twiml, True),
}


@dataclasses.dataclass(frozen=True)
class Case:
    """How one request is made. ``expect`` None means the surface's good answer."""

    label: str
    expect: int | None = None
    body: str = "hello"
    token: str = AUTH_TOKEN  # signed with this auth token...
    base: str = PUBLIC_URL  # ...for this URL
    signed_extra: str = ""  # ...with this added to the query string (Twilio signs the query too)
    posted_extra: str = ""  # added to the query string of the request actually sent
    signature: bool = True
    tamper: dict = dataclasses.field(default_factory=dict)  # form fields changed after signing
    headers: dict = dataclasses.field(default_factory=dict)
    app_env: dict = dataclasses.field(default_factory=dict)
    replays: int = 1
    method: str = "POST"


CASES = {
    "valid": Case("valid signature"),
    "missing": Case("missing signature", expect=403, signature=False),
    "wrong-token": Case("wrong auth token", expect=403, token="not-the-token"),
    "tampered": Case("body changed after signing", expect=403, tamper={"From": "+13125550000", "Body": "x"}),
    "other-url": Case("signed for another URL", expect=403, base="https://evil.example.com"),
    "query-signed": Case("query string signed with the rest", signed_extra="campaign=1", posted_extra="campaign=1"),
    "other-query": Case("signed for another query string", expect=403, signed_extra="campaign=1",
                        posted_extra="campaign=2"),
    "public-url": Case("validated against PUBLIC_URL, not the local host"),
    "behind-proxy": Case("behind a TLS proxy (TRUSTED_PROXY_HOPS=1)", headers=PROXY, app_env={"TRUSTED_PROXY_HOPS": "1"}),
    "spoofed-host": Case("real token, spoofed X-Forwarded-Host", expect=403, base="https://evil.example.com",
                         headers={"X-Forwarded-Host": "evil.example.com", "X-Forwarded-Proto": "https"},
                         app_env={"TRUSTED_PROXY_HOPS": "1"}),
    "no-token": Case("no TWILIO_AUTH_TOKEN configured", expect=503, app_env={"TWILIO_AUTH_TOKEN": None}),
    "replay": Case("the same delivery three times (Twilio retries)", replays=3),
    "empty": Case("empty body", body=""),
    "long": Case("1,600-character body", body="mi hermano tiene un hold de ICE " * 50),
    "get": Case("GET", expect=405, method="GET", signature=False),
}

#: (surface, case): every Twilio surface gets the signature and replay rows; message surfaces the body rows.
ROWS = [
    *((surface, case) for surface in SURFACES for case in
      ("valid", "missing", "wrong-token", "tampered", "other-url", "public-url", "behind-proxy", "spoofed-host",
       "no-token", "replay", "query-signed", "other-query", "get")),
    ("sms", "empty"), ("sms", "long"),
    ("voice-question", "long"),  # no speech at all is the silence path (tests/test_voice.py), not a message
]


def with_query(path: str, extra: str) -> str:
    return path if not extra else path + ("&" if "?" in path else "?") + extra


def post(client: FlaskClient, surface: Surface, case: Case, form: dict):
    if case.method == "GET":
        return client.get(surface.path)
    headers = dict(case.headers)
    if case.signature:
        headers["X-Twilio-Signature"] = sign(form, with_query(surface.path, case.signed_extra), token=case.token,
                                             base=case.base)
    return client.post(with_query(surface.path, case.posted_extra), data={**form, **case.tamper}, headers=headers)


@pytest.mark.parametrize("surface_name, case_name", ROWS, ids=[f"{s}-{c}" for s, c in ROWS])
def test_signed_request_table(make_app, redis_client, phone, surface_name, case_name):
    surface, case = SURFACES[surface_name], CASES[case_name]
    app = make_app(**{**surface.app_env, **case.app_env})
    client = app.test_client()
    form = surface.form(phone, case.body)
    sessions_before = session_key_count(redis_client)
    responses = [post(client, surface, case, form) for _ in range(case.replays)]
    first = responses[0]
    expected = surface.ok if case.expect is None else case.expect
    assert first.status_code == expected, (case.label, first.status_code, first.data[:200])
    if case.expect is None:
        surface.check_ok(first)
        # A retried delivery gets the very same answer and is processed once.
        assert all(r.status_code == first.status_code and r.data == first.data for r in responses[1:])
        if surface.touches_sessions:
            assert session_key_count(redis_client) == sessions_before + 1
            assert session_turns(redis_client, phone) == 1, "each delivery is processed once"
    elif surface.touches_sessions:
        assert session_key_count(redis_client) == sessions_before, "a refused request changed state"


def test_the_table_covers_every_twilio_surface(app):
    """Every route behind ``@validate_twilio_request`` has its rows here: a new surface cannot skip the table."""
    signed = {rule.rule for rule in app.url_map.iter_rules()
              if getattr(app.view_functions[rule.endpoint], "twilio_signed", False)}
    covered = {surface.path.split("?")[0] for surface in SURFACES.values()}
    assert signed == covered, f"signed routes without rows: {sorted(signed - covered)}"
