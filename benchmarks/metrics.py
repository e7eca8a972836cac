"""Scores shared by every understanding benchmark (plain Python, runs in both venvs).

Same definitions as ``rasa test nlu``: macro-F1 averages the per-intent F1
over the intents of the gold labels (Rasa passes ``labels=`` the unique
targets to scikit-learn's report); a prediction outside them, such as
``nlu_fallback``, still costs recall of the true intent.
Out-of-scope recall counts an ``out_of_scope`` message as handled when it was
predicted ``out_of_scope`` or ``nlu_fallback``: the bot answers both the same
way (``bot/conversation/engine.py``: "not understood" plus the menu).
"""

from __future__ import annotations

from collections import Counter

OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"


def accuracy(gold: list[str], predicted: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    labels = sorted(set(gold))
    true_pos = Counter(g for g, p in zip(gold, predicted) if g == p)
    gold_count, pred_count = Counter(gold), Counter(predicted)
    scores = []
    for label in labels:
        tp = true_pos[label]
        precision = tp / pred_count[label] if pred_count[label] else 0.0
        recall = tp / gold_count[label] if gold_count[label] else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def oos_recall(gold: list[str], predicted: list[str]) -> float | None:
    pairs = [(g, p) for g, p in zip(gold, predicted) if g == OUT_OF_SCOPE]
    if not pairs:
        return None
    return sum(p in (OUT_OF_SCOPE, FALLBACK) for _, p in pairs) / len(pairs)


def wrong_answers(gold: list[str], predicted: list[str]) -> int:
    """Messages given a confident, wrong intent: the bot would answer another topic.

    Worse for the person than ``nlu_fallback`` (the menu), so counted apart.
    """
    return sum(p != g and p != FALLBACK for g, p in zip(gold, predicted))


def scores(gold: list[str], predicted: list[str]) -> dict:
    return {
        "n": len(gold),
        "accuracy": accuracy(gold, predicted),
        "macro_f1": macro_f1(gold, predicted),
        "oos_recall": oos_recall(gold, predicted),
        "fallback_share": sum(p == FALLBACK for p in predicted) / len(predicted) if predicted else 0.0,
        "wrong": wrong_answers(gold, predicted),
    }
