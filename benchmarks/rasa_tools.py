"""Helpers for the benchmarks that need Rasa itself (run with ``.venv-rasa/bin/python``).

Loads the training and held-out data with Rasa's own reader, trains NLU
models through the Rasa Python API with a cache under ``models/anchors/``
(keyed by a fingerprint of config, data, custom components and Rasa version,
so re-runs skip training), and evaluates a model per locale.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANCHORS = ROOT / "models" / "anchors"
RESULTS = ROOT / "results" / "bench"
PROJECT_CONFIG = ROOT / "intents" / "config.yml"
PROJECT_MODEL = ROOT / "models" / "kyr-nlu.tar.gz"
DATA = ROOT / "intents" / "data"
TEST = ROOT / "intents" / "test"
DOMAIN = ROOT / "intents" / "domain.yml"

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The custom tokenizer (intents/components) is imported by module path.
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

import yaml  # noqa: E402


def progress(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def quiet_rasa() -> None:
    for name in ("rasa", "tensorflow", "absl", "jieba", "sanic", "urllib3", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import jieba

        jieba.setLogLevel(logging.ERROR)
    except ImportError:
        pass
    try:  # Rasa 3.6 logs every parse through structlog at debug level
        import structlog

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    except ImportError:
        pass


def rasa_version() -> str:
    import rasa

    return rasa.__version__


def files_fingerprint(paths: list[Path], extra: object = None) -> str:
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()):
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    digest.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def load_config(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def with_epochs(config: dict, epochs: int | None) -> dict:
    """A copy of ``config`` whose trainable classifiers run ``epochs`` epochs (None: unchanged)."""
    config = copy.deepcopy(config)
    if epochs is not None:
        for component in config.get("pipeline") or []:
            if component.get("name") in ("DIETClassifier", "ResponseSelector"):
                component["epochs"] = epochs
    return config


def diet_epochs(config: dict) -> int:
    for component in config.get("pipeline") or []:
        if component.get("name") == "DIETClassifier":
            return int(component.get("epochs", 300))
    return 0


def load_training_data(path: Path):
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(path))


def examples(path: Path) -> list[tuple[str, str, str]]:
    """(locale, text, intent) for every intent example under ``path`` (locale = first sub-folder)."""
    rows = []
    for file in sorted(path.rglob("*.yml")):
        data = load_training_data(file)
        locale = file.relative_to(path).parts[0] if file.parent != path else path.name
        for message in data.intent_examples:
            rows.append((locale, message.get("text"), message.get("intent")))
    return rows


def train_nlu(config: dict, data_path: Path, out_path: Path) -> float:
    """Train an NLU model from ``config`` on ``data_path`` into ``out_path``; returns seconds.

    Rasa's shared training cache (``.rasa/cache``) is turned off for these
    trainings: it belongs to the project model, and anchor or fold models
    would only evict its entries.
    """
    from rasa.model_training import train_nlu as rasa_train_nlu

    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kyr-train-") as tmp:
        config_file = Path(tmp) / "config.yml"
        config_file.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
        start = time.monotonic()
        with contextlib.redirect_stdout(sys.stderr):
            result = rasa_train_nlu(
                config=str(config_file), nlu_data=str(data_path), output=tmp,
                fixed_model_name="model", domain=str(DOMAIN),
            )
        seconds = time.monotonic() - start
        if not result or not Path(result).exists():
            raise RuntimeError(f"training failed for {data_path}")
        tmp_out = out_path.with_suffix(".partial")
        shutil.copyfile(result, tmp_out)
        tmp_out.replace(out_path)
    return seconds


def cached_model(name: str, config: dict, data_path: Path = DATA) -> tuple[Path, dict]:
    """Train (or reuse) a model for ``config`` on ``data_path``; returns its path and training info."""
    fingerprint = files_fingerprint([data_path, DOMAIN, ROOT / "intents" / "components"],
                                    {"config": config, "rasa": rasa_version()})[:16]
    model = ANCHORS / f"{name}-{fingerprint}.tar.gz"
    info_file = model.with_name(model.name.replace(".tar.gz", ".json"))
    if model.exists() and info_file.exists():
        info = json.loads(info_file.read_text())
        info["cached"] = True
        return model, info
    epochs = diet_epochs(config)
    progress(f"training {name} ({epochs} epochs; nothing cached for this config and data)")
    seconds = train_nlu(config, data_path, model)
    info = {"train_seconds": seconds, "epochs": epochs, "trained_at": time.strftime("%Y-%m-%d %H:%M")}
    info_file.write_text(json.dumps(info))
    info["cached"] = False
    return model, info


class Parser:
    """A loaded NLU model that answers ``intent(text)`` in-process."""

    def __init__(self, model: Path):
        from rasa.core.agent import Agent

        start = time.monotonic()
        self.loop = asyncio.new_event_loop()
        self.agent = Agent.load(str(model))
        self.load_seconds = time.monotonic() - start

    def intents(self, texts: list[str]) -> tuple[list[str], float]:
        predicted, _, per_message = self.intents_and_top(texts)
        return predicted, per_message

    def intents_and_top(self, texts: list[str]) -> tuple[list[str], list[str], float]:
        """Predicted intents (``nlu_fallback`` when unsure), the best real intent, seconds per message."""
        async def run() -> tuple[list[str], list[str]]:
            out, top = [], []
            for text in texts:
                parsed = await self.agent.parse_message(text)
                out.append((parsed.get("intent") or {}).get("name") or "None")
                ranking = [r.get("name") for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
                top.append(ranking[0] if ranking else out[-1])
            return out, top

        start = time.monotonic()
        predicted, top = self.loop.run_until_complete(run())
        return predicted, top, (time.monotonic() - start) / max(1, len(texts))


def evaluate_heldout(model: Path) -> dict:
    """Per-locale scores of ``model`` on ``intents/test/<locale>/``.

    Cached under ``models/anchors/`` by the model file's hash, the test set and
    the metric code: loading a model costs minutes on a busy 2-core machine.
    """
    fingerprint = files_fingerprint([model, TEST, ROOT / "benchmarks" / "metrics.py"],
                                    {"rasa": rasa_version(), "version": 1})[:16]
    cache = ANCHORS / f"scores-{fingerprint}.json"
    if cache.exists():
        result = json.loads(cache.read_text())
        result["scores_cached"] = True
        return result
    result = _evaluate_heldout(model)
    ANCHORS.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result, ensure_ascii=False))
    result["scores_cached"] = False
    return result


def _evaluate_heldout(model: Path) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from metrics import scores

    parser = Parser(model)
    per_locale, all_gold, all_pred, misses = {}, [], [], []
    parse_seconds = []
    for folder in sorted(p for p in TEST.iterdir() if p.is_dir()):
        rows = examples(folder)
        texts = [text for _, text, _ in rows]
        gold = [intent for _, _, intent in rows]
        predicted, per_message = parser.intents(texts)
        parse_seconds.append(per_message)
        per_locale[folder.name] = scores(gold, predicted)
        all_gold += gold
        all_pred += predicted
        misses += [(folder.name, t, g, p) for t, g, p in zip(texts, gold, predicted) if g != p]
    return {
        "model": str(model.relative_to(ROOT)),
        "load_seconds": parser.load_seconds,
        "parse_ms": 1000 * sum(parse_seconds) / len(parse_seconds),
        "locales": per_locale,
        "overall": scores(all_gold, all_pred),
        "misses": misses,
    }


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    return path
