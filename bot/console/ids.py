"""Ids taken from console URLs are checked before they reach a Redis key name.

A handoff id becomes part of ``kyr:handoff:<id>``: without a format check,
``/console/h/open`` read the queue index (a 500) and ``/console/h/sender:<hash>``
told staff whether a person has a handoff (issue #15, finding 10). Every
console route argument named below must match its format or the answer is
404, before any Redis read.
"""

from __future__ import annotations

import re

from flask import abort

from bot.outreach.broadcasts import CAMPAIGN_ID_PATTERN
from bot.console import bp
from bot.console.saved_replies import REPLY_ID_PATTERN
from bot.console.staff import USERNAME

#: records.open() makes handoff ids with ``secrets.token_hex(8)``: 16 lower-case hex digits.
HANDOFF_ID = re.compile(r"[0-9a-f]{16}")

#: URL argument name → the only values it may take.
FORMATS: dict[str, re.Pattern] = {
    "handoff_id": HANDOFF_ID,
    "campaign_id": re.compile(CAMPAIGN_ID_PATTERN),
    "username": USERNAME,
    "reply_id": re.compile(REPLY_ID_PATTERN),
}


def is_valid(name: str, value: object) -> bool:
    """True when ``value`` has the format of the URL argument ``name`` (unknown names never do)."""
    pattern = FORMATS.get(name)
    return pattern is not None and isinstance(value, str) and pattern.fullmatch(value) is not None


@bp.url_value_preprocessor
def check_ids(endpoint, values) -> None:
    """Runs before every console view (and before its login and CSRF checks): 404 on a malformed id.

    Static files are left to Flask, whose ``safe_join`` already refuses paths outside the folder.
    """
    if endpoint == f"{bp.name}.static":
        return
    for name, value in (values or {}).items():
        if not is_valid(name, value):
            abort(404)
