"""The staff console (``/console``): hotline staff take over conversations from the bot.

Server-rendered pages that work on a phone; a small script polls JSON so new
messages appear without reloading. Every form carries a CSRF token
(Flask-WTF), every action checks the staff member's role on the server, and
the login cookie is Secure/HttpOnly/SameSite=Lax and renewed at login.
"""

from __future__ import annotations

import dataclasses
import datetime

from flask import Blueprint, Flask, current_app
from flask_wtf.csrf import CSRFProtect

from bot.handoff import off_reason
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.console.staff import ConsoleLogins, LoginLimiter, StaffDirectory

EXTENSION = "kyr_console"
bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")
csrf = CSRFProtect()


@dataclasses.dataclass
class Console:
    staff: StaffDirectory | None
    logins: ConsoleLogins | None
    limiter: LoginLimiter | None
    #: Why handoff is off (shown on the queue page), None when it works.
    handoff_off: str | None


def console() -> Console:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask) -> None:
    from bot.services import EXTENSION as SERVICES

    svc = app.extensions[SERVICES]
    settings = svc.settings
    app.config.update(
        SESSION_COOKIE_SECURE=settings.console_secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(seconds=settings.console_session_seconds),
        # Only the console's forms are checked (bp.before_request): /sms has Twilio's
        # signature and /api/chat its origin check.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=settings.console_session_seconds,
    )
    csrf.init_app(app)
    if svc.store.kind == "redis":
        client = svc.store.client
        state = Console(
            StaffDirectory(client, settings.staff_account_ttl_seconds, SUPPORTED_LANGUAGES),
            ConsoleLogins(client, settings.console_session_seconds),
            LoginLimiter(client, settings.id_hash_key, settings.console_login_attempts,
                         settings.console_login_window_seconds, settings.console_login_slowdown_seconds),
            off_reason(settings, svc.store.kind),
        )
    else:
        state = Console(None, None, None, off_reason(settings, svc.store.kind))
    app.extensions[EXTENSION] = state

    from bot.console import admin, auth, broadcasts, ids, stats, views  # noqa: F401  (registers the routes)

    app.register_blueprint(bp)
