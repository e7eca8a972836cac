"""Admin-only broadcasts: compose (with a live segment counter and reach), review, send, follow.

The same ``Broadcasts`` the CLI uses (``flask broadcast …``) does the work: the
console only reads the form, shows ``preview`` before anything is sent,
``create`` + ``start`` on the confirm POST, and ``progress`` / ``resume`` after.
The live counter posts the form to ``/console/api/broadcasts/preview``: the
server counts (alert footer and accent folding included), never the browser.

A review can be confirmed once: the confirm form carries a one-time token
(``kyr:bcast-confirm:<token>`` in Redis, holding a SHA-256 of the reviewed
texts and audience, not the texts), so a double click or a resubmitted page
does not send the same alert twice, and texts or an audience changed after
the review (an edited hidden field) are refused instead of sent.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import secrets
import zoneinfo

from flask import abort, flash, redirect, render_template, request, url_for

from bot.outreach.broadcasts import CAMPAIGN_ID_PATTERN, BroadcastError, Broadcasts, Preview, recipients_key, review_digest
from bot.console import bp
from bot.console.auth import admin_required, audit
from bot.language.languages import NATIVE_NAMES, RTL_LANGUAGES, SUPPORTED_LANGUAGES
from bot.content.location import US_STATE_CODES
from bot.outreach.outbound import OutboundNotConfigured
from bot.services import location_resolver, services
from bot.outreach.subscriptions import Audience

log = logging.getLogger(__name__)

CONFIRM_PREFIX = "kyr:bcast-confirm:"
CONFIRM_TTL_SECONDS = 3600
MAX_TEXT_CHARS = 1400
_CAMPAIGN_ID = re.compile(f"^{CAMPAIGN_ID_PATTERN}$")
_COUNTY = re.compile(r"^([A-Za-z]{2})\s*:\s*(\S.*)$")
_SUMMARY_ORDER = ("sent", "delivered", "failed", "skipped", "pending")

#: What staff should know about each failure code or skip reason.
ERROR_MEANINGS = {
    "21610": "opted out with the carrier (replied STOP); now marked stopped",
    "21408": "sending to this region is not enabled on the Twilio account",
    "21211": "not a valid phone number",
    "21614": "not a mobile number",
    "63016": "WhatsApp: outside the 24-hour window and no approved template was used",
    "30003": "unreachable: phone off, out of coverage or no longer in service",
    "30004": "blocked by the recipient",
    "30005": "unknown or inactive number (unreachable)",
    "30006": "landline or unreachable carrier",
    "30007": "filtered by the carrier as spam",
    "30008": "unknown delivery error",
    "opted_out": "skipped: the person stopped alerts before their turn",
    "no_text": "skipped: no text in their language",
    "no_whatsapp_template": "skipped: WhatsApp window closed and no template for their language",
}

OPEN = "open:"  # + the review digest, until the token is claimed

# Claim a review token once, only for the texts and audience it was issued for (ARGV[1] =
# "open:<digest>"). Returns the previous value ("open:<digest>", "sending" or a campaign id).
_CLAIM_CONFIRM = """
local value = redis.call('GET', KEYS[1])
if value == ARGV[1] then redis.call('SET', KEYS[1], 'sending', 'KEEPTTL') end
return value
"""


def book() -> Broadcasts | None:
    return services().broadcasts


def unavailable():
    return render_template("console/message.html", title="Broadcasts unavailable",
                           message="Broadcasts need REDIS_URL and ENCRYPTION_KEY: set both and restart "
                                   "(see README, Outreach: alerts and broadcasts)."), 503


def needs_broadcasts(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if book() is None:
            if request.path.startswith("/console/api/"):
                return {"error": "Broadcasts need REDIS_URL and ENCRYPTION_KEY."}, 503
            return unavailable()
        return view(*args, **kwargs)

    return wrapper


# -- reading the form -------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def known_counties() -> dict[tuple[str, str], str]:
    """(state, lower-case county) → the county as subscriptions store it (the zipcodes data)."""
    resolver = location_resolver()
    names: dict[tuple[str, str], str] = {}
    for prefix in range(1000):
        for state, county in resolver.counties_for_zip_prefix(f"{prefix:03d}"):
            names[(state, county.lower())] = county
    return names


def _items(raw: str, separators: str) -> list[str]:
    return [item.strip() for item in re.split(separators, raw or "") if item.strip()]


def parse_audience(form) -> Audience:
    """Languages (checkboxes), states ("IL, TX") and counties ("IL:Cook, TX:Harris"); errors say what is wrong."""
    languages = [code.strip().lower() for code in form.getlist("languages") if code.strip()]
    unknown = sorted(set(languages) - set(SUPPORTED_LANGUAGES))
    if unknown:
        raise BroadcastError(f"unknown audience language(s) {', '.join(unknown)}")
    states = [state.upper() for state in _items(form.get("states", ""), r"[,;\s]+")]
    bad_states = [state for state in states if state not in US_STATE_CODES]
    if bad_states:
        raise BroadcastError(f"unknown state code(s) {', '.join(bad_states)}: use two-letter codes such as IL, TX")
    counties = []
    for item in _items(form.get("counties", ""), r"[,;\n]+"):
        match = _COUNTY.match(item)
        if not match:
            raise BroadcastError(f"malformed county {item!r}: write STATE:County, for example IL:Cook")
        state, name = match.group(1).upper(), match.group(2).strip()
        if state not in US_STATE_CODES:
            raise BroadcastError(f"unknown state code {state} in county {item!r}")
        if name.lower().endswith(" county"):
            name = name[: -len(" county")].strip()
        canonical = known_counties().get((state, name.lower()))
        if canonical is None:
            raise BroadcastError(f"unknown county {item!r}: no such county in {state}")
        if states and state not in states:
            raise BroadcastError(f"county {state}:{canonical} is outside the chosen states ({', '.join(states)})")
        counties.append(f"{state}:{canonical}")
    return Audience(tuple(dict.fromkeys(languages)), tuple(dict.fromkeys(states)), tuple(dict.fromkeys(counties)))


def parse_texts(form) -> dict[str, str]:
    """``text_<lang>`` fields; a non-empty text in a language we do not speak is an error (validate_texts)."""
    texts = {lang: form.get(f"text_{lang}", "") for lang in SUPPORTED_LANGUAGES}
    for name, value in form.items():
        if name.startswith("text_") and name[5:] not in texts and value.strip():
            texts[name[5:]] = value
    return texts


def read_form(form) -> tuple[dict[str, str], Audience, Preview]:
    """Texts, audience and the server's preview; raises BroadcastError with a message for people."""
    texts = parse_texts(form)
    audience = parse_audience(form)
    return texts, audience, book().preview(texts, audience)


def draft_of(form) -> dict:
    """What the admin typed, to fill the form again."""
    return {
        "texts": {lang: form.get(f"text_{lang}", "") for lang in SUPPORTED_LANGUAGES},
        "languages": [code for code in form.getlist("languages") if code in SUPPORTED_LANGUAGES],
        "states": form.get("states", ""),
        "counties": form.get("counties", ""),
    }


def preview_json(preview: Preview) -> dict:
    return {
        "reach": preview.reach,
        "reach_by_language": preview.reach_by_language,
        "without_text": preview.without_text,
        "skipped": sum(preview.without_text.values()),
        "segments": {
            lang: {"segments": count.segments, "encoding": count.encoding, "units": count.units}
            for lang, count in preview.segments_by_language.items()
        },
    }


def compose_page(draft: dict, error: str | None = None, status: int = 200):
    return render_template("console/broadcast_compose.html", draft=draft, error=error, languages=NATIVE_NAMES,
                           rtl=RTL_LANGUAGES, max_chars=MAX_TEXT_CHARS), status


# -- following ----------------------------------------------------------------------


def local_time(epoch: int) -> str:
    if not epoch:
        return "not started"
    gate = services().engine.handoff
    hours = getattr(getattr(gate, "desk", None), "hours", None)
    zone = getattr(hours, "timezone", None) or "UTC"
    return datetime.datetime.fromtimestamp(epoch, zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def progress_json(campaign_id: str) -> dict:
    progress = book().progress(campaign_id)
    counts = {name: progress.by_summary.get(name, 0) for name in _SUMMARY_ORDER}
    return {
        "id": campaign_id,
        "total": progress.total,
        "counts": counts,
        "done": progress.total - counts["pending"],
        "finished": counts["pending"] == 0,
        "errors": [
            {"code": code, "count": count, "meaning": ERROR_MEANINGS.get(code, "see Twilio's error dictionary")}
            for code, count in sorted(progress.errors.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def load_campaign(campaign_id: str):
    if not _CAMPAIGN_ID.match(campaign_id):
        abort(404)
    try:
        return book().get(campaign_id)
    except BroadcastError:
        abort(404)


def audience_line(audience: Audience) -> str:
    parts = []
    parts.append(", ".join(NATIVE_NAMES.get(code, code) for code in audience.languages) if audience.languages
                 else "all languages")
    if audience.states:
        parts.append("states " + ", ".join(audience.states))
    if audience.counties:
        parts.append("counties " + ", ".join(audience.counties))
    if not audience.states and not audience.counties:
        parts.append("everywhere")
    return "; ".join(parts)


# -- pages --------------------------------------------------------------------------


@bp.get("/admin/broadcasts")
@admin_required
@needs_broadcasts
def broadcast_list():
    rows = []
    for campaign in book().recent():
        rows.append({
            "campaign": campaign,
            "languages": ", ".join(NATIVE_NAMES.get(code, code) for code in campaign.texts),
            "audience": audience_line(campaign.audience),
            "created": local_time(campaign.created),
            "recipients": book().client.hlen(recipients_key(campaign.id)),
        })
    return render_template("console/broadcasts.html", rows=rows)


@bp.route("/admin/broadcasts/new", methods=["GET", "POST"])
@admin_required
@needs_broadcasts
def broadcast_compose():
    # POST comes from "Edit" on the review page: the draft comes back filled in.
    form = request.form if request.method == "POST" else request.args
    return compose_page(draft_of(form))


@bp.post("/api/broadcasts/preview")
@admin_required
@needs_broadcasts
def broadcast_preview_json():
    try:
        _, _, preview = read_form(request.form)
    except BroadcastError as exc:
        return {"error": str(exc)}, 400
    return preview_json(preview)


@bp.post("/admin/broadcasts/review")
@admin_required
@needs_broadcasts
def broadcast_review():
    draft = draft_of(request.form)
    try:
        texts, audience, preview = read_form(request.form)
    except BroadcastError as exc:
        return compose_page(draft, f"Not sent: {exc}.", 400)
    token = secrets.token_urlsafe(16)
    book().client.set(CONFIRM_PREFIX + token, OPEN + review_digest(texts, audience), ex=CONFIRM_TTL_SECONDS)
    lines = []
    for lang in SUPPORTED_LANGUAGES:
        if lang in preview.segments_by_language or lang in preview.without_text:
            lines.append({"lang": lang, "name": NATIVE_NAMES[lang], "text": texts.get(lang, "").strip(),
                          "reach": preview.reach_by_language.get(lang, 0),
                          "skipped": preview.without_text.get(lang, 0),
                          "count": preview.segments_by_language.get(lang)})
    return render_template("console/broadcast_review.html", draft=draft, preview=preview, lines=lines,
                           audience=audience_line(audience), token=token, rtl=RTL_LANGUAGES,
                           skipped=sum(preview.without_text.values()))


def refused_confirm(draft: dict, claimed: str | None):
    """The answer when the confirm token does not match this send: why, and what to do."""
    if claimed and _CAMPAIGN_ID.match(claimed):
        flash("This broadcast was already sent; here is its progress.")
        return redirect(url_for("console.broadcast_progress", campaign_id=claimed))
    if claimed == "sending":
        message = "This broadcast is being sent already."
    elif claimed and claimed.startswith(OPEN):
        message = "The texts or the audience changed after the review: review the broadcast again."
    else:
        message = "This review expired or was already used: review the broadcast again."
    return compose_page(draft, f"Not sent: {message}", 409)


@bp.post("/admin/broadcasts/send")
@admin_required
@needs_broadcasts
def broadcast_send():
    draft = draft_of(request.form)
    try:
        texts, audience, preview = read_form(request.form)
    except BroadcastError as exc:
        return compose_page(draft, f"Not sent: {exc}.", 400)
    if preview.reach == 0:
        return compose_page(draft, "Not sent: this broadcast reaches nobody (no active subscriber in this audience "
                                   "has a text in their language).", 400)
    token = request.form.get("confirm", "")
    expected = OPEN + review_digest(texts, audience)
    claimed = book().client.eval(_CLAIM_CONFIRM, 1, CONFIRM_PREFIX + token, expected) if token else None
    if claimed != expected:
        return refused_confirm(draft, claimed)
    try:
        campaign = book().create(texts, audience)
        added = book().start(campaign.id)
    except (BroadcastError, OutboundNotConfigured) as exc:
        book().client.delete(CONFIRM_PREFIX + token)
        return compose_page(draft, f"Not sent: {exc}.", 400)
    book().client.set(CONFIRM_PREFIX + token, campaign.id, ex=CONFIRM_TTL_SECONDS)
    log.info("broadcast %s started from the console: %d alert(s) queued", campaign.id, added)
    audit("broadcast_created", target=campaign.id, detail=f"langs={','.join(texts)} queued={added}")
    flash(f"Broadcast {campaign.id}: {added} alert(s) queued for sending.")
    return redirect(url_for("console.broadcast_progress", campaign_id=campaign.id))


@bp.get("/admin/broadcasts/<campaign_id>")
@admin_required
@needs_broadcasts
def broadcast_progress(campaign_id):
    campaign = load_campaign(campaign_id)
    texts = [{"lang": lang, "name": NATIVE_NAMES.get(lang, lang), "text": text} for lang, text in campaign.texts.items()]
    return render_template("console/broadcast_progress.html", campaign=campaign, texts=texts, rtl=RTL_LANGUAGES,
                           audience=audience_line(campaign.audience), created=local_time(campaign.created),
                           started=local_time(campaign.started), p=progress_json(campaign_id),
                           order=_SUMMARY_ORDER)


@bp.get("/api/broadcasts/<campaign_id>")
@admin_required
@needs_broadcasts
def broadcast_progress_json(campaign_id):
    load_campaign(campaign_id)
    return progress_json(campaign_id)


@bp.post("/admin/broadcasts/<campaign_id>/resume")
@admin_required
@needs_broadcasts
def broadcast_resume(campaign_id):
    load_campaign(campaign_id)
    try:
        count = book().resume(campaign_id)
    except (BroadcastError, OutboundNotConfigured) as exc:
        flash(f"Not resumed: {exc}.")
    else:
        log.info("broadcast %s resumed from the console: %d alert(s) queued again", campaign_id, count)
        audit("broadcast_resumed", target=campaign_id, detail=f"queued={count}")
        flash(f"Queued again {count} unsent alert(s)." if count else "Nothing to resume: every alert was handled.")
    return redirect(url_for("console.broadcast_progress", campaign_id=campaign_id))
