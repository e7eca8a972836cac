"""``make run`` / ``make chat``: start the webhook (or the terminal chat) and Rasa.

The webhook starts at once on 127.0.0.1:``PORT`` (gunicorn, ``webhook:app``)
and answers from keywords until understanding is ready; meanwhile
``bot/nlu_updates.py`` sets up Rasa's environment if needed, starts Rasa on
``RASA_PORT`` (unless one already answers there), trains the model when
``intents/`` changed and swaps it in. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT, load_devstack_options, load_settings
from bot.clients.rasa_process import MODEL_PATH
from bot.nlu_updates import NluUpdater, TerminalBar


def nlu_updater(rasa_url: str, rasa_port: int, port: int, args: argparse.Namespace) -> NluUpdater:
    """Understanding beside the bot, once the webhook answers; the progress bar only under ``make run``
    (it would cut into the chat prompt)."""
    settings = load_settings(os.environ)
    run_dir = load_devstack_options(os.environ).run_dir
    return NluUpdater(rasa_url, rasa_port, settings.nlu_status_file, run_dir=run_dir, model=args.model.resolve(),
                      intents_dir=args.intents.resolve(), token=settings.rasa_token,
                      bar=TerminalBar(enabled=args.mode == "run"),
                      serve_first=f"http://127.0.0.1:{port}/healthz" if args.mode == "run" else None)


def run_webhook(port: int, env: dict[str, str] | None = None, banner: str = "") -> int:
    env = dict(os.environ) if env is None else env
    settings = load_settings(env)
    # One worker without Redis: the in-memory store is per process.
    workers = env.get("WEB_CONCURRENCY") or ("2" if settings.redis_url else "1")
    command = [
        str(PROJECT_ROOT / ".venv" / "bin" / "gunicorn"), "webhook:app",
        "--bind", f"127.0.0.1:{port}", "--workers", workers, "--threads", "8",
        "--timeout", "30", "--preload", "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(L)ss',  # no query strings: they may hold a number
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
    # To try another pipeline side by side (BENCHMARKS.md "Training time") without touching the real model.
    parser.add_argument("--intents", type=Path, default=PROJECT_ROOT / "intents", help="training data folder")
    parser.add_argument("--model", type=Path, default=MODEL_PATH, help="model file to serve and train into")
    args = parser.parse_args(argv)
    rasa_port = int(os.environ.get("RASA_PORT") or 5005)
    port = int(os.environ.get("PORT") or 5000)
    rasa_url = (os.environ.get("RASA_URL") or f"http://127.0.0.1:{rasa_port}").rstrip("/")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    updater = nlu_updater(rasa_url, rasa_port, port, args)
    dev = None
    try:
        updater.start()  # waits for the webhook's first answer, then Rasa's env, Rasa, training
        if args.mode == "run":
            from bot import devstack  # embedded Redis, dev secrets, demo admin (issue #16)

            dev = devstack.start(os.environ, port)
        if args.mode == "run":
            return run_webhook(port, dev.env, dev.banner(port))
        from bot import create_app
        from bot.cli import terminal_chat

        return terminal_chat(create_app())
    except KeyboardInterrupt:
        print("\n==> stopping")
        return 0
    finally:
        updater.stop()
        if dev is not None:
            dev.stop()


if __name__ == "__main__":
    sys.exit(main())
