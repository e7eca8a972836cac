#!/usr/bin/env python3
"""Broadcast throughput: a 10,000-recipient alert through real RQ workers to a local Twilio peer.

Starts a throwaway redis-server and a local HTTP peer that speaks Twilio's
Messages API and records every message (tests/twilio_peers.py), signs up
N subscribers in several languages, starts one broadcast and runs `rq worker
--burst` processes until the queue is empty. Reports messages per second and
checks that exactly N distinct sends happened (no duplicate, nobody missed).

    .venv/bin/python benchmarks/broadcast_throughput.py                  # 10,000 recipients, 2 workers
    .venv/bin/python benchmarks/broadcast_throughput.py --recipients 2000 --workers 4
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from bot.outreach.broadcasts import broadcasts_for  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.clients.identity import Sender  # noqa: E402
from bot.content.location import Location  # noqa: E402
from bot.outreach.subscriptions import Audience  # noqa: E402
from tests.net import start_redis_server  # noqa: E402
from tests.twilio_peers import RecordingPeer  # noqa: E402  (the same peer the outreach tests use)

LANGUAGES = ("en", "es", "ht", "fr", "pt", "zh", "vi", "ar")
TEXTS = {
    "en": "ICE activity reported near Main St. You have the right to remain silent. Hotline: CHIRLA 888-624-4752",
    "es": "Se reporta actividad de ICE cerca de Main St. Tiene derecho a guardar silencio. Linea: CHIRLA 888-624-4752",
    "ht": "Yo rapote aktivite ICE toupre Main St. Ou gen dwa rete an silans. Liy: CHIRLA 888-624-4752",
    "fr": "Activite de l'ICE signalee pres de Main St. Vous avez le droit de garder le silence. CHIRLA 888-624-4752",
    "pt": "Atividade do ICE relatada perto da Main St. Voce tem direito de ficar calado. CHIRLA 888-624-4752",
    "zh": "Main St附近有ICE活动。您有权保持沉默。热线：CHIRLA 888-624-4752",
    "vi": "Co hoat dong cua ICE gan Main St. Ban co quyen giu im lang. Duong day: CHIRLA 888-624-4752",
    "ar": "نشاط لـ ICE قرب Main St. لك الحق في التزام الصمت. الخط الساخن: CHIRLA 888-624-4752",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="kyr-broadcast-"))
    redis_process, redis_url = start_redis_server(shutil.which("redis-server") or "redis-server", workdir)
    peer = RecordingPeer()
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    workers: list[subprocess.Popen] = []
    try:
        env = {
            "REDIS_URL": redis_url, "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "bench-auth-token-0123456789",
            "TWILIO_FROM_NUMBER": "+15005550006", "TWILIO_API_BASE_URL": peer.url, "ID_HASH_KEY": "bench-key",
            "PUBLIC_URL": "https://bot.example.org", "BROADCAST_RATE_PER_SECOND": "100000",
            "BROADCAST_BATCH_SIZE": "100", "LOG_LEVEL": "WARNING",
        }
        settings = load_settings(env)
        book = broadcasts_for(settings)

        print(f"signing up {args.recipients} subscribers in {len(LANGUAGES)} languages", flush=True)
        numbers = [f"+1312{n // 10000:03d}{n % 10000:04d}" for n in range(args.recipients)]
        for n, number in enumerate(numbers):
            lang = LANGUAGES[n % len(LANGUAGES)]
            book.subscriptions.subscribe(Sender("sms", f"{n:064x}", number), lang, Location("IL", "Cook"))

        campaign = book.create(TEXTS, Audience())
        enqueue_started = time.monotonic()
        queued = book.start(campaign.id)
        enqueue_seconds = time.monotonic() - enqueue_started
        print(f"broadcast {campaign.id}: {queued} alerts queued in {enqueue_seconds:.1f} s; "
              f"running {args.workers} burst worker(s)", flush=True)

        started = time.monotonic()
        rq = Path(sys.executable).parent / "rq"
        for _ in range(args.workers):
            workers.append(subprocess.Popen(
                [str(rq), "worker", "kyr-outbound", "--burst", "-w", "bot.outreach.worker.OutboundWorker", "--url", redis_url],
                cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                stderr=(workdir / "worker.log").open("ab")))
        while any(worker.poll() is None for worker in workers):
            print(f"\r  {len(peer.messages)}/{queued} sent", end="", flush=True, file=sys.stderr)
            time.sleep(0.5)
        wall = time.monotonic() - started
        print(file=sys.stderr)

        sent = peer.sent_to()
        counts = collections.Counter(sent)
        duplicates = sum(1 for count in counts.values() if count > 1)
        missing = len(set(numbers) - set(counts))
        progress = book.progress(campaign.id)
        print(f"\nBroadcast throughput ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, {args.workers} RQ workers)")
        print(f"  recipients            {args.recipients}")
        print(f"  sends at the peer     {len(sent)} ({len(counts)} distinct numbers)")
        print(f"  duplicates / missing  {duplicates} / {missing}")
        print(f"  progress              {progress.line()}")
        print(f"  throughput            {len(sent) / wall:.0f} messages/s over {wall:.1f} s (enqueue {enqueue_seconds:.1f} s)")
        ok = len(sent) == args.recipients == len(counts) and duplicates == 0 and missing == 0
        print("  result                " + (f"PASS: exactly {args.recipients} distinct sends" if ok else "FAIL"))
        return 0 if ok else 1
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        peer.shutdown()
        redis_process.terminate()
        redis_process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
