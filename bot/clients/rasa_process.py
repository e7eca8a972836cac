"""Start a Rasa NLU server process and wait until its model is loaded.

Used by ``make run``/``make chat`` (``bot.stack``) and by the test suite, so
Rasa is always started the same way: its own env, loopback only, the API on.
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


class RasaStartError(RuntimeError):
    pass


def start_rasa(port: int, log_path: Path, model: Path = MODEL_PATH) -> subprocess.Popen:
    if not RASA_BIN.exists():
        raise RasaStartError(f"{RASA_BIN} not found: run `make setup`")
    if not model.exists():
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
