"""SMS segment counting with real GSM-7 / UCS-2 rules, and GSM-7 folding.

Cost is per segment. A message that is all GSM-7 (the ``gsm0338`` codec,
where ``{ } [ ] ~ \\ | ^ €`` take two septets) fits 160 septets in one segment
and 153 per segment when split. One character outside GSM-7 turns the whole
message into UCS-2: 70 UTF-16 units in one segment, 67 per segment when split.

``fold_to_gsm`` replaces characters outside GSM-7 with their closest GSM-7
spelling (``á`` → ``a``, curly quotes → straight) when that makes the whole
message GSM-7, the way carriers' "smart encoding" does; for scripts that have
no such spelling (Chinese, Arabic) it returns the text unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import unicodedata

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from unidecode import unidecode

from bot.language.languages import GSM_FOLD_LANGUAGES

GSM_CODEC = "gsm03.38"
MAX_BODY_CHARS = 1600


@dataclasses.dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def _gsm_septets(text: str) -> int | None:
    try:
        return len(text.encode(GSM_CODEC))
    except UnicodeEncodeError:
        return None


def count_segments(text: str) -> SegmentCount:
    """How many SMS segments ``text`` costs, in the encoding a phone would use."""
    septets = _gsm_septets(text)
    if septets is not None:
        segments = 1 if septets <= 160 else math.ceil(septets / 153)
        return SegmentCount("GSM-7", septets, segments if text else 0)
    units = len(text.encode("utf-16-le")) // 2
    segments = 1 if units <= 70 else math.ceil(units / 67)
    return SegmentCount("UCS-2", units, segments)


def _is_latin_or_punctuation(char: str) -> bool:
    """Only Latin letters and punctuation have a faithful GSM-7 spelling."""
    if unicodedata.category(char)[0] in "PZ":
        return True
    return "LATIN" in unicodedata.name(char, "")


@functools.lru_cache(maxsize=512)
def fold_to_gsm(text: str) -> str:
    """GSM-7 spelling of ``text`` when one exists for every character, else ``text``.

    Cached: the bot's replies are a few hundred texts, and folding one costs a codec
    call per character (about 0.2 ms of every /sms request before the cache). Only the
    bot's own texts and staff alerts come here, never a person's message.
    """
    if _gsm_septets(text) is not None:
        return text
    folded = []
    for char in text:
        if _gsm_septets(char) is not None:
            folded.append(char)
            continue
        if not _is_latin_or_punctuation(char):
            return text
        replacement = unidecode(char)
        if not replacement or _gsm_septets(replacement) is None:
            return text
        folded.append(replacement)
    result = "".join(folded)
    return result if _gsm_septets(result) is not None else text


def sms_text(text: str, lang: str) -> str:
    """The text as the SMS channel sends it: folded to GSM-7 where the language allows."""
    return fold_to_gsm(text) if lang in GSM_FOLD_LANGUAGES else text
