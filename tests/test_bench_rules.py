"""The topics benchmark decides like the bot: same thresholds, urgent topics and conversation intents.

``benchmarks/topics_before_after.py`` runs in Rasa's own environment, so it cannot
import the bot; it keeps copies. This test keeps the copies honest.
"""

from __future__ import annotations

import ast

from bot.content.answers import URGENT_TOPICS
from bot.config import load_settings
from bot.conversation.engine import AMBIGUITY_MARGIN, CONVERSATION_INTENTS
from tests.conftest import ROOT


def bench_constants() -> dict:
    tree = ast.parse((ROOT / "benchmarks" / "topics_before_after.py").read_text(encoding="utf-8"))
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return values


def test_the_topics_benchmark_uses_the_bots_rule():
    bench = bench_constants()
    settings = load_settings({})
    assert bench["CONFIDENCE_THRESHOLD"] == settings.nlu_confidence_threshold
    assert bench["TOPIC_THRESHOLD"] == settings.nlu_topic_confidence_threshold
    assert bench["URGENT_THRESHOLD"] == settings.nlu_urgent_confidence_threshold
    assert bench["AMBIGUITY_MARGIN"] == AMBIGUITY_MARGIN
    assert bench["URGENT_TOPICS"] == set(URGENT_TOPICS)
    assert bench["CONVERSATION_INTENTS"] == set(CONVERSATION_INTENTS)
