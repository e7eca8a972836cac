"""Know-your-rights bot: Flask app factory.

``create_app()`` reads the environment once (``bot.config``), builds the
services (store, Rasa client, content, engine) and registers one blueprint
per surface: Twilio SMS/WhatsApp, the voice line, the web chat, and the health check.
"""

from __future__ import annotations

import logging
import os
from typing import Mapping

from flask import Flask

from bot.config import load_settings

#: Largest request we read. A Twilio webhook is a few kB; a chat message 1,600 chars.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """Build the app from ``environ`` (default: the process environment)."""
    settings = load_settings(os.environ if environ is None else environ)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # twilio's HTTP client logs request parameters (numbers, texts) at INFO: never let it.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    if settings.trusted_proxy_hops:
        # Trust X-Forwarded-* from exactly this many proxies; values an earlier
        # (untrusted) hop added are ignored. Twilio signatures never depend on
        # these headers anyway: they are checked against PUBLIC_URL.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)

    from bot import services

    services.init_app(app, settings)

    from bot.channels.health import bp as health_bp
    from bot.channels.sms import bp as sms_bp
    from bot.channels.status_callback import bp as status_callback_bp
    from bot.channels.voice import bp as voice_bp
    from bot.channels.webchat import bp as webchat_bp

    app.register_blueprint(sms_bp)
    app.register_blueprint(status_callback_bp)
    app.register_blueprint(webchat_bp)
    app.register_blueprint(voice_bp)
    app.register_blueprint(health_bp)
    if settings.app_env != "production":
        from bot.channels.simulator import bp as simulator_bp

        app.register_blueprint(simulator_bp)  # /simulator: a phone in the browser (development only)

    from bot import console

    console.init_app(app)  # the staff console under /console (bot/console)

    from bot.channels import security

    security.init_app(app)

    from bot.cli import register_commands

    register_commands(app)
    return app
