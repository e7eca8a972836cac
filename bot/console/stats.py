"""The stats page and its CSV: handoffs, and what the bot did without staff.

Admins only (SECURITY.md): the counts describe the whole hotline, not one
staff member's languages. Counts only: no number, no message, no person.
Handoffs come from bot/handoff/stats.py (kept 40 days); the bot's own work
(conversations per day by channel and language, topics answered, messages
nobody understood, opt-outs) from bot/clients/activity.py (kept
``REPORT_RETENTION_DAYS``). ``/console/stats.csv?from=…&to=…`` exports both.
"""

from __future__ import annotations

import csv
import datetime
import io

from flask import Response, render_template, request
from markupsafe import Markup

from bot.clients.activity import day_number
from bot.console import bp
from bot.console.auth import admin_required, audit
from bot.console.charts import stacked_bars
from bot.console.views import desk, topic_label
from bot.handoff.stats import STATS_TTL_DAYS
from bot.language.languages import NATIVE_NAMES
from bot.services import services

DAYS_SHOWN = 14
#: Channel codes as the reports name them.
CHANNELS = {"sms": "SMS", "whatsapp": "WhatsApp", "web": "Web chat", "voice": "Voice"}
#: CSV measure → activity field prefix.
MEASURES = (("conversations_by_channel", "conversations:channel:"),
            ("conversations_by_language", "conversations:lang:"),
            ("topic_answered", "topic:"), ("not_understood", "event:not_understood"), ("opt_out", "event:opt_out"))


def _epoch_day(date: datetime.date) -> int:
    return (date - datetime.date(1970, 1, 1)).days


def _date(day: int) -> datetime.date:
    return datetime.date(1970, 1, 1) + datetime.timedelta(days=day)


def _split(days: dict[int, dict[str, int]], prefix: str) -> dict[int, dict[str, int]]:
    return {day: {field[len(prefix):]: n for field, n in counts.items() if field.startswith(prefix)}
            for day, counts in days.items()}


def bot_activity(first: int, last: int) -> dict[int, dict[str, int]] | None:
    activity = services().engine.activity
    return activity.days(first, last) if activity is not None else None


@bp.get("/stats")
@admin_required
def stats():
    current = desk()
    last = day_number()
    activity = bot_activity(last - DAYS_SHOWN + 1, last)
    context = {"off": current is None, "days": DAYS_SHOWN, "activity": activity is not None,
               "today": _date(last).isoformat(), "month_ago": _date(last - 29).isoformat()}
    if activity is not None:
        days = sorted(activity)
        by_channel = _split(activity, "conversations:channel:")
        by_lang = _split(activity, "conversations:lang:")
        by_topic = _split(activity, "topic:")
        topics = {name for day in by_topic.values() for name in day}
        context.update(
            conversations=sum(counts.get("conversations:total", 0) for counts in activity.values()),
            not_understood=sum(counts.get("event:not_understood", 0) for counts in activity.values()),
            opt_outs=sum(counts.get("event:opt_out", 0) for counts in activity.values()),
            bot_by_channel=Markup(stacked_bars(days, by_channel, CHANNELS, "Conversations per day by channel")),
            bot_by_lang=Markup(stacked_bars(days, by_lang, NATIVE_NAMES, "Conversations per day by language")),
            bot_by_topic=Markup(stacked_bars(days, by_topic, {t: topic_label(t) for t in topics},
                                             "Answers per day by topic")),
            retention=services().settings.report_retention_seconds // 86400,
        )
    if current is not None:
        summary = current.stats.summary(DAYS_SHOWN)
        topics = {name for day in summary.by_topic.values() for name in day}
        context.update(
            waiting=sum(1 for h in current.queue() if h.waiting),
            median=summary.median_wait_minutes,
            total=sum(sum(day.values()) for day in summary.by_lang.values()),
            by_lang=Markup(stacked_bars(summary.days, summary.by_lang, NATIVE_NAMES, "Handoffs per day by language")),
            by_topic=Markup(stacked_bars(summary.days, summary.by_topic, {t: topic_label(t) for t in topics},
                                         "Handoffs per day by topic")),
        )
    return render_template("console/stats.html", **context)


class RangeError(ValueError):
    pass


def _range() -> tuple[int, int]:
    today = day_number()
    try:
        first = _epoch_day(datetime.date.fromisoformat(request.args.get("from") or _date(today - 29).isoformat()))
        last = _epoch_day(datetime.date.fromisoformat(request.args.get("to") or _date(today).isoformat()))
    except ValueError:
        raise RangeError("Dates are written YYYY-MM-DD, for example 2026-11-01.") from None
    longest = services().settings.report_retention_seconds // 86400
    if last < first:
        raise RangeError("The range ends before it starts.")
    if last - first + 1 > longest:
        raise RangeError(f"At most {longest} days at a time (counts are kept REPORT_RETENTION_DAYS).")
    return first, min(last, today)


@bp.get("/stats.csv")
@admin_required
def stats_csv():
    try:
        first, last = _range()
    except RangeError as exc:
        return render_template("console/message.html", title="Cannot export", message=str(exc)), 400
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "measure", "name", "count"])
    activity = bot_activity(first, last) or {}
    handoffs = {}
    current = desk()
    if current is not None and last >= day_number() - STATS_TTL_DAYS + 1:
        summary = current.stats.summary(STATS_TTL_DAYS)
        handoffs = {day: (summary.by_lang.get(day, {}), summary.by_topic.get(day, {})) for day in summary.days}
    for day in range(first, last + 1):
        date = _date(day).isoformat()
        counts = activity.get(day, {})
        writer.writerow([date, "conversations", "all", counts.get("conversations:total", 0)])
        for measure, prefix in MEASURES:
            for field, n in sorted(counts.items()):
                if field.startswith(prefix):
                    writer.writerow([date, measure, field[len(prefix):] or "all", n])
        by_lang, by_topic = handoffs.get(day, ({}, {}))
        for name, n in sorted(by_lang.items()):
            writer.writerow([date, "handoffs_by_language", name, n])
        for name, n in sorted(by_topic.items()):
            writer.writerow([date, "handoffs_by_topic", name, n])
    audit("export_stats", detail=f"from={_date(first).isoformat()} to={_date(last).isoformat()}")
    filename = f"kyr-stats-{_date(first).isoformat()}-{_date(last).isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
