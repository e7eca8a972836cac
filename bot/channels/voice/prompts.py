"""Saying things on a call: ``<Say>`` in the language's own voice, or ``<Play>`` of a recording.

Languages Twilio cannot read (Haitian Creole) are played from ``bot/static/voice/<lang>/<name>.wav``,
recorded from the same texts (``scripts/voice_prompts.py`` makes placeholders an organization replaces
with its own recordings). Every prompt has a name: the voice text's key without ``system.voice_``, or
``menu`` / ``menu-<group>`` for the topic menus.
"""

from __future__ import annotations

from bot.channels.voice.voices import VoiceLanguage
from bot.content.texts import GROUP_PREFIX, ContentBase

#: Recorded prompts for languages without a Twilio voice (scripts/voice_prompts.py makes exactly these).
RECORDED = ("language_option", "language_changed", "texted", "text_failed", "connecting", "nobody",
            "callback_offer", "callback_done", "hotline", "goodbye", "silence", "staff_texting", "error")


def recording_names(content: ContentBase) -> list[str]:
    """Every file a keypad-only language needs: the prompts, the main menu and each group's menu."""
    groups = [f"menu-{group.removeprefix(GROUP_PREFIX)}" for group in content.menu_groups]
    return [*RECORDED, "menu", *groups]


def text_key(name: str) -> str:
    return "system.language_changed" if name == "language_changed" else f"system.voice_{name}"


class Speaker:
    """Adds one language's prompts to a TwiML node (a Response or a Gather)."""

    def __init__(self, content: ContentBase, language: VoiceLanguage, static_base: str):
        self.content = content
        self.language = language
        self.static_base = static_base  # absolute URL of /static/voice

    def say_text(self, node, text: str) -> None:
        """Speak ready text (an answer); a language without a voice never gets here."""
        if text:
            node.say(text, voice=self.language.voice, language=self.language.say_language)

    def prompt(self, node, name: str, values: dict[str, str] | None = None) -> None:
        """A named prompt: spoken from its text, or played from its recording."""
        if not self.language.speaks:
            node.play(f"{self.static_base}/{self.language.code}/{name}.wav")
            return
        from bot.channels.voice.speech import read_numbers

        self.say_text(node, read_numbers(self.content.text(text_key(name), self.language.code, values)))
