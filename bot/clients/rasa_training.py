"""Train the NLU model beside the running bot, and tell how far it is.

The training itself is ``scripts/train.sh``, the one way the model is made
(``make train``, CI): it validates the data, skips unchanged data by
fingerprint, and trains into a scratch folder so a failed run never replaces
the model being served. This module starts it and follows the log it writes:
Rasa names each component it trains ("Starting to train component
'DIETClassifier'") and draws a tqdm bar for DIET's epochs
("Epochs:  40%|████  | 8/20 [01:23<02:05, ...]"), which is most of the time
(BENCHMARKS.md, "Training time").

``Progress`` turns that into one percentage and a time left for the whole
wait: Rasa's environment (on a fresh machine), training, loading the model.
Expected durations come from the last run on this machine
(``.train-times.json`` next to the model), else from ``DEFAULT_DURATIONS``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import time
from pathlib import Path

from bot.config import PROJECT_ROOT

TRAIN_SCRIPT = PROJECT_ROOT / "scripts" / "train.sh"
#: The parts of a wait, in order; a run may skip the first (Rasa's environment exists).
PHASES = ("setup", "prepare", "epochs", "save", "load")
PHASE_NAMES = {
    "setup": "installing Rasa's environment",
    "prepare": "validating data, featurizers",
    "save": "saving the model",
    "load": "loading the model into Rasa",
}

_EPOCHS = re.compile(r"Epochs:\s*\d+%\|[^|]*\|\s*(\d+)/(\d+)\s*\[([\d:]+)<([\d:?]+)")
_COMPONENT = re.compile(r"Starting to train component '(\w+)'")
#: A line that names what went wrong (Rasa's exception or log level).
_CAUSE = re.compile(r"Exception|Error|ERROR|Invalid|invalid")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+)$")


@dataclasses.dataclass(frozen=True)
class EpochProgress:
    done: int
    total: int
    elapsed: float
    #: tqdm's estimate of the seconds left (None before the first epoch ends).
    remaining: float | None


def _seconds(clock: str) -> float | None:
    match = _CLOCK.match(clock)
    if not match:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def last_epoch_progress(text: str) -> EpochProgress | None:
    """The last DIET epoch bar in a piece of Rasa's output (tqdm redraws with ``\\r``)."""
    matches = list(_EPOCHS.finditer(text))
    if not matches:
        return None
    done, total, elapsed, remaining = matches[-1].groups()
    return EpochProgress(int(done), int(total), _seconds(elapsed) or 0.0, _seconds(remaining))


def last_component(text: str) -> str | None:
    matches = _COMPONENT.findall(text)
    return matches[-1] if matches else None


# Seconds per phase, measured on 2 shared cores (BENCHMARKS.md, "Training time").
DEFAULT_DURATIONS = {"setup": 150.0, "prepare": 90.0, "epochs": 420.0, "save": 30.0, "load": 45.0}


def load_durations(path: Path) -> dict[str, float]:
    """Expected seconds per phase: this machine's last run where known, else the defaults."""
    durations = dict(DEFAULT_DURATIONS)
    try:
        saved = json.loads(path.read_text())
        durations.update({name: float(saved[name]) for name in PHASES if name in saved and float(saved[name]) > 0})
    except (OSError, ValueError, TypeError):
        pass
    return durations


def save_durations(path: Path, measured: dict[str, float]) -> None:
    try:
        path.write_text(json.dumps({name: round(value, 1) for name, value in measured.items()}))
    except OSError:
        pass


class Progress:
    """One percentage and a time left across the phases of a wait."""

    def __init__(self, phases: tuple[str, ...], expected: dict[str, float], clock=time.monotonic):
        self.phases = phases
        self.expected = expected
        self._clock = clock
        self.started = clock()
        self.phase = phases[0]
        self._phase_started = self.started
        self.measured: dict[str, float] = {}
        self.epoch: EpochProgress | None = None
        #: The component Rasa trains now (before DIET's epochs).
        self.component: str | None = None

    def enter(self, phase: str) -> None:
        if phase == self.phase or phase not in self.phases:
            return
        now = self._clock()
        self.measured[self.phase] = now - self._phase_started
        self.phase, self._phase_started = phase, now

    def finish(self) -> None:
        """Record how long the last phase took (``measured`` is saved for the next estimate)."""
        self.measured[self.phase] = self._clock() - self._phase_started

    def saw_epochs(self, epoch: EpochProgress) -> None:
        self.enter("epochs")
        self.epoch = epoch
        if epoch.done >= epoch.total:
            self.enter("save")

    def seconds_left(self) -> float:
        in_phase = self._clock() - self._phase_started
        expected = self.expected[self.phase]
        if self.phase == "epochs" and self.epoch is not None and self.epoch.remaining is not None:
            current = self.epoch.remaining
        else:
            # A phase running late still has a little left, never zero.
            current = max(expected - in_phase, 0.1 * expected)
        later = self.phases[self.phases.index(self.phase) + 1:]
        return current + sum(self.expected[name] for name in later)

    def percent(self) -> int:
        spent = self._clock() - self.started
        left = self.seconds_left()
        return min(99, int(100 * spent / (spent + left))) if spent + left > 0 else 0

    def step(self) -> str:
        if self.phase == "epochs" and self.epoch is not None:
            return f"epoch {self.epoch.done}/{self.epoch.total}"
        if self.phase == "prepare" and self.component:
            return f"training {self.component}"
        return PHASE_NAMES.get(self.phase, self.phase)


class TrainingRun:
    """One ``scripts/train.sh`` run in the background, its log followed for progress."""

    def __init__(self, intents_dir: Path, model: Path, log_path: Path):
        self.intents_dir = intents_dir
        self.model = model
        self.log_path = log_path
        #: train.sh's own messages (validation errors, "error: ..."), apart from Rasa's output.
        self.steps_path = log_path.with_name(log_path.stem + "-steps.log")
        self.process: subprocess.Popen | None = None
        self._offset = 0
        self._tail = ""

    def _env(self) -> dict[str, str]:
        return dict(
            os.environ, INTENTS_DIR=str(self.intents_dir), MODEL_OUT=str(self.model), TRAIN_LOG=str(self.log_path),
            RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1",
            # Rasa logs components to stdout: unbuffered, so the log (and the bar) follows at once.
            PYTHONUNBUFFERED="1",
            # Rasa reads LOG_LEVEL too (the bot's own setting): above INFO it hides DIET's epoch bar.
            LOG_LEVEL="INFO",
        )

    def needed(self) -> bool:
        """True when there is no model or intents/ changed since it was trained (train.sh --check)."""
        result = subprocess.run(["bash", str(TRAIN_SCRIPT), "--check"], env=self._env(), cwd=PROJECT_ROOT,
                                capture_output=True)
        return result.returncode != 0

    def start(self, nice: int = 0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for path in (self.log_path, self.steps_path):
            path.unlink(missing_ok=True)
        command = ["bash", str(TRAIN_SCRIPT)]
        if nice:
            command = ["nice", "-n", str(nice), *command]
        with self.steps_path.open("wb") as steps:
            self.process = subprocess.Popen(command, env=self._env(), cwd=PROJECT_ROOT, stdout=steps,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def follow(self, progress: Progress) -> None:
        """Read what Rasa wrote since the last call and move ``progress`` on."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read().decode("utf-8", errors="replace")
                self._offset = log.tell()
        except FileNotFoundError:
            return
        # Keep a tail so a bar split across two reads is still seen whole.
        self._tail = (self._tail + chunk)[-4000:]
        progress.component = last_component(self._tail) or progress.component
        epoch = last_epoch_progress(self._tail)
        if epoch is not None:
            progress.saw_epochs(epoch)

    def finished(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def succeeded(self) -> bool:
        return self.finished() and self.process.returncode == 0

    def failure_reason(self) -> str:
        """Why train.sh failed, in one line: Rasa's error (with where, if it said) and train.sh's "error:" line."""
        try:
            lines = [line.strip() for line in self.steps_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        lines = [line for line in lines if not line.startswith("==>")]
        if not lines:
            return f"training exited with code {self.process.returncode if self.process else '?'}"
        causes = [i for i, line in enumerate(lines) if _CAUSE.search(line) and not line.startswith("error:")]
        picked = lines[causes[0]:causes[0] + 3] if causes else []
        picked += [line for line in lines if line.startswith("error:")][-1:] or lines[-1:]
        return " | ".join(picked)[:600]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, 15)
            self.process.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, 9)
            except ProcessLookupError:
                pass
