"""How far the NLU model's training is, shared through one small JSON file.

``make run`` trains the model beside the running bot (``bot/nlu_updates.py``)
and writes its progress here; the app, another process (gunicorn), reads it
for ``/healthz``, the web chat's banner and the terminal chat. A file rather
than Redis because ``make run`` works without Redis. The writer rewrites it
every few seconds; a file not rewritten for ``STALE_SECONDS`` is ignored, so
a ``make run`` that was killed never leaves a banner behind.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import time
from pathlib import Path

#: A status file older than this is from a process that is gone.
STALE_SECONDS = 60.0

#: The bot answers from keywords: no model is loaded yet and one is being made.
TRAINING = "training"
#: A model answers; a newer one trains and will replace it.
UPDATING = "updating"
#: The newest model answers.
READY = "ready"
#: The last training failed (``reason`` says why); an older model answers if there was one.
FAILED = "failed"
STATES = (TRAINING, UPDATING, READY, FAILED)


@dataclasses.dataclass(frozen=True)
class TrainingStatus:
    state: str
    #: Whole-run progress, 0-100 (Rasa's environment, training, loading the model).
    percent: int = 0
    #: Estimated seconds until the new model answers (None when unknown).
    seconds_left: float | None = None
    #: What is happening now, for the terminal: "Rasa's environment", "featurizers", "epoch 8/20", ...
    step: str = ""
    #: Why the last training failed (the terminal and the status file; never shown to visitors).
    reason: str | None = None
    updated: float = 0.0

    @property
    def minutes_left(self) -> int | None:
        """Whole minutes, rounded up, at least 1 (people read "about 1 minute", not "0")."""
        if self.seconds_left is None:
            return None
        return max(1, math.ceil(self.seconds_left / 60))

    @property
    def keyword_mode(self) -> bool:
        """True while no model answers because the first one is still training."""
        return self.state == TRAINING


def write_status(path: Path, status: TrainingStatus) -> None:
    """Replace the file atomically, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dataclasses.asdict(dataclasses.replace(status, updated=time.time()))
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nlu-status.")
    with os.fdopen(handle, "w") as out:
        json.dump(payload, out)
    os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the app may run as another user
    os.replace(tmp, path)


def read_status(path: Path, now: float | None = None) -> TrainingStatus | None:
    """The current status, or None when there is no fresh, readable file."""
    try:
        payload = json.loads(path.read_text())
        status = TrainingStatus(
            state=str(payload["state"]),
            percent=int(payload.get("percent") or 0),
            seconds_left=None if payload.get("seconds_left") is None else float(payload["seconds_left"]),
            step=str(payload.get("step") or ""),
            reason=payload.get("reason"),
            updated=float(payload["updated"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if status.state not in STATES:
        return None
    if (now if now is not None else time.time()) - status.updated > STALE_SECONDS:
        return None
    return status


def clear_status(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
