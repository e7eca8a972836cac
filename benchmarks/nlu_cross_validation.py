#!/usr/bin/env python3
"""K-fold cross-validation of this project's NLU pipeline on ``intents/data/``.

Run with Rasa's env: ``.venv-rasa/bin/python benchmarks/nlu_cross_validation.py``.

Folds are stratified by (locale, intent), so every fold holds every locale's
intents in the same proportions. Each fold trains the pipeline of
``intents/config.yml`` (optionally with fewer DIET epochs, ``--epochs``, and on
a stratified share of the data, ``--fraction``) on the other folds and predicts
its own; every example is predicted exactly once, and the scores are computed
per locale over those pooled predictions. Results are cached under
``models/anchors/`` by a fingerprint of config, data and settings, so a re-run
with nothing changed skips the trainings. Writes
``results/bench/nlu_cross_validation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rasa_tools as rt  # noqa: E402
from metrics import scores  # noqa: E402


def stratified_folds(rows: list[tuple[str, str, str]], folds: int, fraction: float, seed: int) -> list[list[int]]:
    """Indices of ``rows`` per fold, stratified by (locale, intent), after a stratified subsample."""
    rng = random.Random(seed)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, (locale, _text, intent) in enumerate(rows):
        groups[(locale, intent)].append(index)
    assignment: list[list[int]] = [[] for _ in range(folds)]
    offset = 0
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        keep = max(folds, round(len(members) * fraction)) if len(members) >= folds else len(members)
        for position, index in enumerate(members[:keep]):
            # Continue round-robin across groups so small groups do not all land in fold 0.
            assignment[(offset + position) % folds].append(index)
        offset += keep
    return assignment


def write_subset(training_data, indices: set[int], all_messages: list, path: Path) -> None:
    """Write the chosen intent examples, plus every regex, lookup table and synonym, as Rasa YAML."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    subset = TrainingData(
        training_examples=[all_messages[i] for i in sorted(indices)],
        entity_synonyms=training_data.entity_synonyms,
        regex_features=training_data.regex_features,
        lookup_tables=training_data.lookup_tables,
    )
    RasaYAMLWriter().dump(path, subset)


def train_and_predict(job: tuple) -> tuple[int, float, list[str], list[str]]:
    """One fold, in a worker process: train on its data, predict its test texts."""
    number, _train_n, data_file, model, config, texts = job
    rt.quiet_rasa()
    seconds = rt.train_nlu(config, Path(data_file), Path(model))
    predicted, top, _ = rt.Parser(Path(model)).intents_and_top(texts)
    Path(model).unlink(missing_ok=True)
    return number, seconds, predicted, top


def run_folds(jobs: list[tuple], workers: int):
    """Yield each fold's results as it finishes, ``workers`` folds at a time.

    Much of a fold is single-threaded (featurizing, building the TensorFlow
    graph, packing and loading the model), so folds run side by side, each
    with one TensorFlow thread. Measured on 2 idle cores: 5 folds in 341 s
    two at a time, 334 s three at a time (one at a time was not measured
    on an idle machine).
    """
    if workers <= 1:
        yield from map(train_and_predict, jobs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Read by Rasa when a worker sets up TensorFlow (rasa.utils.tensorflow.environment).
    os.environ["TF_INTRA_OP_PARALLELISM_THREADS"] = "1"
    os.environ["TF_INTER_OP_PARALLELISM_THREADS"] = "1"
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for future in as_completed([pool.submit(train_and_predict, job) for job in jobs]):
            yield future.result()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=None, help="DIET epochs per fold (default: the config's)")
    parser.add_argument("--fraction", type=float, default=1.0, help="stratified share of the data to use")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=3,
                        help="folds trained side by side, one TensorFlow thread each (default 3; 1 runs them"
                             " one after another)")
    args = parser.parse_args()
    rt.quiet_rasa()

    config = rt.with_epochs(rt.load_config(rt.PROJECT_CONFIG), args.epochs)
    settings = {"folds": args.folds, "epochs": rt.diet_epochs(config), "fraction": args.fraction, "seed": args.seed}
    fingerprint = rt.files_fingerprint(
        [rt.DATA, rt.DOMAIN, rt.ROOT / "intents" / "components"],
        {"config": config, "settings": settings, "rasa": rt.rasa_version(), "script": Path(__file__).read_text()},
    )[:16]
    cache = rt.ANCHORS / f"cv-{fingerprint}.json"
    if cache.exists():
        result = json.loads(cache.read_text())
        result["cached"] = True
        rt.progress(f"cross-validation results from cache ({cache.name})")
    else:
        # Rasa's reader, file by file, so each example keeps its locale (and its entity annotations).
        training_data = rt.load_training_data(rt.DATA)
        by_text_intent = {(m.get("text"), m.get("intent")): m for m in training_data.intent_examples}
        rows, messages, seen = [], [], set()
        for locale, text, intent in rt.examples(rt.DATA):
            message = by_text_intent.get((text, intent))
            # The same text can be an example in two locales ("ok"); keep it once, so a
            # fold never tests on a message it also trained on.
            if message is not None and (text, intent) not in seen:
                seen.add((text, intent))
                rows.append((locale, text, intent))
                messages.append(message)
        folds = stratified_folds(rows, args.folds, args.fraction, args.seed)
        used = sorted(i for fold in folds for i in fold)
        predictions: dict[int, str] = {}
        # The best real intent even when the FallbackClassifier said "unsure": shows how much
        # of the error is low confidence (few epochs, little data) rather than a wrong ranking.
        top_predictions: dict[int, str] = {}
        fold_info = []
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="kyr-cv-") as tmp:
            jobs = []
            for number, test_indices in enumerate(folds, start=1):
                train_indices = set(used) - set(test_indices)
                data_file = Path(tmp) / f"fold{number}.yml"
                write_subset(training_data, train_indices, messages, data_file)
                jobs.append((number, len(train_indices), str(data_file), str(Path(tmp) / f"fold{number}.tar.gz"),
                             config, [rows[i][1] for i in test_indices]))
            rt.progress(f"{args.folds} folds of about {len(used) - len(folds[0])} training examples each"
                        f" ({settings['epochs']} epochs), {args.workers} at a time")
            for number, seconds, predicted, top in run_folds(jobs, args.workers):
                test_indices = folds[number - 1]
                predictions.update(zip(test_indices, predicted))
                top_predictions.update(zip(test_indices, top))
                gold = [rows[i][2] for i in test_indices]
                fold_scores = scores(gold, predicted)
                fold_info.append({"fold": number, "train_n": jobs[number - 1][1], "test_n": len(test_indices),
                                  "train_seconds": seconds, "accuracy": fold_scores["accuracy"],
                                  "macro_f1": fold_scores["macro_f1"]})
                rt.progress(f"fold {len(fold_info)}/{args.folds} done (fold {number}): accuracy"
                            f" {fold_scores['accuracy']:.3f}, trained in {seconds:.0f} s;"
                            f" elapsed {time.monotonic() - started:.0f} s")
        fold_info.sort(key=lambda f: f["fold"])
        per_locale = {}
        for locale in sorted({rows[i][0] for i in used}):
            indices = [i for i in used if rows[i][0] == locale]
            per_locale[locale] = scores([rows[i][2] for i in indices], [predictions[i] for i in indices])
            per_locale[locale]["accuracy_no_fallback"] = scores(
                [rows[i][2] for i in indices], [top_predictions[i] for i in indices])["accuracy"]
        result = {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "settings": settings,
            "examples": len(used),
            "of_examples": len(rows),
            "folds": fold_info,
            "locales": per_locale,
            "overall": scores([rows[i][2] for i in used], [predictions[i] for i in used]),
            "accuracy_no_fallback": scores([rows[i][2] for i in used], [top_predictions[i] for i in used])["accuracy"],
            "fold_accuracy_mean": statistics.mean(f["accuracy"] for f in fold_info),
            "fold_accuracy_sd": statistics.pstdev(f["accuracy"] for f in fold_info),
            "seconds": time.monotonic() - started,
        }
        rt.ANCHORS.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(result, indent=1))
        result["cached"] = False
    path = rt.write_result("nlu_cross_validation", result)

    s = result["settings"]
    print(f"{s['folds']}-fold cross-validation of the project pipeline ({result['date']}; {s['epochs']} epochs,"
          f" {result['examples']} of {result['of_examples']} examples)")
    print(f"{'locale':<8}{'n':>6}{'accuracy':>10}{'macro-F1':>10}{'OOS':>6}{'fallback':>10}{'acc w/o fallback':>18}")
    for locale, row in result["locales"].items():
        print(f"{locale:<8}{row['n']:>6}{row['accuracy']:>10.3f}{row['macro_f1']:>10.3f}{(row['oos_recall'] or 0):>6.2f}"
              f"{row['fallback_share']:>10.1%}{row.get('accuracy_no_fallback', 0):>18.3f}")
    print(f"fold accuracy {result['fold_accuracy_mean']:.3f} ± {result['fold_accuracy_sd']:.3f}; written to"
          f" {path.relative_to(rt.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
