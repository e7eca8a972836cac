"""When the reply language is chosen and when it switches (issue #17), in each of the 8 languages.

The first message decides when it is clear; a later message in another language switches
only when it clearly is (3+ words); a message naming a language switches; greetings,
numbers and ZIP codes never switch. Through signed /sms (TwiML read as XML) and through
the engine, with the real trained Rasa model and a real Redis.
"""

from __future__ import annotations

import secrets

import pytest

from bot.clients.identity import Sender
from bot.conversation.engine import language_line
from bot.language.detection import LanguageDetector, word_count
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.language.segments import sms_text
from tests.conftest import post_signed, sms_form, twiml_messages

#: A first message, three words or more, as people text it (not in any training or benchmark file).
FIRST = {
    "en": "my cousin got picked up by ICE yesterday what can we do",
    "es": "a mi primo se lo llevo la migra ayer que podemos hacer",
    "ht": "ICE pran kouzen mwen an yè kisa nou ka fè",
    "fr": "mon cousin a ete arrete par ICE hier on fait quoi",
    "pt": "meu primo foi pego pelo ICE ontem o que a gente faz",
    "zh": "我表哥昨天被ICE抓走了我们该怎么办",
    "vi": "anh ho toi bi ICE bat hom qua gio lam sao",
    "ar": "ابن عمي اعتقلته ICE امبارح شو منعمل",
}
#: A greeting or thanks in each language: never switches a conversation already under way.
SMALL_TALK = {
    "en": "hello there",
    "es": "hola",
    "ht": "bonjou",
    "fr": "merci beaucoup",
    "pt": "oi tudo bem",
    "zh": "你好",
    "vi": "xin chao",
    "ar": "مرحبا",
}
#: A message naming the language the person wants.
NAMING = {
    "en": "can you answer in english please",
    "es": "me puedes contestar en español por favor",
    "ht": "ekri m an kreyòl souple",
    "fr": "vous pouvez m'écrire en français svp",
    "pt": "pode me responder em português por favor",
    "zh": "请用中文回答我",
    "vi": "nhan tin bang tieng viet duoc khong",
    "ar": "ممكن تحكي معي بالعربي",
}


def other(lang: str) -> str:
    """The next language in menu order: the 'other' language of each case."""
    return SUPPORTED_LANGUAGES[(SUPPORTED_LANGUAGES.index(lang) + 1) % len(SUPPORTED_LANGUAGES)]


def welcome(app, lang: str) -> str:
    """The first-contact welcome with the language line, as the SMS channel sends it."""
    text = app.extensions["kyr"].content.text("system.welcome", lang)
    return sms_text(f"{text}\n{language_line()}", lang)


def language_changed(app, lang: str) -> str:
    return sms_text(app.extensions["kyr"].content.text("system.language_changed", lang), lang)


def sms(client, phone: str, body: str) -> list[str]:
    response = post_signed(client, sms_form(phone, body))
    assert response.status_code == 200
    return twiml_messages(response.data)


@pytest.fixture
def engine(app):
    return app.extensions["kyr"].engine


def new_sender() -> Sender:
    return Sender("web", secrets.token_hex(16))


def test_cases_are_what_the_rules_are_about():
    """Guard the test data: first messages are 3+ words; the small talk is under 3 words or a greeting."""
    for lang in SUPPORTED_LANGUAGES:
        assert word_count(FIRST[lang]) >= 3, lang
        assert word_count(NAMING[lang]) >= 3, lang


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_first_message_decides_the_language_via_sms(app, client, phone, lang):
    messages = sms(client, phone, FIRST[lang])
    # First contact: the answer, then the welcome, both in the writer's language.
    assert messages[-1] == welcome(app, lang)
    assert len(messages) == 2


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_greetings_numbers_and_zip_codes_never_switch_via_sms(app, client, phone, lang):
    sms(client, phone, FIRST[lang])
    engine = app.extensions["kyr"].engine
    for body in (SMALL_TALK[other(lang)], "2", "60623"):
        sms(client, phone, body)
    # Still in the first language: MENU answers with this language's menu.
    menu = sms(client, phone, "MENU")[0]
    assert menu == sms_text(engine.menu_text(lang), lang)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_later_message_clearly_in_another_language_switches_via_sms(app, client, phone, lang):
    sms(client, phone, FIRST[lang])
    switched_to = other(lang)
    sms(client, phone, FIRST[switched_to])
    menu = sms(client, phone, "MENU")[0]
    assert menu == sms_text(app.extensions["kyr"].engine.menu_text(switched_to), switched_to)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_message_naming_a_language_switches_via_sms(app, client, phone, lang):
    sms(client, phone, FIRST[other(lang)])
    reply = sms(client, phone, NAMING[lang])[0]
    assert reply.startswith(language_changed(app, lang))


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_engine_applies_the_rules_in_order(engine, lang):
    """One conversation per language through the engine: decide, hold, switch, name."""
    sender = new_sender()
    assert engine.handle(sender, FIRST[lang]).lang == lang
    for body in (SMALL_TALK[other(lang)], "3", "33125", "ok", "👍"):
        assert engine.handle(sender, body).lang == lang, body
    switched_to = other(lang)
    assert engine.handle(sender, FIRST[switched_to]).lang == switched_to
    named = engine.handle(sender, NAMING[lang])
    assert (named.lang, named.intent) == (lang, "change_language")


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_short_unclear_later_message_keeps_the_language(engine, lang):
    """Two words of another language (not small talk) are not enough to switch."""
    sender = new_sender()
    engine.handle(sender, FIRST[lang])
    short = {"en": "my lawyer", "es": "mi abogado", "ht": "avoka mwen", "fr": "mon avocat", "pt": "meu advogado",
             "zh": "律师", "vi": "luat su", "ar": "محامي"}[other(lang)]
    assert word_count(short) < 3
    assert engine.handle(sender, short).lang == lang


def test_detector_guesses_and_margins():
    detector = LanguageDetector()
    for lang in SUPPORTED_LANGUAGES:
        guess = detector.guess(FIRST[lang])
        assert guess is not None and guess.lang == lang and guess.clear_first and guess.clear_switch, lang
    # Too little to go on: no guess at all, or not clear enough to switch.
    for text in ("ok", "1", "60623", "ICE", "👍"):
        assert detector.guess(text) is None or not detector.guess(text).clear_switch, text


def test_checked_in_language_model_is_built_from_todays_examples(tmp_path):
    """make langid's output, byte for byte in content: the model the webhook loads is the one the data gives."""
    import gzip
    import json

    from bot.checks import LANGUAGE_HELDOUT, language_model_problems
    from bot.language import identify
    from tests.conftest import ROOT

    with gzip.open(identify.MODEL_PATH, "rt", encoding="utf-8") as handle:
        stored = json.load(handle)
    assert stored == identify.build(ROOT / "intents" / "data", LANGUAGE_HELDOUT), "run make langid and commit"
    assert language_model_problems(ROOT / "intents" / "data", LANGUAGE_HELDOUT) == []


def test_check_content_flags_a_stale_language_model(tmp_path):
    """Editing NLU examples without make langid is a content problem, not a silent drift."""
    import shutil

    from bot.checks import LANGUAGE_HELDOUT, language_model_problems
    from tests.conftest import ROOT

    data = tmp_path / "data"
    shutil.copytree(ROOT / "intents" / "data", data)
    examples = data / "es" / "conversation.yml"
    examples.write_text(examples.read_text(encoding="utf-8") + "\n# a new example\n", encoding="utf-8")
    problems = language_model_problems(data, LANGUAGE_HELDOUT)
    assert len(problems) == 1 and "make langid" in problems[0]


def test_heldout_messages_are_never_trained_on():
    """The language benchmark's messages are left out of the model even where intents/data has the same line."""
    from bot.checks import LANGUAGE_HELDOUT
    from bot.language import identify
    from bot.language.languages import fold
    from tests.conftest import ROOT

    heldout = identify.excluded_messages(LANGUAGE_HELDOUT)
    assert len(heldout) >= 8 * 40
    model = identify.build(ROOT / "intents" / "data", LANGUAGE_HELDOUT)
    assert model["excluded"] > 0
    trained = {fold(m) for lang in identify.LATIN_LANGUAGES for m in identify.examples(ROOT / "intents" / "data", lang)}
    assert model["examples"] == sum(
        1 for lang in identify.LATIN_LANGUAGES for m in identify.examples(ROOT / "intents" / "data", lang)
        if fold(m) not in heldout
    )
    assert trained & heldout, "the check above would be empty"
