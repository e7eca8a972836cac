"""``/simulator``: a phone's messages app in the browser, for development only.

Pick a test number, SMS or WhatsApp, and text the bot: the page's message is
posted to ``/sms`` exactly as Twilio would post it (signed with the auth token),
and the TwiML reply shows as bubbles with their encoding and SMS segments.
Messages the app sends later through the outbound queue (staff replies,
alerts) reach the same phone through a stand-in of Twilio's Messages API
(``standin.py``). ``create_app`` registers this blueprint only outside
production; in production ``/simulator`` is a 404.
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from flask import Blueprint

from bot.channels.simulator.phone import Phones
from bot.services import services

bp = Blueprint("simulator", __name__, url_prefix="/simulator")


def phones() -> Phones | None:
    """The phones' message store (None without Redis or ENCRYPTION_KEY: make run always has both)."""
    svc = services()
    if svc.store.kind != "redis" or not svc.settings.encryption_key:
        return None
    return Phones(svc.store.client, Fernet(svc.settings.encryption_key.encode()), svc.settings.id_hash_key)


from bot.channels.simulator import standin, views  # noqa: E402,F401  (their routes join bp)
