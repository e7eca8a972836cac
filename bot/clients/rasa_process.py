"""Start a Rasa NLU server process, wait until its model is loaded, swap models.

Used by ``make run``/``make chat`` (``bot.stack``, ``bot.nlu_updates``) and by
the test suite, so Rasa is always started the same way: its own env, loopback
only, the API on. ``make run`` may start Rasa with no model (the first one is
still training) and later hand it one with ``load_model`` (``PUT /model``),
without a restart.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from bot.config import PROJECT_ROOT

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL_PATH = PROJECT_ROOT / "models" / "kyr-nlu.tar.gz"
#: An empty folder (beside Rasa's log) to start Rasa from when there is no model yet: ``--model``
#: must exist, or Rasa falls back to ./models and would load whatever it finds there.
NO_MODEL_DIR = "no-model"


class RasaStartError(RuntimeError):
    pass


def start_rasa(port: int, log_path: Path, model: Path | None = MODEL_PATH) -> subprocess.Popen:
    """Start ``rasa run`` on loopback; ``model=None`` starts it with no model (``load_model`` later)."""
    if not RASA_BIN.exists():
        raise RasaStartError(f"{RASA_BIN} not found: run `make setup`")
    if model is None:
        model = log_path.parent / NO_MODEL_DIR
        model.mkdir(parents=True, exist_ok=True)
    elif not model.exists():
        raise RasaStartError(f"{model} not found: run `make train`")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    command = [
        str(RASA_BIN), "run", "--enable-api", "--model", str(model),
        "--interface", "127.0.0.1", "--port", str(port), "--log-file", str(log_path),
    ]
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, env=env,
            start_new_session=True,
        )


def model_loaded(url: str) -> bool:
    try:
        response = requests.get(f"{url}/status", timeout=1.0)
        return response.ok and bool(response.json().get("model_file"))
    except (requests.RequestException, ValueError):
        return False


def server_up(url: str) -> bool:
    """True when a Rasa server answers at ``url``, with or without a model."""
    try:
        return requests.get(f"{url}/version", timeout=1.0).ok
    except requests.RequestException:
        return False


def wait_until_up(url: str, process: subprocess.Popen | None, timeout: float = 240.0) -> None:
    """Block until the server answers at all (it may have no model yet)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if server_up(url):
            return
        if process is not None and process.poll() is not None:
            raise RasaStartError(f"Rasa exited with code {process.returncode}; see its log")
        time.sleep(1.0)
    raise RasaStartError(f"Rasa did not answer after {timeout:.0f} s")


def loaded_model_file(url: str, token: str | None = None) -> str | None:
    """The model file Rasa serves now, or None (no model, or not answering)."""
    try:
        response = requests.get(f"{url}/status", params={"token": token} if token else None, timeout=1.0)
        return response.json().get("model_file") if response.ok else None
    except (requests.RequestException, ValueError):
        return None


def load_model(url: str, model: Path, token: str | None = None, timeout: float = 600.0) -> None:
    """Load ``model`` into the running server (``PUT /model``); the old model answers until it returns.

    Rasa loads the model inside its event loop, so parse calls wait meanwhile;
    the bot's NLU client gives up after ``RASA_TIMEOUT`` and answers from
    keywords, so no message goes unanswered during the swap.
    """
    try:
        response = requests.put(f"{url}/model", json={"model_file": str(model.resolve())},
                                params={"token": token} if token else None, timeout=timeout)
    except requests.RequestException as exc:
        raise RasaStartError(f"could not load {model} into Rasa at {url}: {type(exc).__name__}") from exc
    if response.status_code != 204:
        try:
            message = response.json().get("message") or response.text
        except ValueError:
            message = response.text
        raise RasaStartError(f"Rasa refused {model} ({response.status_code}): {message[:300]}")


def wait_until_ready(url: str, process: subprocess.Popen | None, timeout: float = 240.0, progress: bool = False) -> None:
    """Block until Rasa answers ``/status`` with a model, showing dots when asked."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if model_loaded(url):
            if progress:
                print(f" ready in {time.monotonic() - start:.0f} s", flush=True)
            return
        if process is not None and process.poll() is not None:
            raise RasaStartError(f"Rasa exited with code {process.returncode}; see its log")
        if progress:
            print(".", end="", flush=True, file=sys.stdout)
        time.sleep(1.0)
    raise RasaStartError(f"Rasa was not ready after {timeout:.0f} s")


def stop(process: subprocess.Popen | None, timeout: float = 15.0) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, 15)
        process.wait(timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, 9)
        except ProcessLookupError:
            pass
