"""``GET /healthz``: is the bot able to answer well right now? ``GET /api/nlu-status``: the training banner.

Always 200 while the process can answer at all (it never goes silent);
``status`` is ``degraded`` when Rasa or Redis is down, so monitoring can alert;
``content`` is ``stale`` while any answer is older than ``CONTENT_MAX_AGE_DAYS``;
``nlu`` is ``ready`` when Rasa answers with a model, ``training`` while
``make run`` trains the first one (answers use keywords meanwhile), else ``down``.
"""

from __future__ import annotations

import datetime

from flask import Blueprint, jsonify, request

from bot.clients.nlu_status import TrainingStatus, read_status
from bot.content.texts import ContentBase
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.services import services

bp = Blueprint("health", __name__)


def nlu_state(rasa_ok: bool, status: TrainingStatus | None) -> str:
    if rasa_ok:
        return "ready"
    return "training" if status is not None and status.keyword_mode else "down"


def training_notice(content: ContentBase, status: TrainingStatus | None, lang: str) -> str | None:
    """"Understanding is still training: 40%, about 6 minutes left. ..." in ``lang``, or None when not training."""
    if status is None or not status.keyword_mode:
        return None
    minutes = status.minutes_left
    if minutes is not None and minutes <= 1:
        return content.text("system.nlu_training_soon", lang, {"percent": str(status.percent)})
    return content.text("system.nlu_training", lang, {"percent": str(status.percent), "minutes": str(minutes or "?")})


@bp.get("/healthz")
def healthz():
    svc = services()
    rasa_ok = svc.nlu.healthy()
    rasa = "ok" if rasa_ok else "down"
    if svc.store.kind == "memory":
        redis_state = "memory"
    else:
        redis_state = "ok" if svc.store.healthy() else "down"
    status = "ok" if rasa == "ok" and redis_state != "down" else "degraded"
    # Stale answers still answer, so status is unchanged; monitoring can alert on "content".
    stale = svc.content.stale(datetime.date.today(), svc.settings.content_max_age_days)
    nlu = nlu_state(rasa_ok, read_status(svc.settings.nlu_status_file))
    return jsonify(status=status, rasa=rasa, redis=redis_state, content="stale" if stale else "ok", nlu=nlu)


@bp.get("/api/nlu-status")
def nlu_status():
    """What the web chat (and the simulator) show while the first model trains; polled by the page.

    The training status file answers without asking Rasa, so polling costs
    Rasa nothing while it trains; once no longer training, ``nlu`` is
    ``ready`` and the page stops polling.
    """
    svc = services()
    lang = (request.args.get("lang") or "").lower()[:2]
    lang = lang if lang in SUPPORTED_LANGUAGES else svc.settings.default_language
    status = read_status(svc.settings.nlu_status_file)
    if status is not None and status.keyword_mode:
        return jsonify(nlu="training", percent=status.percent, minutes_left=status.minutes_left, lang=lang,
                       notice=training_notice(svc.content, status, lang))
    return jsonify(nlu=nlu_state(svc.nlu.healthy(), status), percent=None, minutes_left=None, lang=lang, notice=None)
