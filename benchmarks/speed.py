#!/usr/bin/env python3
"""Speed, memory and start-up: signed ``/sms`` vs. Rasa's own REST channel, same run, same messages.

Run with the app's env: ``.venv/bin/python benchmarks/speed.py`` (``make bench`` does).

1. The stack as ``make run`` starts it with Redis: a Rasa NLU server with the
   project model and gunicorn ``webhook:app --preload`` (2 workers x 8 threads), plus a
   throwaway redis-server. Signed Twilio-style ``POST /sms`` requests at
   concurrency 1, 10 and 50, and beside them, in alternating rounds with the same
   messages, the same Rasa server's ``/model/parse`` alone: the floor under /sms.
2. The anchor: a Rasa server running the rules-only assistant that uses the
   same NLU model (``benchmarks/rest_anchor.py``), driven the same way at
   ``POST /webhooks/rest/webhook``.

The two run one after the other (never both at once: 2 cores). Both get the
same held-out messages from the same 400 senders (round-robin), a short warm-up first.
Reports p50/p95/p99 latency and throughput per concurrency, resident memory
(RSS, from /proc) of the webhook workers and each Rasa server, and the time
from starting a process to its first answer. Writes ``results/bench/speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load_soak import sample_messages  # noqa: E402
from bot.clients.rasa_process import RASA_BIN, start_rasa, stop  # noqa: E402
from tests.net import free_port  # noqa: E402

TOKEN = "speed-bench-token-0123456789abcdef"
PUBLIC_URL = "https://bench.example.org"
#: Senders are used round-robin: at most 50 requests are in flight, so two messages of
#: one sender never overlap. (Rasa's lock store retries a busy conversation only
#: every 1 s, and the webhook serializes a sender too: overlaps would measure lock
#: waits, not speed.) Each sender still sends several messages over the run.
SENDERS = 400
DEFAULT_REQUESTS = {1: 150, 10: 500, 50: 1000}
WARMUP = 30
#: Messages parsed by both Rasa servers to check that the anchor's NLU is the project's.
SAME_NLU_SAMPLE = 100


def progress(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- memory ------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def memory_mb(pid: int) -> dict:
    """RSS (what the issue's 120 MB target counts), PSS (shared pages split between the
    processes sharing them) and USS (this process's own pages), from /proc/<pid>/smaps_rollup."""
    out = {"rss": rss_mb(pid), "pss": 0.0, "uss": 0.0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name == "Pss":
                out["pss"] = int(rest.split()[0]) / 1024
            elif name in ("Private_Clean", "Private_Dirty"):
                out["uss"] += int(rest.split()[0]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def tree_rss(pid: int) -> dict:
    """RSS of a process and its descendants, in MB."""
    kids = children(pid)
    out = {"self": rss_mb(pid), "children": [rss_mb(k) for k in kids]}
    for kid in kids:
        out["children"] += tree_rss(kid)["children"]
    out["total"] = out["self"] + sum(out["children"])
    return out


# -- load --------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(pct / 100 * len(ordered) + 0.5)) - 1))]


class Target:
    """Something to POST messages to: ``/sms`` (signed form) or Rasa's REST channel (JSON)."""

    def __init__(self, name: str, url: str, kind: str):
        self.name, self.url, self.kind = name, url, kind
        self.validator = RequestValidator(TOKEN)
        self._local = threading.local()
        self._sid = 0
        self._lock = threading.Lock()
        self.next_sender = 0

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "http"):
            self._local.http = requests.Session()
        return self._local.http

    def send(self, sender: int, text: str) -> bool:
        http = self._session()
        if self.kind == "sms":
            with self._lock:
                self._sid += 1
                sid = self._sid
            form = {"MessageSid": f"SM{sid:032x}", "AccountSid": "AC" + "0" * 32, "From": f"+1312555{sender:04d}",
                    "To": "+15005550006", "Body": text, "NumMedia": "0"}
            signature = self.validator.compute_signature(PUBLIC_URL + "/sms", form)
            response = http.post(self.url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)
            return response.status_code == 200 and b"<Message>" in response.content
        if self.kind == "parse":
            response = http.post(self.url, json={"text": text}, timeout=30)
            return response.status_code == 200 and "intent" in response.json()
        response = http.post(self.url, json={"sender": f"bench-{sender:04d}", "message": text}, timeout=30)
        return response.status_code == 200 and bool(response.json())


def drive(target: Target, texts: list[str], concurrency: int, count: int, rng: random.Random) -> dict:
    first = target.next_sender
    target.next_sender += count
    jobs = [((first + i) % SENDERS, rng.choice(texts)) for i in range(count)]
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def one(job: tuple[int, str]) -> None:
        start = time.monotonic()
        try:
            ok = target.send(*job)
        except requests.RequestException:
            ok = False
        elapsed = time.monotonic() - start
        with lock:
            latencies.append(elapsed)
            if not ok:
                failures[0] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, jobs))
    wall = time.monotonic() - started
    return summary(concurrency, latencies, failures[0], wall)


def summary(concurrency: int, latencies: list[float], failures: int, wall: float) -> dict:
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "failures": failures,
        "p50_ms": 1000 * percentile(latencies, 50),
        "p95_ms": 1000 * percentile(latencies, 95),
        "p99_ms": 1000 * percentile(latencies, 99),
        "throughput": len(latencies) / wall,
        "seconds": wall,
        "latencies": latencies,
    }


def wait_for(check, timeout: float, process: subprocess.Popen | None = None) -> float:
    """Seconds until ``check()`` is true (raises after ``timeout``)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if check():
                return time.monotonic() - start
        except requests.RequestException:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode}")
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for the first answer")


#: /sms and /model/parse alternate in this many rounds per concurrency level, so that a
#: change in the machine's background load during the run weighs on both alike.
ROUNDS = 4


def side_by_side(targets: list[Target], texts: list[str], levels: dict[int, int], seed: int) -> dict[str, list[dict]]:
    """Each target at each concurrency, in alternating rounds with the same messages; one row per target and level."""
    for target in targets:
        drive(target, texts, 4, WARMUP, random.Random(seed))
    rows: dict[str, list[dict]] = {target.name: [] for target in targets}
    for concurrency, count in levels.items():
        progress(f"{' and '.join(t.name for t in targets)}: {count} requests each at concurrency {concurrency},"
                 f" {ROUNDS} alternating rounds")
        parts: dict[str, list[dict]] = {target.name: [] for target in targets}
        for number in range(ROUNDS):
            order = targets if number % 2 == 0 else targets[::-1]
            for target in order:
                rng = random.Random(seed + concurrency * 100 + number)
                parts[target.name].append(drive(target, texts, concurrency, max(1, count // ROUNDS), rng))
        for target in targets:
            done = parts[target.name]
            row = summary(concurrency, [x for part in done for x in part.pop("latencies")],
                          sum(part["failures"] for part in done), sum(part["seconds"] for part in done))
            rows[target.name].append(row)
            progress(f"{target.name}: c={concurrency} p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms,"
                     f" {row['throughput']:.1f}/s, {row['failures']} failed")
    for target_rows in rows.values():
        for row in target_rows:
            row.pop("latencies", None)
    return rows


def run_levels(target: Target, texts: list[str], levels: dict[int, int], seed: int) -> list[dict]:
    rng = random.Random(seed)
    drive(target, texts, 4, WARMUP, rng)  # warm-up: connections, lazy imports, first TF calls
    rows = []
    for concurrency, count in levels.items():
        progress(f"{target.name}: {count} requests at concurrency {concurrency}")
        rows.append(drive(target, texts, concurrency, count, random.Random(seed + concurrency)))
        row = rows[-1]
        row.pop("latencies", None)
        progress(f"{target.name}: c={concurrency} p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms,"
                 f" {row['throughput']:.1f}/s, {row['failures']} failed")
    return rows


def parses(base: str, texts: list[str]) -> list[tuple[str, float]]:
    """(intent, confidence to 5 places) for each text, from a Rasa server's /model/parse."""
    out = []
    with requests.Session() as http:
        for text in texts:
            intent = http.post(f"{base}/model/parse", json={"text": text}, timeout=30).json().get("intent") or {}
            out.append((intent.get("name"), round(float(intent.get("confidence") or 0), 5)))
    return out


def start_rasa_server(model: Path, port: int, log: Path, rest: bool) -> subprocess.Popen:
    if not rest:
        return start_rasa(port, log, model=model)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    command = [str(RASA_BIN), "run", "--connector", "rest", "--enable-api", "--model", str(model), "--interface", "127.0.0.1",
               "--port", str(port), "--log-file", str(log)]
    with log.open("ab") as log_file:
        return subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                                start_new_session=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchor-model", type=Path, required=True, help="rules-only model (benchmarks/rest_anchor.py)")
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the request counts")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make run with Redis: 2)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (make run: 8)")
    parser.add_argument("--only", choices=["sms", "rest"], default=None)
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of the code before (issue 17): its webhook runs beside this one, same Redis and Rasa")
    parser.add_argument("--before-label", default=None, help="what --before is (a git revision)")
    args = parser.parse_args()
    levels = {int(c): max(20, int(DEFAULT_REQUESTS.get(int(c), 500) * args.scale)) for c in args.levels.split(",")}
    texts = sample_messages()
    workdir = Path(tempfile.mkdtemp(prefix="kyr-speed-"))
    result: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "levels": levels, "workers": args.workers,
                    "threads": args.threads, "messages": len(texts)}
    processes: list[subprocess.Popen] = []
    rasa = None
    reference = None
    try:
        if args.only in (None, "sms"):
            redis_port, rasa_port, web_port = free_port(), free_port(), free_port()
            processes.append(subprocess.Popen(
                [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            rasa_url = f"http://127.0.0.1:{rasa_port}"
            progress("starting the project's Rasa NLU server (models/kyr-nlu.tar.gz)")
            rasa = start_rasa_server(ROOT / "models" / "kyr-nlu.tar.gz", rasa_port, workdir / "rasa.log", rest=False)
            rasa_ready = wait_for(lambda: requests.post(f"{rasa_url}/model/parse", json={"text": "hi"}, timeout=5).ok,
                                  300, rasa)
            progress(f"Rasa NLU server answered its first parse after {rasa_ready:.1f} s")
            env = dict(os.environ, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_URL=PUBLIC_URL, ID_HASH_KEY="bench-key",
                       SECRET_KEY="bench-secret", REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", RASA_URL=rasa_url,
                       LOG_LEVEL="INFO", RATE_LIMIT_PER_MINUTE="100000")
            gunicorn_start = time.monotonic()
            web = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "webhook:app", "--bind", f"127.0.0.1:{web_port}",
                 "--workers", str(args.workers), "--threads", str(args.threads), "--timeout", "30", "--preload"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(workdir / "webhook.log").open("wb"))
            processes.append(web)
            sms = Target("/sms", f"http://127.0.0.1:{web_port}/sms", "sms")
            wait_for(lambda: sms.send(0, "hello"), 120, web)
            web_ready = time.monotonic() - gunicorn_start
            progress(f"webhook answered its first /sms after {web_ready:.1f} s")
            targets = [sms]
            before = None
            if args.before is not None:
                # The code before issue 17, as it ran then (no --preload), on its own Redis database.
                before_port = free_port()
                before = subprocess.Popen(
                    [str(Path(sys.executable).parent / "gunicorn"), "webhook:app", "--bind", f"127.0.0.1:{before_port}",
                     "--workers", str(args.workers), "--threads", str(args.threads), "--timeout", "30"],
                    cwd=args.before, env=dict(env, REDIS_URL=f"redis://127.0.0.1:{redis_port}/1"),
                    stdout=subprocess.DEVNULL, stderr=(workdir / "webhook-before.log").open("wb"))
                processes.append(before)
                targets.append(Target("/sms before", f"http://127.0.0.1:{before_port}/sms", "sms"))
                wait_for(lambda: targets[-1].send(0, "hello"), 120, before)
                result["before_revision"] = args.before_label or args.before.name
            rasa_rss_idle = tree_rss(rasa.pid)
            # /sms and, beside it in alternating rounds, the same Rasa server's /model/parse alone:
            # the floor under /sms (no webhook in front).
            parse = Target("/model/parse", f"{rasa_url}/model/parse", "parse")
            rows = side_by_side([*targets, parse], texts, levels, 7)
            result["sms"] = {"rows": rows[sms.name]}
            result["parse"] = {"rows": rows[parse.name]}
            if before is not None:
                result["sms_before"] = {
                    "rows": rows["/sms before"],
                    "webhook_worker_memory_mb": [memory_mb(pid) for pid in children(before.pid)],
                    "webhook_master_rss_mb": rss_mb(before.pid),
                }
            log_text = (workdir / "webhook.log").read_text(errors="replace")
            workers = children(web.pid)
            result["sms"].update({
                "rasa_first_answer_s": rasa_ready,
                "webhook_first_answer_s": web_ready,
                "rasa_rss_idle_mb": rasa_rss_idle["total"],
                "rasa_rss_mb": tree_rss(rasa.pid)["total"],
                "webhook_master_rss_mb": rss_mb(web.pid),
                "webhook_worker_rss_mb": [rss_mb(pid) for pid in workers],
                "webhook_worker_memory_mb": [memory_mb(pid) for pid in workers],
                "redis_rss_mb": rss_mb(processes[0].pid),
                "rasa_timeouts": log_text.count("rasa parse failed"),
                "answered": log_text.count("answered channel="),
            })
            for process in processes[1:]:
                process.terminate()
            for process in processes[1:]:
                process.wait(20)
            reference = parses(rasa_url, texts[:SAME_NLU_SAMPLE])
            stop(rasa)
            rasa = None

        if args.only in (None, "rest"):
            rest_port = free_port()
            progress(f"starting the rules-only Rasa server ({args.anchor_model.name}, REST channel)")
            start = time.monotonic()
            rasa = start_rasa_server(args.anchor_model, rest_port, workdir / "rasa-rest.log", rest=True)
            rest = Target("Rasa REST", f"http://127.0.0.1:{rest_port}/webhooks/rest/webhook", "rest")
            wait_for(lambda: rest.send(0, "hello"), 300, rasa)
            rest_ready = time.monotonic() - start
            progress(f"rules-only Rasa server answered its first message after {rest_ready:.1f} s")
            rss_idle = tree_rss(rasa.pid)["total"]
            if reference is not None:
                anchor = parses(f"http://127.0.0.1:{rest_port}", texts[:SAME_NLU_SAMPLE])
                same = sum(a == b for a, b in zip(reference, anchor))
                result["same_nlu"] = [same, len(reference)]
                progress(f"same NLU: {same} of {len(reference)} messages parsed identically by both servers")
            result["rest"] = {"rows": run_levels(rest, texts, levels, 7)}
            result["rest"].update({"first_answer_s": rest_ready, "rss_idle_mb": rss_idle,
                                   "rss_mb": tree_rss(rasa.pid)["total"]})
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        stop(rasa)
        if args.keep_logs:
            progress(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "speed.json").write_text(json.dumps(result, indent=1))
    print(f"Speed ({result['date']}; {os.cpu_count()} CPUs; gunicorn {args.workers}x{args.threads})")
    print(f"{'target':<11}{'conc':>5}{'n':>6}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'msg/s':>8}{'failed':>7}")
    for key, label in (("sms", "/sms"), ("sms_before", "/sms before"), ("rest", "Rasa REST"), ("parse", "NLU parse")):
        for row in result.get(key, {}).get("rows", []):
            print(f"{label:<11}{row['concurrency']:>5}{row['requests']:>6}"
                  f"{row['p50_ms']:>8.0f}{row['p95_ms']:>8.0f}{row['p99_ms']:>8.0f}{row['throughput']:>8.1f}"
                  f"{row['failures']:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
