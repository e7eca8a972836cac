"""Which Latin-script language a message is in, learned from the project's own NLU examples.

A multinomial naive Bayes model over character 1-4-grams, words and word pairs of the
folded text (no accents, no case), plus the accented letters as written. It is
trained from ``intents/data/<locale>/`` by ``python -m bot.language.identify build``
(``make langid``) and checked in as ``langid.json.gz`` (counts only, ~0.2 MB), so
the webhook needs no general-purpose detector (lingua was ~140 MB per worker) and
no training at start-up. ``make check-content`` fails when the examples changed
since the file was built. Chinese and Arabic are told by their script
(bot/language/languages.py), so the model only knows the Latin-script locales.

Pure Python on purpose: the webhook's requirements have no numpy, and scoring a
message is a few hundred dictionary look-ups (~0.1 ms).
"""

from __future__ import annotations

import argparse
import array
import gzip
import hashlib
import json
import math
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

from bot.language.languages import LATIN_LANGUAGES, fold

MODEL_PATH = Path(__file__).with_name("langid.json.gz")
FORMAT = 1
#: Character n-gram lengths (of each word padded with spaces).
NGRAM_ORDERS = (1, 2, 3, 4)
#: Additive smoothing of the per-language feature counts.
ALPHA = 0.01
#: Features seen fewer times than this in all the training data are dropped (size).
#: ALPHA and MIN_COUNT were chosen on the NLU test set (intents/test/), not on the language benchmark.
MIN_COUNT = 1
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_ACCENTED = re.compile(r"[^\W\d_a-z]", re.UNICODE)


def features(text: str) -> list[str]:
    """The n-grams, words, word pairs and accented letters of a message (digits carry no language)."""
    out: list[str] = []
    words = [word for word in fold(text).split() if not word.isdigit()]
    # Word pairs: "que es" is Spanish where "que" and "es" alone are also French.
    out.extend(f"b:{first} {second}" for first, second in zip(words, words[1:]))
    for word in words:
        out.append("w:" + word)
        padded = f" {word} "
        for n in NGRAM_ORDERS:
            out.extend(padded[i:i + n] for i in range(len(padded) - n + 1) if padded[i:i + n] != " ")
    # The accents people do type are strong evidence (ã ç pt, è ê fr, ñ es, ư ơ vi, ò ht).
    lowered = unicodedata.normalize("NFC", text.casefold())
    out.extend("a:" + ch for ch in _ACCENTED.findall(lowered) if ord(ch) < 0x2000)
    return out


class LanguageModel:
    """Scores a message against each Latin-script locale. Load once per process; read-only."""

    def __init__(self, languages: tuple[str, ...], counts: dict[str, list[int]], fingerprint: str = ""):
        self.languages = languages
        self.fingerprint = fingerprint
        k = len(languages)
        totals = [0] * k
        for row in counts.values():
            for i, c in enumerate(row):
                totals[i] += c
        vocabulary = len(counts)
        # One flat float array (shared pages stay shared under gunicorn --preload) and one index.
        self._index: dict[str, int] = {}
        self._logp = array.array("f")
        for position, (feature, row) in enumerate(counts.items()):
            self._index[feature] = position
            self._logp.extend(math.log((c + ALPHA) / (totals[i] + ALPHA * vocabulary)) for i, c in enumerate(row))
        self._k = k

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "LanguageModel":
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown format {data.get('format')!r}; run make langid")
        return cls(tuple(data["languages"]), data["counts"], data.get("fingerprint", ""))

    def scores(self, text: str) -> tuple[list[tuple[str, float]], int]:
        """(locale, log-likelihood) best first, and how many known features the message had."""
        k, logp, index = self._k, self._logp, self._index
        totals = [0.0] * k
        known = 0
        for feature in features(text):
            position = index.get(feature)
            if position is None:
                continue
            known += 1
            base = position * k
            for i in range(k):
                totals[i] += logp[base + i]
        ranked = sorted(zip(self.languages, totals), key=lambda pair: pair[1], reverse=True)
        return ranked, known


# -- building the model (make langid) ------------------------------------------


def examples(data_dir: Path, locale: str) -> list[str]:
    """The training messages of one locale (entity annotations removed)."""
    found = []
    for path in sorted((data_dir / locale).glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.append(_ANNOTATION.sub(r"\1", line[2:]).strip())
    return found


def excluded_messages(path: Path | None) -> set[str]:
    """Folded messages kept out of training (the language benchmark's held-out set)."""
    if path is None or not path.exists():
        return set()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {fold(str(m)) for messages in data.values() for m in messages or []}


def fingerprint(data_dir: Path, exclude: Path | None, languages: tuple[str, ...] = LATIN_LANGUAGES) -> str:
    """Hash of the training files and the exclusion list: changes when the model must be rebuilt."""
    digest = hashlib.sha256(f"format {FORMAT} {NGRAM_ORDERS} {MIN_COUNT}".encode())
    for locale in languages:
        for path in sorted((data_dir / locale).glob("*.yml")):
            digest.update(f"{locale}/{path.name}".encode())
            digest.update(path.read_bytes())
    if exclude is not None and exclude.exists():
        digest.update(exclude.read_bytes())
    return digest.hexdigest()[:16]


def build(data_dir: Path, exclude: Path | None, languages: tuple[str, ...] = LATIN_LANGUAGES) -> dict:
    """Feature counts per locale from the NLU examples, held-out messages left out."""
    skip = excluded_messages(exclude)
    per_language: list[Counter] = []
    kept = dropped = 0
    for locale in languages:
        counter: Counter = Counter()
        for message in examples(data_dir, locale):
            if fold(message) in skip:
                dropped += 1
                continue
            kept += 1
            counter.update(features(message))
        per_language.append(counter)
    vocabulary = set().union(*per_language)
    counts = {}
    for feature in sorted(vocabulary):
        row = [counter.get(feature, 0) for counter in per_language]
        if sum(row) >= MIN_COUNT:
            counts[feature] = row
    return {"format": FORMAT, "languages": list(languages), "fingerprint": fingerprint(data_dir, exclude, languages),
            "examples": kept, "excluded": dropped, "counts": counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the language identifier from the NLU examples")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--data", type=Path, required=True, help="intents/data")
    parser.add_argument("--exclude", type=Path, default=None, help="held-out messages never trained on (YAML)")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    model = build(args.data, args.exclude)
    payload = json.dumps(model, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    # mtime=0: the same data gives the same bytes (no diff when nothing changed).
    args.out.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(f"{args.out}: {len(model['counts'])} features from {model['examples']} examples "
          f"({model['excluded']} held-out messages left out), {args.out.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
