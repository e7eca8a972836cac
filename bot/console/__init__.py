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
from bot.console.audit_log import AuditLog
from bot.console.saved_replies import SavedReplies
from bot.console.staff import ConsoleLogins, LoginLimiter, StaffDirectory
from bot.console.twofactor import TwoFactor

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
    #: Who did what (bot/console/audit_log.py); None without Redis.
    audit: AuditLog | None = None
    #: Two-factor login; None without Redis or ENCRYPTION_KEY (the TOTP secret is kept encrypted).
    twofactor: TwoFactor | None = None
    #: Admins' saved replies; None without Redis.
    replies: SavedReplies | None = None
    #: CONSOLE_REQUIRE_2FA: accounts without a TOTP authenticator must enrol before anything else.
    require_2fa: bool = False


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
        directory = StaffDirectory(client, settings.staff_account_ttl_seconds, SUPPORTED_LANGUAGES)
        twofactor = None
        if settings.encryption_key:
            from cryptography.fernet import Fernet

            twofactor = TwoFactor(directory, Fernet(settings.encryption_key.encode()))
        state = Console(
            directory,
            ConsoleLogins(client, settings.console_session_seconds),
            LoginLimiter(client, settings.id_hash_key, settings.console_login_attempts,
                         settings.console_login_window_seconds, settings.console_login_slowdown_seconds),
            off_reason(settings, svc.store.kind),
            audit=AuditLog(client, settings.audit_retention_seconds),
            twofactor=twofactor,
            replies=SavedReplies(client, SUPPORTED_LANGUAGES),
            require_2fa=settings.console_require_2fa,
        )
    else:
        state = Console(None, None, None, off_reason(settings, svc.store.kind))
    app.extensions[EXTENSION] = state

    from bot.console import (  # noqa: F401  (registers the routes)
        account, admin, answers, audit_views, auth, broadcasts, ids, replies, stats, views,
    )

    app.register_blueprint(bp)
