#!/usr/bin/env python3
"""Where does a signed ``/sms`` request spend its time? (diagnostic, not part of ``make bench``)

Builds the app in-process against a throwaway redis-server and a running Rasa
NLU server (``RASA_URL``, default http://127.0.0.1:5105), then sends N signed
requests through Flask's test client under pyinstrument (``pip install
pyinstrument``, or put it on PYTHONPATH) and prints the call tree; without
pyinstrument it uses cProfile. Also times the parts: the webhook's own CPU per
message (no profiler), the whole request, the Rasa HTTP call alone, and language
detection alone. ``--code DIR`` profiles another checkout's ``bot`` (e.g. the code
before issue 17, which ``make bench`` unpacks under ``models/anchors/code-<rev>``).

    RASA_URL=http://127.0.0.1:5105 .venv/bin/python benchmarks/profile_sms.py --requests 300
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed import PUBLIC_URL, TOKEN, free_port, sample_messages  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--code", type=Path, default=None, help="profile the bot package of this checkout")
    args = parser.parse_args()
    if args.code is not None:
        # The helpers above imported this checkout's bot; forget it so create_app comes from --code.
        for name in [name for name in sys.modules if name == "bot" or name.startswith("bot.")]:
            del sys.modules[name]
        sys.path.insert(0, str(args.code.resolve()))
        os.chdir(args.code)
    rasa_url = (os.environ.get("RASA_URL") or "http://127.0.0.1:5105").rstrip("/")
    workdir = Path(tempfile.mkdtemp(prefix="kyr-profile-"))
    redis_port = free_port()
    redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind",
                              "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        import bot
        from bot import create_app

        print(f"profiling {Path(bot.__file__).parent}")

        app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC_URL, "ID_HASH_KEY": "k", "SECRET_KEY": "s",
                          "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "RASA_URL": rasa_url,
                          "LOG_LEVEL": "WARNING", "RATE_LIMIT_PER_MINUTE": "100000"})
        client = app.test_client()
        validator = RequestValidator(TOKEN)
        texts = sample_messages()

        def send(i: int) -> None:
            form = {"MessageSid": f"SM{i:032x}", "AccountSid": "AC" + "0" * 32, "From": f"+1312555{i % 400:04d}",
                    "To": "+15005550006", "Body": texts[i % len(texts)], "NumMedia": "0"}
            signature = validator.compute_signature(PUBLIC_URL + "/sms", form)
            response = client.post("/sms", data=form, headers={"X-Twilio-Signature": signature},
                                   base_url=PUBLIC_URL)
            assert response.status_code == 200, response.status_code

        for i in range(20):
            send(10_000_000 + i)
        from bot.services import services

        with app.app_context():
            svc = services()
            start = time.perf_counter()
            for i in range(args.requests):
                svc.engine.nlu.parse(texts[i % len(texts)])
            parse_ms = 1000 * (time.perf_counter() - start) / args.requests
            start = time.perf_counter()
            for i in range(args.requests):
                svc.engine.detector.detect(texts[i % len(texts)])
            detect_ms = 1000 * (time.perf_counter() - start) / args.requests

        # The webhook's own CPU per message (Rasa's work is in the Rasa process, not counted):
        # what /sms adds on top of /model/parse when the machine is CPU-bound.
        cpu_start = time.process_time()
        for i in range(args.requests):
            send(20_000_000 + i)
        cpu_ms = 1000 * (time.process_time() - cpu_start) / args.requests
        try:
            from pyinstrument import Profiler
        except ImportError:
            Profiler = None
        start = time.perf_counter()
        if Profiler is not None:
            profiler = Profiler(interval=0.0005)
            profiler.start()
            for i in range(args.requests):
                send(i)
            profiler.stop()
        else:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for i in range(args.requests):
                send(i)
            profile.disable()
        request_ms = 1000 * (time.perf_counter() - start) / args.requests
        print(f"webhook CPU per /sms message (no profiler): {cpu_ms:.2f} ms")
        print(f"per /sms request, sequential, in-process: {request_ms:.1f} ms (profiler on); "
              f"Rasa HTTP parse alone {parse_ms:.1f} ms; language detection alone {detect_ms:.2f} ms")
        if Profiler is not None:
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        else:
            pstats.Stats(profile).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(int(os.environ.get("PROFILE_LINES", "40")))
    finally:
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
