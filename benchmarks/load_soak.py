#!/usr/bin/env python3
"""Load and soak test of the running stack: signed /sms traffic at concurrency 50.

Starts a throwaway redis-server and gunicorn (several workers) on loopback,
uses the Rasa server at RASA_URL (or starts one), then sends N signed
messages from M simulated numbers, with a share of MessageSids delivered
twice (as Twilio retries do). Reports replies received, 5xx, lost messages,
whether every duplicate got the first reply and advanced the conversation
once, latency percentiles and throughput.

    .venv/bin/python benchmarks/load_soak.py            # 10,000 messages, 1,000 numbers
    .venv/bin/python benchmarks/load_soak.py --messages 2000 --numbers 200
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
import requests
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clients.rasa_process import model_loaded, start_rasa, stop, wait_until_ready  # noqa: E402
import yaml  # noqa: E402

TOKEN = "load-test-token-0123456789abcdef"
PUBLIC_URL = "https://load.example.org"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def sample_messages() -> list[str]:
    """Held-out test messages in every locale, except requests to erase data.

    Erasing resets a conversation, which would make the step count below
    (one step per distinct message) meaningless.
    """
    texts = []
    for path in sorted((ROOT / "intents" / "test").glob("*/*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if block.get("intent") == "delete_data":
                continue
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    texts.append(line.strip()[2:])
    return texts


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--numbers", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of messages delivered twice")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    args = parser.parse_args()

    texts = sample_messages()
    rng = random.Random(42)
    numbers = [f"+1312{rng.randint(2000000, 9999999)}" for _ in range(args.numbers)]
    unique = int(args.messages / (1 + args.duplicates))
    forms = []
    for index in range(unique):
        forms.append({
            "MessageSid": f"SM{index:032x}", "AccountSid": "AC" + "0" * 32, "From": numbers[index % len(numbers)],
            "To": "+15005550006", "Body": rng.choice(texts), "NumMedia": "0",
        })
    deliveries = list(forms) + [rng.choice(forms) for _ in range(args.messages - unique)]
    rng.shuffle(deliveries)

    workdir = Path(tempfile.mkdtemp(prefix="kyr-load-"))
    redis_port, web_port = free_port(), free_port()
    processes: list[subprocess.Popen] = []
    rasa = None
    try:
        processes.append(subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        rasa_url = (os.environ.get("RASA_URL") or "http://127.0.0.1:5005").rstrip("/")
        if not model_loaded(rasa_url):
            port = int(rasa_url.rsplit(":", 1)[1])
            print(f"starting Rasa on port {port} ...", flush=True)
            rasa = start_rasa(port, workdir / "rasa.log")
            wait_until_ready(rasa_url, rasa, timeout=300)
        env = dict(os.environ, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_URL=PUBLIC_URL, ID_HASH_KEY="load-test-key",
                   SECRET_KEY="load-test-secret", REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", RASA_URL=rasa_url,
                   LOG_LEVEL="INFO")
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "webhook:app", "--bind", f"127.0.0.1:{web_port}",
             "--workers", str(args.workers), "--threads", "16", "--timeout", "30", "--preload"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(workdir / "webhook.log").open("wb")))
        base = f"http://127.0.0.1:{web_port}"
        wait_http(base + "/healthz")

        validator = RequestValidator(TOKEN)
        session = threading.local()
        results: dict[str, list[bytes]] = {}
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        done = [0]

        def deliver(form: dict) -> None:
            if not hasattr(session, "http"):
                session.http = requests.Session()
            http = session.http
            signature = validator.compute_signature(PUBLIC_URL + "/sms", form)
            start = time.monotonic()
            try:
                response = http.post(base + "/sms", data=form, headers={"X-Twilio-Signature": signature}, timeout=30)
                status, body = response.status_code, response.content
            except requests.RequestException:
                status, body = 0, b""
            elapsed = time.monotonic() - start
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                results.setdefault(form["MessageSid"], []).append(body if status == 200 else b"")
                done[0] += 1
                if done[0] % 500 == 0:
                    print(f"\r{done[0]}/{len(deliveries)} sent", end="", flush=True, file=sys.stderr)

        print(f"sending {len(deliveries)} messages ({len(deliveries) - unique} duplicates) from {len(numbers)} numbers"
              f" at concurrency {args.concurrency} to {args.workers} gunicorn workers", flush=True)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(deliver, deliveries))
        wall = time.monotonic() - started
        print(file=sys.stderr)

        store = redis.Redis(port=redis_port, decode_responses=True)
        claims = sum(1 for _ in store.scan_iter("kyr:msg:*"))
        log_text = (workdir / "webhook.log").read_text(errors="replace")
        # The webhook logs "answered ..." once each time the engine handles a message.
        processed = log_text.count("answered channel=")
        replays = log_text.count("duplicate delivery")
        replied = sum(1 for bodies in results.values() for body in bodies if b"<Message>" in body)
        lost = sum(1 for bodies in results.values() for body in bodies if b"<Message>" not in body)
        duplicated = [bodies for bodies in results.values() if len(bodies) > 1]
        consistent = sum(1 for bodies in duplicated if len(set(bodies)) == 1)
        server_errors = sum(count for status, count in statuses.items() if status >= 500 or status == 0)

        print(f"\nLoad and soak ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs)")
        print(f"  deliveries            {len(deliveries)}")
        print(f"  replies received      {replied}")
        print(f"  lost (no reply)       {lost}")
        print(f"  5xx / connection err  {server_errors}")
        print(f"  duplicated sids       {len(duplicated)}; same reply every time: {consistent}")
        print(f"  processed by engine   {processed} for {len(results)} distinct messages "
              f"({'each exactly once' if processed == len(results) else 'MISMATCH'}); "
              f"{replays} retries replayed; {claims} MessageSid claims")
        print(f"  latency p50 / p99     {statistics.median(latencies) * 1000:.0f} ms / {percentile(latencies, 99) * 1000:.0f} ms")
        print(f"  throughput            {len(deliveries) / wall:.1f} messages/s over {wall:.0f} s")
        # Resident memory of each worker after the load (issue #17: at most 120 MB each).
        from benchmarks.speed import children, memory_mb

        for pid in children(processes[1].pid):
            memory = memory_mb(pid)
            print(f"  worker {pid} memory    RSS {memory['rss']:.0f} MB, PSS {memory['pss']:.0f} MB, "
                  f"private {memory['uss']:.0f} MB")
        nlu_timeouts = log_text.count("rasa parse failed")
        print(f"  Rasa timeouts         {nlu_timeouts} (answered by the keyword fallback instead)")
        ok = lost == 0 and server_errors == 0 and consistent == len(duplicated) and processed == len(results)
        print("  result                " + ("PASS: zero lost, zero 5xx, zero double-processed" if ok else "FAIL"))
        return 0 if ok else 1
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)
        stop(rasa)
        if os.environ.get("KEEP_LOAD_LOGS"):
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
