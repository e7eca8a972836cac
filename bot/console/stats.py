"""The stats page: waiting now, median wait, handoffs per day by language and topic.

Admins only (SECURITY.md): the counts describe the whole hotline, not one
staff member's languages.
"""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from bot.console import bp
from bot.console.auth import admin_required
from bot.console.charts import stacked_bars
from bot.console.views import desk, topic_label
from bot.language.languages import NATIVE_NAMES

DAYS_SHOWN = 14


@bp.get("/stats")
@admin_required
def stats():
    current = desk()
    if current is None:
        return render_template("console/stats.html", off=True)
    summary = current.stats.summary(DAYS_SHOWN)
    waiting = sum(1 for h in current.queue() if h.waiting)
    topics = {name for day in summary.by_topic.values() for name in day}
    return render_template(
        "console/stats.html",
        off=False,
        waiting=waiting,
        median=summary.median_wait_minutes,
        total=sum(sum(day.values()) for day in summary.by_lang.values()),
        days=DAYS_SHOWN,
        by_lang=Markup(stacked_bars(summary.days, summary.by_lang, NATIVE_NAMES, "Handoffs per day by language")),
        by_topic=Markup(stacked_bars(summary.days, summary.by_topic, {t: topic_label(t) for t in topics},
                                     "Handoffs per day by topic")),
    )
