"""Composing a topic's answer for one person: state variant, local help, footer.

The content says what is true; this module picks the version for the
person's state, fills ``{hotline}``, ``{legal_help}`` and ``{defender}`` with
the closest resource from the directory (national defaults otherwise) and
chooses the footer (asking for a ZIP code when local help would be better).
"""

from __future__ import annotations

from bot.content import ContentBase
from bot.directory import Router
from bot.location import Location

#: Topics whose answers name someone to call, so a location improves them.
ROUTED_TOPICS = frozenset(
    {"find_legal_help", "public_defender", "family_detained", "detainer", "bail", "report_ice_activity", "ice_at_home"}
)
#: Topics where someone may be in danger right now: the hotline must come first.
URGENT_TOPICS = frozenset({"ice_at_home", "report_ice_activity", "family_detained"})
#: Placeholder → the kind of directory resource that fills it.
ROUTED_PLACEHOLDERS = {"hotline": "hotline", "legal_help": "legal_aid", "defender": "defender"}


class AnswerComposer:
    def __init__(self, content: ContentBase, router: Router):
        self.content = content
        self.router = router

    def routed_values(self, location: Location | None, lang: str) -> dict[str, str]:
        """Placeholder values for this person: local resources where the directory has them."""
        values: dict[str, str] = {}
        for placeholder, kind in ROUTED_PLACEHOLDERS.items():
            resource = self.router.best(kind, location, lang)
            if resource is not None:
                values[placeholder] = resource.sms_label()
        if location is not None:
            values["place"] = location.label()
        return values

    def topic_key(self, intent: str, field: str, location: Location | None) -> str:
        """``detainer.states.IL.first`` when the person's state has a variant, else ``detainer.first``."""
        topic = self.content.topics[intent]
        variant = topic.states.get(location.state) if location else None
        if variant is not None and (field == "first" or variant.more):
            return f"{intent}.states.{location.state}.{field}"
        return f"{intent}.{field}"

    def first_reply(self, intent: str, location: Location | None, lang: str) -> str:
        values = self.routed_values(location, lang)
        text = self.content.text(self.topic_key(intent, "first", location), lang, values)
        asks_zip = intent in ROUTED_TOPICS and location is None
        footer = self.content.text("system.more_footer_zip" if asks_zip else "system.more_footer", lang)
        return f"{text}\n{footer}"

    def more_reply(self, intent: str, location: Location | None, lang: str) -> str:
        values = self.routed_values(location, lang)
        return self.content.text(self.topic_key(intent, "more", location), lang, values)

    def location_saved(self, location: Location, lang: str) -> str:
        return self.content.text("system.location_saved", lang, self.routed_values(location, lang))
