#!/usr/bin/env python3
"""Held-out understanding before and after the hotline topics (issue #14), per locale, in one run.

"Before" is the model trained from ``intents/data`` as it was before the
eight new topics and the honest-limits intent (git revision ``--before``,
default ef9f623), trained here with the project's own config and cached
under ``models/anchors/``; "after" is the project model. Both are scored on
today's held-out set (``intents/test/``), which has realistic messages for
the new topics: the old model can only answer them with a wrong topic or the
menu. Each message is decided the way the bot decides (``bot/engine.py``): the
top intent is answered only when its confidence is at least
``NLU_CONFIDENCE_THRESHOLD`` (0.5) and beats the second by ``AMBIGUITY_MARGIN``
(0.1); otherwise the person gets the menu. Printed per locale: accuracy (the
right intent answered), and wrong answers (another intent answered: the person
gets another topic's answer), for all messages and for the messages whose right
answer is an old intent (the new topics must not confuse those). Run with
``.venv-rasa/bin/python``; ``make bench`` runs it as the ``topics`` step.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import io
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rasa_tools import (  # noqa: E402
    ANCHORS, PROJECT_CONFIG, PROJECT_MODEL, ROOT, TEST, Parser, cached_model, examples, load_config, progress,
    write_result,
)

#: The bot's defaults (bot/config.py NLU_CONFIDENCE_THRESHOLD, bot/engine.py AMBIGUITY_MARGIN).
CONFIDENCE_THRESHOLD = 0.5
AMBIGUITY_MARGIN = 0.1

NEW_INTENTS = {"court_date", "ice_checkin", "family_plan", "status_ending", "driving", "scams", "worker_rights",
               "registration", "other_legal"}
DEFAULT_BEFORE = "ef9f623"


def data_at(revision: str) -> Path:
    """``intents/data`` of ``revision``, unpacked once under models/anchors/."""
    target = ANCHORS / f"data-{revision}"
    if not (target / "en").exists():
        archive = subprocess.run(["git", "archive", revision, "intents/data"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    relative = Path(member.name).relative_to("intents/data")
                    (target / relative).parent.mkdir(parents=True, exist_ok=True)
                    (target / relative).write_bytes(tar.extractfile(member).read())
    return target


def answered(ranking: list[dict]) -> str | None:
    """The intent the bot would act on, or None for the menu."""
    if not ranking or ranking[0]["name"] == "nlu_fallback":
        return None
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    top = ranking[0]
    if top["confidence"] < CONFIDENCE_THRESHOLD or top["confidence"] - second < AMBIGUITY_MARGIN:
        return None
    return top["name"]


def score(model: Path) -> dict:
    """Per locale: n, accuracy, wrong answers, and wrong answers to messages about an old intent."""
    parser = Parser(model)
    rows = {}
    for folder in sorted(p for p in TEST.iterdir() if p.is_dir()):
        row = {"n": 0, "right": 0, "menu": 0, "wrong": 0, "old_topic_wrong": 0}
        for _, text, gold in examples(folder):
            message = parser.loop.run_until_complete(parser.agent.parse_message(text))
            ranking = [r for r in message.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
            if (message.get("intent") or {}).get("name") == "nlu_fallback":
                ranking = [{"name": "nlu_fallback", "confidence": 1.0}]
            got = answered(ranking)
            row["n"] += 1
            if got == gold:
                row["right"] += 1
            elif got is None:
                row["menu"] += 1
            else:
                row["wrong"] += 1
                row["old_topic_wrong"] += gold not in NEW_INTENTS
        row["accuracy"] = row["right"] / max(1, row["n"])
        rows[folder.name] = row
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git revision of the training data before")
    args = parser.parse_args(argv)
    config = load_config(PROJECT_CONFIG)
    before_model, info = cached_model(f"before-{args.before}", config, data_at(args.before))
    progress(f"scoring the model before ({'cached' if info.get('cached') else 'trained'}) and after")
    before, after = score(before_model), score(PROJECT_MODEL)
    payload = {"before_revision": args.before, "before_train_seconds": info.get("train_seconds"),
               "before": before, "after": after}
    write_result("topics", payload)
    print(f"Held-out set with the new topics: before ({args.before}) vs after (this model); answered as the bot"
          f" answers (confidence >= {CONFIDENCE_THRESHOLD}, margin >= {AMBIGUITY_MARGIN}, else the menu)")
    print(f"{'locale':<7}{'n':>5} | {'acc before':>10}{'after':>7} | {'wrong before':>12}{'after':>7} | "
          f"{'old-topic wrong before':>22}{'after':>7}")
    totals = {"n": 0, "wb": 0, "wa": 0, "ob": 0, "oa": 0}
    for locale in after:
        b, a = before.get(locale, {}), after[locale]
        print(f"{locale:<7}{a['n']:>5} | {b.get('accuracy', 0):>10.3f}{a['accuracy']:>7.3f} | {b.get('wrong', 0):>12}"
              f"{a['wrong']:>7} | {b.get('old_topic_wrong', 0):>22}{a['old_topic_wrong']:>7}")
        totals["n"] += a["n"]
        totals["wb"] += b.get("wrong", 0)
        totals["wa"] += a["wrong"]
        totals["ob"] += b.get("old_topic_wrong", 0)
        totals["oa"] += a["old_topic_wrong"]
    n = max(1, totals["n"])
    print(f"{'all':<7}{totals['n']:>5} | {'':>17} | {totals['wb']:>5} ({totals['wb'] / n:.1%}) {totals['wa']:>5} "
          f"({totals['wa'] / n:.1%}) | {totals['ob']:>22}{totals['oa']:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
