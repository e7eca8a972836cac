#!/usr/bin/env python3
"""Training time vs. quality: the project model beside a lighter candidate, per locale (issue #22).

Run with Rasa's env after training the candidate somewhere else than
``models/kyr-nlu.tar.gz``, for instance with ``make run``'s own trainer on a
copy of ``intents/`` whose ``config.yml`` has fewer DIET epochs:

    cp -r intents /tmp/light && sed -i 's/epochs: 20/epochs: 10/' /tmp/light/intents/config.yml
    .venv/bin/python -m bot.stack run --intents /tmp/light/intents --model models/light/kyr-nlu.tar.gz
    .venv-rasa/bin/python benchmarks/training_config.py --candidate models/light/kyr-nlu.tar.gz

Each model is loaded once and scored on the held-out set (``intents/test/``):
intent accuracy and macro-F1 as Rasa predicts (``benchmarks/metrics.py``), and
what the bot would do with each message under its thresholds
(``topics_before_after.answered``, topic 0.85 / urgent 0.7): right answers and
wrong-topic answers (another topic's answer). Training seconds come from each
model's ``.train-times.json`` when ``make run`` trained it. Writes
``results/bench/training_config.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics import scores  # noqa: E402
from rasa_tools import PROJECT_MODEL, ROOT, progress, quiet_rasa, write_result  # noqa: E402
from topics_before_after import NEW_RULE, parsed, score  # noqa: E402


def evaluate(model: Path) -> dict:
    messages = parsed(model)
    per_locale = {}
    for locale, rows in messages.items():
        gold = [g for _, g, _ in rows]
        predicted = [ranking[0]["name"] if ranking else "None" for _, _, ranking in rows]
        per_locale[locale] = {"rasa": scores(gold, predicted)}
    for locale, row in score(messages, NEW_RULE).items():
        per_locale[locale]["bot"] = row
    times = model.parent / ".train-times.json"
    return {"model": str(model), "locales": per_locale,
            "train_times": json.loads(times.read_text()) if times.exists() else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", type=Path, required=True, help="the lighter model to compare")
    args = parser.parse_args(argv)
    quiet_rasa()
    result = {}
    for name, model in (("current", PROJECT_MODEL), ("candidate", args.candidate.resolve())):
        progress(f"scoring the {name} model ({model.relative_to(ROOT) if model.is_relative_to(ROOT) else model})")
        result[name] = evaluate(model)
    path = write_result("training_config", result)
    print(f"{'locale':<7}{'n':>5} | {'accuracy now':>12}{'light':>7} | {'macro-F1 now':>12}{'light':>7} | "
          f"{'bot right now':>13}{'light':>7} | {'wrong topic now':>15}{'light':>7}")
    totals = {"n": 0, "wa": 0, "wb": 0, "ra": 0, "rb": 0}
    for locale, a in result["current"]["locales"].items():
        b = result["candidate"]["locales"][locale]
        print(f"{locale:<7}{a['rasa']['n']:>5} | {a['rasa']['accuracy']:>12.3f}{b['rasa']['accuracy']:>7.3f} | "
              f"{a['rasa']['macro_f1']:>12.3f}{b['rasa']['macro_f1']:>7.3f} | "
              f"{a['bot']['right']:>13}{b['bot']['right']:>7} | {a['bot']['wrong']:>15}{b['bot']['wrong']:>7}")
        totals["n"] += a["rasa"]["n"]
        totals["ra"] += a["bot"]["right"]
        totals["rb"] += b["bot"]["right"]
        totals["wa"] += a["bot"]["wrong"]
        totals["wb"] += b["bot"]["wrong"]
    print(f"{'all':<7}{totals['n']:>5} | {'':>19} | {'':>19} | {totals['ra']:>13}{totals['rb']:>7} | "
          f"{totals['wa']:>15}{totals['wb']:>7}")
    print(f"written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
