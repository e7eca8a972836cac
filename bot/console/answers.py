"""Send the bot's reviewed answer for a topic, in the person's language (``POST /console/h/<id>/answer``).

A volunteer who speaks only English can send a Haitian Creole caller the
right answer: the engine composes it exactly as it would answer the person
(their language, their state's variant, the hotline and legal help nearest
them; bot/conversation/engine.py ``staff_answer``), and it goes out the way
staff replies do (bot/handoff/delivery.py). The transcript keeps the English
version next to it, so staff know what was said.
"""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, url_for

from bot.console import bp
from bot.console.auth import audit, current_staff, login_required
from bot.console.views import desk, load, topic_label
from bot.handoff.desk import NotOwner
from bot.outreach.outbound import OutboundNotConfigured
from bot.services import services

log = logging.getLogger(__name__)

PARTS = ("first", "more")


def topic_choices() -> list[tuple[str, str]]:
    """(topic, English menu label), by label: what the picker offers."""
    content = services().content
    return sorted(((topic, topic_label(topic)) for topic in content.topics), key=lambda pair: pair[1].lower())


@bp.post("/h/<handoff_id>/answer")
@login_required
def send_answer(handoff_id):
    handoff = load(handoff_id)
    staff = current_staff()
    topic = request.form.get("topic") or ""
    part = request.form.get("part") or "first"
    if not services().content.has_topic(topic) or part not in PARTS:
        return render_template("console/message.html", title="Not sent",
                               message="Pick a topic and a part (first answer or MORE) from the lists."), 400
    if handoff.owner != staff.username or handoff.closed:
        abort(403)
    reply, gloss = services().engine.staff_answer(handoff.sender, topic, handoff.lang, more=part == "more")
    try:
        for text in reply.messages:
            desk().reply(handoff, staff.username, text, gloss=gloss, lang=reply.lang)
    except NotOwner:
        abort(403)
    except OutboundNotConfigured as exc:
        log.error("answer not sent: %s", exc)
        flash(f"Not sent: {exc}")
    else:
        audit("answer_sent", target=handoff.id, detail=f"lang={reply.lang} topic={topic} part={part}")
    return redirect(url_for("console.conversation", handoff_id=handoff.id))
