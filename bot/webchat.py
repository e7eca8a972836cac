"""The web chat: a page at ``/`` and its JSON endpoint ``POST /api/chat``.

The visitor is identified only by a random token the page keeps in
``sessionStorage``; the server stores a keyed hash of it, like a phone number.
The same ``ConversationEngine`` answers as for SMS. While hotline staff have
the conversation, their replies wait in an outbox the page polls
(``GET /api/chat/updates``).
"""

from __future__ import annotations

import logging
import re
import secrets

import redis
from flask import Blueprint, Response, jsonify, render_template, request, url_for

from bot.identity import sender_from_web_token
from bot.languages import NATIVE_NAMES, RTL_LANGUAGES, SUPPORTED_LANGUAGES
from bot.security import origin_allowed
from bot.segments import MAX_BODY_CHARS
from bot.services import services

log = logging.getLogger(__name__)
bp = Blueprint("webchat", __name__)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def _error(message: str, status: int = 400):
    return jsonify(error=message), status


def page_language() -> str:
    """The visitor's language: ``?lang=`` from the embed, else the browser's Accept-Language."""
    hint = (request.args.get("lang") or "").lower()[:2]
    if hint in SUPPORTED_LANGUAGES:
        return hint
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES) or services().settings.default_language


def render_chat(embedded: bool):
    lang = page_language()
    return render_template(
        "chat.html",
        languages=NATIVE_NAMES,
        lang=lang,
        direction="rtl" if lang in RTL_LANGUAGES else "ltr",
        embedded=embedded,
    )


@bp.get("/")
def chat_page():
    return render_chat(embedded=False)


@bp.get("/embed")
def embedded_chat_page():
    """The chat inside a website's bubble (framed only by ALLOWED_ORIGINS)."""
    return render_chat(embedded=True)


@bp.get("/embed.js")
def embed_script():
    """The one script a website pastes: it adds the bubble that opens /embed."""
    script = render_template("embed.js", embed_url=url_for("webchat.embedded_chat_page", _external=True))
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/api/chat", methods=["OPTIONS"])
def chat_api_preflight():
    if not origin_allowed(request.headers.get("Origin")):
        return _error("This website is not allowed to use the chat (ALLOWED_ORIGINS).", 403)
    return "", 204


@bp.post("/api/chat")
def chat_api():
    if not origin_allowed(request.headers.get("Origin")):
        return _error("This website is not allowed to use the chat (ALLOWED_ORIGINS).", 403)
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
    hint = payload.get("lang") if payload.get("lang") in SUPPORTED_LANGUAGES else None
    svc = services()
    try:
        sender = sender_from_web_token(token, svc.settings.id_hash_key)
        reply = svc.engine.handle(sender, message, language_hint=hint)
    except Exception as exc:  # the chat must answer even when something breaks
        log.error("engine failed in web chat (%s)", type(exc).__name__)
        lang = svc.settings.default_language
        return jsonify(session=token, lang=lang, replies=[svc.engine.menu_text(lang)])
    log.info("answered channel=web intent=%s lang=%s", reply.intent, reply.lang)
    return jsonify(session=token, lang=reply.lang, replies=list(reply.messages))


@bp.get("/api/chat/updates")
def chat_updates():
    """Messages hotline staff sent this visitor after number ``after`` (the page polls while open)."""
    if not origin_allowed(request.headers.get("Origin")):
        return _error("This website is not allowed to use the chat (ALLOWED_ORIGINS).", 403)
    token = request.args.get("session") or ""
    after = request.args.get("after", default=0, type=int)
    svc = services()
    gate = svc.engine.handoff
    if gate is None or not _TOKEN.match(token):
        return jsonify(messages=[], last=after)
    sender = sender_from_web_token(token, svc.settings.id_hash_key)
    try:
        messages, last = gate.desk.delivery.outbox.since(sender.key, max(after, 0))
    except redis.RedisError as exc:
        log.warning("web outbox unavailable: %s", type(exc).__name__)
        return jsonify(messages=[], last=after)
    return jsonify(messages=messages, last=last)
