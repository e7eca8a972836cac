"""`make run` with no environment: embedded Redis, development secrets, demo admin, clean Ctrl-C.

The stack test starts ``python -m bot.stack run`` exactly as ``make run`` does,
with an empty environment (only PATH/HOME, its ports, a temporary RUN_DIR and the
test Rasa server), and stops it the way a terminal's Ctrl-C does: SIGINT to the
whole foreground process group.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from bot import create_app, devstack
from bot.config import ConfigError, load_settings
from tests.conftest import free_port, wait_until_healthy
from tests.test_deploy_config import own_hotline, production_env

ROOT = Path(__file__).resolve().parent.parent


# -- the development secrets file ------------------------------------------------------


def test_secrets_are_generated_once_privately_and_reused(tmp_path):
    path = tmp_path / "run" / "dev-secrets.env"
    assert devstack.ensure_secrets(path) is True
    first = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert devstack.ensure_secrets(path) is False and path.read_text() == first
    settings = load_settings({"DEV_SECRETS_FILE": str(path)})
    assert settings.encryption_key and settings.twilio_auth_token and settings.twilio_account_sid.startswith("AC")
    assert not settings.ephemeral_keys
    again = load_settings({"DEV_SECRETS_FILE": str(path)})
    assert (again.secret_key, again.id_hash_key) == (settings.secret_key, settings.id_hash_key)


def test_a_secrets_file_missing_a_value_is_completed_and_keeps_the_rest(tmp_path):
    path = tmp_path / "dev-secrets.env"
    path.write_text("SECRET_KEY=kept-secret-key-0123456789\n")
    assert devstack.ensure_secrets(path) is True
    values = load_settings({"DEV_SECRETS_FILE": str(path)})
    assert values.secret_key == "kept-secret-key-0123456789" and values.encryption_key


def test_the_environment_wins_over_the_file(tmp_path):
    path = tmp_path / "dev-secrets.env"
    devstack.ensure_secrets(path)
    settings = load_settings({"DEV_SECRETS_FILE": str(path), "SECRET_KEY": "from-the-environment-0123"})
    assert settings.secret_key == "from-the-environment-0123"


def test_a_missing_or_malformed_secrets_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="DEV_SECRETS_FILE .* cannot be read"):
        load_settings({"DEV_SECRETS_FILE": str(tmp_path / "nothing.env")})
    bad = tmp_path / "bad.env"
    bad.write_text("this is not a setting\n")
    with pytest.raises(ConfigError, match="expected NAME=value"):
        load_settings({"DEV_SECRETS_FILE": str(bad)})


@pytest.fixture
def file_reads_fail(monkeypatch):
    """Any attempt to read an env file fails the test: production must never open one."""
    def refuse(path):
        raise AssertionError(f"production read {path}")

    monkeypatch.setattr("bot.config.read_env_file", refuse)


def test_production_never_reads_the_development_secrets(tmp_path, file_reads_fail):
    path = tmp_path / "dev-secrets.env"
    path.write_text("SECRET_KEY=" + "d" * 64 + "\n")
    # A production environment with everything set starts, and no env file is opened.
    app = create_app(production_env(RESPONSES_DIR=own_hotline(tmp_path)))
    assert app.extensions["kyr"].settings.secret_key == "s" * 32
    # Pointing production at the file is refused (named), before anything reads it.
    with pytest.raises(ConfigError, match="DEV_SECRETS_FILE is set"):
        load_settings(production_env(DEV_SECRETS_FILE=str(path)))
    # A secret missing in production is not filled from the file either.
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_settings(production_env(SECRET_KEY=None, DEV_SECRETS_FILE=str(path)))


def test_make_run_in_production_adds_nothing(tmp_path):
    environ = {"APP_ENV": "production", "RUN_DIR": str(tmp_path)}
    stack = devstack.start(environ, 5000)
    assert stack.env == environ and stack.redis_process is None
    assert list(tmp_path.iterdir()) == []


# -- the whole stack, as `make run` starts it ----------------------------------------------


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Stack:
    """``python -m bot.stack run`` in its own process group, its output collected."""

    def __init__(self, env: dict[str, str], port: int):
        self.port = port
        self.lines: list[str] = []
        self.process = subprocess.Popen([sys.executable, "-m", "bot.stack", "run"], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def line(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines[-40:]))

    def ctrl_c(self) -> int:
        """What a terminal does on Ctrl-C: SIGINT to every process of the foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(60)


def bare_environment(tmp_path, rasa_url, port, redis_port) -> dict[str, str]:
    """No app setting at all: what a fresh clone has, plus ports and a private RUN_DIR."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return {**keep, "PORT": str(port), "RASA_URL": rasa_url, "RUN_DIR": str(tmp_path / "run"),
            "DEV_REDIS_PORT": str(redis_port), "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1"}


def log_in(base: str, user: str, password: str) -> requests.Response:
    """A console login as a browser does it on http://127.0.0.1 (where browsers send Secure cookies; requests does not)."""
    page = requests.get(base + "/console/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in page.cookies)
    return requests.post(base + "/console/login", data={"csrf_token": token, "username": user, "password": password},
                         headers={"Cookie": cookie}, allow_redirects=False, timeout=10)


def test_make_run_with_no_environment_runs_everything_and_ctrl_c_leaves_nothing_listening(tmp_path, rasa_url):
    port, redis_port = free_port(), free_port()
    env = bare_environment(tmp_path, rasa_url, port, redis_port)
    base = f"http://127.0.0.1:{port}"

    first = Stack(env, port)
    try:
        credentials = first.line(r"console: (\S+)  user: (\S+)  password: (\S+)")
        assert credentials.group(1) == base + "/console/" and credentials.group(2) == devstack.DEMO_ADMIN
        assert first.line(r"redis: started redis://127\.0\.0\.1:(\d+)/0").group(1) == str(redis_port)
        first.line(r"simulator: " + re.escape(base + "/simulator"))
        assert wait_until_healthy(base)
        assert requests.get(base + "/healthz", timeout=5).json()["redis"] == "ok"
        # The printed password logs in (redirect to the queue); a wrong one does not.
        good = log_in(base, devstack.DEMO_ADMIN, credentials.group(3))
        assert good.status_code == 302 and good.headers["Location"].endswith("/console/")
        assert log_in(base, devstack.DEMO_ADMIN, "wrong password 123").status_code != 302
        assert requests.get(base + "/simulator", timeout=5).status_code == 200
    finally:
        assert first.ctrl_c() == 0
    assert not listening(port) and not listening(redis_port)
    with pytest.raises(ProcessLookupError):
        os.killpg(first.process.pid, 0)  # nothing of the group is left

    secrets_file = tmp_path / "run" / "dev-secrets.env"
    kept = secrets_file.read_text()
    assert (tmp_path / "run" / "redis" / "appendonlydir").is_dir()  # data on disk for the next start

    second = Stack(env, port)
    try:
        again = second.line(r"console: (\S+)  user: (\S+)(.*)$")
        assert again.group(2) == devstack.DEMO_ADMIN and "password" not in again.group(3)
        assert wait_until_healthy(base)
        # Same secrets, same Redis data: the first password still works.
        assert log_in(base, devstack.DEMO_ADMIN, credentials.group(3)).status_code == 302
    finally:
        assert second.ctrl_c() == 0
    assert secrets_file.read_text() == kept
    assert not listening(port) and not listening(redis_port)
    assert not any("password" in line for line in second.lines)
