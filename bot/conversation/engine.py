"""The conversation engine: one message in, the bot's reply out.

Every surface (Twilio SMS/WhatsApp, the web chat, the terminal chat) calls
``ConversationEngine.handle``; none of them decides what to say. The engine
never raises for bad input and never goes silent: when Rasa is down it falls
back to keywords, when it is unsure it shows the numbered menu, and when the
store is down it answers without memory.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
import unicodedata
from typing import Any

import redis

from bot.language import keywords
from bot.content.answers import URGENT_TOPICS, AnswerComposer
from bot.content.texts import ContentBase
from bot.clients.identity import Sender
from bot.language.detection import LanguageDetector
from bot.language.languages import NATIVE_NAMES, SUPPORTED_LANGUAGES, fold, languages_named_in
from bot.content.location import Location, LocationResolver
from bot.clients.nlu import Entity, NluResult, NluUnavailable, RasaClient
from bot.language.segments import MAX_BODY_CHARS
from bot.clients.store import Store, Turn
from bot.conversation.activity import NOT_UNDERSTOOD_INTENTS, OPT_OUT_INTENTS, ActivityTally
from bot.conversation.optins import OptInBook
from bot.conversation.steps import DECISION_STEPS, Message, has_words  # noqa: F401  (has_words: public name)

log = logging.getLogger(__name__)

#: Intents about the conversation itself; every other intent is a topic in ``responses/topics``.
CONVERSATION_INTENTS = {
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "help_menu",
    "change_language",
    "subscribe",
    "delete_data",
    "give_location",
    "human_handoff",
    "out_of_scope",
    "other_legal",
}
#: Replies that change subscriptions themselves (no "last seen" update after them).
OUTREACH_INTENTS = {"stop", "subscribe", "resume", "start"}
#: When the top two intents are this close, the message is ambiguous: show the menu.
AMBIGUITY_MARGIN = 0.1
SESSION_VERSION = 1
#: The per-sender message limit (rate_limit_per_minute) counts in windows this long.
RATE_WINDOW_SECONDS = 60
#: Words that show a number or place in a message is where the person lives
#: ("my son is 15" must not become ZIP 00015; "we live in 60623" should count).
LOCATION_CUES = frozenset(
    {"live", "lives", "living", "zip", "zipcode", "located", "vivo", "vivimos", "vive", "viven", "codigo", "postal", "estoy", "estamos", "from", "de"}
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclasses.dataclass(frozen=True)
class Reply:
    """What the bot says: one or more messages, in one language."""

    messages: tuple[str, ...]
    lang: str
    intent: str  # what the engine decided, e.g. "detainer", "menu", "fallback"
    nlu_available: bool = True


def language_line() -> str:
    """The compact language menu of a first reply: each language in its own name."""
    return " | ".join(NATIVE_NAMES[code] for code in SUPPORTED_LANGUAGES)


def clean_text(text: str | None) -> str:
    """Normalize a message body: NFC, no control characters, at most 1,600 characters."""
    value = unicodedata.normalize("NFC", text or "")
    value = _CONTROL_CHARS.sub(" ", value).strip()
    return value[:MAX_BODY_CHARS]


class ConversationEngine:
    """Decides replies; holds no per-request state itself (safe across threads)."""

    def __init__(
        self,
        *,
        content: ContentBase,
        answers: AnswerComposer,
        resolver: LocationResolver,
        store: Store,
        nlu: RasaClient,
        detector: LanguageDetector,
        default_language: str,
        state_ttl: int,
        confidence_threshold: float,
        topic_threshold: float | None = None,
        urgent_threshold: float | None = None,
        rate_limit_per_minute: int = 20,
        subscriptions: OptInBook | None = None,
        handoff: Any = None,
        activity: ActivityTally | None = None,
    ):
        self.content = content
        self.answers = answers
        # A topic's or group's menu label, in any language, picks it ("text 'Fix an old conviction'").
        self._labels = {
            fold(content.menu_label(item, lang)): item
            for item in (*content.topics, *content.menu_groups)
            for lang in (*content.catalogs, "en")
        }
        self.resolver = resolver
        self.store = store
        self.nlu = nlu
        self.detector = detector
        self.default_language = default_language
        self.state_ttl = state_ttl
        self.confidence_threshold = confidence_threshold
        #: A topic's answer needs more confidence than "hello": a wrong answer is worse than the menu.
        self.topic_threshold = max(confidence_threshold, topic_threshold or confidence_threshold)
        #: Urgent topics start with the hotline, so a less sure answer still helps more than the menu.
        self.urgent_threshold = max(confidence_threshold, urgent_threshold or self.topic_threshold)
        self.rate_limit_per_minute = rate_limit_per_minute
        #: Alert sign-ups: an OptInBook, bot/outreach Subscriptions in production
        #: (None without Redis or ENCRYPTION_KEY: JOIN says alerts are unavailable).
        self.subscriptions = subscriptions
        #: bot/handoff HandoffGate (None when handoff is off: "a person" gets handoff_unavailable).
        self.handoff = handoff
        #: Daily counts for the console's reports (bot/clients/activity.py; None without Redis).
        self.activity = activity

    # -- entry point -----------------------------------------------------

    def handle(self, sender: Sender, text: str | None, language_hint: str | None = None,
               keypad: str | None = None) -> Reply:
        """Answer one message. ``language_hint`` (e.g. the browser's language) only
        sets the language of a conversation that has none yet; ``keypad`` names the
        voice line's menu a pressed key answers (steps.voice_keypad)."""
        with self.store.turn(sender.key, RATE_WINDOW_SECONDS) as turn:
            return self._handle(sender, text, language_hint, turn, keypad)

    def _handle(self, sender: Sender, text: str | None, language_hint: str | None, turn: Turn,
                keypad: str | None = None) -> Reply:
        body = clean_text(text)
        stored = turn.session
        session: dict[str, Any] = stored if self._valid_session(stored) else {"v": SESSION_VERSION}
        first_contact = stored is None
        lang = session.get("lang") or language_hint or self.default_language
        flood = self._flood_reply(turn.count, lang)
        if flood is not None:
            return flood
        # While staff own the conversation the bot is quiet; while the person waits it answers (bot/handoff/gate.py).
        held = self.handoff.intercept(sender, body, session) if self.handoff is not None else None
        if held is not None and held.reply is not None:
            # The person wrote: their WhatsApp 24-hour window is open even while staff answer.
            self._outreach(lambda book: book.record_inbound(sender.key))
            return held.reply
        reply = self._decide(sender, body, session, lang, keypad)
        if self.handoff is not None:
            reply = self.handoff.follow_up(sender, body, session, reply, held)
        if reply.intent == "delete_data":
            self.store.delete_session(sender.key)
            self.store.forget_rate(sender.key)
            self._outreach(lambda book: book.erase(sender.key))
            return reply
        if reply.intent not in OUTREACH_INTENTS:
            self._outreach(lambda book: book.record_inbound(sender.key, reply.lang))
        if first_contact and reply.intent not in ("stop",):
            welcome = f"{self.content.text('system.welcome', reply.lang)}\n{language_line()}"
            reply = dataclasses.replace(reply, messages=reply.messages + (welcome,))
        session["lang"] = reply.lang
        session["turns"] = int(session.get("turns") or 0) + 1
        if turn.count:  # 0: storage is down, so are the counters (no extra timeout per message)
            self._count(sender, reply, session)
        turn.save(session, self.state_ttl)
        return reply

    def _count(self, sender: Sender, reply: Reply, session: dict[str, Any]) -> None:
        """Tell the reports what the bot did (a conversation counts once per day: ``session["day"]``)."""
        if self.activity is None:
            return
        today = int(time.time() // 86400)
        new_today = session.get("day") != today
        session["day"] = today
        event = ("not_understood" if reply.intent in NOT_UNDERSTOOD_INTENTS
                 else "opt_out" if reply.intent in OPT_OUT_INTENTS else None)
        topic = reply.intent if self.content.has_topic(reply.intent) else None
        try:
            self.activity.record(channel=sender.channel, lang=reply.lang, new_conversation=new_today,
                                 topic=topic, event=event)
        except redis.RedisError as exc:
            log.warning("activity counters unavailable: %s", type(exc).__name__)

    def _flood_reply(self, count: int, lang: str) -> Reply | None:
        """Over the per-minute limit: one polite notice, then silence until the minute ends.

        ``count`` is kept in the store, so the limit holds across workers and replicas.
        """
        if count <= self.rate_limit_per_minute:
            return None
        if count == self.rate_limit_per_minute + 1:
            return self._say("system.rate_limited", lang, "rate_limited")
        return Reply((), lang, "rate_limited")

    @staticmethod
    def _valid_session(stored: Any) -> bool:
        return isinstance(stored, dict) and stored.get("v") == SESSION_VERSION

    # -- decisions -------------------------------------------------------

    def _decide(self, sender: Sender, body: str, session: dict[str, Any], lang: str,
                keypad: str | None = None) -> Reply:
        """The first step of DECISION_STEPS (bot/conversation/steps.py) that answers, answers."""
        message = Message(
            sender=sender,
            body=body,
            session=session,
            lang=lang,
            # The language menu's numbers mean languages for the very next message only.
            awaiting_language=session.pop("awaiting_language", False),
            # Likewise a sub-menu's numbers mean its topics for the very next message only.
            submenu=session.pop("submenu", None),
            keypad=keypad,
            first=not session.get("lang"),
        )
        for _name, step in DECISION_STEPS:
            reply = step(self, message)
            if reply is not None:
                return reply
        raise AssertionError("the understanding step always answers")

    def _understand(self, body: str) -> tuple[str | None, tuple[Entity, ...], bool]:
        """The intent we are confident about (else ``None``), entities, and whether Rasa answered."""
        try:
            result = self.nlu.parse(body)
        except NluUnavailable:
            return keywords.fallback_intent(body), (), False
        return self._confident_intent(result), result.entities, True

    def _place_in_whole_message(self, body: str, session: dict[str, Any]) -> Location | None:
        """A ZIP code or state name sent on its own; a city or state abbreviation only when asked."""
        stripped = body.strip()
        if keywords.looks_like_zip(stripped):
            return self.resolver.from_zip(stripped[:5])
        if session.get("awaiting_zip"):
            return self.resolver.from_text(stripped)
        place = self.resolver.from_state(stripped)
        # Two-letter codes such as "OK", "IN", "OR" are ordinary words when nobody asked.
        return place if place is not None and len(stripped) > 2 else None

    def _learn_location(self, body: str, entities: tuple[Entity, ...], session: dict[str, Any]) -> None:
        """Keep a place mentioned in passing ("we live in 60623, my son...") as state/county."""
        if not entities or not (set(fold(body).split()) & LOCATION_CUES):
            return
        place = self.resolver.from_entities(entities)
        if place is not None:
            session["loc"] = place.as_session()

    def _confident_intent(self, result: NluResult) -> str | None:
        if not result.intent or result.intent == "nlu_fallback":
            return None
        if result.confidence < self._threshold_for(result.intent):
            return None
        if result.confidence - result.second_confidence() < AMBIGUITY_MARGIN:
            return None
        return result.intent

    def _threshold_for(self, intent: str) -> float:
        """How sure the model must be: most for topics, less for urgent ones, least for "thanks"."""
        if not self.content.has_topic(intent):
            return self.confidence_threshold
        return self.urgent_threshold if intent in URGENT_TOPICS else self.topic_threshold

    def _answer(self, sender: Sender, intent: str | None, body: str, session: dict[str, Any], lang: str) -> Reply:
        if intent is None or intent == "out_of_scope":
            session["topic"] = None
            return self._with_menu("system.not_understood", lang, intent or "fallback")
        if intent == "other_legal":
            # Honest limits: a legal question no topic answers gets free legal help, not a guess.
            session["topic"] = None
            values = self.answers.routed_values(Location.from_session(session.get("loc")), lang)
            return Reply((self.content.text("system.other_legal", lang, values),), lang, intent)
        if self.content.has_topic(intent):
            return self._topic(intent, session, lang)
        if intent == "greet":
            return self._with_menu("system.greet", lang, intent)
        if intent == "help_menu":
            return self._with_menu(None, lang, intent)
        if intent == "change_language":
            return self._change_language(body, session, lang)
        if intent == "delete_data":
            return self._say("system.delete_done", lang, intent)
        if intent == "subscribe":
            return self._subscribe(sender, session, lang)
        simple = {
            "goodbye": "system.goodbye",
            "thanks": "system.thanks",
            "affirm": "system.affirm",
            "deny": "system.deny",
            "human_handoff": "system.handoff_unavailable",
        }
        if intent in simple:
            return self._say(simple[intent], lang, intent)
        log.warning("intent without an answer: %s", intent)
        return self._with_menu("system.not_understood", lang, "fallback")

    def _command(self, command: str, sender: Sender, session: dict[str, Any], lang: str) -> Reply:
        if command == "menu":
            return self._with_menu(None, lang, "menu")
        if command == "more":
            topic = session.get("topic")
            if topic and self.content.has_topic(topic):
                location = Location.from_session(session.get("loc"))
                return Reply((self.answers.more_reply(topic, location, lang),), lang, f"{topic}.more")
            return self._with_menu("system.no_more", lang, "more")
        if command == "help":
            return self._say("system.help_keyword", lang, "help")
        if command == "stop":
            return self._stop(sender, session, lang)
        if command == "start":
            return self._resume(sender, session, lang)
        if command == "delete":
            return self._say("system.delete_done", lang, "delete_data")
        if command == "language":
            return self._language_menu(session, lang)
        if command == "person":
            # Like the human_handoff intent: the handoff gate queues it, else "we cannot connect you yet".
            return self._say("system.handoff_unavailable", lang, "human_handoff")
        if command == "leave":
            # NEVER MIND with no wait to leave: just the topics.
            return self._with_menu(None, lang, "menu")
        raise AssertionError(f"unhandled command {command}")

    # -- outreach (alerts) -----------------------------------------------

    def _outreach(self, operation) -> bool:
        """Run a subscription change; False when alerts are off or Redis failed (never raises)."""
        if self.subscriptions is None:
            return False
        try:
            operation(self.subscriptions)
            return True
        except redis.RedisError as exc:
            log.warning("subscription store unavailable: %s", type(exc).__name__)
            return False

    def _stop(self, sender: Sender, session: dict[str, Any], lang: str) -> Reply:
        """STOP, ALTO, "no more messages": all outreach stops at once, one confirmation."""
        session["stopped"] = True
        session.pop("topic", None)
        if not self._outreach(lambda book: book.stop(sender.key)) and self.subscriptions is not None:
            log.error("could not record an opt-out; Twilio's own STOP handling still blocks sends")
        return self._say("system.stop_done", lang, "stop")

    def _resume(self, sender: Sender, session: dict[str, Any], lang: str) -> Reply:
        """START/UNSTOP (or YES right after a STOP): alerts come back if there were any."""
        session.pop("stopped", None)
        resumed = []
        self._outreach(lambda book: resumed.append(book.resume(sender)))
        if any(resumed):
            return self._say("system.resume_done", lang, "resume")
        return self._with_menu("system.greet", lang, "start")

    def _subscribe(self, sender: Sender, session: dict[str, Any], lang: str) -> Reply:
        """JOIN/ALERTAS or the subscribe intent: opt in with language and known area."""
        outcome: list[str] = []
        location = Location.from_session(session.get("loc"))
        if sender.address is not None:
            self._outreach(lambda book: outcome.append(book.subscribe(sender, lang, location)))
        if not outcome:
            return self._say("system.subscribe_unavailable", lang, "subscribe")
        session.pop("stopped", None)
        key = "system.subscribe_already" if outcome[0] == "already" else "system.subscribe_done"
        return self._say(key, lang, "subscribe")

    def _change_language(self, body: str, session: dict[str, Any], lang: str) -> Reply:
        for code in languages_named_in(body):
            if code != lang:
                return self._with_menu("system.language_changed", code, "change_language")
        return self._language_menu(session, lang)

    def _language_menu(self, session: dict[str, Any], lang: str) -> Reply:
        """Numbered list of languages in their own names; the next number picks one."""
        session["awaiting_language"] = True
        lines = [self.content.text("system.language_menu", lang)]
        lines += [f"{n} {NATIVE_NAMES[code]}" for n, code in enumerate(SUPPORTED_LANGUAGES, start=1)]
        return Reply(("\n".join(lines),), lang, "change_language")

    # -- staff sending the bot's answer ------------------------------------

    def staff_answer(self, sender_key: str, topic: str, fallback_lang: str, *, more: bool = False,
                     gloss_lang: str = "en") -> tuple[Reply, str]:
        """What the bot would answer this person for ``topic`` (its first reply, or MORE), and the
        same answer in ``gloss_lang`` for the staff member who sends it.

        Used by the console when staff send a reviewed answer (bot/console/answers.py): the
        person's session gives the language, state and county, exactly as for the bot's own
        answer, and remembers the topic so their next MORE continues from it. It takes the
        person's turn lock like a message does (so it counts once in their per-minute limit).
        Raises ``KeyError`` for an unknown topic.
        """
        if not self.content.has_topic(topic):
            raise KeyError(topic)
        with self.store.turn(sender_key, RATE_WINDOW_SECONDS) as turn:
            stored = turn.session
            session: dict[str, Any] = stored if self._valid_session(stored) else {"v": SESSION_VERSION}
            lang = session.get("lang") or fallback_lang
            location = Location.from_session(session.get("loc"))
            if more:
                session["topic"] = topic
                reply = Reply((self.answers.more_reply(topic, location, lang),), lang, f"{topic}.more")
                gloss = self.answers.more_reply(topic, location, gloss_lang)
            else:
                reply = self._topic(topic, session, lang)
                gloss = self.answers.first_reply(topic, location, gloss_lang)
            session["lang"] = lang
            turn.save(session, self.state_ttl)
        return reply, gloss

    # -- composing -------------------------------------------------------

    def _text_me(self, session: dict[str, Any], lang: str) -> Reply:
        """The current topic's whole answer as a text message (voice line: "press 2"), links included.

        The surface sends ``messages`` through the outbound queue and says so; with no topic
        yet there is nothing to send, so the caller hears the topics instead. Someone who texted
        STOP gets no text (and no messages here: the surface says it could not send one).
        """
        if session.get("stopped"):
            return Reply((), lang, "text_me")
        topic = session.get("topic")
        if not (topic and self.content.has_topic(topic)):
            return self._with_menu("system.no_more", lang, "more")
        location = Location.from_session(session.get("loc"))
        first = self.content.text(self.answers.topic_key(topic, "first", location), lang,
                                  self.answers.routed_values(location, lang, urgent=topic in URGENT_TOPICS))
        text = f"{first}\n{self.answers.more_reply(topic, location, lang)}"
        return Reply((text,), lang, "text_me")

    def _topic(self, intent: str, session: dict[str, Any], lang: str) -> Reply:
        session["topic"] = intent
        location = Location.from_session(session.get("loc"))
        if location is None and self.answers.names_local_help(intent):
            session["awaiting_zip"] = intent
        else:
            session.pop("awaiting_zip", None)
        return Reply((self.answers.first_reply(intent, location, lang),), lang, intent)

    def _location_reply(self, place: Location, session: dict[str, Any], lang: str) -> Reply:
        """Keep the place (state and county only); answer the topic that asked for it."""
        session["loc"] = place.as_session()
        pending = session.pop("awaiting_zip", None)
        if pending and self.content.has_topic(pending):
            session["topic"] = pending
            saved = self.content.text("system.location_thanks", lang, {"place": place.label()})
            return Reply((f"{saved}\n{self.answers.first_reply(pending, place, lang)}",), lang, pending)
        return Reply((self.answers.location_saved(place, lang),), lang, "give_location")

    def _say(self, key: str, lang: str, intent: str) -> Reply:
        return Reply((self.content.text(key, lang),), lang, intent)

    def menu_text(self, lang: str, group: str | None = None) -> str:
        return self.content.menu_text(lang, group)

    def _menu_item(self, item: str, session: dict[str, Any], lang: str) -> Reply:
        """A topic's answer, or a group's sub-menu whose numbers count for the next message."""
        if item in self.content.menu_groups:
            session["submenu"] = item
            return Reply((self.menu_text(lang, item),), lang, "menu")
        return self._topic(item, session, lang)

    def _with_menu(self, lead_key: str | None, lang: str, intent: str) -> Reply:
        """The numbered menu, after the ``lead_key`` text when one is given."""
        menu = self.menu_text(lang)
        text = f"{self.content.text(lead_key, lang)}\n{menu}" if lead_key else menu
        return Reply((text,), lang, intent)
