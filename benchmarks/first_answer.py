#!/usr/bin/env python3
"""Seconds from `make run` to the web chat's first answer, in a given checkout (issue #22).

    git clone -b main /path/to/repo /tmp/fresh      # a fresh clone: both envs to install
    python3 benchmarks/first_answer.py /tmp/fresh --port 6420 --rasa-port 6421

Starts ``make run`` there (nice'd), posts a question to ``/api/chat`` every
0.5 s until one is answered, then keeps watching the output until Rasa's
environment is ready and training starts (or ``--watch`` seconds pass), and
stops ``make run`` (Ctrl-C) before training gets far: the machine is shared.
Needs only ``requests`` (any Python with it, e.g. the app's env).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

QUESTION = "my brother has an ICE hold at the jail"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--port", type=int, default=6420)
    parser.add_argument("--rasa-port", type=int, default=6421)
    parser.add_argument("--watch", type=float, default=600.0, help="seconds to wait for Rasa's env after the answer")
    args = parser.parse_args()
    env = dict(os.environ, PORT=str(args.port), RASA_PORT=str(args.rasa_port))
    env.pop("RASA_URL", None)
    log_path = args.checkout / "first-answer.log"
    start = time.monotonic()
    with log_path.open("w") as log:
        run = subprocess.Popen(["nice", "-n", "5", "make", "run"], cwd=args.checkout, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    answered = None
    try:
        while run.poll() is None and answered is None:
            try:
                response = requests.post(f"http://127.0.0.1:{args.port}/api/chat", json={"message": QUESTION}, timeout=10)
                if response.ok and response.json().get("replies"):
                    answered = time.monotonic() - start
            except (requests.RequestException, ValueError):
                time.sleep(0.5)
        print(f"first web-chat answer: {answered:.1f} s after make run" if answered else "make run exited first")
        deadline = time.monotonic() + args.watch
        while answered and run.poll() is None and time.monotonic() < deadline:
            if "==> training the NLU model" in log_path.read_text(errors="replace"):
                print(f"Rasa's env ready, Rasa started, training began: {time.monotonic() - start:.1f} s after make run")
                break
            time.sleep(1.0)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)
            try:
                run.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
    print(f"make run's output: {log_path}")
    return 0 if answered else 1


if __name__ == "__main__":
    raise SystemExit(main())
