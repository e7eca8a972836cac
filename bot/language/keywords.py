"""Keyword commands, and the keyword matcher used when Rasa is down.

Commands (MENU, MORE, HELP, STOP, DELETE, a menu number) are exact words that
work whatever the NLU says, so a person can always steer the bot. The
fallback matcher is deliberately simple: it only has to give a useful answer
while Rasa is unavailable; anything it cannot place gets the menu.
"""

from __future__ import annotations

import re

from bot.language.languages import fold
from bot.language.optout_phrases import OPT_OUT_PHRASES, RESUME_WORDS, SUBSCRIBE_WORDS

#: Whole-message commands in every supported language, compared after ``fold``
#: (lower case, no accents). Answers tell people to use these words, so a
#: translation must name a word listed here (``make check-content`` checks the
#: upper-case words in footers).
_COMMAND_WORDS: dict[str, tuple[str, ...]] = {
    "menu": ("menu", "opciones", "options", "meni", "菜单", "目录", "thuc don", fold("قائمة"), fold("القائمة")),
    "more": ("more", "more info", "mas", "mas info", "plus", "plis", "mais", "更多", "them", "xem them", "المزيد", "مزيد"),
    "help": ("help", "info", "ayuda", "aide", "ed", "ede", "ajuda", "帮助", "giup", "giup do", "مساعدة"),
    "stop": ("stop", "stopall", "stop all", "opt out", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "alto", "parar",
             "arret", "arrete", "sispann", "pare", "停止", "退订", "dung", "ngung", "توقف", "الغاء"),
    "start": ("start", "unstop"),
    "delete": ("delete", "borrar", "delete my data", "borrar mis datos", "efase", "supprimer", "apagar",
               "删除", "xoa", "احذف", "حذف"),
    "language": ("language", "languages", "lang", "idioma", "idiomas", "langue", "lingua",
                 "语言", "ngon ngu", "اللغة", "لغة"),
    # "Reply PERSON to talk to our team" (system.handoff_offer names one of these per language).
    "person": ("person", "a person", "real person", "human", "agent", "persona", "una persona", "humano", "agente",
               "personne", "humain", "moun", "yon moun", "pessoa", "uma pessoa", "atendente", "nguoi",
               "nhan vien", "人工", "真人", fold("شخص"), fold("موظف")),
    # Leave the line for a person (system.handoff_in_line names one per language). Never an
    # opt-out word: CANCEL is Twilio's STOP on SMS, so it leaves the line only in the web chat.
    "leave": ("never mind", "nevermind", "nvm", "leave", "leave the line", "cancelar", "olvidalo", "no importa",
              "ya no", "annuler", "laisse tomber", "peu importe", "anile", "kite sa", "esquece", "deixa pra la",
              "huy", "thoi", "khong can", "取消", "算了", "不用了", fold("لا يهم"), fold("لا داعي")),
}
#: Words each language's texts tell people to send (``make check-content`` checks they are listed above).
ADVERTISED = {
    "person": {"en": "person", "es": "persona", "fr": "personne", "ht": "moun", "pt": "pessoa", "vi": "nguoi",
               "zh": "人工", "ar": fold("شخص")},
    "leave": {"en": "never mind", "es": "cancelar", "fr": "annuler", "ht": "anile", "pt": "cancelar", "vi": "huy",
              "zh": "取消", "ar": fold("لا يهم")},
}
#: In the web chat (no carrier keywords there) CANCEL also leaves the line.
WEB_LEAVE_WORDS = frozenset({"cancel"})
#: Command words that name their language: "AYUDA" from a new number gets a Spanish answer.
_COMMAND_LANGUAGE = {
    "ayuda": "es", "alto": "es", "aide": "fr", "arret": "fr", "arrete": "fr", "ed": "ht", "ede": "ht",
    "sispann": "ht", "ajuda": "pt", "pare": "pt", "帮助": "zh", "停止": "zh", "退订": "zh", "giup": "vi",
    "giup do": "vi", "dung": "vi", "ngung": "vi", "مساعدة": "ar", "توقف": "ar", "الغاء": "ar",
}
_SUBSCRIBE = frozenset(word for words in SUBSCRIBE_WORDS.values() for word in words)
_RESUME = frozenset(word for words in RESUME_WORDS.values() for word in words)
COMMANDS: dict[str, str] = {word: command for command, words in _COMMAND_WORDS.items() for word in words}

#: Fallback intent keywords (folded). Order matters: urgent topics first.
FALLBACK_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ice_at_home", ("door", "puerta", "knocking", "tocando", "my house", "mi casa", "warrant", "orden judicial")),
    ("report_ice_activity", ("raid", "redada", "checkpoint", "reten", "operativo", "ice activity")),
    ("family_detained", ("detained", "detenido", "detenida", "taken by ice", "se lo llevo", "se la llevo", "locator", "arrested by ice", "agarro la migra")),
    ("detainer", ("hold", "detainer", "i-247", "247a", "retencion")),
    ("immigration_bond", ("immigration bond", "ice bond", "bond hearing", "fianza de migracion", "fianza migratoria")),
    ("bail", ("bail", "fianza", "bond")),
    ("ice_checkin", ("check-in", "check in", "checkin", "isap", "ankle monitor", "grillete", "smartlink")),
    ("court_date", ("immigration court", "court date", "corte de inmigracion", "audiencia", "in absentia", "eoir")),
    ("school_police", ("school", "escuela", "student", "estudiante", "colegio")),
    ("driving", ("pulled over", "traffic stop", "license", "licencia", "ticket", "multa", "driving", "manejando")),
    ("police_stop", ("stopped me", "me paro", "policia me", "police stopped")),
    ("registration", ("g-325r", "g325r", "register", "registrarme", "self-deport", "autodeport", "cbp home")),
    ("status_ending", ("tps", "daca", "parole", "work permit", "permiso de trabajo")),
    ("scams", ("notario", "scam", "estafa", "fraude", "fake lawyer")),
    ("worker_rights", ("my job", "mi trabajo", "wages", "i-9", "employer", "patron")),
    ("family_plan", ("my kids", "mis hijos", "family plan", "plan familiar", "power of attorney", "caregiver")),
    ("youth_probation", ("probation", "probatoria", "libertad condicional", "juvenile", "juvenil")),
    ("marijuana", ("marijuana", "weed", "cannabis", "marihuana", "mota")),
    ("fix_old_conviction", ("expunge", "vacate", "old conviction", "borrar antecedentes", "limpiar record")),
    ("public_defender", ("public defender", "defensor publico", "court appointed")),
    ("criminal_case_immigration", ("plea", "guilty", "culpable", "charges", "cargos", "criminal case", "caso criminal")),
    ("local_police_ice", ("287g", "287(g)", "sanctuary", "santuario", "sheriff")),
    ("find_legal_help", ("lawyer", "attorney", "abogado", "abogada", "legal aid", "legal help", "ayuda legal")),
    ("human_handoff", ("human", "person", "persona", "agent", "agente")),
    ("greet", ("hello", "hi", "hola", "buenas", "buenos dias")),
    ("thanks", ("thanks", "thank you", "gracias")),
)

_MENU_NUMBER = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")
_ZIP_ONLY = re.compile(r"^\s*\d{5}(?:-\d{4})?\s*$")


def command(text: str) -> str | None:
    """The command a whole message is, if any (``"menu"``, ``"more"``, ``"stop"`` …)."""
    return COMMANDS.get(fold(text))


def leaves_queue(text: str, channel: str) -> bool:
    """The whole message asks to stop waiting for a person (NEVER MIND, CANCELAR, 取消…)."""
    return command(text) == "leave" or (channel == "web" and fold(text) in WEB_LEAVE_WORDS)


def is_opt_out(text: str) -> bool:
    """A plain-language request to stop messages ("please stop texting me", "no más mensajes").

    Carriers and the FCC require honouring opt-outs made by any reasonable
    means, so these count like STOP in every language.
    """
    folded = f" {fold(text)} "
    return any(_contains(folded, phrase) for phrases in OPT_OUT_PHRASES.values() for phrase in phrases)


def _contains(folded: str, phrase: str) -> bool:
    """Whole words for alphabetic scripts; any position for Chinese (no spaces between words)
    and Arabic (where "and" is a prefix: "ولا ترسلوا")."""
    if phrase.isascii():
        return f" {phrase} " in folded
    return phrase in folded


def is_subscribe(text: str) -> bool:
    """The whole message asks for alerts (JOIN, ALERTAS, …)."""
    return fold(text) in _SUBSCRIBE


def command_language(text: str, current: str) -> str:
    """The language a HELP/STOP word is in (AYUDA, ALTO…), else the conversation's language."""
    return _COMMAND_LANGUAGE.get(fold(text), current)


def subscribe_language(text: str, current: str) -> str:
    """The language of a sign-up word: ALERTAS from an English session means Spanish alerts."""
    folded = fold(text)
    speakers = [lang for lang, words in SUBSCRIBE_WORDS.items() if folded in words]
    return current if not speakers or current in speakers else speakers[0]


def is_resume(text: str) -> bool:
    """The whole message is START/YES/SÍ/OUI…: only meaningful right after a STOP."""
    return fold(text) in _RESUME


def menu_number(text: str) -> int | None:
    """The number of a menu choice ("2", "#2", "2."), else ``None``."""
    match = _MENU_NUMBER.match(text)
    return int(match.group(1)) if match else None


def looks_like_zip(text: str) -> bool:
    """True when the whole message is a US ZIP code ("60623" or "60623-1234")."""
    return bool(_ZIP_ONLY.match(text))


def fallback_intent(text: str) -> str | None:
    """Best-effort intent from keywords, for when Rasa cannot be reached."""
    folded = f" {fold(text)} "
    for intent, words in FALLBACK_KEYWORDS:
        for word in words:
            if f" {fold(word)} " in folded:
                return intent
    return None
