"""Answers written for the ear.

A reply is written for a phone screen: links, "Reply MORE", numbered menu lines, phone numbers
as digits a TTS voice would read as one big number. ``for_the_ear`` turns it into what a voice
should say: links dropped (the caller can get them by text), SMS footers dropped, menu lines
become "<topic>: press 3", sentences that say which word to text ("Reply MENU for topics") dropped
(the call's own menus say which key to press), phone numbers read digit by digit ("8 8 8, 6 2 4, 4 7 5 2").
"""

from __future__ import annotations

import dataclasses
import re

from bot.content.texts import ContentBase
from bot.language.keywords import COMMANDS
from bot.language.languages import fold

#: A US phone number as people write it (10 digits after an optional 1, any separators).
PHONE = re.compile(r"(?<!\d)(?:\+?1[\s.\-]*)?\(?(\d{3})\)?[\s.\-]*(\d{3})[\s.\-]*(\d{4})(?!\d)")
#: Short emergency and service numbers a voice would otherwise read as "nine hundred eleven".
SHORT_NUMBER = re.compile(r"(?<![\d$,.])\b(911|211|311|988)\b(?![\d,])")
#: A link: scheme or www, or a bare domain with a path or a common ending.
#: (A sentence's final period or comma is not part of the link.)
#: Links are ASCII: a Chinese or Arabic sentence that goes on right after one (no space) is not part of it.
_URL_CHAR = r"[!-~]"  # printable ASCII, no space
_URL_END = r"[A-Za-z0-9/_=#&%~+\-]"  # not a sentence's final period, comma or bracket
LINK = re.compile(
    rf"(?:https?://|www\.){_URL_CHAR}*{_URL_END}"
    r"|\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:org|com|gov|net|us|edu|info)\b"
    rf"(?:/{_URL_CHAR}*{_URL_END})?/?",
    re.IGNORECASE,
)
#: "12 Label" — one line of a numbered menu.
MENU_LINE = re.compile(r"^(\d{1,2})\s+(.+)$")
#: Sentence ends, in Latin and CJK punctuation.
SENTENCE_END = re.compile(r"(?<=[.!?。！？])(\s*)")
#: A word in capitals ("MENU", "MÁS"), the way texts name a word to send.
SHOUTED = re.compile(r"[^\W\d_]{2,}")
#: A quoted word ("菜单" in “…”, «قائمة»): how scripts without capitals name a word to send.
QUOTED = re.compile(r"[“«「\"']\s*([^”»」\"'\n]{1,24}?)\s*[”»」\"']")
#: SMS footers and menu instructions that mean nothing on a call.
SMS_ONLY_KEYS = ("system.more_footer", "system.more_footer_zip", "system.menu_intro", "system.menu_footer")


@dataclasses.dataclass(frozen=True)
class Spoken:
    text: str
    had_links: bool
    is_menu: bool
    asks_zip: bool = False  # the text version asked for a ZIP code (say it, on a call)


def spell_digits(groups: tuple[str, ...]) -> str:
    """("888", "624", "4752") → "8 8 8, 6 2 4, 4 7 5 2": each digit on its own, a pause per group."""
    return ", ".join(" ".join(group) for group in groups)


def read_numbers(text: str) -> str:
    text = PHONE.sub(lambda m: spell_digits(m.groups()), text)
    return SHORT_NUMBER.sub(lambda m: " ".join(m.group(1)), text)


def drop_links(text: str) -> tuple[str, bool]:
    cleaned, count = LINK.subn("\x00", text)
    if not count:
        return text, False
    # "Legal help: CLINIC <link>." → "Legal help: CLINIC."; no empty brackets left behind.
    cleaned = re.sub(r"[ \t]*\x00[ \t]*(?=[.,;!?)]|$)", "", cleaned)
    cleaned = re.sub(r"[ \t]*\x00[ \t]*", " ", cleaned)
    cleaned = re.sub(r"\s*\(\s*\)", "", cleaned)
    # "Free legal help: ." → "Free legal help." (the link's label keeps its sentence).
    cleaned = re.sub(r"\s*[:：]\s*(?=[.。]|$)", "", cleaned)
    return cleaned.strip(), True


def tells_to_send_a_word(sentence: str) -> bool:
    """ "Reply MENU for topics.", "回复“菜单”…", "أرسل «قائمة»": a sentence naming a command word,
    in capitals or (for Chinese and Arabic, which have none) in quotation marks."""
    words = [w for w in SHOUTED.findall(sentence) if w.isupper()]
    pairs = [f"{a} {b}" for a, b in zip(words, words[1:])]
    quoted = QUOTED.findall(sentence)
    return any(fold(word) in COMMANDS for word in (*words, *pairs, *quoted))


def without_send_instructions(line: str) -> str:
    """The line without its "Reply MENU…" sentences; the others keep their own spacing."""
    parts = SENTENCE_END.split(line)  # sentence, its trailing space, sentence, ...
    kept = [sentence + space for sentence, space in zip(parts[::2], [*parts[1::2], ""])
            if sentence and not tells_to_send_a_word(sentence)]
    return "".join(kept).strip()


def for_the_ear(messages: tuple[str, ...] | list[str], lang: str, content: ContentBase,
                skip_lines: tuple[str, ...] = ()) -> Spoken:
    """What a voice says for a reply's messages, in ``lang``."""
    sms_only = {content.text(key, lang) for key in SMS_ONLY_KEYS if key.removeprefix("system.") in content.system}
    sms_only.update(skip_lines)
    zip_footer = content.text("system.more_footer_zip", lang)
    lines: list[str] = []
    had_links = is_menu = asks_zip = False
    for message in messages:
        for line in message.splitlines():
            line = line.strip()
            asks_zip = asks_zip or line == zip_footer
            if not line or line in sms_only:
                continue
            menu = MENU_LINE.match(line)
            if menu:
                is_menu = True
                line = content.text("system.voice_menu_item", lang, {"digit": menu.group(1), "label": menu.group(2)})
            if line.endswith((":", "：")):
                line = line[:-1] + ("。" if line.endswith("：") else ".")  # a menu's heading, said as its own sentence
            line, linked = drop_links(line)
            line = without_send_instructions(line)
            had_links = had_links or linked
            if line:
                lines.append(read_numbers(line))
    return Spoken(" ".join(lines), had_links, is_menu, asks_zip)


def spoken_digits(speech: str) -> str:
    """"6 0 6 2 3" as transcribed → "60623": a spoken ZIP code reaches the engine as one."""
    return re.sub(r"[\s-]", "", speech) if re.fullmatch(r"[\d\s-]+", speech) else speech
