"""``GET /healthz``: is the bot able to answer well right now?

Always 200 while the process can answer at all (it never goes silent);
``status`` is ``degraded`` when Rasa or Redis is down, so monitoring can alert;
``content`` is ``stale`` while any answer is older than ``CONTENT_MAX_AGE_DAYS``.
"""

from __future__ import annotations

import datetime

from flask import Blueprint, jsonify

from bot.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    svc = services()
    rasa = "ok" if svc.nlu.healthy() else "down"
    if svc.store.kind == "memory":
        redis_state = "memory"
    else:
        redis_state = "ok" if svc.store.healthy() else "down"
    status = "ok" if rasa == "ok" and redis_state != "down" else "degraded"
    # Stale answers still answer, so status is unchanged; monitoring can alert on "content".
    stale = svc.content.stale(datetime.date.today(), svc.settings.content_max_age_days)
    return jsonify(status=status, rasa=rasa, redis=redis_state, content="stale" if stale else "ok")
