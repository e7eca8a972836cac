"""Saved replies: admins write them (``/console/replies``); staff send one in the person's language.

Sending (``POST /console/h/<id>/saved``) fills ``{first_name_of_staff}``,
``{hotline}`` and ``{legal_help}`` for this person and goes out like any staff
reply. The picker on the conversation page shows which languages each reply
exists in and, for SMS, how many segments the filled text costs
(bot/language/segments.py), counted on the server.
"""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, url_for

from bot.console import bp, console
from bot.console.auth import admin_required, audit, current_staff, login_required
from bot.console.saved_replies import MAX_TEXT_CHARS, VARIABLES, ReplyError, SavedReply, check_template
from bot.console.staff import Account
from bot.console.views import desk, load
from bot.handoff.desk import TEXTED_CHANNELS, NotOwner
from bot.handoff.records import Handoff
from bot.language.languages import NATIVE_NAMES, RTL_LANGUAGES, SUPPORTED_LANGUAGES
from bot.language.segments import count_segments, sms_text
from bot.outreach.outbound import OutboundNotConfigured
from bot.services import services

log = logging.getLogger(__name__)


def unavailable():
    return render_template("console/message.html", title="Saved replies unavailable",
                           message="Saved replies need Redis: set REDIS_URL and restart."), 503


def values_for(handoff: Handoff | None, staff: Account, lang: str) -> dict[str, str]:
    """Variable values: the staff member's first name; the hotline and legal help nearest the person."""
    routed = services().engine.answers.routed_values(handoff.location if handoff else None, lang)
    return {"first_name_of_staff": staff.display_name, **routed}


def segment_label(text: str, lang: str) -> str:
    count = count_segments(sms_text(text, lang))
    return f"{count.segments} SMS segment{'' if count.segments == 1 else 's'} ({count.encoding}, {count.units} units)"


def choices(handoff: Handoff, staff: Account) -> list[dict]:
    """What the conversation page's picker shows: every reply, usable only in the person's language."""
    book = console().replies
    if book is None:
        return []
    values = values_for(handoff, staff, handoff.lang)
    rows = []
    for reply in book.all():
        text = reply.texts.get(handoff.lang)
        filled = book.fill(text, values) if text else None
        texted = filled and handoff.channel in TEXTED_CHANNELS
        rows.append({"reply": reply, "langs": [code for code in SUPPORTED_LANGUAGES if code in reply.texts],
                     "filled": filled, "cost": segment_label(filled, handoff.lang) if texted else None})
    return rows


@bp.get("/replies")
@login_required
def replies():
    book = console().replies
    if book is None:
        return unavailable()
    staff = current_staff()
    rows = []
    for reply in book.all():
        texts = []
        for code in SUPPORTED_LANGUAGES:
            if code in reply.texts:
                sample = book.fill(reply.texts[code], values_for(None, staff, code))
                texts.append({"lang": code, "name": NATIVE_NAMES[code], "text": reply.texts[code],
                              "cost": segment_label(sample, code), "rtl": code in RTL_LANGUAGES})
        rows.append({"reply": reply, "texts": texts})
    return render_template("console/replies.html", rows=rows, languages=NATIVE_NAMES, rtl=RTL_LANGUAGES,
                           variables=VARIABLES, max_chars=MAX_TEXT_CHARS, staff=staff)


@bp.post("/api/replies/preview")
@admin_required
def reply_preview_json():
    """The live counter while admins write: SMS segments per language, variables filled as for a
    person whose place is unknown (the server counts; the script only shows it)."""
    book = console().replies
    staff = current_staff()
    segments, errors = {}, {}
    for code, text in _form_texts().items():
        text = text.strip()
        if not text:
            continue
        try:
            check_template(text)
        except ReplyError as exc:
            errors[code] = str(exc)
            continue
        count = count_segments(sms_text(book.fill(text, values_for(None, staff, code)), code))
        segments[code] = {"segments": count.segments, "encoding": count.encoding, "units": count.units}
    return {"segments": segments, "errors": errors}


def _form_texts() -> dict[str, str]:
    return {code: request.form.get(f"text_{code}", "") for code in SUPPORTED_LANGUAGES}


def _save_from_form(book, reply_id: str | None, action: str):
    """Create (``reply_id`` None) or change a saved reply from the posted form; audit it."""
    try:
        reply = book.save(reply_id, request.form.get("title", ""), _form_texts(), current_staff().username)
    except ReplyError as exc:
        flash(f"Not saved: {exc}")
        return redirect(url_for("console.replies")), 303
    audit(action, target=reply.id, detail=f"langs={','.join(reply.texts)}")
    flash(f"Saved “{reply.title}”.")
    return redirect(url_for("console.replies"))


@bp.post("/replies")
@admin_required
def reply_create():
    book = console().replies
    if book is None:
        return unavailable()
    return _save_from_form(book, None, "saved_reply_created")


@bp.post("/replies/<reply_id>")
@admin_required
def reply_update(reply_id):
    book = console().replies
    if book is None:
        return unavailable()
    if request.form.get("action") == "delete":
        if book.delete(reply_id):
            audit("saved_reply_deleted", target=reply_id)
            flash("Deleted.")
        return redirect(url_for("console.replies"))
    return _save_from_form(book, reply_id, "saved_reply_changed")


@bp.post("/h/<handoff_id>/saved")
@login_required
def send_saved(handoff_id):
    handoff = load(handoff_id)
    staff = current_staff()
    book = console().replies
    reply: SavedReply | None = book.get(request.form.get("reply", "")) if book else None
    if reply is None or handoff.lang not in reply.texts:
        return render_template("console/message.html", title="Not sent",
                               message="That saved reply does not exist in this person's language. "
                                       "Pick one marked with their language, or ask an admin to add it."), 400
    if handoff.owner != staff.username or handoff.closed:
        abort(403)
    text = book.fill(reply.texts[handoff.lang], values_for(handoff, staff, handoff.lang))
    english = reply.texts.get("en")
    gloss = book.fill(english, values_for(handoff, staff, "en")) if english and handoff.lang != "en" else None
    try:
        desk().reply(handoff, staff.username, text, gloss=gloss, lang=handoff.lang)
    except NotOwner:
        abort(403)
    except OutboundNotConfigured as exc:
        log.error("saved reply not sent: %s", exc)
        flash(f"Not sent: {exc}")
    else:
        audit("saved_reply_sent", target=handoff.id, detail=f"lang={handoff.lang} reply={reply.id}")
    return redirect(url_for("console.conversation", handoff_id=handoff.id))
