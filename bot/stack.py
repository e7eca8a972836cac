"""``make run`` / ``make chat``: start Rasa and the webhook (or the terminal chat).

Starts a Rasa server on ``RASA_PORT`` (unless one already answers there),
waits for its model, then runs gunicorn with ``webhook:app`` on
127.0.0.1:``PORT``. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from bot.config import PROJECT_ROOT, load_settings
from bot.clients.rasa_process import model_loaded, start_rasa, stop, wait_until_ready

RUN_DIR = PROJECT_ROOT / ".run"


def ensure_rasa(rasa_url: str, port: int) -> subprocess.Popen | None:
    if model_loaded(rasa_url):
        print(f"==> using the Rasa server already running at {rasa_url}")
        return None
    print(f"==> starting Rasa on 127.0.0.1:{port} (log: .run/rasa.log); loading the model", end="", flush=True)
    process = start_rasa(port, RUN_DIR / "rasa.log")
    try:
        wait_until_ready(rasa_url, process, progress=True)
    except BaseException:
        stop(process)
        raise
    return process


def run_webhook(port: int, env: dict[str, str] | None = None, banner: str = "") -> int:
    env = dict(os.environ) if env is None else env
    settings = load_settings(env)
    # One worker without Redis: the in-memory store is per process.
    workers = env.get("WEB_CONCURRENCY") or ("2" if settings.redis_url else "1")
    command = [
        str(PROJECT_ROOT / ".venv" / "bin" / "gunicorn"), "webhook:app",
        "--bind", f"127.0.0.1:{port}", "--workers", workers, "--threads", "8",
        "--timeout", "30", "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(L)ss',  # no query strings: they may hold a number
    ]
    print(f"==> web chat: http://127.0.0.1:{port}/   Twilio webhook: POST /sms   (Ctrl-C stops)")
    if banner:
        print(banner, flush=True)
    children = [subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)]
    if settings.redis_url:
        print("==> starting the outbound worker (queue kyr-outbound)")
        rq = str(PROJECT_ROOT / ".venv" / "bin" / "rq")
        from bot.outreach.worker import worker_command

        children.append(subprocess.Popen(worker_command(rq, settings.redis_url),
                                         cwd=PROJECT_ROOT, env=env))
    else:
        print("==> no REDIS_URL: outbound messages (queue and worker) are off")
    try:
        return children[0].wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait(20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="start the bot's processes")
    parser.add_argument("mode", choices=["run", "chat"])
    args = parser.parse_args(argv)
    rasa_port = int(os.environ.get("RASA_PORT") or 5005)
    port = int(os.environ.get("PORT") or 5000)
    rasa_url = (os.environ.get("RASA_URL") or f"http://127.0.0.1:{rasa_port}").rstrip("/")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    rasa = dev = None
    try:
        if args.mode == "run":
            from bot import devstack  # embedded Redis, dev secrets, demo admin (issue #16)

            dev = devstack.start(os.environ, port)
        rasa = ensure_rasa(rasa_url, rasa_port)
        if args.mode == "run":
            return run_webhook(port, dev.env, dev.banner(port))
        from bot import create_app
        from bot.cli import terminal_chat

        return terminal_chat(create_app())
    except KeyboardInterrupt:
        print("\n==> stopping")
        return 0
    finally:
        stop(rasa)
        if dev is not None:
            dev.stop()


if __name__ == "__main__":
    sys.exit(main())
