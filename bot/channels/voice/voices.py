"""What Twilio can hear and say in each language (checked against Twilio's Gather and TTS pages, Dec 2026).

Haitian Creole has no Twilio speech recognition and no voice: its callers use the keypad and
hear recordings (``bot/static/voice/ht``). Arabic recognition needs one regional tag, chosen
with ``VOICE_ARABIC_LANGUAGE``; answers are read in Modern Standard Arabic (Polly Zeina, ``arb``),
which is how the texts are written.
"""

from __future__ import annotations

import dataclasses

from bot.config import Settings


@dataclasses.dataclass(frozen=True)
class VoiceLanguage:
    """One language on the phone: how Twilio recognizes it (None: keypad only) and reads it (None: recordings)."""

    code: str
    recognition: str | None  # <Gather language>
    speech_model: str | None  # <Gather speechModel>; None lets Twilio choose
    voice: str | None  # <Say voice>
    say_language: str | None  # <Say language>, the voice's own locale

    @property
    def hears_speech(self) -> bool:
        return self.recognition is not None

    @property
    def speaks(self) -> bool:
        return self.voice is not None


#: Generic models let Twilio fail over between providers; Chinese is in neither "phone_call" nor
#: "experimental_*", so Twilio picks its model. Every voice is paired with its catalogued locale.
_TABLE = {
    "en": VoiceLanguage("en", "en-US", "experimental_conversations", "Polly.Joanna-Neural", "en-US"),
    "es": VoiceLanguage("es", "es-US", "experimental_conversations", "Polly.Lupe-Neural", "es-US"),
    "ht": VoiceLanguage("ht", None, None, None, None),
    "fr": VoiceLanguage("fr", "fr-FR", "experimental_conversations", "Polly.Lea-Neural", "fr-FR"),
    "pt": VoiceLanguage("pt", "pt-BR", "experimental_conversations", "Polly.Camila-Neural", "pt-BR"),
    "zh": VoiceLanguage("zh", "cmn-Hans-CN", None, "Polly.Zhiyu-Neural", "cmn-CN"),
    "vi": VoiceLanguage("vi", "vi-VN", "experimental_conversations", "Google.vi-VN-Wavenet-A", "vi-VN"),
    "ar": VoiceLanguage("ar", "ar-EG", "experimental_conversations", "Polly.Zeina", "arb"),
}


def voice_language(lang: str, settings: Settings) -> VoiceLanguage:
    """The phone settings for ``lang`` (English for anything unknown)."""
    found = _TABLE.get(lang) or _TABLE["en"]
    if found.code == "ar":
        return dataclasses.replace(found, recognition=settings.voice_arabic_language)
    return found


def table(settings: Settings) -> list[VoiceLanguage]:
    """Every language's row, in the language menu's order (README's table is this)."""
    from bot.language.languages import SUPPORTED_LANGUAGES

    return [voice_language(code, settings) for code in SUPPORTED_LANGUAGES]
