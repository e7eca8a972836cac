"""The console's audit log: who did what, and when, for a hotline's own accountability.

One Redis stream, ``kyr:console:audit``. Each entry holds the time, the staff
username (or the name typed at a failed login, only when such an account
exists), an action code from ``ACTIONS``, a target (a handoff id, a username,
a campaign id, a saved reply id) and a short detail such as ``lang=ht
topic=detainer``. Never a message text or a phone number: callers pass codes
and ids only, and ``record`` refuses anything longer than a short detail.

Entries older than ``AUDIT_RETENTION_DAYS`` are trimmed on every write
(``XADD … MINID``), and the key's TTL is renewed to the same period, so the
log survives restarts and redeploys (it lives in Redis with the accounts;
SECURITY.md says how to back it up) and never grows without bound.
(Not to be confused with ``bot/audit.py``, the ``make audit-data`` scan.)
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import time

import redis

log = logging.getLogger(__name__)

AUDIT_KEY = "kyr:console:audit"
#: Action code → what it means (the filter on /console/admin/audit lists these).
ACTIONS = {
    "login": "logged in",
    "login_failed": "failed login (wrong password or code)",
    "logout": "logged out",
    "claim": "claimed a conversation",
    "reply": "replied to a person",
    "answer_sent": "sent a reviewed answer",
    "saved_reply_sent": "sent a saved reply",
    "note": "added an internal note",
    "release": "released a conversation to the queue",
    "hand_back": "handed a conversation back to the bot",
    "account_created": "created an account",
    "account_changed": "changed an account's role or languages",
    "account_disabled": "disabled an account",
    "account_enabled": "enabled an account",
    "account_deleted": "deleted an account",
    "password_reset": "set a new password for someone",
    "password_changed": "changed their own password",
    "2fa_enrolled": "turned on two-factor login",
    "2fa_reset": "reset someone's two-factor login",
    "recovery_code_used": "logged in with a recovery code",
    "broadcast_created": "created and started a broadcast",
    "broadcast_resumed": "resumed a broadcast",
    "saved_reply_created": "created a saved reply",
    "saved_reply_changed": "changed a saved reply",
    "saved_reply_deleted": "deleted a saved reply",
    "export_stats": "downloaded the stats CSV",
    "export_audit": "downloaded the audit log CSV",
}
#: A detail is a few codes ("lang=ht topic=detainer"), never free text.
MAX_DETAIL_CHARS = 120
#: Entries read from Redis per round trip.
BATCH = 1000
#: The people filter looks at this many recent entries.
MAX_READ = 10_000


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    at: float
    who: str
    action: str
    target: str
    detail: str

    @property
    def meaning(self) -> str:
        return ACTIONS.get(self.action, self.action)


class AuditLog:
    def __init__(self, client: redis.Redis, retention_seconds: int):
        self.client = client
        self.retention_seconds = retention_seconds

    def record(self, who: str, action: str, target: str = "", detail: str = "") -> None:
        """Add one entry, trimming those past the retention period (never raises: the action already happened)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action}")
        at = time.time()
        oldest_ms = int((at - self.retention_seconds) * 1000)
        fields = {"at": f"{at:.3f}", "who": who or "", "action": action, "target": target or "",
                  "detail": (detail or "")[:MAX_DETAIL_CHARS]}
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.xadd(AUDIT_KEY, fields, minid=max(oldest_ms, 0), approximate=False)
            pipe.expire(AUDIT_KEY, self.retention_seconds)
            pipe.execute()
        except redis.RedisError as exc:
            log.error("audit log unavailable, entry lost: action=%s (%s)", action, type(exc).__name__)

    def entries(self, *, who: str | None = None, action: str | None = None, since: float | None = None,
                until: float | None = None, limit: int = 500) -> list[AuditEntry]:
        """Newest first, filtered by person, action and time; at most ``limit``."""
        high = f"{int(until * 1000)}" if until is not None else "+"
        low = f"{int(since * 1000)}" if since is not None else "-"
        found: list[AuditEntry] = []
        while len(found) < limit:
            batch = self.client.xrevrange(AUDIT_KEY, max=high, min=low, count=BATCH)
            for entry_id, fields in batch:
                entry = AuditEntry(float(fields.get("at", 0)), fields.get("who", ""), fields.get("action", ""),
                                   fields.get("target", ""), fields.get("detail", ""))
                if (who is None or entry.who == who) and (action is None or entry.action == action):
                    found.append(entry)
                    if len(found) >= limit:
                        break
            if len(batch) < BATCH:
                break
            high = "(" + batch[-1][0]  # exclusive: continue below the last id read
        return found

    def people(self) -> list[str]:
        """Everyone who appears in the log (for the filter)."""
        recent = self.client.xrevrange(AUDIT_KEY, count=MAX_READ)
        return sorted({fields.get("who", "") for _id, fields in recent} - {""})


def as_csv(entries: list[AuditEntry], timezone) -> str:
    """The entries as CSV (time in ``timezone``, ISO 8601), oldest first."""
    import datetime

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time", "who", "action", "meaning", "target", "detail"])
    for entry in reversed(entries):
        when = datetime.datetime.fromtimestamp(entry.at, timezone).isoformat(timespec="seconds")
        writer.writerow([when, entry.who, entry.action, entry.meaning, entry.target, entry.detail])
    return out.getvalue()
