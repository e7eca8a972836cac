"""The queue and one conversation: claim, reply, note, release, hand back.

Pages are server-rendered; ``/console/api/…`` returns the same fragments as
JSON for the polling script, so what appears without a reload is exactly
what a reload would show.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo

from flask import abort, flash, redirect, render_template, request, url_for

from bot.console import bp, console
from bot.console.auth import audit, current_staff, login_required
from bot.handoff.desk import NotOwner
from bot.handoff.records import Handoff, masked
from bot.language.languages import NATIVE_NAMES
from bot.outreach.outbound import OutboundNotConfigured
from bot.language.segments import MAX_BODY_CHARS
from bot.services import services

log = logging.getLogger(__name__)


def desk():
    gate = services().engine.handoff
    return gate.desk if gate is not None else None


def topic_label(topic: str) -> str:
    content = services().content
    return content.text(f"{topic}.menu_label", "en") if content.has_topic(topic) else topic.replace("_", " ")


def minutes(seconds: float) -> str:
    value = int(seconds // 60)
    return "under 1 min" if value < 1 else f"{value} min"


def row(handoff: Handoff) -> dict:
    """What staff see of a handoff: never the number, only its last two digits."""
    return {
        "handoff": handoff,
        "language": NATIVE_NAMES.get(handoff.lang, handoff.lang),
        "topic": topic_label(handoff.topic),
        "masked": masked(desk().records.address(handoff), handoff.channel),
        "wait": minutes(handoff.wait_seconds()),
        "ended": event_label(handoff.closed) if handoff.closed else None,
    }


def visible(handoff: Handoff) -> bool:
    return current_staff().answers_in(handoff.lang)


#: Queue rows per page: the page (and each poll) stays small with thousands waiting.
QUEUE_PAGE_SIZE = 50


def queue_rows(page: int = 1) -> tuple[list[dict], int]:
    """One page of the queue in the staff member's languages, and how many are open in all."""
    current = desk()
    if current is None:
        return [], 0
    current.sweep_now()  # idle returns and "nobody came in time" while someone watches (once per 10 s)
    staff = current_staff()
    every = staff.is_admin or staff.all_languages
    handoffs, total = current.queue_page(None if every else set(staff.languages), page, QUEUE_PAGE_SIZE)
    return [row(h) for h in handoffs], total


def _page() -> int:
    return max(1, min(request.args.get("page", default=1, type=int) or 1, 10_000))


def _paging(page: int, total: int) -> dict:
    first = (page - 1) * QUEUE_PAGE_SIZE
    return {"page": page, "total": total, "first": min(first + 1, total), "last": min(first + QUEUE_PAGE_SIZE, total),
            "has_next": first + QUEUE_PAGE_SIZE < total, "has_prev": page > 1}


@bp.get("/")
@login_required
def queue():
    page = _page()
    rows, total = queue_rows(page)
    return render_template("console/queue.html", rows=rows, off=console().handoff_off, waiting=total,
                           paging=_paging(page, total))


@bp.get("/api/queue")
@login_required
def queue_json():
    page = _page()
    rows, total = queue_rows(page)
    return {"html": render_template("console/_queue_rows.html", rows=rows), "waiting": total,
            "paging": _paging(page, total)}


def load(handoff_id: str) -> Handoff:
    current = desk()
    handoff = current.get(handoff_id) if current else None
    if handoff is None:
        abort(404)
    if not visible(handoff):
        abort(403)
    return handoff


#: How an ending or event reads in the console (bot/handoff/gate.py and desk.py write the codes).
EVENT_LABELS = {
    "cancelled": "the person left the line",
    "timeout": "nobody claimed it in time: the person got the hotline, the bot answers",
    "hours_ended": "staffing hours ended: the person got the hotline, the bot answers",
    "reading_notice": "the person was told someone is reading (no staff reply yet)",
    "idle": "idle: back to the bot",
    "stopped": "the person texted STOP",
    "deleted": "the person erased their data",
    "callback": "a caller on the voice line asked our team to contact them: a reply here goes out as a text",
}


def event_label(code: str | None) -> str:
    """"language:es" → "the person switched to Español"; known codes get a sentence."""
    code = code or ""
    if code.startswith("language:"):
        lang = code.split(":", 1)[1]
        return f"the person switched to {NATIVE_NAMES.get(lang, lang)}: write in that language"
    return EVENT_LABELS.get(code, code.replace("_", " "))


def transcript(handoff: Handoff) -> list[dict]:
    """Entries with their send state (staff replies) and local time (STAFF_TIMEZONE)."""
    current = desk()
    zone = zoneinfo.ZoneInfo(current.hours.timezone)
    lines = []
    for entry in current.entries(handoff.id):
        state = current.delivery.state(entry.job) if entry.who == "staff" else None
        when = datetime.datetime.fromtimestamp(entry.at, zone).strftime("%H:%M")
        label = event_label(entry.text) if entry.who == "event" else None
        lines.append({"entry": entry, "state": state, "time": when, "label": label})
    return lines


def conversation_context(handoff: Handoff, pickers: bool = False) -> dict:
    """What the conversation page shows; ``pickers``: the answer and saved-reply lists (not for polling)."""
    staff = current_staff()
    mine = handoff.owner == staff.username and not handoff.closed
    context = {"h": handoff, "row": row(handoff), "lines": transcript(handoff), "mine": mine, "staff": staff,
               "max_chars": MAX_BODY_CHARS}
    if pickers and mine:
        # Imported here: answers.py and replies.py build on this module (desk, load).
        from bot.console.answers import topic_choices
        from bot.console.replies import choices

        context.update(topics=topic_choices(), saved=choices(handoff, staff))
    return context


@bp.get("/h/<handoff_id>")
@login_required
def conversation(handoff_id):
    handoff = load(handoff_id)
    return render_template("console/conversation.html", **conversation_context(handoff, pickers=True))


@bp.get("/api/h/<handoff_id>")
@login_required
def conversation_json(handoff_id):
    handoff = load(handoff_id)
    context = conversation_context(handoff)
    return {"html": render_template("console/_transcript.html", **context),
            "status": render_template("console/_status.html", **context)}


@bp.post("/h/<handoff_id>/claim")
@login_required
def claim(handoff_id):
    handoff = load(handoff_id)
    if desk().claim(handoff.id, current_staff().username):
        audit("claim", target=handoff.id, detail=f"lang={handoff.lang}")
        return redirect(url_for("console.conversation", handoff_id=handoff.id))
    flash("Someone else took this conversation first.")
    return redirect(url_for("console.queue"), code=303)


def _text() -> str:
    text = (request.form.get("text") or "").strip()
    if not text or len(text) > MAX_BODY_CHARS:
        abort(400)
    return text


@bp.post("/h/<handoff_id>/reply")
@login_required
def reply(handoff_id):
    handoff = load(handoff_id)
    try:
        desk().reply(handoff, current_staff().username, _text())
    except NotOwner:
        abort(403)
    except OutboundNotConfigured as exc:
        log.error("staff reply not sent: %s", exc)
        flash(f"Not sent: {exc}")
    else:
        audit("reply", target=handoff.id, detail=f"lang={handoff.lang}")
    return redirect(url_for("console.conversation", handoff_id=handoff.id))


@bp.post("/h/<handoff_id>/note")
@login_required
def note(handoff_id):
    handoff = load(handoff_id)
    if handoff.closed:
        abort(409)
    desk().note(handoff, current_staff().username, _text())
    audit("note", target=handoff.id)
    return redirect(url_for("console.conversation", handoff_id=handoff.id))


def _owner_or_admin(handoff: Handoff) -> None:
    staff = current_staff()
    if handoff.owner != staff.username and not staff.is_admin:
        abort(403)


@bp.post("/h/<handoff_id>/release")
@login_required
def release(handoff_id):
    handoff = load(handoff_id)
    _owner_or_admin(handoff)
    staff = current_staff()
    if desk().release(handoff, staff.username, force=staff.is_admin):
        audit("release", target=handoff.id)
    flash("Released: the conversation is back in the queue.")
    return redirect(url_for("console.queue"))


@bp.post("/h/<handoff_id>/handback")
@login_required
def hand_back(handoff_id):
    handoff = load(handoff_id)
    _owner_or_admin(handoff)
    if desk().hand_back(handoff, current_staff().username):
        audit("hand_back", target=handoff.id)
        flash("Handed back: the bot answers this person again.")
    return redirect(url_for("console.queue"))
