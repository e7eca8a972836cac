#!/usr/bin/env python3
"""Build the rules-only Rasa assistant that the speed benchmark drives through Rasa's REST channel.

Run with Rasa's env: ``.venv-rasa/bin/python benchmarks/rest_anchor.py``.

The anchor answers every intent of ``intents/domain.yml`` with one response
(``benchmarks/anchors/rest_rules/``: domain with responses, one rule per
intent, RulePolicy only). Its NLU must be the project's, unchanged. Retraining
with ``rasa train`` does not give that cheaply: a full (NLU + core) training
enriches the NLU data with action names from the rules (Rasa's E2EImporter),
so the training-data fingerprint differs from ``rasa train nlu``'s and
``.rasa/cache`` misses; the whole DIET model would be trained again (about 8
minutes here). Instead this script trains the core part alone
(``rasa train core``, seconds) and combines it with the trained project NLU
model (``models/kyr-nlu.tar.gz``): the components of both archives go into one
model storage, described by the graph schema Rasa's recipe builds for a full
(NLU + core) training of the combined config. Node names match, so Rasa
loads it like any ``rasa train`` output. The NLU part is the same files;
``benchmarks/speed.py`` checks that both servers parse a sample of messages
identically (``--check`` here compares every held-out message in-process).

Output: ``models/anchors/rest-rules-<fingerprint>.tar.gz`` (reused while the
project model and the anchor files are unchanged); prints its path.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rasa_tools as rt  # noqa: E402

ANCHOR = rt.ROOT / "benchmarks" / "anchors" / "rest_rules"


def combined_config() -> dict:
    config = rt.load_config(rt.PROJECT_CONFIG)
    config["policies"] = rt.load_config(ANCHOR / "policies.yml")["policies"]
    config["assistant_id"] = "kyr-rest-anchor"
    return config


def check_intents() -> None:
    project = rt.load_config(rt.DOMAIN)["intents"]
    anchor = rt.load_config(ANCHOR / "domain.yml")["intents"]
    if sorted(project) != sorted(anchor):
        missing = sorted(set(project) ^ set(anchor))
        raise SystemExit(f"benchmarks/anchors/rest_rules/domain.yml is out of date with intents/domain.yml: {missing}")


def extract(archive: Path, into: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(into)
    return json.loads((into / "metadata.json").read_text())


def build(out: Path) -> None:
    from rasa.engine.recipes.recipe import Recipe
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.model_training import train_core
    from rasa.shared.core.domain import Domain
    from rasa.shared.data import TrainingType

    config = combined_config()
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    with tempfile.TemporaryDirectory(prefix="kyr-rest-anchor-") as tmp_name:
        tmp = Path(tmp_name)
        config_file = tmp / "config.yml"
        config_file.write_text(rt.yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
        rt.progress("training the rules (rasa train core, RulePolicy only)")
        with contextlib.redirect_stdout(sys.stderr):
            core_model = train_core(domain=str(ANCHOR / "domain.yml"), config=str(config_file),
                                    stories=str(ANCHOR / "data"), output=str(tmp), fixed_model_name="core")
        if not core_model:
            raise SystemExit("rasa train core failed")

        nlu_dir, core_dir, storage = tmp / "nlu", tmp / "core", tmp / "storage"
        extract(rt.PROJECT_MODEL, nlu_dir)
        extract(Path(core_model), core_dir)
        storage.mkdir()
        for source in (nlu_dir, core_dir):
            for resource in (source / "components").iterdir():
                if not (storage / resource.name).exists():
                    shutil.copytree(resource, storage / resource.name)

        recipe = Recipe.recipe_for_name(config.get("recipe"))
        model_configuration = recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH)
        needed = {node.resource.name for node in model_configuration.predict_schema.nodes.values() if node.resource}
        missing = sorted(name for name in needed if not (storage / name).exists())
        if missing:
            raise SystemExit(f"combined model lacks trained resources {missing}: node names differ between trainings")
        domain = Domain.load(str(ANCHOR / "domain.yml"))
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".partial")
        LocalModelStorage(storage).create_model_package(partial, model_configuration, domain)
        partial.replace(out)


def same_nlu(model: Path) -> tuple[int, int]:
    """Parse every held-out message with the project model and the anchor: (identical, total)."""
    texts = [text for folder in sorted(p for p in rt.TEST.iterdir() if p.is_dir()) for _, text, _ in rt.examples(folder)]
    results = []
    for path in (rt.PROJECT_MODEL, model):
        parser = rt.Parser(path)

        async def run(agent=parser.agent):
            out = []
            for text in texts:
                parsed = await agent.parse_message(text)
                out.append(((parsed.get("intent") or {}).get("name"), round((parsed.get("intent") or {}).get("confidence") or 0, 6)))
            return out

        results.append(parser.loop.run_until_complete(run()))
    identical = sum(a == b for a, b in zip(*results))
    return identical, len(texts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="load both models here and compare every held-out parse (slow: two model loads);"
                             " benchmarks/speed.py compares a sample through the two running servers anyway")
    args = parser.parse_args()
    rt.quiet_rasa()
    if not rt.PROJECT_MODEL.exists():
        raise SystemExit("no trained model: run `make train` first")
    check_intents()
    fingerprint = rt.files_fingerprint([rt.PROJECT_MODEL, ANCHOR], {"rasa": rt.rasa_version(),
                                                                    "script": Path(__file__).read_text()})[:16]
    out = rt.ANCHORS / f"rest-rules-{fingerprint}.tar.gz"
    info_file = out.with_name(out.name.replace(".tar.gz", ".json"))
    if out.exists() and info_file.exists():
        rt.progress(f"rules-only REST anchor from cache ({out.name})")
    else:
        start = time.monotonic()
        build(out)
        info = {"build_seconds": time.monotonic() - start}
        if args.check:
            rt.progress("checking that the anchor's NLU answers exactly like the project model")
            identical, total = same_nlu(out)
            info["identical_parses"] = [identical, total]
            if identical != total:
                out.unlink()
                raise SystemExit(f"the anchor's NLU differs from the project model on {total - identical} of {total}")
        info_file.write_text(json.dumps(info))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
