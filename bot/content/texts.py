"""Answer content: English source texts in ``responses/``, translations in ``locales/``.

``responses/topics/<intent>.yml`` holds each topic's English first reply,
MORE text, menu label, sources and review date; ``responses/system.yml``
holds menus and system messages; ``responses/resources.yml`` the phone
numbers and links inserted through ``{placeholders}``; ``responses/menu.yml``
the order of the numbered menu.

Translations are standard gettext catalogs
(``locales/<lang>/LC_MESSAGES/messages.po``), one entry per text with the
text's key as ``msgctxt`` (``detainer.first``) and the English text as
``msgid``. Because the lookup uses the English text, an entry whose English
source changed no longer matches (``pybabel update`` marks it fuzzy) and the
English text is shown until a translator confirms it; ``make check-content``
fails on that state, so it never ships unnoticed.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Iterator

import yaml
from babel.messages.pofile import read_po

from bot.content.directory import DirectoryError, Router, load_directory, load_resources

TOPIC_FIELDS = ("menu_label", "first", "more")
#: System messages the engine uses; ``make check-content`` requires each one.
SYSTEM_KEYS = (
    "welcome",
    "menu_intro",
    "menu_footer",
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "not_understood",
    "other_legal",
    "more_footer",
    "checked",
    "no_more",
    "empty_message",
    "handoff_unavailable",
    "subscribe_unavailable",
    "delete_done",
    "language_changed",
    "language_menu",
    "location_thanks",
    "location_saved",
    "location_unknown",
    "more_footer_zip",
    "stop_done",
    "help_keyword",
    "rate_limited",
    "subscribe_done",
    "subscribe_already",
    "resume_done",
    "alert_footer",
    "handoff_queued",
    "handoff_closed",
    "handoff_returned",
    "handoff_in_line",
    "handoff_in_line_unknown",
    "handoff_left",
    "handoff_nobody_came",
    "handoff_hours_ended",
    "handoff_reading",
    "handoff_offer",
    "handoff_language_set",
    # The voice line (bot/channels/voice).
    "voice_language_option",
    "voice_ask",
    "voice_menu_item",
    "voice_menu_end",
    "voice_after_answer",
    "voice_ask_zip",
    "voice_texted",
    "voice_text_failed",
    "voice_connecting",
    "voice_nobody",
    "voice_callback_offer",
    "voice_callback_done",
    "voice_hotline",
    "voice_goodbye",
    "voice_silence",
    "voice_keypad_only",
    "voice_staff_texting",
    "voice_error",
    # make run's training banner (bot/channels/health.py).
    "nlu_training",
    "nlu_training_soon",
)
#: Placeholders the voice line fills itself: a key to press and a topic's menu label.
VOICE_PLACEHOLDERS = frozenset({"digit", "label"})
#: Handoff texts that tell people a word to send, and which word (bot/language/keywords.py ADVERTISED).
ADVERTISED_WORD_KEYS = {"handoff_offer": "person", "handoff_in_line": "leave", "handoff_in_line_unknown": "leave"}
CATALOG_DOMAIN = "messages"


class ContentError(ValueError):
    """A content file is missing or malformed (the message names the file)."""


@dataclasses.dataclass(frozen=True)
class StateVariant:
    """A topic's answer for one state where the law differs."""

    first: str
    more: str | None
    sources: tuple[str, ...]
    #: When someone last checked this state's law (each variant has its own).
    reviewed: datetime.date | None = None


@dataclasses.dataclass(frozen=True)
class Topic:
    intent: str
    menu_label: str
    first: str
    more: str
    sources: tuple[str, ...]
    reviewed: datetime.date | None
    path: Path
    states: dict[str, StateVariant] = dataclasses.field(default_factory=dict)

    def keys(self) -> list[str]:
        """Every translatable text key of this topic, e.g. ``detainer.states.CA.first``."""
        keys = [f"{self.intent}.{field}" for field in TOPIC_FIELDS]
        for state, variant in self.states.items():
            keys.append(f"{self.intent}.states.{state}.first")
            if variant.more:
                keys.append(f"{self.intent}.states.{state}.more")
        return keys

    def english(self, key: str) -> str:
        parts = key.split(".")
        if len(parts) == 2:
            return getattr(self, parts[1])
        if len(parts) == 4 and parts[1] == "states":
            text = getattr(self.states[parts[2]], parts[3])
            if text:
                return text
        raise KeyError(key)

    def reviewed_for(self, key: str) -> datetime.date | None:
        """The review date of the text shown for ``key``: the state's own for a state variant."""
        parts = key.split(".")
        if len(parts) == 4 and parts[1] == "states":
            return self.states[parts[2]].reviewed
        return self.reviewed


@dataclasses.dataclass(frozen=True)
class SourceText:
    """One translatable English text and where it lives."""

    key: str  # also the gettext msgctxt, e.g. "detainer.first"
    text: str
    path: Path
    line: int


def _load_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: cannot read YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping at the top level")
    return data


def normalize_block(text: object) -> str:
    """Trim each line; keep deliberate line breaks (YAML ``>-`` keeps them for blank lines)."""
    return "\n".join(line.strip() for line in str(text or "").strip().splitlines())


def _review_date(value: object, where: str) -> datetime.date | None:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise ContentError(f"{where}: reviewed must be a date like 2026-12-07") from exc
    return value if isinstance(value, datetime.date) else None


def load_topic(path: Path) -> Topic:
    data = _load_yaml(path)
    missing = [field for field in ("intent", *TOPIC_FIELDS) if not data.get(field)]
    if missing:
        raise ContentError(f"{path}: missing {', '.join(missing)}")
    states = {}
    for state, variant in (data.get("states") or {}).items():
        if not isinstance(variant, dict) or not variant.get("first"):
            raise ContentError(f"{path}: state variant {state} needs a 'first' text")
        states[str(state)] = StateVariant(
            first=normalize_block(variant["first"]),
            more=normalize_block(variant["more"]) if variant.get("more") else None,
            sources=tuple(str(s) for s in variant.get("sources") or ()),
            reviewed=_review_date(variant.get("reviewed"), f"{path}: states.{state}"),
        )
    return Topic(
        intent=str(data["intent"]),
        menu_label=normalize_block(data["menu_label"]),
        first=normalize_block(data["first"]),
        more=normalize_block(data["more"]),
        sources=tuple(str(s) for s in data.get("sources") or ()),
        reviewed=_review_date(data.get("reviewed"), str(path)),
        path=path,
        states=states,
    )


#: A main-menu item that opens a short sub-menu is written ``group:<id>``; its label is ``system.menu_group_<id>``.
GROUP_PREFIX = "group:"


def group_label_key(item: str) -> str:
    return f"system.menu_group_{item.removeprefix(GROUP_PREFIX)}"


def load_menu(path: Path, topics: dict, system: dict) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The numbered main menu (topics and ``group:<id>`` items) and each group's topics.

    With 23 topics one list would not fit one SMS screen, so related topics
    share a main-menu number that opens a sub-menu ("Court and ICE
    appointments" → court date, check-in, criminal case).
    """
    items: list[str] = []
    groups: dict[str, tuple[str, ...]] = {}
    for raw in _load_yaml(path).get("items") or ():
        if isinstance(raw, dict):
            ident, members = str(raw.get("group") or ""), tuple(str(t) for t in raw.get("topics") or ())
            if not ident or not members:
                raise ContentError(f"{path}: a group needs 'group: <id>' and 'topics: [...]'")
            if f"menu_group_{ident}" not in system:
                raise ContentError(f"{path}: group {ident} needs its label 'menu_group_{ident}' in system.yml")
            key = f"{GROUP_PREFIX}{ident}"
            groups[key] = members
            items.append(key)
        else:
            items.append(str(raw))
    listed = [t for t in items if not t.startswith(GROUP_PREFIX)] + [t for g in groups.values() for t in g]
    unknown = [intent for intent in listed if intent not in topics]
    if unknown:
        raise ContentError(f"{path}: no topic for {', '.join(unknown)}")
    return tuple(items), groups


def load_catalog(locales_dir: Path, lang: str) -> dict[tuple[str, str], str]:
    """``{(key, english): translation}`` for confirmed (non-fuzzy) entries of one locale."""
    path = locales_dir / lang / "LC_MESSAGES" / f"{CATALOG_DOMAIN}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {
        (message.context or "", message.id): message.string
        for message in catalog
        if message.id and message.string and not message.fuzzy and isinstance(message.id, str)
    }


class ContentBase:
    """Everything the bot can say, in every language, loaded once at start-up."""

    def __init__(self, responses_dir: Path, locales_dir: Path, languages: tuple[str, ...]):
        self.responses_dir = responses_dir
        self.languages = languages
        self.topics: dict[str, Topic] = {}
        for path in sorted((responses_dir / "topics").glob("*.yml")):
            topic = load_topic(path)
            self.topics[topic.intent] = topic
        system = _load_yaml(responses_dir / "system.yml").get("messages") or {}
        self.system: dict[str, str] = {str(k): normalize_block(v) for k, v in system.items()}
        try:
            self.resources = load_resources(responses_dir / "resources.yml")
            national = [r for r in load_directory(responses_dir / "directory.yml") if r.national]
        except DirectoryError as exc:
            raise ContentError(str(exc)) from exc
        #: National value of each placeholder, with the organization's name; verified entries only.
        self.placeholders: dict[str, str] = Router(national, self.resources).default_values()
        self.menu, self.menu_groups = load_menu(responses_dir / "menu.yml", self.topics, self.system)
        self.catalogs = {lang: load_catalog(locales_dir, lang) for lang in languages if lang != "en"}

    # -- lookups ---------------------------------------------------------

    def source_texts(self) -> Iterator[SourceText]:
        """Every English text with its key, for extraction and checks."""
        for topic in self.topics.values():
            for key in topic.keys():
                yield SourceText(key, topic.english(key), topic.path, 0)
        for key, text in self.system.items():
            yield SourceText(f"system.{key}", text, self.responses_dir / "system.yml", 0)

    def english(self, key: str) -> str:
        scope, _, name = key.partition(".")
        if scope == "system":
            return self.system[name]
        return self.topics[scope].english(key)

    def raw(self, key: str, lang: str) -> str:
        """The text for ``key`` in ``lang`` with placeholders unfilled (English if untranslated)."""
        english = self.english(key)
        if lang == "en":
            return english
        return self.catalogs.get(lang, {}).get((key, english)) or english

    def text(self, key: str, lang: str, values: dict[str, str] | None = None) -> str:
        """The text for ``key`` in ``lang``, placeholders filled (``values`` override defaults)."""
        return self.fill(self.raw(key, lang), values)

    def fill(self, template: str, values: dict[str, str] | None = None) -> str:
        mapping = dict(self.placeholders, **(values or {}))
        try:
            return template.format_map(mapping)
        except (KeyError, ValueError, IndexError):
            # (A placeholder with no verified entry is caught by make check-content and,
            # for the hotline, by the production start-up check.)
            # A broken placeholder must not silence the bot; the check catches it.
            return template

    def has_topic(self, intent: str | None) -> bool:
        return intent in self.topics

    def menu_text(self, lang: str, group: str | None = None) -> str:
        """The numbered main menu, or a group's sub-menu (headed by the group's label)."""
        items = self.menu_groups[group] if group else self.menu
        lines = [f"{self.menu_label(group, lang)}:"] if group else []
        lines.append(self.text("system.menu_intro", lang))
        lines += [f"{number} {self.menu_label(item, lang)}" for number, item in enumerate(items, start=1)]
        lines.append(self.text("system.menu_footer", lang))
        return "\n".join(lines)

    def menu_label(self, item: str, lang: str) -> str:
        """The label of a menu item (a topic or a ``group:<id>``) in ``lang``."""
        key = group_label_key(item) if item.startswith(GROUP_PREFIX) else f"{item}.menu_label"
        return self.text(key, lang)

    def reviewed_for(self, key: str) -> datetime.date | None:
        """When the text behind ``key`` (e.g. ``detainer.states.TX.more``) was last checked."""
        return self.topics[key.split(".")[0]].reviewed_for(key)

    def stale(self, today: datetime.date, max_age_days: int) -> list[tuple[str, datetime.date | None]]:
        """``(key, reviewed)`` for each topic or state variant not checked within ``max_age_days``."""
        found = []
        for topic in self.topics.values():
            keys = [f"{topic.intent}.first"] + [f"{topic.intent}.states.{s}.first" for s in topic.states]
            for key in keys:
                reviewed = topic.reviewed_for(key)
                if reviewed is None or (today - reviewed).days > max_age_days:
                    found.append((key.removesuffix(".first"), reviewed))
        return found
