"""Which languages the bot speaks, and how it tells which one a person uses.

Detection is offline and cautious. Chinese and Arabic are recognized by their
script; Haitian Creole (which lingua does not know) by words that only Kreyòl
uses; the rest by lingua, restricted to the supported set. A short or
ambiguous message ("ok", "1", a ZIP code) returns ``None`` so the session
keeps its language. Switching on purpose is by name ("español", "kreyòl",
"中文") or by number from the language menu.
"""

from __future__ import annotations

import re
import unicodedata

from lingua import Language, LanguageDetectorBuilder

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

_LINGUA = {
    "en": Language.ENGLISH,
    "es": Language.SPANISH,
    "fr": Language.FRENCH,
    "pt": Language.PORTUGUESE,
    "vi": Language.VIETNAMESE,
}

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

#: Words common in Kreyòl texts and rare in the other supported languages
#: (lingua has no Haitian Creole model). Compared after ``fold``.
_KREYOL_WORDS = frozenset(
    """mwen nou yo kijan koman poukisa kisa kibo kote konnen fe ale pral ap yon nan lajol
    pitit manman bezwen avoka imigrasyon lapolis rele tanpri mesi bonjou bonswa anpil
    kounye kounyeya moun lekol kay kapab kab vle ede anko gade isit sispann pale lakou jij
    kosyon prizon arete fre konbyen lajan sak pase eske nimewo detni tonton matant babay
    paske toujou janm kiyes tande kounya""".split()
)
#: Kreyòl markers that are also ordinary words elsewhere: they count half.
_KREYOL_WEAK = frozenset({"pou", "ak", "sou", "ki", "li", "w", "m", "ou", "pa", "ka", "byen", "ye", "fe", "tou"})
#: Vietnamese words as texted without tone marks (lingua needs the marks).
_VIETNAMESE_WORDS = frozenset(
    """khong ko duoc dc nguoi truc xuat bao lanh giup nhieu nhiu roi cua minh vay dau lam
    chung voi nay phai luat canh truong cam xin chao tieng viet ong hong dung""".split()
)
#: Vietnamese markers that are also words elsewhere: they count half.
_VIETNAMESE_WEAK = frozenset({"anh", "gi", "bi", "em", "thi", "toi", "nha", "su", "sat", "hoc", "on", "viet"})

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")

#: lingua's top language must reach this confidence and lead the next by this
#: margin; otherwise, or with fewer letters than MIN_LETTERS, we keep the
#: current language. Tuned with benchmarks/language_detection.py.
MIN_CONFIDENCE = 0.5
MIN_MARGIN = 0.2
#: Marker words identify Kreyòl or unaccented Vietnamese when they score at
#: least MIN_MARKER_SCORE and make up MIN_MARKER_SHARE of the message's words.
MIN_MARKER_SCORE = 1.5
MIN_MARKER_SHARE = 0.25
MIN_LETTERS = 4


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


def _marker_score(text: str, words: frozenset[str], weak: frozenset[str]) -> float:
    return sum(0.5 if word in weak else 1.0 for word in fold(text).split() if word in words or word in weak)


def kreyol_score(text: str) -> float:
    return _marker_score(text, _KREYOL_WORDS, _KREYOL_WEAK)


def vietnamese_score(text: str) -> float:
    return _marker_score(text, _VIETNAMESE_WORDS, _VIETNAMESE_WEAK)


class LanguageDetector:
    """Script rules, Kreyòl words, then lingua. Built once per app (lingua loads lazily)."""

    def __init__(self, languages: tuple[str, ...] = SUPPORTED_LANGUAGES):
        self.languages = languages
        lingua_languages = [_LINGUA[code] for code in languages if code in _LINGUA]
        self._codes = {_LINGUA[code]: code for code in languages if code in _LINGUA}
        self._detector = LanguageDetectorBuilder.from_languages(*lingua_languages).build()

    def detect(self, text: str) -> str | None:
        """Return a locale code only when the message clearly is in that language."""
        han = len(_HAN.findall(text))
        arabic = len(_ARABIC.findall(text))
        if han >= 2 and "zh" in self.languages:
            return "zh"
        if arabic >= 2 and "ar" in self.languages:
            return "ar"
        letters = sum(ch.isalpha() for ch in text)
        if letters < MIN_LETTERS:
            return None
        words = max(len(fold(text).split()), 1)
        scores = {"ht": kreyol_score(text), "vi": vietnamese_score(text)}
        best = max((code for code in scores if code in self.languages), key=scores.get, default=None)
        if best and scores[best] >= MIN_MARKER_SCORE and scores[best] / words >= MIN_MARKER_SHARE:
            return best
        values = self._detector.compute_language_confidence_values(text)
        if not values:
            return None
        second = values[1].value if len(values) > 1 else 0.0
        if values[0].value < MIN_CONFIDENCE or values[0].value - second < MIN_MARGIN:
            return None
        return self._codes.get(values[0].language)
