#!/usr/bin/env python3
"""Held-out understanding before and after the hotline topics (issue #14), per locale, in one run.

"Before" is the model trained from ``intents/data`` as it was before the
eight new topics and the honest-limits intent (git revision ``--before``,
default ef9f623), trained here with the project's own config and cached
under ``models/anchors/``; "after" is the project model. Both are scored on
today's held-out set (``intents/test/``), which has realistic messages for
the new topics: the old model can only answer them with a wrong topic or the
menu. Each message is decided the way the bot decides (``bot/conversation/engine.py``): the
top intent is answered only when its confidence is at least its threshold
(before: 0.5 for every intent; after: 0.85 for a topic, 0.7 for an urgent
topic, 0.5 for the rest, chosen on one half of the held-out set and checked on
the other) and beats the second by ``AMBIGUITY_MARGIN`` (0.1); otherwise the
person gets the menu. Printed per locale: accuracy (the right intent
answered) and wrong-topic answers (another topic's answer; a greeting, the menu
or "free legal help" is not a wrong topic), for all messages and for the
messages whose right answer is an old intent (the new topics must not confuse
those); then both rules on each half of the held-out set. Run with
``.venv-rasa/bin/python``; ``make bench`` runs it as the ``topics`` step.
"""

from __future__ import annotations

import argparse
import hashlib
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

#: The bot's defaults (bot/config.py NLU_*_CONFIDENCE_THRESHOLD, bot/conversation/engine.py AMBIGUITY_MARGIN).
CONFIDENCE_THRESHOLD = 0.5
TOPIC_THRESHOLD = 0.85
URGENT_THRESHOLD = 0.7
AMBIGUITY_MARGIN = 0.1
#: bot/content/answers.py URGENT_TOPICS (their answers start with the hotline).
URGENT_TOPICS = {"ice_at_home", "family_detained", "report_ice_activity"}
#: Intents that are not topic answers (bot/conversation/engine.py CONVERSATION_INTENTS): answering one of
#: these wrongly gives a greeting, the menu or "free legal help", never another topic's answer.
CONVERSATION_INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "help_menu", "change_language", "subscribe",
                        "delete_data", "give_location", "human_handoff", "out_of_scope", "other_legal"}
#: The rule before issue #14's calibration: one threshold for every intent.
OLD_RULE = {"topic": CONFIDENCE_THRESHOLD, "urgent": CONFIDENCE_THRESHOLD}
NEW_RULE = {"topic": TOPIC_THRESHOLD, "urgent": URGENT_THRESHOLD}

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


def is_topic(intent: str) -> bool:
    return intent not in CONVERSATION_INTENTS and intent != "nlu_fallback"


def answered(ranking: list[dict], rule: dict) -> str | None:
    """The intent the bot would act on, or None for the menu (bot/conversation/engine.py ``_confident_intent``)."""
    if not ranking or ranking[0]["name"] == "nlu_fallback":
        return None
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    top = ranking[0]
    needed = CONFIDENCE_THRESHOLD
    if is_topic(top["name"]):
        needed = max(needed, rule["urgent"] if top["name"] in URGENT_TOPICS else rule["topic"])
    if top["confidence"] < needed or top["confidence"] - second < AMBIGUITY_MARGIN:
        return None
    return top["name"]


def calibration_half(text: str) -> bool:
    """Half of the held-out set (by a hash of the text) on which the thresholds were chosen; the
    other half only checks them."""
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % 2 == 0


def parsed(model: Path) -> dict[str, list[tuple[str, str, list[dict]]]]:
    """Per locale: (text, gold intent, ranking) for every held-out message."""
    parser = Parser(model)
    out = {}
    for folder in sorted(p for p in TEST.iterdir() if p.is_dir()):
        rows = []
        for _, text, gold in examples(folder):
            message = parser.loop.run_until_complete(parser.agent.parse_message(text))
            ranking = [r for r in message.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
            if (message.get("intent") or {}).get("name") == "nlu_fallback":
                ranking = [{"name": "nlu_fallback", "confidence": 1.0}]
            rows.append((text, gold, ranking))
        out[folder.name] = rows
    return out


def score(messages: dict, rule: dict, part=None) -> dict:
    """Per locale: n, accuracy, wrong-topic answers (another topic's answer), other wrong intents,
    and wrong-topic answers to messages about an old intent. ``part`` keeps some messages only."""
    rows = {}
    for locale, items in messages.items():
        row = {"n": 0, "right": 0, "menu": 0, "wrong": 0, "wrong_other": 0, "old_topic_wrong": 0}
        for text, gold, ranking in items:
            if part is not None and calibration_half(text) != part:
                continue
            got = answered(ranking, rule)
            row["n"] += 1
            if got == gold:
                row["right"] += 1
            elif got is None:
                row["menu"] += 1
            elif is_topic(got):
                row["wrong"] += 1
                row["old_topic_wrong"] += gold not in NEW_INTENTS
            else:
                row["wrong_other"] += 1
        row["accuracy"] = row["right"] / max(1, row["n"])
        rows[locale] = row
    return rows


def overall(rows: dict) -> tuple[int, float, float]:
    n = sum(r["n"] for r in rows.values())
    return n, sum(r["right"] for r in rows.values()) / max(1, n), sum(r["wrong"] for r in rows.values()) / max(1, n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git revision of the training data before")
    args = parser.parse_args(argv)
    config = load_config(PROJECT_CONFIG)
    before_model, info = cached_model(f"before-{args.before}", config, data_at(args.before))
    progress(f"scoring the model before ({'cached' if info.get('cached') else 'trained'}) and after")
    old_messages, new_messages = parsed(before_model), parsed(PROJECT_MODEL)
    before, after = score(old_messages, OLD_RULE), score(new_messages, NEW_RULE)
    after_old_rule = score(new_messages, OLD_RULE)
    payload = {"before_revision": args.before, "before_train_seconds": info.get("train_seconds"),
               "before": before, "after": after, "after_old_rule": after_old_rule}
    write_result("topics", payload)
    print(f"Held-out set with the new topics: before ({args.before}, every intent answered at confidence >= "
          f"{CONFIDENCE_THRESHOLD}) vs after (this model; a topic needs >= {TOPIC_THRESHOLD}, an urgent topic >= "
          f"{URGENT_THRESHOLD}); margin >= {AMBIGUITY_MARGIN}, else the menu. 'wrong' = another topic's answer.")
    print(f"{'locale':<7}{'n':>5} | {'acc before':>10}{'after':>7} | {'wrong before':>12}{'after':>7} | "
          f"{'old-topic wrong before':>22}{'after':>7} | {'this model at 0.5: acc':>22}{'wrong':>7}")
    totals = {"n": 0, "wb": 0, "wa": 0, "ob": 0, "oa": 0}
    for locale in after:
        b, a = before.get(locale, {}), after[locale]
        print(f"{locale:<7}{a['n']:>5} | {b.get('accuracy', 0):>10.3f}{a['accuracy']:>7.3f} | {b.get('wrong', 0):>12}"
              f"{a['wrong']:>7} | {b.get('old_topic_wrong', 0):>22}{a['old_topic_wrong']:>7} | "
              f"{after_old_rule[locale]['accuracy']:>22.3f}{after_old_rule[locale]['wrong']:>7}")
        totals["n"] += a["n"]
        totals["wb"] += b.get("wrong", 0)
        totals["wa"] += a["wrong"]
        totals["ob"] += b.get("old_topic_wrong", 0)
        totals["oa"] += a["old_topic_wrong"]
    n = max(1, totals["n"])
    print(f"{'all':<7}{totals['n']:>5} | {'':>17} | {totals['wb']:>5} ({totals['wb'] / n:.1%}) {totals['wa']:>5} "
          f"({totals['wa'] / n:.1%}) | {totals['ob']:>22}{totals['oa']:>7}")
    print("\nThe thresholds, on each half of the held-out set (chosen on the calibration half, checked on the other):")
    print(f"  {'rule':<34}{'half':<13}{'n':>6}{'accuracy':>10}{'wrong topic':>13}")
    for name, rule, messages in (("one threshold (0.5), this model", OLD_RULE, new_messages),
                                 (f"topic {TOPIC_THRESHOLD} / urgent {URGENT_THRESHOLD}", NEW_RULE, new_messages)):
        for half, part in (("calibration", True), ("check", False)):
            count, accuracy, wrong = overall(score(messages, rule, part))
            print(f"  {name:<34}{half:<13}{count:>6}{accuracy:>10.3f}{wrong:>12.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
