#!/usr/bin/env python3
"""Held-out understanding: this project's model vs. Rasa's default (``rasa init``) pipeline.

Run with Rasa's env: ``.venv-rasa/bin/python benchmarks/nlu_heldout.py``.

(a) the trained project model ``models/kyr-nlu.tar.gz`` (``make train``);
(b) Rasa 3.6's default NLU pipeline (``benchmarks/anchors/default_pipeline.yml``,
    copied from ``rasa/engine/recipes/config_files/default_config.yml``)
    trained on the same ``intents/data/``, cached under ``models/anchors/``.
Both are scored per locale on ``intents/test/<locale>/`` (never trained on):
intent accuracy, macro-F1 and out-of-scope recall (``benchmarks/metrics.py``).
Writes ``results/bench/nlu_heldout.json``.

``--default-epochs N`` trains (b) with N epochs instead of Rasa's 100 (the
run says so); ``--skip-default`` scores (a) only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rasa_tools as rt  # noqa: E402

DEFAULT_PIPELINE = rt.ROOT / "benchmarks" / "anchors" / "default_pipeline.yml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default-epochs", type=int, default=None,
                        help="epochs for the default pipeline's DIET/ResponseSelector (Rasa's default: 100)")
    parser.add_argument("--skip-default", action="store_true")
    parser.add_argument("--project-epochs", type=int, default=None,
                        help="also train the project pipeline with this many epochs (cached) and score it:"
                             " shows whether held-out accuracy has saturated (calibration, not in make bench)")
    args = parser.parse_args()
    rt.quiet_rasa()
    if not rt.PROJECT_MODEL.exists():
        raise SystemExit("no trained model: run `make train` first")

    result: dict = {"date": time.strftime("%Y-%m-%d %H:%M")}
    rt.progress("(a) scoring the project model on the held-out set")
    result["project"] = rt.evaluate_heldout(rt.PROJECT_MODEL)
    result["project"]["epochs"] = rt.diet_epochs(rt.load_config(rt.PROJECT_CONFIG))

    if not args.skip_default:
        config = rt.with_epochs(rt.load_config(DEFAULT_PIPELINE), args.default_epochs)
        model, info = rt.cached_model("default-pipeline", config)
        rt.progress(f"(b) default pipeline model {'from cache' if info['cached'] else 'trained'}"
                    f" ({info['epochs']} epochs, {info['train_seconds']:.0f} s to train); scoring it")
        result["default"] = rt.evaluate_heldout(model)
        result["default"].update(info)
    if args.project_epochs:
        config = rt.with_epochs(rt.load_config(rt.PROJECT_CONFIG), args.project_epochs)
        model, info = rt.cached_model("project-pipeline", config)
        rt.progress(f"(a') project pipeline at {args.project_epochs} epochs ({info['train_seconds']:.0f} s to train);"
                    " scoring it")
        result["project_short"] = rt.evaluate_heldout(model)
        result["project_short"].update(info)
    path = rt.write_result("nlu_heldout" if not args.project_epochs else "nlu_heldout_calibration", result)

    print(f"Held-out understanding ({result['date']})")
    print(f"{'locale':<8}{'n':>5}  {'(a) acc':>8}{'F1':>7}{'OOS':>6}  {'(b) acc':>8}{'F1':>7}{'OOS':>6}")
    for locale, a in result["project"]["locales"].items():
        b = result.get("default", {}).get("locales", {}).get(locale)
        line = f"{locale:<8}{a['n']:>5}  {a['accuracy']:>8.3f}{a['macro_f1']:>7.3f}{(a['oos_recall'] or 0):>6.2f}"
        if b:
            line += f"  {b['accuracy']:>8.3f}{b['macro_f1']:>7.3f}{(b['oos_recall'] or 0):>6.2f}"
        short = result.get("project_short", {}).get("locales", {}).get(locale)
        if short:
            line += f"  (a') {short['accuracy']:.3f} {short['macro_f1']:.3f}"
        print(line)
    print(f"written to {path.relative_to(rt.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
