"""Which languages the bot speaks, and how it tells which one a person uses.

Detection is offline (lingua, restricted to the supported set) and cautious:
a short or ambiguous message ("ok", "1", a ZIP code) returns ``None`` so the
session keeps its language. Switching on purpose is by name ("español").
"""

from __future__ import annotations

import re
import unicodedata

from lingua import Language, LanguageDetectorBuilder

#: Locale codes, in menu order. Every answer exists in each of these.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es")

#: How each language is named in its own language (language menu).
NATIVE_NAMES: dict[str, str] = {"en": "English", "es": "Español"}

#: Languages whose SMS replies may drop accents to stay in GSM-7 (cheaper, and
#: still readable). Vietnamese would lose meaning, so it is never folded.
GSM_FOLD_LANGUAGES: frozenset[str] = frozenset({"en", "es"})

_LINGUA = {"en": Language.ENGLISH, "es": Language.SPANISH}

#: Words that switch the language explicitly (compared without accents, lower case).
_SWITCH_WORDS: dict[str, str] = {
    "english": "en",
    "ingles": "en",
    "en ingles": "en",
    "in english": "en",
    "espanol": "es",
    "spanish": "es",
    "castellano": "es",
    "en espanol": "es",
    "in spanish": "es",
}

#: Below this confidence, or with fewer letters than this, we keep the current language.
MIN_CONFIDENCE = 0.80
MIN_LETTERS = 4


def fold(text: str) -> str:
    """Lower-case, strip accents and surrounding punctuation: for keyword matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", without_marks)).strip()


def explicit_switch(text: str) -> str | None:
    """The language a message asks for by name ("español", "English"), else ``None``."""
    return _SWITCH_WORDS.get(fold(text))


class LanguageDetector:
    """Wraps lingua; built once per app (building loads nothing until first use)."""

    def __init__(self, languages: tuple[str, ...] = SUPPORTED_LANGUAGES):
        self._codes = {_LINGUA[code]: code for code in languages}
        self._detector = LanguageDetectorBuilder.from_languages(*self._codes).build()

    def detect(self, text: str) -> str | None:
        """Return a locale code only when the message clearly is in that language."""
        letters = sum(ch.isalpha() for ch in text)
        if letters < MIN_LETTERS:
            return None
        values = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value < MIN_CONFIDENCE:
            return None
        return self._codes.get(values[0].language)
