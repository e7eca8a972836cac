"""The engine's decision order, as data.

``DECISION_STEPS`` is the order in which the engine (bot/conversation/engine.py ``_decide``)
tries to answer one message. Each step is a small function that gets the engine and the
message and returns a Reply, or None to pass to the next step. The last step, understanding
(Rasa NLU, or keywords when Rasa is down), always answers, so the bot never goes silent.
A new step (the voice keypad, say) is one function and one entry in the list.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

from bot.clients.identity import Sender
from bot.language import keywords
from bot.language.languages import SUPPORTED_LANGUAGES, explicit_switch, fold

if TYPE_CHECKING:
    from bot.conversation.engine import ConversationEngine, Reply


@dataclasses.dataclass
class Message:
    """One incoming message as the steps see it."""

    sender: Sender
    body: str
    session: dict[str, Any]
    lang: str
    #: The language menu's numbers mean languages for the very next message only.
    awaiting_language: bool
    #: Likewise a sub-menu's numbers mean its topics for the very next message only.
    submenu: str | None
    #: Voice line only: which keypad menu the caller was just offered ("language", "ask",
    #: "answer", "topics"), so a pressed key means that menu's choice. None for typed messages.
    keypad: str | None = None
    #: No language chosen yet: a clear first message decides it (later ones must be clearer).
    first: bool = False


Step = Callable[["ConversationEngine", Message], "Reply | None"]


def has_words(text: str) -> bool:
    """True when a message has at least one letter or digit (not only emoji/punctuation)."""
    return any(ch.isalnum() for ch in text)


#: Keys the voice line's menus give a meaning of their own (bot/channels/voice): after an answer,
#: 1 hears more and 2 texts it; 0 asks for a person and 9 lists the topics wherever the caller asks.
KEY_MORE, KEY_TEXT_ME, KEY_PERSON, KEY_TOPICS = "1", "2", "0", "9"


def voice_keypad(engine: ConversationEngine, msg: Message) -> Reply | None:
    """A key pressed on the voice line's language, question or after-answer menu.

    Other keys (a topic's number in the keypad topic menu) go on to the menu-number step,
    exactly as a typed number does.
    """
    if msg.keypad is None or msg.sender.channel != "voice":
        return None
    key = msg.body.strip()
    if msg.keypad == "language":
        number = keywords.menu_number(key)
        if number is not None and 1 <= number <= len(SUPPORTED_LANGUAGES):
            chosen = SUPPORTED_LANGUAGES[number - 1]
            return engine._say("system.language_changed", chosen, "change_language")
        return engine._language_menu(msg.session, msg.lang)
    if key == KEY_PERSON:
        return engine._command("person", msg.sender, msg.session, msg.lang)
    if key == KEY_TOPICS:
        return engine._with_menu(None, msg.lang, "menu")
    if msg.keypad == "answer" and key == KEY_MORE:
        return engine._command("more", msg.sender, msg.session, msg.lang)
    if msg.keypad == "answer" and key == KEY_TEXT_ME:
        return engine._text_me(msg.session, msg.lang)
    return None


def empty_message(engine: ConversationEngine, msg: Message) -> Reply | None:
    if not has_words(msg.body):
        return engine._with_menu("system.empty_message", msg.lang, "empty")
    return None


def language_switch(engine: ConversationEngine, msg: Message) -> Reply | None:
    """"español", "english please": the language changes at once."""
    switched = explicit_switch(msg.body)
    if switched:
        return engine._with_menu("system.language_changed", switched, "change_language")
    return None


def keyword_command(engine: ConversationEngine, msg: Message) -> Reply | None:
    """MENU, MORE, HELP, STOP, START, DELETE, LANGUAGE, PERSON, LEAVE in every language."""
    command = keywords.command(msg.body)
    if command:
        return engine._command(command, msg.sender, msg.session, keywords.command_language(msg.body, msg.lang))
    return None


def opt_out(engine: ConversationEngine, msg: Message) -> Reply | None:
    """"no more messages" and the like: all outreach stops."""
    if keywords.is_opt_out(msg.body):
        return engine._stop(msg.sender, msg.session, msg.lang)
    return None


def subscribe(engine: ConversationEngine, msg: Message) -> Reply | None:
    """JOIN/ALERTAS: opt in to alerts."""
    if keywords.is_subscribe(msg.body):
        return engine._subscribe(msg.sender, msg.session, keywords.subscribe_language(msg.body, msg.lang))
    return None


def resume(engine: ConversationEngine, msg: Message) -> Reply | None:
    """YES/START after a STOP."""
    if msg.session.get("stopped") and keywords.is_resume(msg.body):
        return engine._resume(msg.sender, msg.session, msg.lang)
    return None


def menu_number(engine: ConversationEngine, msg: Message) -> Reply | None:
    """A number: a language right after the language menu, else the (sub-)menu's item."""
    number = keywords.menu_number(msg.body)
    if number is not None and msg.awaiting_language and 1 <= number <= len(SUPPORTED_LANGUAGES):
        chosen = SUPPORTED_LANGUAGES[number - 1]
        return engine._with_menu("system.language_changed", chosen, "change_language")
    if number is not None and not keywords.looks_like_zip(msg.body):
        items = engine.content.menu_groups.get(msg.submenu) if msg.submenu else engine.content.menu
        if items and 1 <= number <= len(items):
            return engine._menu_item(items[number - 1], msg.session, msg.lang)
        return engine._with_menu("system.not_understood", msg.lang, "fallback")
    return None


def menu_label(engine: ConversationEngine, msg: Message) -> Reply | None:
    """A topic's or group's menu label, in any language ("Fix an old conviction")."""
    labelled = engine._labels.get(fold(msg.body))
    if labelled:
        return engine._menu_item(labelled, msg.session, msg.lang)
    return None


def place(engine: ConversationEngine, msg: Message) -> Reply | None:
    """A ZIP code or a state on its own (a city only when asked); an unknown ZIP says so."""
    found = engine._place_in_whole_message(msg.body, msg.session)
    if found is not None:
        return engine._location_reply(found, msg.session, msg.lang)
    if keywords.looks_like_zip(msg.body):
        return engine._say("system.location_unknown", msg.lang, "give_location")
    return None


#: Replies to the conversation itself ("hola", "thanks", "ok", "no"): they never switch its language.
SMALL_TALK_INTENTS = frozenset({"greet", "goodbye", "thanks", "affirm", "deny"})


def reply_language(engine: ConversationEngine, msg: Message, intent: str | None) -> str:
    """The first message decides when clear; a later one switches only when clearly another
    language, has 3+ words and is not small talk. (Numbers and ZIP codes never get here.)"""
    if msg.sender.channel == "voice":
        return msg.lang  # a call's speech was transcribed in the language the caller chose: no guessing
    if intent == "change_language":
        return msg.lang  # the language named decides ("puedes contestar en ingles"), not the one it is written in
    guess = engine.detector.guess(msg.body)
    if guess is None or guess.lang == msg.lang:
        return msg.lang
    if msg.first:
        return guess.lang if guess.clear_first else msg.lang
    if intent in SMALL_TALK_INTENTS:
        return msg.lang
    return guess.lang if guess.clear_switch else msg.lang


def understanding(engine: ConversationEngine, msg: Message) -> Reply | None:
    """Everything else: ask the NLU, choose the reply language, answer the intent (or the menu)."""
    intent, entities, nlu_available = engine._understand(msg.body)
    lang = reply_language(engine, msg, intent)
    if intent == "give_location":
        found = engine.resolver.from_entities(entities)
        reply = engine._location_reply(found, msg.session, lang) if found else engine._say(
            "system.location_unknown", lang, "give_location"
        )
    else:
        engine._learn_location(msg.body, entities, msg.session)
        reply = engine._answer(msg.sender, intent, msg.body, msg.session, lang)
    return dataclasses.replace(reply, nlu_available=nlu_available)


#: The decision order: the first step that returns a Reply answers the message.
DECISION_STEPS: tuple[tuple[str, Step], ...] = (
    ("voice keypad", voice_keypad),
    ("empty message", empty_message),
    ("explicit language switch", language_switch),
    ("keyword command", keyword_command),
    ("opt-out", opt_out),
    ("subscribe", subscribe),
    ("resume", resume),
    ("menu number", menu_number),
    ("menu label", menu_label),
    ("place", place),
    ("understanding", understanding),
)
