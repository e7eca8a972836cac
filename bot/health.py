"""``GET /healthz``: is the bot able to answer well right now?

Always 200 while the process can answer at all (it never goes silent);
``status`` is ``degraded`` when Rasa or Redis is down, so monitoring can alert.
"""

from __future__ import annotations

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
    return jsonify(status=status, rasa=rasa, redis=redis_state)
