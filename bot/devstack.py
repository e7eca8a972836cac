"""``make run`` with no setup at all: what the bot needs to show its three jobs on one machine.

- its own ``redis-server`` on loopback (data under ``.run/redis/``, append-only
  file, so conversations, staff accounts and subscriptions survive a restart),
  unless ``REDIS_URL`` is set;
- development secrets generated once into ``.run/dev-secrets.env`` and handed to
  the app as ``DEV_SECRETS_FILE`` (``bot/config.py`` reads it, never in production);
- handoff on (``STAFF_HOURS=always`` unless set), alerts on (Redis + ENCRYPTION_KEY);
- outbound messages sent to the phone simulator's Twilio stand-in
  (``/simulator/twilio``) instead of Twilio, unless ``TWILIO_ACCOUNT_SID`` is set;
- a demo admin created on first start, its password printed once in the banner.

``bot/stack.py`` calls ``start`` before it starts anything else and ``stop`` last.
With ``APP_ENV=production`` nothing here runs.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Mapping

import redis

from bot.config import load_devstack_options, load_settings, read_env_file

#: The account created on first start (later starts print its name, never a password).
DEMO_ADMIN = "demo-admin"
#: The sender the stand-in shows for the bot (Twilio's magic test number: never a real phone).
DEV_FROM_NUMBER = "+15005550006"
SECRETS_FILE = "dev-secrets.env"


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


#: What the secrets file holds, and how each value is made.
SECRET_MAKERS = {
    "SECRET_KEY": lambda: secrets.token_hex(32),
    "ID_HASH_KEY": lambda: secrets.token_hex(32),
    "ENCRYPTION_KEY": _fernet_key,
    # Signs the simulator's requests to /sms and authenticates the worker at the stand-in.
    "TWILIO_AUTH_TOKEN": lambda: secrets.token_hex(16),
    "TWILIO_ACCOUNT_SID": lambda: "AC" + secrets.token_hex(16),
}


def ensure_secrets(path: Path) -> bool:
    """Create the secrets file (mode 0600) or add values it lacks; True when something was generated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = read_env_file(path) if path.exists() else {}
    missing = {name: make() for name, make in SECRET_MAKERS.items() if not existing.get(name)}
    if not missing:
        return False
    lines = ["# make run's development secrets (bot/devstack.py). Never used with APP_ENV=production.",
             *(f"{name}={value}" for name, value in {**existing, **missing}.items())]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return True


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ours(url: str, data_dir: Path) -> bool:
    """A redis-server already answering at ``url`` keeps its data in ``data_dir`` (a previous make run)."""
    try:
        found = redis.Redis.from_url(url, socket_timeout=1).config_get("dir").get("dir", "")
    except redis.RedisError:
        return False
    return Path(found).resolve() == data_dir.resolve()


def start_redis(data_dir: Path, port: int) -> tuple[subprocess.Popen | None, str]:
    """A redis-server on loopback with an append-only file in ``data_dir``; (process or None if reused, URL).

    The port is ``DEV_REDIS_PORT`` (6380) when free, else any free port (the data
    stays in ``data_dir`` either way). It runs in its own session so that the
    terminal's Ctrl-C reaches it only through ``stop``, after the web and worker stopped.
    """
    binary = shutil.which("redis-server")
    if not binary:
        raise FileNotFoundError("redis-server is not installed (apt-get install redis-server, brew install redis) "
                                "or set REDIS_URL")
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"redis://127.0.0.1:{port}/0"
    if not _port_free(port):
        if _ours(url, data_dir):
            return None, url
        port = _free_port()
        url = f"redis://127.0.0.1:{port}/0"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "yes", "--dir", str(data_dir),
         "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--logfile", str(data_dir / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    client = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            return process, url
        except redis.RedisError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    process.wait(5)
    raise RuntimeError(f"redis-server did not start (log: {data_dir / 'redis.log'})")


def ensure_demo_admin(settings) -> tuple[str | None, str | None]:
    """(user, password): a new demo admin with a fresh password when there is no account at all;
    (user, None) when the demo admin exists; (None, None) when other accounts exist."""
    from bot.console.staff import StaffDirectory
    from bot.language.languages import SUPPORTED_LANGUAGES

    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    staff = StaffDirectory(client, settings.staff_account_ttl_seconds, SUPPORTED_LANGUAGES)
    if staff.get(DEMO_ADMIN) is not None:
        return DEMO_ADMIN, None
    if staff.all():
        return None, None
    password = secrets.token_urlsafe(12)
    staff.create(DEMO_ADMIN, password, "admin", SUPPORTED_LANGUAGES)
    return DEMO_ADMIN, password


@dataclasses.dataclass
class DevStack:
    """What ``start`` added: the environment for the app's processes, and what to stop."""

    env: dict[str, str]
    redis_process: subprocess.Popen | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    admin: str | None = None
    admin_password: str | None = None
    standin: bool = False

    def banner(self, port: int) -> str:
        base = f"http://127.0.0.1:{port}"
        lines = [f"==> simulator: {base}/simulator   (a phone: SMS/WhatsApp, staff replies and alerts arrive there)"]
        if self.admin and self.admin_password:
            lines.append(f"==> console: {base}/console/  user: {self.admin}  password: {self.admin_password}"
                         "   (shown once: write it down, or change it under Staff)")
        elif self.admin:
            lines.append(f"==> console: {base}/console/  user: {self.admin}")
        elif self.env.get("REDIS_URL"):
            lines.append(f"==> console: {base}/console/")
        return "\n".join([*self.notes, *lines])

    def stop(self) -> None:
        if self.redis_process is not None and self.redis_process.poll() is None:
            self.redis_process.terminate()  # redis-server writes its append-only file and exits
            try:
                self.redis_process.wait(20)
            except subprocess.TimeoutExpired:
                self.redis_process.kill()
                self.redis_process.wait(5)


def start(environ: Mapping[str, str], port: int) -> DevStack:
    """Prepare everything above; returns the environment the web and worker processes get."""
    env = dict(environ)
    if (env.get("APP_ENV") or "development").strip().lower() == "production":
        return DevStack(env)
    options = load_devstack_options(env)
    stack = DevStack(env)
    secrets_path = options.run_dir / SECRETS_FILE
    if ensure_secrets(secrets_path):
        stack.notes.append(f"==> development secrets generated in {secrets_path} (kept for the next start)")
    env["DEV_SECRETS_FILE"] = str(secrets_path)
    env.setdefault("STAFF_HOURS", "always")
    if not env.get("TWILIO_ACCOUNT_SID"):
        # No Twilio account: the worker sends to the simulator's stand-in of Twilio's Messages API.
        env.update(TWILIO_API_BASE_URL=f"http://127.0.0.1:{port}/simulator/twilio", TWILIO_FROM_NUMBER=DEV_FROM_NUMBER)
        env.pop("TWILIO_MESSAGING_SERVICE_SID", None)
        stack.standin = True
    if not env.get("REDIS_URL"):
        try:
            stack.redis_process, env["REDIS_URL"] = start_redis(options.run_dir / "redis", options.redis_port)
        except FileNotFoundError as exc:
            stack.notes.append(f"==> {exc}: keeping conversations in memory; console and alerts are off")
            return stack
        where = "started" if stack.redis_process else "reusing"
        stack.notes.append(f"==> redis: {where} {env['REDIS_URL']} (data in {options.run_dir / 'redis'})")
    try:
        stack.admin, stack.admin_password = ensure_demo_admin(load_settings(env))
    except BaseException:
        stack.stop()
        raise
    return stack
