#!/usr/bin/env python3
"""Silence while waiting for a person (issue #21): realistic conversations with handoff on.

150 simulated numbers each send 10 held-out messages in order (30 numbers at a
time), to gunicorn with handoff on (``STAFF_HOURS=always``, nobody claiming),
a throwaway Redis and the trained model. Counted: first deliveries that got
an empty reply, except right after the number opted out (STOP), and how many
numbers ended up waiting for a person. Requests for a person and DELETE are
left out of the messages, as in the issue's measurement.

The same run is made on the anchor revision (default 0e2e621, before the
change), checked out with ``git worktree`` and served by the same venv, so the
two figures come from one run on one machine.

    .venv/bin/python benchmarks/waiting_soak.py [--anchor 0e2e621] [--numbers 150] [--messages 10]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
import requests
import yaml
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load_soak import free_port, wait_http  # noqa: E402
from bot.language import keywords  # noqa: E402
from bot.clients.rasa_process import model_loaded, start_rasa, stop, wait_until_ready  # noqa: E402

TOKEN = "soak-test-token-0123456789abcdef"
PUBLIC_URL = "https://soak.example.org"
KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
LEFT_OUT = {"human_handoff", "delete_data"}


def realistic_messages() -> list[str]:
    """Held-out messages in every locale, without requests for a person or to erase data."""
    texts = []
    for path in sorted((ROOT / "intents" / "test").glob("*/*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if block.get("intent") in LEFT_OUT:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = line.strip()[2:] if line.strip().startswith("- ") else ""
                if text and keywords.command(text) not in ("person", "delete"):
                    texts.append(text)
    return texts


def run(code_dir: Path, rasa_url: str, conversations: list[tuple[str, list[str]]], concurrency: int) -> dict:
    """Serve ``code_dir`` with handoff on, play the conversations, count silent first deliveries."""
    workdir = Path(tempfile.mkdtemp(prefix="kyr-wait-"))
    redis_port, web_port = free_port(), free_port()
    processes: list[subprocess.Popen] = []
    try:
        processes.append(subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        env = dict(os.environ, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_URL=PUBLIC_URL, ID_HASH_KEY="soak-key",
                   SECRET_KEY="soak-secret", REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", RASA_URL=rasa_url,
                   ENCRYPTION_KEY=KEY, STAFF_HOURS="always", LOG_LEVEL="WARNING", PYTHONPATH=str(code_dir))
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "webhook:app", "--bind", f"127.0.0.1:{web_port}",
             "--workers", "3", "--threads", "16", "--timeout", "30"],
            cwd=code_dir, env=env, stdout=subprocess.DEVNULL, stderr=(workdir / "webhook.log").open("wb")))
        base = f"http://127.0.0.1:{web_port}"
        wait_http(base + "/healthz")
        validator = RequestValidator(TOKEN)
        counts = {"deliveries": 0, "empty": 0, "empty_after_stop": 0, "errors": 0}
        lock = threading.Lock()
        serial = iter(range(10**9))

        def converse(item: tuple[str, list[str]]) -> None:
            number, texts = item
            http = requests.Session()
            stopped = False
            for text in texts:
                with lock:
                    sid = f"SM{next(serial):032x}"
                form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": number, "To": "+15005550006",
                        "Body": text, "NumMedia": "0"}
                signature = validator.compute_signature(PUBLIC_URL + "/sms", form)
                try:
                    response = http.post(base + "/sms", data=form, headers={"X-Twilio-Signature": signature},
                                         timeout=30)
                    ok, body = response.status_code == 200, response.content
                except requests.RequestException:
                    ok, body = False, b""
                stopped = stopped or keywords.command(text) == "stop" or keywords.is_opt_out(text)
                with lock:
                    counts["deliveries"] += 1
                    counts["errors"] += not ok
                    if ok and b"<Message>" not in body:
                        counts["empty_after_stop" if stopped else "empty"] += 1

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(converse, conversations))
        store = redis.Redis(port=redis_port, decode_responses=True)
        counts["waiting"] = sum(1 for _ in store.scan_iter("kyr:handoff:sender:*"))
        return counts
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchor", default="0e2e621", help="git revision to compare with ('' to skip)")
    parser.add_argument("--numbers", type=int, default=150)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=30)
    args = parser.parse_args()
    texts = realistic_messages()
    rng = random.Random(21)
    conversations = [(f"+1312{rng.randint(2000000, 9999999)}", [rng.choice(texts) for _ in range(args.messages)])
                     for _ in range(args.numbers)]
    rasa_url = (os.environ.get("RASA_URL") or "http://127.0.0.1:5005").rstrip("/")
    rasa = None
    anchor_dir = None
    try:
        if not model_loaded(rasa_url):
            port = int(rasa_url.rsplit(":", 1)[1])
            print(f"starting Rasa on port {port} ...", file=sys.stderr, flush=True)
            rasa = start_rasa(port, Path(tempfile.mkdtemp(prefix="kyr-rasa-")) / "rasa.log")
            wait_until_ready(rasa_url, rasa, timeout=300)
        rows = []
        if args.anchor:
            anchor_dir = Path(tempfile.mkdtemp(prefix="kyr-anchor-")) / "code"
            subprocess.run(["git", "worktree", "add", "--detach", str(anchor_dir), args.anchor], cwd=ROOT,
                           check=True, capture_output=True)
            (anchor_dir / "models").symlink_to(ROOT / "models")
            print(f"playing {args.numbers} x {args.messages} messages on {args.anchor} ...", file=sys.stderr, flush=True)
            rows.append((f"before ({args.anchor})", run(anchor_dir, rasa_url, conversations, args.concurrency)))
        print(f"playing {args.numbers} x {args.messages} messages on this checkout ...", file=sys.stderr, flush=True)
        rows.append(("now", run(ROOT, rasa_url, conversations, args.concurrency)))
    finally:
        stop(rasa)
        if anchor_dir is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(anchor_dir)], cwd=ROOT, capture_output=True)
    print(f"\nWaiting for a person ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs): {args.numbers} numbers x "
          f"{args.messages} held-out messages, concurrency {args.concurrency}, handoff on, nobody claiming")
    print(f"  {'code':<22}{'deliveries':>11}{'empty':>7}{'empty after STOP':>18}{'errors':>8}{'left waiting':>14}")
    for name, counts in rows:
        print(f"  {name:<22}{counts['deliveries']:>11}{counts['empty']:>7}{counts['empty_after_stop']:>18}"
              f"{counts['errors']:>8}{counts['waiting']:>14}")
    results = ROOT / "results" / "bench"
    results.mkdir(parents=True, exist_ok=True)
    (results / "waiting.json").write_text(json.dumps({
        "numbers": args.numbers, "messages": args.messages, "concurrency": args.concurrency, "rows": rows}, indent=1))
    now = rows[-1][1]
    print("  result: " + ("PASS: no empty reply except after STOP" if now["empty"] == 0 and now["errors"] == 0 else "FAIL"))
    return 0 if now["empty"] == 0 and now["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
