"""The web chat: a page at ``/`` and its JSON endpoint ``POST /api/chat``.

The visitor is identified only by a random token the page keeps in
``sessionStorage``; the server stores a keyed hash of it, like a phone number.
The same ``ConversationEngine`` answers as for SMS.
"""

from __future__ import annotations

import logging
import re
import secrets

from flask import Blueprint, jsonify, render_template, request

from bot.identity import sender_from_web_token
from bot.languages import NATIVE_NAMES
from bot.segments import MAX_BODY_CHARS
from bot.services import services

log = logging.getLogger(__name__)
bp = Blueprint("webchat", __name__)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def _error(message: str, status: int = 400):
    return jsonify(error=message), status


@bp.get("/")
def chat_page():
    return render_template("chat.html", languages=NATIVE_NAMES)


@bp.post("/api/chat")
def chat_api():
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error('Send a JSON object like {"message": "hello"}.')
    message = payload.get("message")
    if not isinstance(message, str):
        return _error('"message" must be a string.')
    if len(message) > MAX_BODY_CHARS:
        return _error(f'"message" is too long: at most {MAX_BODY_CHARS} characters.')
    token = payload.get("session")
    if not (isinstance(token, str) and _TOKEN.match(token)):
        token = secrets.token_urlsafe(24)
    svc = services()
    try:
        reply = svc.engine.handle(sender_from_web_token(token, svc.settings.id_hash_key), message)
    except Exception as exc:  # the chat must answer even when something breaks
        log.error("engine failed in web chat (%s)", type(exc).__name__)
        lang = svc.settings.default_language
        return jsonify(session=token, lang=lang, replies=[svc.engine.menu_text(lang)])
    log.info("answered channel=web intent=%s lang=%s", reply.intent, reply.lang)
    return jsonify(session=token, lang=reply.lang, replies=list(reply.messages))
