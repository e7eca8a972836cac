"""``POST /sms/status``: Twilio's delivery status callbacks for broadcast alerts.

Alerts are sent with ``StatusCallback=<PUBLIC_URL>/sms/status?c=<campaign>&r=<recipient hash>``
(the query is covered by Twilio's signature). Callbacks can arrive several
times and out of order; ``Broadcasts.record_status`` only moves a status
forward. Error 21610 ("the person replied STOP") stops all their outreach.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, request

from bot.broadcasts import CAMPAIGN_ID_PATTERN
from bot.services import services
from bot.twilio_signature import validate_twilio_request

log = logging.getLogger(__name__)
bp = Blueprint("status_callback", __name__)
_CAMPAIGN_ID = re.compile(f"^{CAMPAIGN_ID_PATTERN}$")
_RECIPIENT = re.compile(r"^[0-9a-f]{64}$")


@bp.post("/sms/status")
@validate_twilio_request
def message_status():
    campaign_id = request.args.get("c", "")
    recipient = request.args.get("r", "")
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").strip().lower()
    if not status:
        return "MessageStatus is missing.\n", 400
    if not (_CAMPAIGN_ID.match(campaign_id) and _RECIPIENT.match(recipient)):
        # A status for a message that is not a broadcast alert (e.g. a staff reply): nothing to track.
        return "", 204
    broadcasts = services().broadcasts
    if broadcasts is None:
        return "Broadcasts are not configured (REDIS_URL, ENCRYPTION_KEY).\n", 503
    error = (request.form.get("ErrorCode") or "").strip()
    moved = broadcasts.record_status(campaign_id, recipient, status, request.form.get("MessageSid", ""), error)
    log.info("status callback campaign=%s status=%s error=%s applied=%s", campaign_id, status, error or "-", moved)
    return "", 204
