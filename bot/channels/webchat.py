"""The web chat: a page at ``/`` and its JSON endpoint ``POST /api/chat``.

The visitor is identified only by a random token the page keeps in
``sessionStorage``; the server stores a keyed hash of it, like a phone number.
The token is minted and signed here (``SECRET_KEY``), so a client cannot make
up its own tokens to dodge the limit on new chats per client address
(``WEBCHAT_NEW_SESSIONS_PER_HOUR``). The same ``ConversationEngine`` answers
as for SMS. While hotline staff have the conversation, their replies wait in
an outbox the page polls (``GET /api/chat/updates``, token in the
``Authorization: Bearer`` header, never in the URL).
"""

from __future__ import annotations

import dataclasses
import base64
import hashlib
import hmac
import logging
import re
import secrets

import phonenumbers
import redis
from flask import Blueprint, Response, jsonify, render_template, request, url_for

from bot.clients.identity import sender_from_web_token
from bot.language.languages import NATIVE_NAMES, RTL_LANGUAGES, SUPPORTED_LANGUAGES
from bot.channels.security import origin_allowed
from bot.language.segments import MAX_BODY_CHARS
from bot.services import services

log = logging.getLogger(__name__)
bp = Blueprint("webchat", __name__)

#: A chat token: 32 random urlsafe characters, a dot, and 22 characters of their HMAC.
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{22})$")
#: Counter of new chats per client address (keyed hash of the address), one window per hour.
NEW_CHATS_PREFIX = "kyr:webchat-new:"
NEW_CHATS_WINDOW_SECONDS = 3600
ORIGIN_REFUSED = "This website is not allowed to use the chat (ALLOWED_ORIGINS)."


def _error(message: str, status: int = 400):
    return jsonify(error=message), status


def page_language() -> str:
    """The visitor's language: ``?lang=`` from the embed, else the browser's Accept-Language."""
    hint = (request.args.get("lang") or "").lower()[:2]
    if hint in SUPPORTED_LANGUAGES:
        return hint
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES) or services().settings.default_language


def urgent_hotline(lang: str) -> dict[str, str] | None:
    """The verified urgent hotline for the header (the one urgent answers give), as a tel: link."""
    resource = services().router.pick("hotline", None, lang)
    if resource is None or not resource.phone:
        return None
    number = phonenumbers.parse(resource.phone, services().settings.default_region)
    return {"label": resource.short_name, "number": resource.phone_display(),
            "href": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.RFC3966)}


def render_chat(embedded: bool):
    lang = page_language()
    return render_template(
        "chat.html",
        languages=NATIVE_NAMES,
        lang=lang,
        direction="rtl" if lang in RTL_LANGUAGES else "ltr",
        embedded=embedded,
        hotline=urgent_hotline(lang),
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
    """The one script a website pastes: it adds the bubble that opens /embed.

    The iframe URL comes from ``PUBLIC_URL`` (required in production), never
    from Host / X-Forwarded-Host / X-Forwarded-Prefix, so a forged header
    cannot point a cached copy at another site. Without ``PUBLIC_URL``
    (development only) the request's own URL is used and nothing may cache it.
    """
    public_url = services().settings.public_url
    if public_url:
        embed_url, cache = public_url + "/embed", "public, max-age=3600"
    else:
        embed_url, cache = url_for("webchat.embedded_chat_page", _external=True), "no-store"
    response = Response(render_template("embed.js", embed_url=embed_url), mimetype="text/javascript")
    response.headers["Cache-Control"] = cache
    return response


# -- chat tokens ---------------------------------------------------------------


def _token_signature(random_part: str) -> str:
    digest = hmac.new(services().settings.secret_key.encode(), b"webchat:" + random_part.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode()[:22]


def new_token() -> str:
    """A fresh chat token, signed so that only tokens this server minted are accepted."""
    random_part = secrets.token_urlsafe(24)
    return f"{random_part}.{_token_signature(random_part)}"


def token_valid(token: object) -> bool:
    match = _TOKEN.match(token) if isinstance(token, str) else None
    return bool(match) and hmac.compare_digest(match.group(2), _token_signature(match.group(1)))


# -- new chats per client address ----------------------------------------------


def client_origin() -> str:
    """Keyed hash of the client address (``remote_addr`` as ProxyFix sets it): never the address itself."""
    address = request.remote_addr or "unknown"
    return hmac.new(services().settings.id_hash_key.encode(), b"addr:" + address.encode(), hashlib.sha256).hexdigest()


def new_chat_wait() -> int:
    """Count one new chat for this client address; seconds to wait when over the hourly limit, else 0.

    The address is ``remote_addr`` as ``TRUSTED_PROXY_HOPS`` (ProxyFix) sets it.
    INCR and EXPIRE ... NX run in one MULTI, so every counter has a TTL and
    concurrent requests are all counted. Without Redis (development) or with
    Redis down, chats are not limited: answering matters more.
    """
    svc = services()
    if svc.store.kind != "redis":
        return 0
    key = NEW_CHATS_PREFIX + client_origin()
    try:
        pipe = svc.store.client.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, NEW_CHATS_WINDOW_SECONDS, nx=True)
        pipe.ttl(key)
        count, _, ttl = pipe.execute()
    except redis.RedisError as exc:
        log.warning("new-chat counter unavailable: %s", type(exc).__name__)
        return 0
    if int(count) <= svc.settings.webchat_new_sessions_per_hour:
        return 0
    return max(int(ttl), 1)


def _too_many_new_chats(wait: int):
    minutes = max(1, -(-wait // 60))
    response, status = _error(
        f"Too many new chats from your network in the last hour. Please try again in about {minutes} minute(s). "
        "If you need help now, call your local rapid-response hotline.",
        429,
    )
    response.headers["Retry-After"] = str(wait)
    return response, status


# -- the API ---------------------------------------------------------------------


@bp.route("/api/chat", methods=["OPTIONS"])
@bp.route("/api/chat/updates", methods=["OPTIONS"])
def chat_api_preflight():
    if not origin_allowed(request.headers.get("Origin")):
        return _error(ORIGIN_REFUSED, 403)
    return "", 204


@bp.post("/api/chat")
def chat_api():
    if not origin_allowed(request.headers.get("Origin")):
        return _error(ORIGIN_REFUSED, 403)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error('Send a JSON object like {"message": "hello"}.')
    message = payload.get("message")
    if not isinstance(message, str):
        return _error('"message" must be a string.')
    if len(message) > MAX_BODY_CHARS:
        return _error(f'"message" is too long: at most {MAX_BODY_CHARS} characters.')
    token = payload.get("session")
    if not token_valid(token):
        wait = new_chat_wait()
        if wait:
            return _too_many_new_chats(wait)
        token = new_token()
    hint = payload.get("lang") if payload.get("lang") in SUPPORTED_LANGUAGES else None
    svc = services()
    try:
        sender = dataclasses.replace(sender_from_web_token(token, svc.settings.id_hash_key), origin=client_origin())
        reply = svc.engine.handle(sender, message, language_hint=hint)
    except Exception as exc:  # the chat must answer even when something breaks
        log.error("engine failed in web chat (%s)", type(exc).__name__)
        lang = svc.settings.default_language
        return jsonify(session=token, lang=lang, replies=[svc.engine.menu_text(lang)])
    log.info("answered channel=web intent=%s lang=%s", reply.intent, reply.lang)
    return jsonify(session=token, lang=reply.lang, replies=list(reply.messages))


def bearer_token() -> str | None:
    """The chat token from ``Authorization: Bearer <token>``."""
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@bp.get("/api/chat/updates")
def chat_updates():
    """Messages hotline staff sent this visitor after number ``after`` (the page polls while open).

    The token comes in the Authorization header only: URLs end up in proxy and
    server logs. A token in the query string is refused (400) so an old page
    fails loudly instead of leaking it every 4 seconds.
    """
    if not origin_allowed(request.headers.get("Origin")):
        return _error(ORIGIN_REFUSED, 403)
    if "session" in request.args:
        return _error("Send the chat token in the header Authorization: Bearer <token>, never in the URL.")
    token = bearer_token()
    if not token_valid(token):
        return _error("Send the chat token you were given in the header Authorization: Bearer <token>.", 401)
    after = request.args.get("after", default=0, type=int)
    svc = services()
    gate = svc.engine.handoff
    if gate is None:
        return jsonify(messages=[], last=after)
    sender = sender_from_web_token(token, svc.settings.id_hash_key)
    try:
        messages, last = gate.desk.delivery.outbox.since(sender.key, max(after, 0))
    except redis.RedisError as exc:
        log.warning("web outbox unavailable: %s", type(exc).__name__)
        return jsonify(messages=[], last=after)
    return jsonify(messages=messages, last=last)
