"""Which languages the bot speaks, their names, and folding text for matching.

Telling which language a message is in lives in bot/language/detection.py
(script rules and a model learned from the project's own examples,
bot/language/identify.py). Switching on purpose is by name ("español",
"kreyòl", "中文", here) or by number from the language menu.
"""

from __future__ import annotations

import re
import unicodedata


#: Locale codes, in language-menu order. Every answer exists in each of these.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es", "ht", "fr", "pt", "zh", "vi", "ar")

#: Every locale the project plans for (directory entries may list any of them).
KNOWN_LANGUAGE_CODES: tuple[str, ...] = SUPPORTED_LANGUAGES

#: How each language is named in its own language (language menu).
NATIVE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "ht": "Kreyòl",
    "fr": "Français",
    "pt": "Português",
    "zh": "中文",
    "vi": "Tiếng Việt",
    "ar": "العربية",
}

#: Written right to left (the web chat sets dir="rtl").
RTL_LANGUAGES: frozenset[str] = frozenset({"ar"})

#: Languages whose SMS replies drop accents when that keeps the message in
#: GSM-7 (a third of the cost). Vietnamese is not one of them: folding kept
#: some marks and dropped others, so "Đừng" (don't) arrived as "Dung" and
#: "nhận tội" (plead guilty) as "nhan toi" ("text me"); it is sent as written,
#: in UCS-2, with the UCS-2 budget (translation review T1). The web chat
#: always shows full text.
GSM_FOLD_LANGUAGES: frozenset[str] = frozenset({"en", "es", "ht", "fr", "pt"})

#: Written in the Latin script: told apart by the language model (bot/language/identify.py);
#: Chinese and Arabic are told by their script.
LATIN_LANGUAGES: tuple[str, ...] = ("en", "es", "ht", "fr", "pt", "vi")

#: Words that switch the language explicitly (compared after ``fold``).
_SWITCH_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("english", "ingles", "en ingles", "in english", "anglais", "angle", "英语", "英文", "tieng anh", "الانجليزية", "انجليزي"),
    "es": ("espanol", "spanish", "castellano", "en espanol", "in spanish", "espagnol", "panyol", "espanhol", "西班牙语", "tieng tay ban nha", "الاسبانية"),
    "ht": ("kreyol", "kreyol ayisyen", "creole", "haitian creole", "creole haitien", "ayisyen", "criollo", "criollo haitiano"),
    "fr": ("francais", "french", "en francais", "frances", "franse", "法语", "tieng phap", "الفرنسية", "فرنسي"),
    "pt": ("portugues", "portuguese", "em portugues", "portugais", "potige", "葡萄牙语", "tieng bo dao nha", "البرتغالية"),
    "zh": ("中文", "汉语", "普通话", "华语", "國語", "chinese", "chino", "chinois", "zhongwen", "tieng trung"),
    "vi": ("tieng viet", "vietnamese", "vietnamita", "vietnamien", "越南语", "الفيتنامية"),
    "ar": ("العربية", "عربي", "arabic", "arabe", "عربى", "بالعربي"),
}
_SWITCH_LOOKUP: dict[str, str] = {word: code for code, words in _SWITCH_WORDS.items() for word in words}

def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation: for keyword matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", without_marks)).strip()


def explicit_switch(text: str) -> str | None:
    """The language a message asks for by name ("español", "中文"), else ``None``."""
    code = _SWITCH_LOOKUP.get(fold(text))
    return code if code in SUPPORTED_LANGUAGES else None


def languages_named_in(text: str) -> list[str]:
    """Languages named anywhere in a message ("can you speak spanish?")."""
    folded = f" {fold(text)} "
    found = []
    for word, code in _SWITCH_LOOKUP.items():
        if code not in SUPPORTED_LANGUAGES or code in found:
            continue
        if f" {word} " in folded or (not word.isascii() and word in folded):
            found.append(code)
    return found
