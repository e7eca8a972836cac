"""The questions hotlines hear most get their own answers, in every language, through /sms with
the real model; legal questions no topic covers get an honest "can't answer" with free legal help;
the grouped menu opens sub-menus and fits one SMS screen in every language."""

from __future__ import annotations

import pytest

from bot.checks import TOPIC_FIRST_SEGMENTS
from bot.content.texts import ContentBase
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.language.segments import count_segments, sms_text
from tests.conftest import ROOT, post_signed, sms_form, twiml_messages

NEW_TOPICS = ("court_date", "ice_checkin", "family_plan", "status_ending", "driving", "scams", "worker_rights",
              "registration")

#: One plain message per new topic and language, written the way people text (not training phrases).
QUESTIONS = {
    "court_date": {
        "en": "i have immigration court next week, if i go will ice arrest me there?",
        "es": "tengo corte de inmigracion la proxima semana, si voy me puede agarrar ICE ahi?",
        "ht": "mwen gen tribinal imigrasyon semenn pwochen, si m ale eske ICE ka arete m la?",
        "fr": "j'ai une audience au tribunal d'immigration la semaine prochaine, est-ce que ICE peut m'arreter la-bas?",
        "pt": "tenho audiencia na corte de imigracao semana que vem, se eu for o ICE pode me prender la?",
        "zh": "我下周要去移民法庭开庭，去了会不会被ICE抓？",
        "vi": "tuần sau tôi phải ra tòa di trú, nếu đi thì ICE có bắt tôi ở đó không?",
        "ar": "عندي جلسة في محكمة الهجرة الأسبوع القادم، إذا ذهبت هل يمكن أن يعتقلني ICE هناك؟",
    },
    "ice_checkin": {
        "en": "my ICE check-in is tomorrow should I go",
        "es": "mañana tengo mi cita de reporte con ICE, debo ir o me van a detener?",
        "ht": "demen mwen gen randevou check-in ak ICE, eske m dwe ale?",
        "fr": "mon rendez-vous de pointage avec ICE est demain, je dois y aller?",
        "pt": "meu check-in no ICE é amanhã, devo ir?",
        "zh": "我明天要去ICE报到，应该去吗？",
        "vi": "ngày mai tôi phải đi trình diện ICE, có nên đi không?",
        "ar": "عندي موعد مراجعة مع ICE غدا، هل يجب أن أذهب؟",
    },
    "family_plan": {
        "en": "who will take care of my kids if ICE detains me, how do i make a plan",
        "es": "quien cuidaria a mis hijos si me detiene migracion, como hago un plan familiar",
        "ht": "kiyes ki pral okipe pitit mwen si ICE arete m, kijan pou m fè yon plan fanmi",
        "fr": "qui va garder mes enfants si ICE m'arrete, comment faire un plan pour ma famille",
        "pt": "quem vai cuidar dos meus filhos se o ICE me prender, como faço um plano familiar",
        "zh": "如果我被ICE抓了，谁来照顾我的孩子？怎么做家庭应急计划",
        "vi": "nếu tôi bị ICE bắt thì ai trông con tôi, làm kế hoạch gia đình thế nào",
        "ar": "من سيعتني بأطفالي إذا اعتقلني ICE، كيف أعمل خطة للعائلة",
    },
    "status_ending": {
        "en": "my TPS is ending what happens",
        "es": "se me va a acabar el TPS que hago",
        "ht": "TPS mwen ap fini, kisa k ap rive m?",
        "fr": "mon TPS va se terminer, qu'est-ce qui va se passer?",
        "pt": "meu TPS vai acabar, o que acontece agora?",
        "zh": "我的TPS要结束了，怎么办？",
        "vi": "TPS của tôi sắp hết hạn, chuyện gì sẽ xảy ra?",
        "ar": "الـ TPS تبعي رح ينتهي، شو بيصير؟",
    },
    "driving": {
        "en": "i dont have a drivers license and got a ticket, what do i do",
        "es": "no tengo licencia de manejar y me dieron una multa",
        "ht": "mwen pa gen lisans pou kondui e yo ban m yon tikè",
        "fr": "je n'ai pas de permis de conduire et j'ai eu une contravention",
        "pt": "não tenho carteira de motorista e levei uma multa de trânsito",
        "zh": "我没有驾照，开车被开了罚单怎么办",
        "vi": "tôi không có bằng lái xe và bị phạt giấy phạt giao thông",
        "ar": "ما عندي رخصة قيادة وأخذت مخالفة مرور",
    },
    "scams": {
        "en": "a notario says he can get me a work permit for $3000, is that legit?",
        "es": "un notario me dice que me saca el permiso de trabajo por 3000 dolares, es confiable?",
        "ht": "yon notè di m li ka jwenn pèmi travay pou mwen pou 3000 dola, eske se vre?",
        "fr": "un notaire dit qu'il peut m'avoir un permis de travail pour 3000 dollars, c'est une arnaque?",
        "pt": "um notário disse que consegue minha permissão de trabalho por 3000 dólares, é golpe?",
        "zh": "有个公证人说3000美元就能帮我办工卡，是不是骗子？",
        "vi": "có người công chứng nói lấy giấy phép làm việc cho tôi với giá 3000 đô, có phải lừa đảo không?",
        "ar": "واحد نوتاريو قال إنه يطلع لي تصريح عمل مقابل 3000 دولار، هل هذا احتيال؟",
    },
    "worker_rights": {
        "en": "ICE raided my job, do i have rights as a worker",
        "es": "migracion hizo una redada en mi trabajo, que derechos tengo como trabajador",
        "ht": "ICE fè yon rafle nan travay mwen, ki dwa mwen genyen kòm travayè",
        "fr": "ICE a fait une descente a mon travail, quels sont mes droits comme travailleur",
        "pt": "o ICE fez uma batida no meu trabalho, quais são meus direitos como trabalhador",
        "zh": "ICE突袭了我工作的地方，我作为工人有什么权利",
        "vi": "ICE đột kích chỗ tôi làm, tôi có quyền gì với tư cách người lao động",
        "ar": "ICE داهم مكان شغلي، ما هي حقوقي كعامل",
    },
    "registration": {
        "en": "do i have to register with the government with that G-325R form",
        "es": "tengo que registrarme con el formulario G-325R?",
        "ht": "eske mwen oblije enskri ak fòm G-325R la?",
        "fr": "est-ce que je dois m'enregistrer avec le formulaire G-325R?",
        "pt": "eu preciso me registrar com o formulário G-325R?",
        "zh": "我需要用G-325R表格登记吗？",
        "vi": "tôi có phải đăng ký bằng mẫu G-325R không?",
        "ar": "هل يجب أن أسجل نفسي بنموذج G-325R؟",
    },
}

#: Real legal questions that no topic answers.
OTHER_LEGAL = {
    "en": "how do i get a green card through my husband, he is a citizen",
    "es": "como me divorcio de mi esposo si estamos en diferentes estados",
    "ht": "kijan pou m fè demann azil, konbyen tan mwen genyen pou m aplike",
    "fr": "comment demander la citoyennete americaine, combien ca coute",
    "pt": "como faço para pedir asilo, qual é o prazo",
    "zh": "我想和美国公民结婚办绿卡，需要什么材料",
    "vi": "làm sao để xin quốc tịch Mỹ, tốn bao nhiêu tiền",
    "ar": "كيف أقدم طلب لجوء وما هي المدة المسموحة للتقديم",
}


def reply(client, phone, body):
    response = post_signed(client, sms_form(phone, body))
    assert response.status_code == 200
    return twiml_messages(response.data)


def topic_of(content, text: str) -> str | None:
    """Which topic's first reply ``text`` is (in any language), or None (menu, honest limit, other)."""
    for intent in content.topics:
        for lang in SUPPORTED_LANGUAGES:
            opening = sms_text(content.text(f"{intent}.first", lang), lang)[:30]
            if text.startswith(opening):
                return intent
    return None


@pytest.fixture(scope="module")
def answers_to_the_new_questions(redis_url, rasa_url, unused_lines):
    """The first reply to every question above, each from a new phone: {(topic, lang): reply}."""
    from bot import create_app
    from tests.conftest import AUTH_TOKEN, ID_HASH_KEY, PUBLIC_URL

    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_URL": PUBLIC_URL, "ID_HASH_KEY": ID_HASH_KEY,
                      "SECRET_KEY": "test-secret-key", "REDIS_URL": redis_url, "RASA_URL": rasa_url})
    client = app.test_client()
    replies = {}
    for topic in NEW_TOPICS:
        for lang in SUPPORTED_LANGUAGES:
            replies[(topic, lang)] = reply(client, f"+1415555{next(unused_lines):04d}", QUESTIONS[topic][lang])[0]
    return app, replies


@pytest.mark.parametrize("topic", NEW_TOPICS)
def test_a_new_topic_question_never_gets_another_topics_answer(answers_to_the_new_questions, topic):
    app, replies = answers_to_the_new_questions
    content = app.extensions["kyr"].content
    for lang in SUPPORTED_LANGUAGES:
        got = topic_of(content, replies[(topic, lang)])
        # A miss may get the menu (safe); it must never get another topic's answer.
        assert got in (topic, None), (topic, lang, got, replies[(topic, lang)][:80])


def test_new_topics_are_answered_in_the_persons_language(answers_to_the_new_questions):
    """At least 90% of the 64 questions get their topic, in the language they were asked in.

    Known misses (December 2026): a short French "rendez-vous de pointage" check-in question falls
    below the confidence threshold (menu), and short unaccented Spanish and Portuguese messages can be
    answered in English (language detection, issue #17).
    """
    app, replies = answers_to_the_new_questions
    content = app.extensions["kyr"].content
    right = [
        (topic, lang) for (topic, lang), text in replies.items()
        if text.startswith(sms_text(content.text(f"{topic}.first", lang), lang)[:30])
    ]
    missed = sorted(set(replies) - set(right))
    assert len(right) >= 0.9 * len(replies), f"{len(right)}/{len(replies)} right; missed {missed}"


def test_a_legal_question_no_topic_covers_gets_the_honest_limit(app, client, unused_lines):
    content = app.extensions["kyr"].content
    honest = 0
    for lang in SUPPORTED_LANGUAGES:
        answer = reply(client, f"+1415556{next(unused_lines):04d}", OTHER_LEGAL[lang])[0]
        # Never another topic's answer; the honest limit, or at worst the menu.
        assert topic_of(content, answer) is None, (lang, answer[:80])
        honest += answer == sms_text(content.text("system.other_legal", lang), lang)
    assert honest >= 7, f"the honest-limit reply in only {honest} of 8 languages"


def test_a_menu_number_opens_a_sub_menu_whose_numbers_pick_its_topics(app, client, phone):
    content = app.extensions["kyr"].content
    court = content.menu.index("group:court") + 1
    reply(client, phone, "MENU")
    sub = reply(client, phone, str(court))[0]
    assert sub == sms_text(content.menu_text("en", "group:court"), "en")
    first = content.menu_groups["group:court"][0]
    answer = reply(client, phone, "1")[0]
    assert answer.startswith(sms_text(content.text(f"{first}.first", "en"), "en")[:40])
    # The sub-menu's numbers count for one message only: "1" now means the main menu's first item.
    again = reply(client, phone, "1")[0]
    assert again.startswith(sms_text(content.text(f"{content.menu[0]}.first", "en", {}), "en").split("{")[0][:30])


def test_a_group_label_opens_its_sub_menu(app, client, phone):
    content = app.extensions["kyr"].content
    reply(client, phone, "español")
    label = content.menu_label("group:work", "es")
    assert reply(client, phone, label)[0] == sms_text(content.menu_text("es", "group:work"), "es")


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_the_menu_and_every_sub_menu_fit_one_sms_screen(lang):
    content = ContentBase(ROOT / "responses", ROOT / "locales", SUPPORTED_LANGUAGES)
    menus = [f"{content.text('system.not_understood', lang)}\n{content.menu_text(lang)}"]
    menus += [content.menu_text(lang, group) for group in content.menu_groups]
    for text in menus:
        counted = count_segments(sms_text(text, lang))
        assert counted.segments <= TOPIC_FIRST_SEGMENTS[counted.encoding], (lang, text)
    every_topic = {t for item in content.menu for t in content.menu_groups.get(item, (item,))}
    assert every_topic == set(content.topics), "every topic is reachable from the menu"
