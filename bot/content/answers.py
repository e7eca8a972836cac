"""Composing a topic's answer for one person: state variant, local help, footer, review date.

The content says what is true; this module picks the version for the
person's state, fills ``{hotline}``, ``{legal_help}`` and ``{defender}`` with
the closest verified resource from the directory (national defaults
otherwise; for urgent topics only lines open right now, else a 24/7 line),
chooses the footer (asking for a ZIP code when local help would be better)
and ends every MORE reply with the date its law was last checked, in the
person's language, so nobody takes an old answer for today's.
"""

from __future__ import annotations

import datetime
from typing import Callable

from babel.dates import format_skeleton

from bot.content.texts import ContentBase
from bot.content.directory import ROUTED_PLACEHOLDERS, Router
from bot.content.location import Location

#: Topics whose answers name someone to call and need local help most: when the person's
#: place is unknown, the first reply asks for a ZIP code (the others keep the shorter footer).
ROUTED_TOPICS = frozenset({
    "find_legal_help", "public_defender", "family_detained", "detainer", "bail", "report_ice_activity", "ice_at_home",
    "court_date", "ice_checkin", "scams", "worker_rights", "status_ending",
})
#: Topics where someone may be in danger right now: the hotline must come first, and be open.
URGENT_TOPICS = frozenset({"ice_at_home", "report_ice_activity", "family_detained"})
#: CLDR has no month names for Haitian Creole; these are the standard spellings.
_HT_MONTHS = ("janvye", "fevriye", "mas", "avril", "me", "jen", "jiyè", "out", "septanm", "oktòb", "novanm", "desanm")

__all__ = ["AnswerComposer", "ROUTED_PLACEHOLDERS", "ROUTED_TOPICS", "URGENT_TOPICS", "month_year"]


def month_year(day: datetime.date, lang: str) -> str:
    """``December 2026`` in the reader's language (``diciembre de 2026``, ``2026年12月``)."""
    if lang == "ht":
        return f"{_HT_MONTHS[day.month - 1]} {day.year}"
    return format_skeleton("yMMMM", day, locale=lang)


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class AnswerComposer:
    def __init__(self, content: ContentBase, router: Router, clock: Callable[[], datetime.datetime] = _utc_now):
        self.content = content
        self.router = router
        self.clock = clock

    def routed_values(self, location: Location | None, lang: str, urgent: bool = False) -> dict[str, str]:
        """Placeholder values for this person: the closest verified resources (open now, when urgent)."""
        values: dict[str, str] = {}
        now = self.clock() if urgent else None
        for placeholder in ROUTED_PLACEHOLDERS:
            resource = self.router.pick(placeholder, location, lang, now)
            if resource is not None:
                values[placeholder] = resource.sms_label()
        if location is not None:
            values["place"] = location.label()
        return values

    @staticmethod
    def names_local_help(intent: str) -> bool:
        """Whether knowing the person's place improves this topic's answer (the reply then asks for a ZIP)."""
        return intent in ROUTED_TOPICS

    def topic_key(self, intent: str, field: str, location: Location | None) -> str:
        """``detainer.states.IL.first`` when the person's state has a variant, else ``detainer.first``."""
        topic = self.content.topics[intent]
        variant = topic.states.get(location.state) if location else None
        if variant is not None and (field == "first" or variant.more):
            return f"{intent}.states.{location.state}.{field}"
        return f"{intent}.{field}"

    def first_reply(self, intent: str, location: Location | None, lang: str) -> str:
        values = self.routed_values(location, lang, urgent=intent in URGENT_TOPICS)
        text = self.content.text(self.topic_key(intent, "first", location), lang, values)
        asks_zip = location is None and self.names_local_help(intent)
        footer = self.content.text("system.more_footer_zip" if asks_zip else "system.more_footer", lang)
        return f"{text}\n{footer}"

    def more_reply(self, intent: str, location: Location | None, lang: str) -> str:
        values = self.routed_values(location, lang, urgent=intent in URGENT_TOPICS)
        key = self.topic_key(intent, "more", location)
        text = self.content.text(key, lang, values)
        return f"{text}\n{self.checked_line(key, lang)}".rstrip()

    def checked_line(self, key: str, lang: str) -> str:
        """``Checked December 2026`` from the answer's own ``reviewed`` date ('' if it has none)."""
        reviewed = self.content.reviewed_for(key)
        if reviewed is None:
            return ""
        return self.content.text("system.checked", lang, {"month": month_year(reviewed, lang)})

    def location_saved(self, location: Location, lang: str) -> str:
        return self.content.text("system.location_saved", lang, self.routed_values(location, lang))
