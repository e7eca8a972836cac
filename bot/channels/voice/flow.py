"""One step of a call, as TwiML: the menus, the engine's reply read for the ear, and where to go next.

Where the call is (language, turn number, the keypad menu just offered, the topic just answered)
travels in the query of the action URLs written here (``Call``); Twilio signs them back to us
(bot/channels/voice/routes.py checks), so nothing about the call is stored beyond the session the
engine keeps for a text conversation.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable
from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.channels.voice.person import PersonLine
from bot.channels.voice.prompts import Speaker
from bot.channels.voice.speech import for_the_ear, spoken_digits
from bot.channels.voice.voices import voice_language
from bot.clients.identity import Sender
from bot.content.answers import URGENT_TOPICS
from bot.content.texts import GROUP_PREFIX
from bot.conversation.engine import Reply, language_line
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.language.segments import sms_text
from bot.outreach.outbound import enqueue_message
from bot.services import Services

log = logging.getLogger(__name__)

#: Seconds of silence before a prompt is said once more (then the hotline, then goodbye).
GATHER_TIMEOUT = 6
#: The pause that ends a spoken question. An integer: Twilio refuses "auto" with a speechModel (13335).
SPEECH_TIMEOUT = "2"
#: Keypad menus a key can answer (bot/conversation/steps.py voice_keypad).
KEYPADS = ("language", "ask", "answer", "topics")
#: The steps of a call (CallFlow methods), named in the ``step`` query parameter.
STEPS = ("start", "language", "input", "dialed", "callback")


@dataclasses.dataclass(frozen=True)
class Call:
    """Where a call is, read from the signed action URL (absent on the first request)."""

    lang: str | None = None
    n: int = 0  # turn number: every action URL of a call differs, so CallSid + URL names one step
    keypad: str | None = None
    topic: str | None = None

    @classmethod
    def from_args(cls, args, has_topic: Callable[[str], bool]) -> Call:
        lang = args.get("lang")
        topic = args.get("t")
        keypad = args.get("k")
        return cls(
            lang=lang if lang in SUPPORTED_LANGUAGES else None,
            n=min(max(args.get("n", default=0, type=int) or 0, 0), 10_000),
            keypad=keypad if keypad in KEYPADS else None,
            topic=topic if topic and has_topic(topic) else None,
        )


class CallFlow:
    """Builds the TwiML of one step. Every path ends in a prompt, a dial, or the hotline and goodbye."""

    def __init__(self, svc: Services, sender: Sender, call: Call, form, base_url: str):
        self.svc = svc
        self.settings = svc.settings
        self.content = svc.content
        self.sender = sender
        self.call = call
        self.form = form
        self.base_url = base_url
        self.person = PersonLine(self)

    # -- building blocks -----------------------------------------------------

    @property
    def default_lang(self) -> str:
        return self.call.lang or self.settings.default_language

    def speaker(self, lang: str) -> Speaker:
        return Speaker(self.content, voice_language(lang, self.settings), f"{self.base_url}/static/voice")

    def url(self, step: str, lang: str | None = None, keypad: str | None = None, topic: str | None = None) -> str:
        """The next step's URL (turn n+1), carrying the call's state."""
        query = {"step": step, "lang": lang or self.call.lang, "n": self.call.n + 1, "k": keypad, "t": topic}
        return f"{self.base_url}/voice?" + urlencode({k: v for k, v in query.items() if v is not None})

    def hotline(self, lang: str) -> dict[str, str]:
        """The urgent line open right now (the caller's place is not known on the phone)."""
        return self.svc.engine.answers.routed_values(None, lang, urgent=True)

    def gather(self, lang: str, keypad: str, topic: str | None = None, speech: bool = True, step: str = "input") -> Gather:
        language = voice_language(lang, self.settings)
        options = dict(action=self.url(step, lang, keypad, topic), method="POST", num_digits=1, timeout=GATHER_TIMEOUT)
        if speech and language.hears_speech:
            options.update(input="speech dtmf", language=language.recognition, speech_timeout=SPEECH_TIMEOUT)
            if language.speech_model:
                options["speech_model"] = language.speech_model
        else:
            options["input"] = "dtmf"
        return Gather(**options)

    def offer(self, response: VoiceResponse, lang: str, make_gather: Callable[[], Gather],
              fill: Callable[[Gather], None]) -> VoiceResponse:
        """A menu, said once more after silence, then the hotline and goodbye: never a silent line."""
        for attempt in range(2):
            gather = make_gather()
            if attempt:
                self.speaker(lang).prompt(gather, "silence")
            fill(gather)
            response.append(gather)
        return self.farewell(response, lang, hotline=True)

    def farewell(self, response: VoiceResponse, lang: str, hotline: bool) -> VoiceResponse:
        speaker = self.speaker(lang)
        if hotline:
            speaker.prompt(response, "hotline", self.hotline(lang))
        speaker.prompt(response, "goodbye")
        response.hangup()
        return response

    # -- menus ---------------------------------------------------------------

    def language_menu(self) -> VoiceResponse:
        def fill(gather: Gather) -> None:
            for digit, code in enumerate(SUPPORTED_LANGUAGES, start=1):
                self.speaker(code).prompt(gather, "language_option", {"digit": str(digit)})

        return self.offer(VoiceResponse(), self.settings.default_language,
                          lambda: self.gather(self.settings.default_language, "language", speech=False, step="language"),
                          fill)

    def ask(self, response: VoiceResponse, lang: str) -> VoiceResponse:
        """"Ask your question" (speech or keys), or the keypad topic menu where Twilio cannot hear the language."""
        if not voice_language(lang, self.settings).hears_speech:
            return self.topic_menu(response, lang, self.content.menu_text(lang))
        return self.offer(response, lang, lambda: self.gather(lang, "ask"),
                          lambda gather: self.speaker(lang).prompt(gather, "ask"))

    def topic_menu(self, response: VoiceResponse, lang: str, menu_text: str, lead: tuple[str, ...] = (),
                   speech: bool = True) -> VoiceResponse:
        """A numbered menu the engine wrote (main menu or a group's), read or played, answered by key."""
        speaker = self.speaker(lang)
        if not speaker.language.speaks:
            name = self.recorded_menu(menu_text, lang)

            def fill(gather: Gather) -> None:
                speaker.prompt(gather, name)
        else:
            spoken = for_the_ear((*lead, menu_text), lang, self.content, (language_line(),)).text

            def fill(gather: Gather) -> None:
                speaker.say_text(gather, spoken)
                speaker.prompt(gather, "menu_end")
        return self.offer(response, lang, lambda: self.gather(lang, "topics", speech=speech), fill)

    def recorded_menu(self, menu_text: str, lang: str) -> str:
        """Which recording says this menu: a group's ("menu-jail") when the text opens with its label."""
        first = menu_text.strip().splitlines()[0] if menu_text.strip() else ""
        for group in self.content.menu_groups:
            if first == f"{self.content.menu_label(group, lang)}:":
                return f"menu-{group.removeprefix(GROUP_PREFIX)}"
        return "menu"

    def after_answer(self, response: VoiceResponse, lang: str, topic: str | None) -> VoiceResponse:
        return self.offer(response, lang, lambda: self.gather(lang, "answer", topic),
                          lambda gather: self.speaker(lang).prompt(gather, "after_answer"))

    # -- steps ---------------------------------------------------------------

    def start(self) -> VoiceResponse:
        return self.language_menu()

    def language(self) -> VoiceResponse:
        digits = (self.form.get("Digits") or "").strip()
        if not (digits.isdigit() and 1 <= int(digits) <= len(SUPPORTED_LANGUAGES)):
            return self.language_menu()  # a key that is no language: the menu again, nothing changed
        reply = self.engine_reply(digits, keypad="language")
        response = VoiceResponse()
        speaker = self.speaker(reply.lang)
        if speaker.language.speaks:
            # "OK, I'll answer in English", and on a first contact the welcome's "legal information, not advice".
            speaker.say_text(response, for_the_ear(reply.messages, reply.lang, self.content, (language_line(),)).text)
        else:
            speaker.prompt(response, "language_changed")
        return self.ask(response, reply.lang)

    def input(self) -> VoiceResponse:
        lang = self.default_lang
        speech = (self.form.get("SpeechResult") or "").strip()
        digits = (self.form.get("Digits") or "").strip()
        if not speech and not digits:
            return self.ask(VoiceResponse(), lang)
        if speech:
            reply = self.engine_reply(spoken_digits(speech), language_hint=lang)
        else:
            reply = self.engine_reply(digits[:1], language_hint=lang, keypad=self.call.keypad or "ask")
        return self.answer(reply)

    def dialed(self) -> VoiceResponse:
        return self.person.dialed(self.form.get("DialCallStatus") or "", self.default_lang)

    def callback(self) -> VoiceResponse:
        return self.person.callback((self.form.get("Digits") or "").strip(), self.default_lang)

    # -- the engine's reply, for the ear -------------------------------------

    def engine_reply(self, text: str, language_hint: str | None = None, keypad: str | None = None) -> Reply:
        # No address for the engine: the voice line dials or takes a callback itself (the handoff
        # gate queues nobody without one), and nobody is signed up for alerts by voice.
        caller = dataclasses.replace(self.sender, address=None)
        reply = self.svc.engine.handle(caller, text, language_hint=language_hint, keypad=keypad)
        log.info("voice answered intent=%s lang=%s keypad=%s nlu=%s", reply.intent, reply.lang, keypad,
                 reply.nlu_available)
        return reply

    def topic_of(self, reply: Reply) -> str | None:
        topic = reply.intent.removesuffix(".more")
        return topic if self.content.has_topic(topic) else None

    def answer(self, reply: Reply) -> VoiceResponse:
        lang = reply.lang
        response = VoiceResponse()
        speaker = self.speaker(lang)
        topic = self.topic_of(reply)
        if reply.intent == "human_handoff":
            return self.person.connect(response, lang)
        if reply.intent == "text_me":
            if reply.messages:
                self.send_text(response, lang, reply.messages[0])
            else:  # the caller texted STOP: no text goes to them
                speaker.prompt(response, "text_failed")
            return self.after_answer(response, lang, self.call.topic)
        if not reply.messages:
            if reply.intent == "handoff":
                # Staff hold this person's text conversation: the bot stays quiet there, not here.
                speaker.prompt(response, "staff_texting")
            return self.ask(response, lang)  # (or over the per-minute limit, already told once)
        if not speaker.language.speaks:
            if topic:  # no voice reads this language: the answer goes by text, the menu is played again
                if not self.send_text(response, lang, "\n".join(reply.messages)):
                    speaker.prompt(response, "hotline", self.hotline(lang))
                return self.topic_menu(response, lang, self.content.menu_text(lang))
            return self.topic_menu(response, lang, reply.messages[0])
        spoken = for_the_ear(reply.messages, lang, self.content, (language_line(),))
        if not reply.nlu_available and not topic:
            # Rasa is down and keywords found nothing: the keypad topic menu, no speech.
            speaker.prompt(response, "keypad_only")
            return self.topic_menu(response, lang, self.content.menu_text(lang), speech=False)
        if topic:
            speaker.say_text(response, spoken.text)
            if topic in URGENT_TOPICS and self.person.can_dial(lang):
                return self.person.connect(response, lang, topic)
            if spoken.asks_zip:
                speaker.prompt(response, "ask_zip")
            return self.after_answer(response, lang, topic)
        if spoken.is_menu:
            return self.topic_menu(response, lang, "\n".join(reply.messages))
        speaker.say_text(response, spoken.text)
        return self.ask(response, lang)

    def send_text(self, response: VoiceResponse, lang: str, text: str) -> bool:
        """Queue the answer, links and all, as a text to the caller; say whether that worked."""
        try:
            enqueue_message(self.settings, self.sender.address, sms_text(text, lang))
        except Exception as exc:  # no queue configured, Redis down: say so, never fail the call
            log.warning("could not queue the caller's text (%s)", type(exc).__name__)
            self.speaker(lang).prompt(response, "text_failed")
            return False
        log.info("voice queued a text lang=%s", lang)
        self.speaker(lang).prompt(response, "texted")
        return True
