"""Plain-language opt-out, sign-up and "yes" words, per language.

US carriers (CTIA guidelines) and the FCC (TCPA consent rules, 2024 order)
require honouring a request to stop texting made "by any reasonable means",
not only the STOP keywords. Someone who writes "please stop texting me" or
"no más mensajes" has opted out, and must get no more alerts. So besides the
whole-message commands in ``bot/language/keywords.py`` the bot looks for these
phrases anywhere in a message.

Every phrase is written already folded (``bot.language.languages.fold``): lower case,
accents and other combining marks dropped (Arabic short vowels and hamza
marks too: "إلغاء" is "الغاء", "رسائل" is "رسايل"), punctuation, apostrophes
included, turned into spaces ("don't" is "don t"), spaces collapsed. ``fold`` does not change
"đ", so Vietnamese phrases typed with Vietnamese letters keep it ("đừng" is
"đung") and are listed both ways. A phrase is matched on word boundaries
(``f" {phrase} " in f" {fold(text)} "``).

Opt-out phrases must never match an ordinary rights question ("how do I stop
ICE from entering", "la policía me paró", "can they remove me from the
country"), so none is a bare "stop", "parar" or "arrêter": each names the
texting, messages or alerts, or is a fixed unsubscribe expression.
``tests/test_optout_phrases.py`` checks this against real questions.
"""

from __future__ import annotations

#: Phrases that, anywhere in a message, mean "stop sending me messages".
OPT_OUT_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "stop texting",
        "stop sending me",
        "stop messaging",
        "stop messages",
        "stop the messages",
        "stop the alerts",
        "no more messages",
        "no more texts",
        "no more alerts",
        "dont text me",
        "don t text me",  # "don't text me" after folding
        "do not text me",
        "unsubscribe me",
        "take me off your",
        "remove me from your",  # not "remove me from": "can ICE remove me from the country"
    ),
    "es": (
        "no mas mensajes",
        "no mas alertas",
        "no mas textos",
        "deja de enviarme",
        "dejen de enviarme",
        "deja de mandarme",
        "dejen de mandarme",
        "dejen de escribirme",
        "no me manden mensajes",  # not "no me manden": "que no me manden a mi pais"
        "no me envien mensajes",
        "no quiero mas mensajes",
        "ya no quiero mensajes",
        "darme de baja",
        "cancelar suscripcion",
        "quitenme de la lista",
    ),
    "ht": (
        "sispann voye mesaj",
        "sispann voye teks",
        "sispann voye alet",
        "sispann ekri m",
        "sispann ekri mwen",
        "sispann alet yo",
        "pa voye mesaj anko",
        "pa voye m mesaj",
        "pa voye mwen mesaj",
        "pa ekri m anko",
        "pa vle mesaj anko",
        "pa vle resevwa mesaj",
        "retire nimewo m",
        "retire m nan lis",
        "dezabone m",
    ),
    "fr": (
        "arretez de m envoyer",
        "arrete de m envoyer",
        "arretez d envoyer",
        "arretez les messages",
        "arreter les messages",
        "arretez les alertes",
        "ne m envoyez plus",
        "ne m ecrivez plus",
        "ne plus recevoir de messages",
        "veux plus recevoir de messages",  # not "plus recevoir": "je ne peux plus recevoir de messages de mon fils"
        "ne veux plus de messages",
        "desabonnez moi",
        "me desabonner",
        "desinscrivez moi",
        "retirez moi de la liste",
    ),
    "pt": (
        "parem de mandar mensagens",
        "parem de me mandar",
        "para de me mandar",
        "parem de enviar mensagens",
        "parem de me enviar",
        "nao me mandem mais",
        "nao me enviem mais",
        "nao quero mais mensagens",
        "nao quero mais alertas",
        "nao quero receber mensagens",
        "chega de mensagens",
        "parar as mensagens",
        "cancelar inscricao",
        "me descadastrar",
        "me tirem da lista",
    ),
    # Chinese has no spaces between words: matched on word boundaries, a phrase
    # is found only as a whole clause (between punctuation), so the common
    # whole requests are listed as such.
    "zh": (
        "不要再发短信",
        "不要再发短信了",
        "别再发短信",
        "别再发短信了",
        "请不要再发短信",
        "不要再给我发短信",
        "别再给我发短信",
        "不要再发了",
        "别再发了",
        "停止发短信",
        "停止发送短信",
        "我不想再收到短信",
        "取消订阅",
        "我要取消订阅",
        "我要退订",
    ),
    # Texted with or without tone marks: "dừng" folds to "dung", "đừng" to "đung".
    "vi": (
        "dung nhan tin cho toi",
        "đung nhan tin cho toi",
        "dung nhan tin nua",
        "đung nhan tin nua",
        "dung gui tin nhan",
        "đung gui tin nhan",
        "ngung nhan tin",
        "ngung gui tin",
        "khong muon nhan tin nhan",
        "huy dang ky",
        "huy đang ky",
        "ngung gui canh bao",
        "khong muon nhan canh bao",
        "xoa toi khoi danh sach",
        "thoi nhan tin",
    ),
    "ar": (
        "توقفوا عن ارسال",
        "توقف عن ارسال",
        "توقفوا عن مراسلتي",
        "لا ترسلوا لي",
        "لا ترسل لي",
        "لا اريد رسايل",
        "لا اريد الرسايل",
        "الغاء الاشتراك",
        "الغوا اشتراكي",
        "احذفوني من القايمة",
        "ايقاف الرسايل",
        "اوقفوا الرسايل",
        "كفى رسايل",
        "لا مزيد من الرسايل",
        "ايقاف التنبيهات",
    ),
}

#: Whole messages that mean "sign me up for alerts" (JOIN). None is a command
#: word of ``bot/language/keywords.py``. Not the Kreyòl "ale" (it also means "go"),
#: nor a bare Spanish "alerta" (a warning about ICE nearby, not a sign-up).
SUBSCRIBE_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("join", "subscribe", "alerts", "alert"),
    "es": ("alertas", "suscribir", "suscribirme", "unirme"),
    "ht": ("alet", "enskri", "abone"),
    "fr": ("alertes", "abonner", "inscrire", "m abonner", "m inscrire"),
    "pt": ("alertas", "inscrever", "me inscrever"),
    "zh": ("订阅", "订阅提醒", "提醒", "警报"),
    "vi": ("dang ky", "đang ky", "canh bao", "nhan canh bao"),
    "ar": ("اشتراك", "اشترك", "تنبيهات", "التنبيهات"),
}

#: Whole messages that mean "yes, start again", honoured only right after an
#: opt-out. Not Arabic "ابدأ" alone: folded it is "ابدا", which is also "أبدًا",
#: "never". Not "ok"/"好": that may only acknowledge the opt-out.
RESUME_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("yes", "start", "unstop"),
    "es": ("si", "comenzar", "empezar"),
    "ht": ("wi", "rekomanse"),
    "fr": ("oui", "recommencer"),
    "pt": ("sim", "comecar"),
    "zh": ("是", "是的", "开始"),
    "vi": ("co", "bat dau", "bat đau"),
    "ar": ("نعم", "ابدا من جديد"),
}
