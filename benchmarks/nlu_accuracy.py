#!/usr/bin/env python3
"""Intent accuracy of the trained NLU model on the held-out test set, per locale.

Runs ``rasa test nlu`` (in Rasa's own env) on ``intents/test/<locale>/`` -
examples that are never trained on - and prints accuracy, macro-F1 and the
share of messages that fell back to the menu. Usage: ``make bench-nlu``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "models" / "kyr-nlu.tar.gz"


def evaluate(locale_dir: Path) -> dict:
    out = ROOT / "results" / "nlu" / locale_dir.name
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    command = [str(RASA), "test", "nlu", "--nlu", str(locale_dir), "--model", str(MODEL), "--out", str(out)]
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-2000:] + completed.stderr[-2000:])
        raise SystemExit(f"rasa test nlu failed for {locale_dir}")
    report = json.loads((out / "intent_report.json").read_text())
    errors = json.loads((out / "intent_errors.json").read_text()) if (out / "intent_errors.json").exists() else []
    total = int(report["macro avg"]["support"])
    fallback = sum(1 for error in errors if (error.get("intent_prediction") or {}).get("name") == "nlu_fallback")
    return {
        "locale": locale_dir.name,
        "examples": total,
        "accuracy": report["accuracy"],
        "macro_f1": report["macro avg"]["f1-score"],
        "menu_share": fallback / total if total else 0.0,
        "errors": [(e["text"], e["intent"], (e.get("intent_prediction") or {}).get("name")) for e in errors],
    }


def main() -> int:
    if not MODEL.exists():
        raise SystemExit("no trained model: run `make train` first")
    rows = []
    for locale_dir in sorted((ROOT / "intents" / "test").iterdir()):
        if locale_dir.is_dir():
            start = time.monotonic()
            print(f"evaluating {locale_dir.name} ...", file=sys.stderr, flush=True)
            row = evaluate(locale_dir)
            row["seconds"] = time.monotonic() - start
            rows.append(row)
    print(f"\nHeld-out intent accuracy ({MODEL.name}, {time.strftime('%Y-%m-%d')})")
    print(f"{'locale':<8}{'examples':>9}{'accuracy':>10}{'macro-F1':>10}{'to menu':>9}")
    for row in rows:
        print(
            f"{row['locale']:<8}{row['examples']:>9}{row['accuracy']:>10.3f}"
            f"{row['macro_f1']:>10.3f}{row['menu_share']:>9.1%}"
        )
    for row in rows:
        if row["errors"]:
            print(f"\nmisses in {row['locale']} (expected -> predicted):")
            for text, expected, predicted in row["errors"]:
                print(f"  {expected:>26} -> {predicted:<26} {text[:60]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
