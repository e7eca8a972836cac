"""``make run``'s understanding side: serve first, train beside it, swap without a restart.

One background thread, so the webhook answers (from keywords) seconds after
the app's environment exists:

1. set up Rasa's environment if it is missing (``scripts/setup-venv.sh``);
2. start Rasa with the model it has, or with none;
3. if there is no model or ``intents/`` changed, train (``scripts/train.sh``:
   the previous model keeps answering), then load the new model into the
   running Rasa (``PUT /model``); a failed training keeps the old model and
   says why;
4. all along, write the status file (``bot/clients/nlu_status.py``) that
   ``/healthz``, the web chat's banner and the terminal chat read, and draw a
   progress bar in the terminal.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bot.clients import nlu_status
from bot.clients.nlu_status import TrainingStatus
from bot.clients.rasa_process import (
    RASA_BIN, RasaStartError, load_model, loaded_model_file, server_up, start_rasa, stop, wait_until_ready,
    wait_until_up,
)
from bot.clients.rasa_training import PHASES, Progress, TrainingRun, load_durations, save_durations
from bot.config import PROJECT_ROOT

RASA_ENV = PROJECT_ROOT / ".venv-rasa"
#: Seconds between rewrites of the status file (readers ignore it after nlu_status.STALE_SECONDS).
HEARTBEAT_SECONDS = 2.0
#: Longest wait for the webhook's first answer before starting the heavy work anyway.
SERVE_FIRST_SECONDS = 60.0


def rasa_env_ready() -> bool:
    return RASA_BIN.exists() and (RASA_ENV / ".requirements.sha256").exists()


class TerminalBar:
    """The progress bar under ``make run``: redrawn in place on a terminal, a line per 10 % in a log."""

    WIDTH = 24

    def __init__(self, enabled: bool = True, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self._last_decile = -1

    def draw(self, status: TrainingStatus) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * status.percent // 100
        left = f"about {status.minutes_left} min left" if status.minutes_left is not None else ""
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"==> understanding: [{bar}] {status.percent:3d}%  {status.step}  {left}"
        if self.tty:
            self.stream.write("\r" + line.ljust(100)[:100])
            self.stream.flush()
        elif status.percent // 10 != self._last_decile:
            self._last_decile = status.percent // 10
            print(line, file=self.stream, flush=True)

    def say(self, message: str) -> None:
        """A line of its own (always shown, also in ``make chat``)."""
        if self.tty and self.enabled:
            self.stream.write("\r" + " " * 100 + "\r")
        print(message, file=self.stream, flush=True)


class NluUpdater:
    """Runs steps 1-4 above in a thread; ``stop()`` ends what it started."""

    def __init__(self, rasa_url: str, rasa_port: int, status_path: Path, *, run_dir: Path,
                 model: Path, intents_dir: Path, token: str | None = None, bar: TerminalBar | None = None,
                 serve_first: str | None = None):
        self.rasa_url = rasa_url
        self.rasa_port = rasa_port
        self.status_path = status_path
        self.run_dir = run_dir
        self.model = model
        self.intents_dir = intents_dir
        self.token = token
        self.bar = bar or TerminalBar()
        #: The webhook's /healthz: the heavy work (pip, Rasa, training) waits until it answers, so the
        #: first answer does not share the 2 cores with them (at most SERVE_FIRST_SECONDS).
        self.serve_first = serve_first
        self.rasa: subprocess.Popen | None = None
        self.training: TrainingRun | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nlu-updates", daemon=True)
        self._last = TrainingStatus(nlu_status.TRAINING)

    # -- the thread ------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self.training is not None:
            self.training.stop()
        self._thread.join(20)
        stop(self.rasa)
        nlu_status.clear_status(self.status_path)

    def _run(self) -> None:
        try:
            self._serve_and_train()
        except Exception as exc:  # the webhook keeps answering from keywords; say why here
            self._publish(nlu_status.FAILED, reason=str(exc) or type(exc).__name__)
            self.bar.say(f"==> understanding was not updated: {exc}\n    (the previous model answers if Rasa has one,"
                         f" else keywords; logs in {self._relative(self.run_dir)}/)")
        # Keep the status fresh so readers do not take it for a dead process's file.
        while not self._stopping.wait(HEARTBEAT_SECONDS * 5):
            self._publish(self._last.state, reason=self._last.reason)

    def _let_the_webhook_start(self) -> None:
        deadline = time.monotonic() + SERVE_FIRST_SECONDS
        while self.serve_first and time.monotonic() < deadline and not self._stopping.is_set():
            try:
                if requests.get(self.serve_first, timeout=1.0).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)

    def _publish(self, state: str, progress: Progress | None = None, reason: str | None = None) -> TrainingStatus:
        if progress is not None:
            status = TrainingStatus(state, progress.percent(), progress.seconds_left(), progress.step(), reason)
        else:
            status = TrainingStatus(state, 100 if state == nlu_status.READY else 0, None, "", reason)
        nlu_status.write_status(self.status_path, status)
        self._last = status
        return status

    def _wait_for(self, done, state: str, progress: Progress, follow=None, draw: bool = True) -> bool:
        """Publish and draw progress until ``done()``; False when asked to stop."""
        published = 0.0
        while not done():
            if self._stopping.is_set():
                return False
            if time.monotonic() - published >= HEARTBEAT_SECONDS:
                if follow is not None:
                    follow(progress)
                status = self._publish(state, progress)
                if draw:
                    self.bar.draw(status)
                published = time.monotonic()
            time.sleep(0.2)
        # Done because stop() ended it (Ctrl-C): not a failure to report.
        return not self._stopping.is_set()

    def _serve_and_train(self) -> None:
        times_path = self.model.parent / ".train-times.json"
        have_model = self.model.exists()
        external = server_up(self.rasa_url)
        if external and loaded_model_file(self.rasa_url, self.token):
            # Someone else's Rasa (docker compose, the test suite) serves its own model: use it as it is.
            self.bar.say(f"==> using the Rasa server already running at {self.rasa_url} and its model")
            self._publish(nlu_status.READY)
            return
        # Keyword answers until a model loads, unless the Rasa we start gets the previous model.
        waiting = nlu_status.UPDATING if have_model and not external else nlu_status.TRAINING
        phases = PHASES if not rasa_env_ready() else PHASES[1:]
        progress = Progress(phases, load_durations(times_path))
        self._publish(waiting, progress)
        self._let_the_webhook_start()

        # Also when the env exists: the script only reinstalls when requirements-rasa.txt changed.
        if not self._set_up_rasa_env(waiting, progress, announce="setup" in phases):
            return
        progress.enter("prepare")
        self.training = TrainingRun(self.intents_dir, self.model, self.run_dir / "train.log")
        needs_training = self.training.needed()
        if not needs_training:
            progress.enter("load")

        if external:
            self.bar.say(f"==> using the Rasa server already running at {self.rasa_url} (no model yet)")
        else:
            serving = f"with the model in {self._relative(self.model)}" if have_model else "no model yet"
            self.bar.say(f"==> starting Rasa on 127.0.0.1:{self.rasa_port} "
                         f"({serving}; log: {self._relative(self.run_dir / 'rasa.log')})")
            self.rasa = start_rasa(self.rasa_port, self.run_dir / "rasa.log", self.model if have_model else None)

        if needs_training:
            self.bar.say("==> training the NLU model beside the running bot "
                         + ("(the previous model answers until then)" if waiting == nlu_status.UPDATING
                            else "(answers use keywords until then)")
                         + f"; full log: {self._relative(self.training.log_path)}")
            self.training.start()
            if not self._wait_for(self.training.finished, waiting, progress, follow=self.training.follow):
                return
            if not self.training.succeeded():
                reason = self.training.failure_reason()
                self._publish(nlu_status.FAILED, reason=reason)
                kept = "the previous model still answers" if waiting == nlu_status.UPDATING else "answers use keywords"
                self.bar.say(f"==> training failed, {kept}: {reason}\n    (full log: "
                             f"{self._relative(self.training.log_path)}, {self._relative(self.training.steps_path)})")
                return
            progress.enter("load")
            self.bar.say(f"==> trained {self._relative(self.model)}; loading it into Rasa (no restart)")

        if needs_training or external:
            # Hand the new model to the running server; its old model (or keywords) answers meanwhile.
            if not self._wait_for(lambda: self._swap_done(), waiting, progress, follow=self._check_rasa_alive):
                return
        elif not self._wait_for(lambda: bool(loaded_model_file(self.rasa_url, self.token)), waiting, progress,
                                follow=self._check_rasa_alive):
            return
        progress.finish()
        if needs_training:
            save_durations(times_path, progress.measured)
        self._publish(nlu_status.READY)
        self.bar.say("==> understanding ready: Rasa answers with the trained model")

    _loader: threading.Thread | None = None

    def _swap_done(self) -> bool:
        """Start the ``PUT /model`` once Rasa answers; True when it has returned."""
        if self._loader is None:
            if not server_up(self.rasa_url):
                return False
            self._loader = threading.Thread(target=self._load, daemon=True)
            self._loader.start()
        if self._loader.is_alive():
            return False
        if self._load_error:
            raise self._load_error
        return True

    _load_error: Exception | None = None

    def _load(self) -> None:
        try:
            load_model(self.rasa_url, self.model, self.token)
            wait_until_ready(self.rasa_url, self.rasa, timeout=120)
        except RasaStartError as exc:
            self._load_error = exc

    def _check_rasa_alive(self, _progress: Progress | None = None) -> None:
        if self.rasa is not None and self.rasa.poll() is not None:
            log = self._relative(self.run_dir / "rasa.log")
            raise RasaStartError(f"Rasa exited with code {self.rasa.returncode} (log: {log})")

    def _set_up_rasa_env(self, waiting: str, progress: Progress, announce: bool) -> bool:
        if announce:
            log = self._relative(self.run_dir / "rasa-env.log")
            self.bar.say(f"==> setting up Rasa's environment in the background (log: {log})")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.run_dir / "rasa-env.log"
        command = ["bash", "-c",
                   'bash scripts/setup-venv.sh .venv-rasa "$(bash scripts/find-python310.sh)" requirements-rasa.txt']
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            if not self._wait_for(lambda: process.poll() is not None, waiting, progress, draw=announce):
                return False
        finally:
            stop(process)
        if process.returncode != 0:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RasaStartError("setting up Rasa's environment failed: " + " | ".join(tail))
        return True

    @staticmethod
    def _relative(path: Path) -> Path:
        try:
            return path.resolve().relative_to(PROJECT_ROOT)
        except ValueError:
            return path

