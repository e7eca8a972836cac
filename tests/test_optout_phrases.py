"""Plain-language opt-outs: every request is caught, no rights question is.

The phrases are matched on word boundaries after ``fold`` (see
``bot/language/optout_phrases.py``). A phrase that matched a question such as "can
police stop me" would unsubscribe someone who needs an answer, so the
questions below must match none, in any language.
"""

from __future__ import annotations

import pytest

from bot.language import keywords

from bot.language.keywords import COMMANDS
from bot.language.languages import SUPPORTED_LANGUAGES, fold
from bot.language.optout_phrases import OPT_OUT_PHRASES, RESUME_WORDS, SUBSCRIBE_WORDS

ALL_PHRASES = [(lang, phrase) for lang, phrases in OPT_OUT_PHRASES.items() for phrase in phrases]


def contains(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {fold(text)} "


def matches(text: str) -> list[str]:
    return [phrase for _, phrase in ALL_PHRASES if contains(text, phrase)]


RIGHTS_QUESTIONS = (
    # English
    "How do I stop ICE from entering my home?",
    "Can police stop me without a reason?",
    "What is stop and frisk?",
    "My brother was stopped by police last night",
    "The officer said stop and I ran",
    "Can police stop me for texting while driving?",
    "Can ICE remove me from the country if I have a green card?",
    "They want to take me off the bus, can they?",
    "Should I stop sending money to my husband in detention?",
    "Can I stop my deportation?",
    # Spanish
    "la policia me paro",
    "¿Cómo detener una deportación?",
    "¿Pueden pararme en la calle sin razón?",
    "La migra paró a mi hermano en el trabajo",
    "¿Qué hago para que no me manden a mi país?",
    "El oficial me dijo que parara el carro",
    # French
    "La police m'a arrêté hier soir",
    "Est-ce que la police peut m'arrêter sans raison ?",
    "Comment arrêter une expulsion ?",
    "Je ne peux plus recevoir de messages de mon fils en détention",
    # Portuguese
    "A polícia me parou na rua",
    "Como parar uma deportação?",
    "Podem me mandar de volta para o Brasil?",
    # Haitian Creole
    "Lapolis te kanpe m nan wout la",
    "Kijan pou m sispann depòtasyon an?",
    "Èske yo ka voye m tounen Ayiti?",
    # Vietnamese
    "Cảnh sát bắt tôi dừng xe",
    "Làm sao để dừng việc trục xuất?",
    "Tôi có thể dùng tin nhắn để liên lạc luật sư không?",
    # Chinese
    "警察可以拦下我吗？",
    "怎么阻止驱逐出境？",
    "移民局给我发了通知，怎么办？",
    # Arabic
    "هل يمكن للشرطة أن توقفني؟",
    "كيف أوقف الترحيل؟",
    "أوقفتني الشرطة في الطريق",
    "هل يمكن أن يرسلوني إلى بلدي؟",
)

OPT_OUT_REQUESTS: dict[str, tuple[str, ...]] = {
    "en": (
        "Please STOP texting me!",
        "No more messages please",
        "Don't text me anymore.",
        "Don’t text me",
        "Can you stop sending me these?",
        "Take me off your list",
    ),
    "es": (
        "No más mensajes, por favor",
        "¡Dejen de enviarme mensajes!",
        "Quiero darme de baja",
        "Ya no quiero mensajes, gracias",
        "Por favor quítenme de la lista",
    ),
    "ht": (
        "Tanpri sispann voye mesaj ban mwen",
        "Pa voye m mesaj ankò",
        "M pa vle resevwa mesaj ankò",
        "Retire nimewo m nan lis la",
    ),
    "fr": (
        "Arrêtez de m'envoyer des messages !",
        "Désabonnez-moi s'il vous plaît",
        "Je ne veux plus recevoir de messages",
        "Ne m'envoyez plus rien",
        "Je ne veux plus de messages, merci",
    ),
    "pt": (
        "Parem de me mandar mensagens!",
        "Não quero mais mensagens, obrigado",
        "Quero me descadastrar",
    ),
    "zh": (
        "不要再发短信了！",
        "请不要再发短信。谢谢",
        "我要退订。",
        "取消订阅",
    ),
    "vi": (
        "Đừng nhắn tin cho tôi nữa",
        "Xin ngừng gửi tin nhắn",
        "dung nhan tin cho toi nua",
        "Tôi muốn hủy đăng ký",
    ),
    "ar": (
        "من فضلك توقفوا عن إرسال الرسائل",
        "لا أريد رسائل بعد الآن",
        "إلغاء الاشتراك",
        "لا ترسلوا لي رسائل مرة أخرى",
    ),
}


@pytest.mark.parametrize("table", [OPT_OUT_PHRASES, SUBSCRIBE_WORDS, RESUME_WORDS], ids=["optout", "subscribe", "resume"])
def test_every_language_has_entries(table):
    assert set(table) == set(SUPPORTED_LANGUAGES)
    for lang, words in table.items():
        assert words, lang
        assert len(set(words)) == len(words), f"{lang}: duplicates"


def test_opt_out_phrase_counts():
    for lang, phrases in OPT_OUT_PHRASES.items():
        assert 8 <= len(phrases) <= 15, lang


@pytest.mark.parametrize("table", [OPT_OUT_PHRASES, SUBSCRIBE_WORDS, RESUME_WORDS], ids=["optout", "subscribe", "resume"])
def test_entries_are_already_folded(table):
    for lang, words in table.items():
        for word in words:
            assert word == fold(word), f"{lang}: {word!r} folds to {fold(word)!r}"


def test_no_opt_out_phrase_is_a_bare_word():
    for lang, phrase in ALL_PHRASES:
        if lang == "zh":
            assert len(phrase) >= 3, phrase
        else:
            assert len(phrase.split()) >= 2, f"{lang}: {phrase!r} is a single word"
        assert phrase not in COMMANDS, f"{lang}: {phrase!r} is already a command word"


@pytest.mark.parametrize("question", RIGHTS_QUESTIONS)
def test_rights_questions_are_not_opt_outs(question):
    assert matches(question) == []
    assert not keywords.is_opt_out(question)
    # Scripts without word spaces: not even as a bare substring.
    folded = fold(question)
    assert [p for _, p in ALL_PHRASES if not p.isascii() and p in folded] == []


@pytest.mark.parametrize(
    "lang,request_text", [(lang, text) for lang, texts in OPT_OUT_REQUESTS.items() for text in texts]
)
def test_real_opt_out_requests_match(lang, request_text):
    assert any(contains(request_text, phrase) for phrase in OPT_OUT_PHRASES[lang]), fold(request_text)
    assert keywords.is_opt_out(request_text)


def test_every_language_has_real_requests():
    for lang in SUPPORTED_LANGUAGES:
        assert len(OPT_OUT_REQUESTS[lang]) >= 2, lang


def test_subscribe_words_are_not_commands_or_opt_outs():
    opt_outs = {phrase for _, phrase in ALL_PHRASES}
    for lang, words in SUBSCRIBE_WORDS.items():
        for word in words:
            assert word not in COMMANDS, f"{lang}: {word!r} is a command word"
            assert word not in opt_outs
            assert not any(f" {p} " in f" {word} " for p in opt_outs)


def test_resume_words_do_not_clash():
    subscribe = {word for words in SUBSCRIBE_WORDS.values() for word in words}
    for lang, words in RESUME_WORDS.items():
        for word in words:
            # START/UNSTOP are commands already; a "yes" word must not be any other command.
            assert COMMANDS.get(word, "start") == "start", f"{lang}: {word!r} is the {COMMANDS[word]!r} command"
            assert word not in subscribe
            assert matches(word) == []


def test_arabic_never_is_not_a_resume_word():
    # "ابدأ" (start) and "أبدًا" (never) fold to the same letters.
    assert fold("أبدًا") not in RESUME_WORDS["ar"]
