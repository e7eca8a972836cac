#!/usr/bin/env python3
"""Readability of the English answers now, side by side with an earlier revision (the anchor).

Flesch-Kincaid grade of every English text, grouped as the content review
grouped them (national first replies, state first replies, MORE texts), with
placeholders read as "this number" (``bot.content.readability``). The anchor is the
content as it was before the December 2026 review (``--baseline``, a git
revision), read straight from git, so both rows are measured by the same code
in one run.

Usage: python benchmarks/readability.py [--baseline REV]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content.texts import load_topic  # noqa: E402
from bot.content.readability import FIRST_MAX, grade, median  # noqa: E402

#: The last commit before the December 2026 legal review rewrote the answers.
DEFAULT_BASELINE = "ef9f623"


def topics_at(revision: str | None, scratch: Path) -> list[Path]:
    """Topic files of ``revision`` (None: the working tree)."""
    if revision is None:
        return sorted((ROOT / "responses" / "topics").glob("*.yml"))
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{revision}:responses/topics"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    paths = []
    for name in names:
        text = subprocess.run(["git", "show", f"{revision}:responses/topics/{name}"],
                              cwd=ROOT, check=True, capture_output=True, text=True).stdout
        path = scratch / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def groups(paths: list[Path]) -> dict[str, list[float]]:
    found = {"national first replies": [], "state first replies": [], "MORE texts": []}
    for path in paths:
        topic = load_topic(path)
        for key in topic.keys():
            if key.endswith(".menu_label"):
                continue
            value = grade(topic.english(key))
            if key.endswith(".more"):
                found["MORE texts"].append(value)
            elif ".states." in key:
                found["state first replies"].append(value)
            else:
                found["national first replies"].append(value)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision of the anchor content")
    args = parser.parse_args(argv)
    print(f"Flesch-Kincaid grade of English answers ({time.strftime('%Y-%m-%d')}; textstat, placeholders = 'this number')")
    print(f"{'content':<22}{'set':<25}{'n':>4}{'min':>7}{'median':>8}{'max':>7}{'<= 6':>6}{f'> {FIRST_MAX:g}':>6}")
    with tempfile.TemporaryDirectory() as scratch:
        for label, revision in ((f"anchor {args.baseline}", args.baseline), ("now", None)):
            for name, values in groups(topics_at(revision, Path(scratch))).items():
                if not values:
                    continue
                print(f"{label:<22}{name:<25}{len(values):>4}{min(values):>7}{median(values):>8}{max(values):>7}"
                      f"{sum(v <= 6 for v in values):>6}{sum(v > FIRST_MAX for v in values):>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
