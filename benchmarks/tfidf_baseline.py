#!/usr/bin/env python3
"""Anchor: a TF-IDF + logistic-regression intent classifier on the same data.

Trains on ``intents/data/`` (all locales), evaluates per locale on the
held-out ``intents/test/<locale>/`` sets, and prints accuracy, macro-F1 and
out-of-scope recall next to this project's Rasa pipeline (read from the last
``make bench-nlu`` run in ``results/nlu/``, when present). Also writes
``results/bench/tfidf.json`` for ``make bench`` (``benchmarks/run_all.py``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.pipeline import make_pipeline, make_union

ROOT = Path(__file__).resolve().parent.parent
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def load_examples(folder: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for path in sorted(folder.rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    texts.append(_ANNOTATION.sub(r"\1", line.strip()[2:]))
                    labels.append(block["intent"])
    return texts, labels


def rasa_scores(locale: str) -> tuple[float, float] | None:
    report = ROOT / "results" / "nlu" / locale / "intent_report.json"
    if not report.exists():
        return None
    data = json.loads(report.read_text())
    return data["accuracy"], data["macro avg"]["f1-score"]


def main() -> int:
    start = time.monotonic()
    train_texts, train_labels = load_examples(ROOT / "intents" / "data")
    model = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1),
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"),
        ),
        LogisticRegression(max_iter=2000, C=10.0),
    )
    model.fit(train_texts, train_labels)
    print(f"TF-IDF + logistic regression vs. this project's Rasa pipeline ({time.strftime('%Y-%m-%d')})")
    print(f"trained on {len(train_texts)} examples in {time.monotonic() - start:.1f} s")
    print(f"{'locale':<8}{'n':>5}{'tfidf acc':>11}{'tfidf F1':>10}{'OOS recall':>12}{'rasa acc':>10}{'rasa F1':>9}")
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "train_examples": len(train_texts),
              "train_seconds": time.monotonic() - start, "locales": {}}
    for folder in sorted((ROOT / "intents" / "test").iterdir()):
        texts, labels = load_examples(folder)
        if not texts:
            continue
        predicted = model.predict(texts)
        accuracy = accuracy_score(labels, predicted)
        # Over the gold intents, as `rasa test nlu` (and benchmarks/metrics.py) computes it.
        macro_f1 = f1_score(labels, predicted, labels=sorted(set(labels)), average="macro", zero_division=0)
        oos = recall_score(labels, predicted, labels=["out_of_scope"], average="macro", zero_division=0)
        rasa = rasa_scores(folder.name)
        rasa_text = f"{rasa[0]:>10.3f}{rasa[1]:>9.3f}" if rasa else f"{'(run make bench-nlu)':>19}"
        print(f"{folder.name:<8}{len(texts):>5}{accuracy:>11.3f}{macro_f1:>10.3f}{oos:>12.3f}{rasa_text}")
        result["locales"][folder.name] = {"n": len(texts), "accuracy": accuracy, "macro_f1": macro_f1,
                                          "oos_recall": oos if "out_of_scope" in labels else None,
                                          # no fallback here: every miss is a wrong topic
                                          "wrong": int(sum(p != g for g, p in zip(labels, predicted)))}
    out = ROOT / "results" / "bench"
    os.makedirs(out, exist_ok=True)
    (out / "tfidf.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
