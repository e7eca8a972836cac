"""``POST /sms/status``: Twilio's delivery status callbacks for broadcast alerts.

Alerts are sent with ``StatusCallback=<PUBLIC_URL>/sms/status?s=<send id>``: a
random id per send (``Broadcasts.new_send_id``), mapped in Redis to the
campaign and recipient, so the URL Twilio stores and logs carries no
subscriber hash (the query is covered by Twilio's signature). Callbacks can
arrive several times and out of order; ``Broadcasts.record_status`` only
moves a status forward. Error 21610 ("the person replied STOP") stops all
their outreach.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, request

from bot.outreach.broadcasts import SEND_ID_PATTERN
from bot.services import services
from bot.channels.twilio_signature import validate_twilio_request

log = logging.getLogger(__name__)
bp = Blueprint("status_callback", __name__)
_SEND_ID = re.compile(f"^{SEND_ID_PATTERN}$")


@bp.post("/sms/status")
@validate_twilio_request
def message_status():
    send_id = request.args.get("s", "")
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").strip().lower()
    if not status:
        return "MessageStatus is missing.\n", 400
    if not _SEND_ID.match(send_id):
        # A status for a message that is not a broadcast alert (e.g. a staff reply): nothing to track.
        return "", 204
    broadcasts = services().broadcasts
    if broadcasts is None:
        return "Broadcasts are not configured (REDIS_URL, ENCRYPTION_KEY).\n", 503
    target = broadcasts.send_target(send_id)
    if target is None:  # expired with its campaign, or never ours
        return "", 204
    campaign_id, recipient = target
    error = (request.form.get("ErrorCode") or "").strip()
    moved = broadcasts.record_status(campaign_id, recipient, status, request.form.get("MessageSid", ""), error)
    log.info("status callback campaign=%s status=%s error=%s applied=%s", campaign_id, status, error or "-", moved)
    return "", 204
