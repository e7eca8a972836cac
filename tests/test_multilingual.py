"""Eight languages: detected, answered in kind via /sms and the web chat, switchable any time."""

import pytest

from bot.language.detection import LanguageDetector
from bot.language.languages import NATIVE_NAMES, SUPPORTED_LANGUAGES, explicit_switch
from bot.language.segments import sms_text
from tests.conftest import post_signed, sms_form, twiml_messages

#: (language, topic) → a message as a person might text it.
QUESTIONS = {
    ("en", "detainer"): "my brother is in county jail and they said ICE put a hold on him",
    ("en", "ice_at_home"): "ICE agents are knocking at my door right now, what do I do",
    ("en", "find_legal_help"): "where can I find a free immigration lawyer",
    ("es", "detainer"): "a mi hermano le pusieron un hold de migración en la cárcel, qué significa",
    ("es", "ice_at_home"): "la migra está tocando mi puerta ahorita, qué hago",
    ("es", "find_legal_help"): "dónde puedo encontrar un abogado de inmigración gratis",
    ("ht", "detainer"): "frè m nan prizon konte a epi yo di ICE mete yon hold sou li, kisa sa vle di",
    ("ht", "ice_at_home"): "ICE ap frape pòt lakay mwen kounye a, kisa pou m fè",
    ("ht", "find_legal_help"): "kote m ka jwenn yon avoka imigrasyon gratis",
    ("fr", "detainer"): "mon frère est en prison et ils disent que ICE a mis un hold sur lui, ça veut dire quoi",
    ("fr", "ice_at_home"): "des agents de ICE frappent à ma porte maintenant, qu'est-ce que je fais",
    ("fr", "find_legal_help"): "où trouver un avocat en immigration gratuit",
    ("pt", "detainer"): "meu irmão está na cadeia do condado e disseram que a ICE colocou um hold nele, o que significa",
    ("pt", "ice_at_home"): "a ICE está batendo na minha porta agora, o que eu faço",
    ("pt", "find_legal_help"): "onde posso encontrar um advogado de imigração gratuito",
    ("zh", "detainer"): "我哥哥在县监狱，他们说ICE对他下了hold，这是什么意思",
    ("zh", "ice_at_home"): "ICE的人现在正在敲我家的门，我该怎么办",
    ("zh", "find_legal_help"): "哪里可以找到免费的移民律师",
    ("vi", "detainer"): "anh tôi đang ở nhà tù quận và họ nói ICE đã đặt lệnh giữ (hold) anh ấy, nghĩa là gì",
    ("vi", "ice_at_home"): "ICE đang gõ cửa nhà tôi ngay bây giờ, tôi phải làm gì",
    ("vi", "find_legal_help"): "tôi có thể tìm luật sư di trú miễn phí ở đâu",
    ("ar", "detainer"): "أخي في سجن المقاطعة وقالوا إن ICE وضعت عليه hold، ماذا يعني ذلك",
    ("ar", "ice_at_home"): "عملاء ICE يطرقون بابي الآن، ماذا أفعل",
    ("ar", "find_legal_help"): "أين أجد محامي هجرة مجاني",
}


def expected_start(app, topic, lang):
    content = app.extensions["kyr"].content
    return content.text(f"{topic}.first", lang)[:40]


@pytest.mark.parametrize(("lang", "topic"), sorted(QUESTIONS))
def test_question_answered_in_its_language_via_sms(app, client, phone, lang, topic):
    response = post_signed(client, sms_form(phone, QUESTIONS[(lang, topic)]))
    assert response.status_code == 200
    reply = twiml_messages(response.data)[0]
    assert reply.startswith(sms_text(expected_start(app, topic, lang), lang))


@pytest.mark.parametrize(("lang", "topic"), sorted(QUESTIONS))
def test_question_answered_in_its_language_via_web_chat(app, client, lang, topic):
    data = client.post("/api/chat", json={"message": QUESTIONS[(lang, topic)]}).json
    assert data["lang"] == lang
    assert data["replies"][0].startswith(expected_start(app, topic, lang))


def test_every_language_has_every_text(app):
    content = app.extensions["kyr"].content
    for lang in SUPPORTED_LANGUAGES:
        if lang == "en":
            continue
        missing = [s.key for s in content.source_texts() if (s.key, s.text) not in content.catalogs[lang]]
        assert not missing, f"{lang} shows English for {missing[:5]}"


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_switch_by_native_name(app, client, phone, lang):
    post_signed(client, sms_form(phone, "hello" if lang != "en" else "hola"))
    reply = twiml_messages(post_signed(client, sms_form(phone, NATIVE_NAMES[lang])).data)[0]
    content = app.extensions["kyr"].content
    assert reply.startswith(sms_text(content.text("system.language_changed", lang), lang))
    menu = twiml_messages(post_signed(client, sms_form(phone, "MENU")).data)[0]
    assert menu == sms_text(app.extensions["kyr"].engine.menu_text(lang), lang)


@pytest.mark.parametrize("neutral", ["ok", "1", "60623", "👍", "OK!!", "?"])
def test_neutral_messages_never_flip_the_language(app, client, phone, neutral):
    post_signed(client, sms_form(phone, "中文"))
    post_signed(client, sms_form(phone, neutral))
    menu = twiml_messages(post_signed(client, sms_form(phone, "MENU")).data)[0]
    assert menu == sms_text(app.extensions["kyr"].engine.menu_text("zh"), "zh")


def test_explicit_switch_words():
    assert explicit_switch("español") == "es"
    assert explicit_switch("KREYÒL") == "ht"
    assert explicit_switch("中文") == "zh"
    assert explicit_switch("tiếng việt") == "vi"
    assert explicit_switch("العربية") == "ar"
    assert explicit_switch("ok") is None


def test_detector_keeps_short_or_neutral_messages_undecided():
    detector = LanguageDetector()
    for text in ["ok", "1", "60623", "👍", "ICE", "hi"]:
        assert detector.detect(text) is None, text
    assert detector.detect("我哥哥被ICE抓了") == "zh"
    assert detector.detect("أين أجد محامي") == "ar"
    assert detector.detect("m pa konnen kisa pou m fè") == "ht"
