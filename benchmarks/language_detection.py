#!/usr/bin/env python3
"""How well the bot tells which language a message is in, per locale.

Runs ``bot.language.languages.LanguageDetector`` over the held-out NLU test messages
(``intents/test/<locale>/``) and prints, per locale and for short messages
(three words or fewer) separately: right, undecided (the bot keeps the
session's language, the safe outcome) and wrong (the bot would switch to
another language, the costly outcome).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.language.languages import SUPPORTED_LANGUAGES, LanguageDetector  # noqa: E402

_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def test_messages(locale: str) -> list[str]:
    messages = []
    for path in sorted((ROOT / "intents" / "test" / locale).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    messages.append(_ANNOTATION.sub(r"\1", line[2:]).strip())
    return messages


def main() -> int:
    detector = LanguageDetector()
    print(f"Language detection on held-out messages ({time.strftime('%Y-%m-%d')})")
    print(f"{'locale':<8}{'messages':>9}{'right':>8}{'undecided':>11}{'wrong':>8}   short: {'n':>4}{'right':>8}{'wrong':>8}")
    start = time.monotonic()
    total = 0
    for locale in SUPPORTED_LANGUAGES:
        messages = test_messages(locale)
        if not messages:
            continue
        results = [(m, detector.detect(m)) for m in messages]
        total += len(results)
        right = sum(1 for _, got in results if got == locale)
        undecided = sum(1 for _, got in results if got is None)
        wrong = len(results) - right - undecided
        short = [(m, got) for m, got in results if len(m.split()) <= 3]
        short_right = sum(1 for _, got in short if got == locale)
        short_wrong = sum(1 for _, got in short if got not in (None, locale))
        n = len(results)
        print(
            f"{locale:<8}{n:>9}{right / n:>8.1%}{undecided / n:>11.1%}{wrong / n:>8.1%}   "
            f"       {len(short):>4}{(short_right / len(short) if short else 0):>8.1%}"
            f"{(short_wrong / len(short) if short else 0):>8.1%}"
        )
    elapsed = time.monotonic() - start
    print(f"{total} messages in {elapsed:.1f} s ({elapsed / max(total, 1) * 1000:.2f} ms per message)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
