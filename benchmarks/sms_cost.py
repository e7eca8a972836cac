#!/usr/bin/env python3
"""SMS cost per locale: segments of first replies and MORE replies, in their real encoding.

Counts what a phone is billed for (GSM-7 or UCS-2, after the SMS channel's
accent folding), with the footer, and with the longest local organization
name the directory could insert, the same worst case `make check-content`
enforces (at most 3 segments for a first reply).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.checks import run_checks  # noqa: E402


def main() -> int:
    report = run_checks(ROOT / "responses", ROOT / "locales", ROOT / "intents" / "domain.yml")
    by_locale: dict[str, dict[str, list[int]]] = {}
    encodings: dict[str, set[str]] = {}
    for lang, key, encoding, _units, segments in report.rows:
        kind = "first" if key.endswith(".first") else "more" if key.endswith(".more") else None
        if kind is None:
            continue
        by_locale.setdefault(lang, {"first": [], "more": []})[kind].append(segments)
        encodings.setdefault(lang, set()).add(encoding)
    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sms_cost.json").write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "locales": {lang: {"encoding": "/".join(sorted(encodings[lang])),
                           "first_mean": statistics.mean(k["first"]), "first_max": max(k["first"]),
                           "more_mean": statistics.mean(k["more"]), "more_max": max(k["more"])}
                    for lang, k in by_locale.items()},
        "problems": len(report.problems),
    }, indent=1))
    print(f"SMS segments per reply, worst case with local names ({time.strftime('%Y-%m-%d')})")
    print(f"{'locale':<8}{'encoding':<14}{'first mean':>11}{'first max':>10}{'MORE mean':>11}{'MORE max':>9}")
    for lang, kinds in by_locale.items():
        first, more = kinds["first"], kinds["more"]
        print(f"{lang:<8}{'/'.join(sorted(encodings[lang])):<14}{statistics.mean(first):>11.2f}{max(first):>10}"
              f"{statistics.mean(more):>11.2f}{max(more):>9}")
    if report.problems:
        print(f"\n{len(report.problems)} content problem(s); run make check-content")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
