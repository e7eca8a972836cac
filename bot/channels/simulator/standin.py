"""A local stand-in for Twilio's Messages API, so ``make run`` can send without Twilio.

``make run`` points the outbound worker's twilio ``Client`` here
(``TWILIO_API_BASE_URL=http://127.0.0.1:5000/simulator/twilio``). Like Twilio it
checks HTTP Basic auth (account SID and auth token), answers ``201`` with a
Message resource, refuses a number that texted STOP on SMS with error 21610,
and lists messages by ``To`` (the broadcast worker's "did Twilio get it?"
check). Each message lands on the simulator's phone for that address.
"""

from __future__ import annotations

import email.utils
import hmac
import json
import secrets

from flask import jsonify, request

from bot.channels.simulator import bp, phones
from bot.language.segments import count_segments
from bot.services import services

API = "/twilio/2010-04-01/Accounts/<account_sid>/Messages.json"


def _error(status: int, code: int, message: str):
    return jsonify(code=code, message=message, more_info=f"https://www.twilio.com/docs/errors/{code}",
                   status=status), status


def _authorized(account_sid: str) -> bool:
    settings = services().settings
    auth = request.authorization
    if not (auth and settings.twilio_account_sid and settings.twilio_auth_token):
        return False
    sid = settings.twilio_account_sid.encode()
    return (hmac.compare_digest((auth.username or "").encode(), sid)
            and hmac.compare_digest((auth.password or "").encode(), settings.twilio_auth_token.encode())
            and hmac.compare_digest(account_sid.encode(), sid))


def _resource(account_sid: str, sid: str, to: str, sender: str, body: str, service_sid: str | None) -> dict:
    now = email.utils.formatdate(usegmt=False)
    return {
        "account_sid": account_sid, "api_version": "2010-04-01", "body": body, "date_created": now,
        "date_sent": now, "date_updated": now, "direction": "outbound-api", "error_code": None,
        "error_message": None, "from": sender, "messaging_service_sid": service_sid, "num_media": "0",
        "num_segments": str(count_segments(body).segments), "price": None, "price_unit": "USD", "sid": sid,
        "status": "queued", "subresource_uris": {"media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"},
        "to": to, "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


def _template_text(form) -> str:
    """A WhatsApp template send (ContentSid) shown as its variables, the way the phone would show the filled text."""
    try:
        variables = json.loads(form.get("ContentVariables") or "{}")
    except ValueError:
        variables = {}
    return " ".join(str(value) for _, value in sorted(variables.items())) or f"(template {form['ContentSid']})"


@bp.post(API)
def create_message(account_sid: str):
    if not _authorized(account_sid):
        return _error(401, 20003, "Authenticate")
    form = request.form
    to = (form.get("To") or "").strip()
    if not to:
        return _error(400, 21604, "A 'To' phone number is required.")
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return _error(400, 21603, "A 'From' phone number is required.")
    body = form.get("Body") or (_template_text(form) if form.get("ContentSid") else "")
    if not body:
        return _error(400, 21602, "Message body is required.")
    book = phones()
    if book is None:
        return _error(503, 20503, "The simulator needs REDIS_URL and ENCRYPTION_KEY (make run sets both).")
    if book.opted_out(to):
        return _error(400, 21610, "Attempt to send to unsubscribed recipient")
    book.add(to, "api", body)
    sid = "SM" + secrets.token_hex(16)
    return jsonify(_resource(account_sid, sid, to, form.get("From") or "", body, form.get("MessagingServiceSid"))), 201


@bp.get(API)
def list_messages(account_sid: str):
    if not _authorized(account_sid):
        return _error(401, 20003, "Authenticate")
    to = (request.args.get("To") or "").strip()
    book = phones()
    found = []
    if to and book is not None:
        settings = services().settings
        sender = settings.twilio_from or ""
        found = [_resource(account_sid, "SM" + entry.id.replace("-", "").rjust(32, "0")[-32:], to, sender, entry.text, None)
                 for entry in book.since(to, None) if entry.kind == "api"]
    uri = request.full_path.rstrip("?")
    return jsonify(messages=found[-50:], start=0, end=max(len(found[-50:]) - 1, 0), page=0, page_size=50,
                   uri=uri, first_page_uri=uri, next_page_uri=None, previous_page_uri=None)
