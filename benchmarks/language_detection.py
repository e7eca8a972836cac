#!/usr/bin/env python3
"""How well the bot tells which language a message is in, per locale: before and after issue #17.

Two detectors in one run, on the same messages:

- **before**: the detector as it was at ``BEFORE_REVISION`` (script rules, Kreyòl and
  Vietnamese marker words, lingua), loaded from git; lingua stays in requirements-dev.txt
  for this comparison only (the webhook no longer installs it).
- **after**: ``bot.language.detection.LanguageDetector`` (script rules and the model
  learned from intents/data/, bot/language/identify.py).

Two sets of messages, neither trained on:

1. ``benchmarks/data/language_heldout.yml``: first messages written the way people
   text (typos, no accents, code-switching, long stories), 44-45 per locale, kept out
   of the language model's training. Reported: the share of first messages of 3+ words
   answered in the writer's language (target 99% in every locale; an undecided message
   is answered in the default language, English), and of shorter ones.
2. The NLU held-out set ``intents/test/<locale>/``: per message right, undecided (the
   conversation keeps its language: safe) and wrong (it would switch: costly), all
   messages and short ones (3 words or fewer). Some of these are mixed on purpose, so
   "wrong" there is partly a label question.

Writes ``results/bench/language.json`` (``make bench`` step ``lang`` puts it in the table).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.language.detection import LanguageDetector, word_count  # noqa: E402
from bot.language.languages import SUPPORTED_LANGUAGES  # noqa: E402

#: The last commit with the lingua-based detector (main before issue #17).
BEFORE_REVISION = "a1eb338"
HELDOUT = ROOT / "benchmarks" / "data" / "language_heldout.yml"
DEFAULT_LANGUAGE = "en"
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


def first_messages() -> dict[str, list[str]]:
    data = yaml.safe_load(HELDOUT.read_text(encoding="utf-8")) or {}
    return {locale: [str(m) for m in data.get(locale) or []] for locale in SUPPORTED_LANGUAGES}


def before_detector():
    """The detector at BEFORE_REVISION, or None (with the reason) when lingua or git is missing."""
    try:
        import lingua  # noqa: F401
    except ImportError:
        return None, "lingua is not installed (pip install -r requirements-dev.txt)"
    try:
        source = subprocess.run(["git", "show", f"{BEFORE_REVISION}:bot/language/languages.py"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"git show {BEFORE_REVISION} failed: {exc}"
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("languages_before", handle.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    Path(handle.name).unlink()
    return module.LanguageDetector(), None


def is_long(message: str) -> bool:
    return word_count(message) >= 3


def score_first(detect, messages: dict[str, list[str]]) -> dict:
    """Per locale: first messages answered in the writer's language (undecided means English)."""
    out = {}
    for locale, texts in messages.items():
        answered = [(m, detect(m) or DEFAULT_LANGUAGE) for m in texts]
        long = [(m, got) for m, got in answered if is_long(m)]
        short = [(m, got) for m, got in answered if not is_long(m)]
        out[locale] = {
            "n_long": len(long), "long_right": sum(got == locale for _, got in long),
            "n_short": len(short), "short_right": sum(got == locale for _, got in short),
            "misses": [[m, got] for m, got in long if got != locale],
        }
    return out


def score_heldout(detect) -> dict:
    out = {}
    for locale in SUPPORTED_LANGUAGES:
        results = [(m, detect(m)) for m in test_messages(locale)]
        short = [(m, got) for m, got in results if len(m.split()) <= 3]
        out[locale] = {
            "n": len(results), "right": sum(got == locale for _, got in results),
            "undecided": sum(got is None for _, got in results),
            "short_n": len(short), "short_right": sum(got == locale for _, got in short),
            "short_wrong": sum(got not in (None, locale) for _, got in short),
        }
        out[locale]["wrong"] = out[locale]["n"] - out[locale]["right"] - out[locale]["undecided"]
    return out


def pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def main() -> int:
    after = LanguageDetector()
    before, why_not = before_detector()
    messages = first_messages()
    result: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "before_revision": BEFORE_REVISION}
    timings = {}
    for name, detector in (("before", before), ("after", after)):
        if detector is None:
            continue
        start = time.monotonic()
        result[name] = {"first": score_first(detector.detect, messages), "heldout": score_heldout(detector.detect)}
        count = sum(len(v) for v in messages.values()) + sum(r["n"] for r in result[name]["heldout"].values())
        timings[name] = (time.monotonic() - start) * 1000 / max(count, 1)
        result[name]["ms_per_message"] = timings[name]
    if why_not:
        result["before_missing"] = why_not
    print(f"Language detection, before ({BEFORE_REVISION}: lingua + marker words) and after (model from intents/data), "
          f"{result['date']}")
    if why_not:
        print(f"  (no 'before' column: {why_not})")
    print()
    print("1. First messages (benchmarks/data/language_heldout.yml, never trained on): answered in the writer's language")
    print(f"{'locale':<7}{'3+ words':>9}{'before':>9}{'after':>9} | {'shorter':>8}{'before':>9}{'after':>9}")
    for locale in SUPPORTED_LANGUAGES:
        a = result["after"]["first"][locale]
        b = (result.get("before") or {}).get("first", {}).get(locale, {})
        print(f"{locale:<7}{a['n_long']:>9}{pct(b.get('long_right', 0), b.get('n_long', 0)) if b else '-':>9}"
              f"{pct(a['long_right'], a['n_long']):>9} | {a['n_short']:>8}"
              f"{pct(b.get('short_right', 0), b.get('n_short', 0)) if b else '-':>9}{pct(a['short_right'], a['n_short']):>9}")
    print()
    print("2. NLU held-out set intents/test/<locale>/: right / undecided / wrong (would switch); short = 3 words or fewer")
    print(f"{'':<7}{'':>5} | {'before':^22} | {'after':^22} | {'short':>5} {'before':^13} | {'after':^13}")
    print(f"{'locale':<7}{'n':>5} | {'right':>7}{'undec':>7}{'wrong':>8} | {'right':>7}{'undec':>7}{'wrong':>8} | "
          f"{'n':>5} {'right':>6}{'wrong':>7} | {'right':>6}{'wrong':>7}")
    for locale in SUPPORTED_LANGUAGES:
        a = result["after"]["heldout"][locale]
        b = (result.get("before") or {}).get("heldout", {}).get(locale)
        cells_b = (f"{pct(b['right'], b['n']):>7}{pct(b['undecided'], b['n']):>7}{pct(b['wrong'], b['n']):>8}"
                   if b else f"{'-':>22}")
        short_b = f"{pct(b['short_right'], b['short_n']):>6}{pct(b['short_wrong'], b['short_n']):>7}" if b else f"{'-':>13}"
        print(f"{locale:<7}{a['n']:>5} | {cells_b} | {pct(a['right'], a['n']):>7}{pct(a['undecided'], a['n']):>7}"
              f"{pct(a['wrong'], a['n']):>8} | {a['short_n']:>5} {short_b} | {pct(a['short_right'], a['short_n']):>6}"
              f"{pct(a['short_wrong'], a['short_n']):>7}")
    print()
    print("  per message: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in timings.items()))
    misses = {loc: r["misses"] for loc, r in result["after"]["first"].items() if r["misses"]}
    if misses:
        print("  first messages of 3+ words not answered in the writer's language (after): "
              + "; ".join(f"[{loc}] {m!r} -> {got}" for loc, rows in misses.items() for m, got in rows))
    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "language.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
