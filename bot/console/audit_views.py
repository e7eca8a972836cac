"""The audit log page (``/console/admin/audit``) and its CSV download, for admins."""

from __future__ import annotations

import datetime
import zoneinfo

from flask import Response, render_template, request

from bot.console import bp, console
from bot.console.audit_log import ACTIONS, as_csv
from bot.console.auth import admin_required, audit
from bot.services import services

PAGE_ENTRIES = 500


def _filters() -> dict:
    who = (request.args.get("who") or "").strip().lower() or None
    action = request.args.get("action") or None
    return {"who": who, "action": action if action in ACTIONS else None}


def _zone():
    """STAFF_TIMEZONE (the zone of STAFF_HOURS), else UTC."""
    hours = services().settings.staff_hours
    return zoneinfo.ZoneInfo(hours.timezone) if hours else datetime.timezone.utc


@bp.get("/admin/audit")
@admin_required
def audit_page():
    log = console().audit
    filters = _filters()
    zone = _zone()
    entries = log.entries(**filters, limit=PAGE_ENTRIES)
    rows = [{"entry": e, "time": datetime.datetime.fromtimestamp(e.at, zone).strftime("%Y-%m-%d %H:%M:%S")}
            for e in entries]
    days = services().settings.audit_retention_seconds // 86400
    return render_template("console/audit.html", rows=rows, actions=ACTIONS, people=log.people(), filters=filters,
                           days=days, limit=PAGE_ENTRIES)


@bp.get("/admin/audit.csv")
@admin_required
def audit_csv():
    filters = _filters()
    entries = console().audit.entries(**filters, limit=100_000)
    audit("export_audit", detail=" ".join(f"{k}={v}" for k, v in filters.items() if v))
    return Response(as_csv(entries, _zone()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="console-audit.csv"'})
