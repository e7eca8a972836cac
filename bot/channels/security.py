"""Security headers on every response, and which web origins may use the chat.

Pages get a strict Content-Security-Policy (scripts and styles from this
origin only, no framing) except the embeddable chat (``/embed``), which may
be framed by the origins in ``ALLOWED_ORIGINS``. ``/api/chat`` answers
cross-origin browser requests only from those origins.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

from bot.services import services

EMBED_PATH = "/embed"


def own_origin() -> str:
    public_url = services().settings.public_url
    if public_url:
        parts = urlsplit(public_url)
        return f"{parts.scheme}://{parts.netloc}"
    return request.host_url.rstrip("/")


def origin_allowed(origin: str | None) -> bool:
    """True for no Origin header (not a browser), our own origin, or a configured one."""
    if not origin:
        return True
    origin = origin.rstrip("/")
    return origin in (own_origin(), request.host_url.rstrip("/")) or origin in services().settings.allowed_origins


def _content_security_policy() -> str:
    allowed = services().settings.allowed_origins
    frame_ancestors = " ".join(("'self'", *allowed)) if request.path == EMBED_PATH else "'none'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )


def add_security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Content-Security-Policy", _content_security_policy())
    if request.path != EMBED_PATH:
        response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/"):
        # Chat answers and staff replies are personal: no browser or proxy may keep a copy.
        response.headers["Cache-Control"] = "no-store"
    origin = request.headers.get("Origin")
    if origin and request.path.startswith("/api/") and origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin.rstrip("/")
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers.add("Vary", "Origin")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
