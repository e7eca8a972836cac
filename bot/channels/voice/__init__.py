"""The voice line: call the bot's number, choose a language, ask out loud, hear the answer or reach a person.

``routes`` is the ``/voice`` webhook (one step of a call per request), ``voices`` what Twilio can
hear and say per language, ``speech`` answers rewritten for the ear, ``prompts`` spoken or recorded
prompts, ``person`` the dial to staff and the callback request, ``simulator`` a call in the terminal
(``flask --app webhook voice call``). The conversation itself is the
engine's (``bot/conversation``), keypad included (``steps.voice_keypad``).
"""

from bot.channels.voice import simulator  # noqa: F401  (adds `flask voice call` to the blueprint)
from bot.channels.voice.routes import bp

__all__ = ["bp"]
