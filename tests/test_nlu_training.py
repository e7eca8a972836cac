"""`make run` serves first and trains beside it (issue #22).

Against real parts: a Rasa server started with no model that gets the trained
model through ``PUT /model`` while the bot answers signed SMS; a training run
(``scripts/train.sh``) on a broken copy of ``intents/`` that fails at
validation while the previous model keeps answering; Rasa's own tqdm output
for the progress bar; the web chat's banner in Chromium.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from bot.clients import nlu_status
from bot.clients.nlu_status import TrainingStatus, read_status, write_status
from bot.clients.rasa_process import MODEL_PATH, loaded_model_file, start_rasa, stop, wait_until_up
from bot.clients.rasa_training import PHASES, Progress, TrainingRun, last_epoch_progress
from bot.nlu_updates import NluUpdater, TerminalBar
from tests.conftest import post_signed, sms_form, twiml_messages
from tests.test_browser_embed import browser  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
#: A held-out message (intents/test/en) about a detained relative without any of the fallback
#: keywords ("detained", "locator", ...): keywords cannot tell, the trained model can (0.99).
QUESTION = "ice picked up my cousin at the car wash, how do we locate him"
TOPIC = "family_detained"

# What Rasa 3.6 writes while DIET trains (tqdm redraws the bar with \r), from a real run.
RASA_OUTPUT = (
    "2026-12-07 07:48:23 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.\n"
    "\rEpochs:   0%|          | 0/20 [00:00<?, ?it/s]"
    "\rEpochs:   5%|\u258c         | 1/20 [00:30<09:36, 30.33s/it]"
    "\rEpochs:   5%|\u258c         | 1/20 [00:30<09:36, 30.33s/it, t_loss=5.97, i_acc=0.453, e_f1=0.0583]"
    "\rEpochs:  40%|\u2588\u2588\u2588\u2588      | 8/20 [02:03<03:05, 15.41s/it, t_loss=5.26, i_acc=0.98, e_f1=0.9]"
)


def port_in_range(first: int = 6400, last: int = 6499) -> int:
    """A free loopback port in this feature's range (the machine is shared)."""
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 6400-6499")


def wait_for(condition, timeout: float, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return condition()


# -- progress: read from Rasa's own output -------------------------------------------


def test_epoch_bar_is_read_from_rasa_output():
    epoch = last_epoch_progress(RASA_OUTPUT)
    assert (epoch.done, epoch.total, epoch.elapsed, epoch.remaining) == (8, 20, 123, 185)
    assert last_epoch_progress("Epochs:   0%|          | 0/20 [00:00<?, ?it/s]").remaining is None
    assert last_epoch_progress("Starting to train component 'DIETClassifier'.") is None


def test_progress_covers_the_whole_wait_and_uses_rasas_estimate():
    now = [0.0]
    expected = {"setup": 100.0, "prepare": 50.0, "epochs": 300.0, "save": 20.0, "load": 30.0}
    progress = Progress(PHASES, expected, clock=lambda: now[0])
    assert progress.seconds_left() == 500 and progress.percent() == 0
    now[0] = 100.0
    progress.enter("prepare")
    assert progress.percent() == 20  # 100 s of 500
    now[0] = 150.0
    progress.saw_epochs(last_epoch_progress(RASA_OUTPUT))
    # tqdm says 185 s left for DIET, then saving and loading: 235 s.
    assert progress.seconds_left() == 185 + 20 + 30
    assert progress.step() == "epoch 8/20"
    assert progress.percent() == int(100 * 150 / (150 + 235))
    now[0] = 400.0
    progress.saw_epochs(last_epoch_progress("Epochs: 100%|##########| 20/20 [04:10<00:00, 12.5s/it]"))
    assert progress.phase == "save" and progress.measured["epochs"] == 250.0
    now[0] = 2000.0  # far later than expected: never 100 % (or a negative time) before it is done
    assert 95 <= progress.percent() <= 99 and progress.seconds_left() > 0


def test_training_keeps_rasas_epoch_bar_on_whatever_the_bots_log_level(tmp_path, monkeypatch):
    """Rasa reads LOG_LEVEL too; the bot's LOG_LEVEL=WARNING would hide the bar the progress comes from."""
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    env = TrainingRun(tmp_path / "intents", tmp_path / "model.tar.gz", tmp_path / "train.log")._env()
    assert env["LOG_LEVEL"] == "INFO" and env["PYTHONUNBUFFERED"] == "1"
    assert (env["INTENTS_DIR"], env["TRAIN_LOG"]) == (str(tmp_path / "intents"), str(tmp_path / "train.log"))


def test_make_run_and_make_train_agree_when_the_model_is_up_to_date(tmp_path):
    """The fingerprint hashes "intents/..." however INTENTS_DIR is written: an absolute path (make run)
    must not retrain what make train trained; a change in the data must."""
    def fingerprint(intents: str, cwd: Path = ROOT) -> str:
        env = {"PATH": "/usr/bin:/bin", "INTENTS_DIR": intents}
        return subprocess.run(["bash", str(ROOT / "scripts" / "train.sh"), "--fingerprint"], cwd=cwd, env=env,
                              capture_output=True, text=True, check=True).stdout.strip()

    copy = tmp_path / "elsewhere" / "intents"
    shutil.copytree(ROOT / "intents", copy, ignore=shutil.ignore_patterns("__pycache__"))
    default = fingerprint("intents")
    assert len(default) == 64
    assert fingerprint(str(ROOT / "intents"), cwd=tmp_path) == default == fingerprint(str(copy))
    (copy / "data" / "en" / "conversation.yml").write_text((copy / "data" / "en" / "conversation.yml").read_text() + "\n")
    assert fingerprint(str(copy)) != default


def test_status_file_is_ignored_when_stale_or_broken(tmp_path):
    path = tmp_path / "nlu-status.json"
    assert read_status(path) is None
    write_status(path, TrainingStatus(nlu_status.TRAINING, 40, 330.0, "epoch 8/20"))
    status = read_status(path)
    assert (status.state, status.percent, status.minutes_left, status.keyword_mode) == ("training", 40, 6, True)
    assert read_status(path, now=time.time() + nlu_status.STALE_SECONDS + 1) is None  # make run was killed
    path.write_text("{not json")
    assert read_status(path) is None
    path.write_text(json.dumps({"state": "exploded", "updated": time.time()}))
    assert read_status(path) is None


def test_make_run_serves_without_training_and_make_test_still_trains():
    """`make run` needs only the app's env; `make test` (and CI) trains the full model first."""
    run = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "bot.stack run" in run
    assert "train.sh" not in run and ".venv-rasa" not in run
    tests = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "scripts/train.sh" in tests


# -- the swap: keywords before, the model after, nothing dropped between -------------------


@pytest.fixture(scope="module")
def rasa_without_model(tmp_path_factory):
    """A Rasa server started as `make run` starts it on a fresh machine: no model yet."""
    if not MODEL_PATH.exists():
        pytest.fail(f"{MODEL_PATH} is missing: make test trains it first")
    port = port_in_range()
    process = start_rasa(port, tmp_path_factory.mktemp("rasa-swap") / "rasa.log", model=None)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, timeout=300)
        yield url
    finally:
        stop(process)


def test_keywords_before_the_swap_the_model_after(make_app, rasa_without_model, tmp_path, unused_lines):
    status_file = tmp_path / "nlu-status.json"
    app = make_app(RASA_URL=rasa_without_model, NLU_STATUS_FILE=str(status_file))
    client = app.test_client()
    content = app.extensions["kyr"].content
    topic_answer = content.text(f"{TOPIC}.first", "en")[:40]
    assert loaded_model_file(rasa_without_model) is None

    # Before: Rasa is up without a model, so the bot answers from keywords, which do not know this one.
    before = " ".join(twiml_messages(post_signed(client, sms_form(f"+1312555{next(unused_lines):04d}", QUESTION)).data))
    assert topic_answer not in before
    assert content.text("system.not_understood", "en") in before

    bar = io.StringIO()
    updater = NluUpdater(rasa_without_model, 0, status_file, run_dir=tmp_path, model=MODEL_PATH,
                         intents_dir=ROOT / "intents", bar=TerminalBar(stream=bar))
    if TrainingRun(ROOT / "intents", MODEL_PATH, tmp_path / "t.log").needed():
        pytest.fail("models/kyr-nlu.tar.gz is not up to date with intents/ (run make train)")
    answered, stop_sending = [], threading.Event()

    def keep_texting():
        """Messages during the swap: each must be answered, none later than the keyword fallback allows."""
        sender = app.test_client()
        while not stop_sending.is_set():
            start = time.monotonic()
            response = post_signed(sender, sms_form(f"+1312555{next(unused_lines):04d}", QUESTION))
            answered.append((response.status_code, time.monotonic() - start, twiml_messages(response.data)))
            time.sleep(0.3)

    updater.start()
    texter = threading.Thread(target=keep_texting, daemon=True)
    texter.start()
    try:
        # While the model loads: /healthz says training, the banner says so in the visitor's language.
        training = wait_for(lambda: client.get("/healthz").json["nlu"] == "training", 30)
        banner = client.get("/api/nlu-status?lang=es").json
        assert training and banner["nlu"] == "training"
        assert banner["notice"].startswith("La comprensión del bot todavía se está entrenando")
        assert wait_for(lambda: read_status(status_file).state == nlu_status.READY, 300, every=1)
    finally:
        stop_sending.set()
        texter.join(30)
        updater.stop()  # an external Rasa: the updater leaves it running

    # After: the same question gets the model's answer; the banner is gone; /healthz says ready.
    after = " ".join(twiml_messages(post_signed(client, sms_form(f"+1312555{next(unused_lines):04d}", QUESTION)).data))
    assert topic_answer in after
    assert loaded_model_file(rasa_without_model) == MODEL_PATH.name
    health = client.get("/healthz").json
    assert (health["nlu"], health["rasa"]) == ("ready", "ok")
    assert client.get("/api/nlu-status?lang=es").json["notice"] is None
    assert "understanding ready" in bar.getvalue()
    # Nothing dropped while the model loaded: every message had an answer, within the fallback's budget.
    assert len(answered) >= 3
    assert all(status == 200 and messages and elapsed < 2.5 for status, elapsed, messages in answered)


# -- a failed training keeps the old model ---------------------------------------------------


def test_failed_training_keeps_the_previous_model_and_says_why(tmp_path):
    """`make run` after a broken edit under intents/: the old model answers, the status and terminal say why."""
    intents = tmp_path / "intents"
    shutil.copytree(ROOT / "intents", intents, ignore=shutil.ignore_patterns("__pycache__"))
    broken = intents / "data" / "en" / "conversation.yml"
    broken.write_text(broken.read_text() + "\n- intent: [broken\n  examples: |\n")
    model = tmp_path / "models" / "kyr-nlu.tar.gz"
    model.parent.mkdir()
    shutil.copy(MODEL_PATH, model)
    before = model.stat()
    status_file = tmp_path / "nlu-status.json"
    port = port_in_range()
    url = f"http://127.0.0.1:{port}"
    bar = io.StringIO()
    updater = NluUpdater(url, port, status_file, run_dir=tmp_path / "run", model=model, intents_dir=intents,
                         bar=TerminalBar(stream=bar))
    updater.start()
    try:
        failed = wait_for(lambda: (read_status(status_file) or TrainingStatus("")).state == nlu_status.FAILED, 180)
        assert failed, bar.getvalue()
        status = read_status(status_file)
        assert "YamlSyntaxException" in status.reason and "conversation.yml" in status.reason
        assert "rasa data validate failed" in status.reason
        assert not status.keyword_mode  # no banner: the previous model answers
        assert "training failed, the previous model still answers" in bar.getvalue()
        assert "YamlSyntaxException" in bar.getvalue()
        # The model file is untouched and the Rasa that make run started serves it.
        assert model.stat().st_mtime_ns == before.st_mtime_ns and model.stat().st_size == before.st_size
        assert wait_for(lambda: loaded_model_file(url) == model.name, 300, every=2)
        parsed = requests.post(f"{url}/model/parse", json={"text": QUESTION}, timeout=10).json()
        assert parsed["intent"]["name"] == TOPIC
    finally:
        updater.stop()
    assert updater.rasa.poll() is not None  # stop() ends the Rasa it started
    assert not status_file.exists()


# -- the web chat's banner, in Chromium ------------------------------------------------------


@pytest.fixture
def chat_while_training(make_app, dead_url, tmp_path):
    """The web chat served for real while make run trains the first model (Rasa not answering yet)."""
    from tests.conftest import serve

    status_file = tmp_path / "nlu-status.json"
    app = make_app(RASA_URL=dead_url, NLU_STATUS_FILE=str(status_file), PUBLIC_URL=None)
    for base in serve(app):
        yield app, base, status_file


def test_web_chat_shows_the_training_banner_then_hides_it(browser, chat_while_training):
    app, base, status_file = chat_while_training
    content = app.extensions["kyr"].content
    write_status(status_file, TrainingStatus(nlu_status.TRAINING, 40, 330.0, "epoch 8/20"))
    page = browser.new_page(locale="fr-FR")
    page.goto(base + "/")
    banner = page.locator("#nlu-notice")
    banner.wait_for(state="visible", timeout=10000)
    expected = content.text("system.nlu_training", "fr", {"percent": "40", "minutes": "6"})
    assert banner.inner_text() == expected and banner.get_attribute("lang") == "fr"
    # The chat answers meanwhile, from keywords.
    page.fill("#message", "mon frère a un hold de l'ICE à la prison")
    page.click("#composer button[type=submit]")
    answer = page.locator("li.bot").first
    answer.wait_for(timeout=15000)
    lang = page.locator("html").get_attribute("lang")
    assert content.text("detainer.first", lang)[:30] in answer.inner_text()
    # The phone simulator shows it too (its page is in English).
    simulator = browser.new_page()
    simulator.goto(base + "/simulator")
    simulator_banner = simulator.locator("#nlu-notice")
    simulator_banner.wait_for(state="visible", timeout=10000)
    assert simulator_banner.inner_text() == content.text("system.nlu_training", "en", {"percent": "40", "minutes": "6"})
    # The model is loaded: the banners go away at the next poll, without a reload.
    write_status(status_file, TrainingStatus(nlu_status.READY, 100))
    banner.wait_for(state="hidden", timeout=12000)
    simulator_banner.wait_for(state="hidden", timeout=12000)


# -- the terminal: make run's progress bar, make chat's notice -------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_redraws_in_place_on_a_terminal_and_prints_tens_in_a_log():
    status = TrainingStatus(nlu_status.TRAINING, 40, 330.0, "epoch 8/20")
    terminal = FakeTerminal()
    TerminalBar(stream=terminal).draw(status)
    assert terminal.getvalue().startswith("\r==> understanding: [#########...............]  40%  epoch 8/20  about 6 min left")
    log = io.StringIO()
    bar = TerminalBar(stream=log)
    for percent in (40, 41, 49, 50):
        bar.draw(TrainingStatus(nlu_status.TRAINING, percent, 330.0, "epoch 8/20"))
    assert [line.split("]")[1].split("%")[0].strip() for line in log.getvalue().splitlines()] == ["40", "50"]


def test_terminal_chat_says_understanding_is_training(make_app, dead_url, tmp_path):
    status_file = tmp_path / "nlu-status.json"
    app = make_app(RASA_URL=dead_url, NLU_STATUS_FILE=str(status_file))
    write_status(status_file, TrainingStatus(nlu_status.TRAINING, 40, 330.0, "epoch 8/20"))
    content = app.extensions["kyr"].content
    output = app.test_cli_runner().invoke(args=["chat"], input="hola, mi hermano tiene un hold de ICE\nquit\n").output
    assert "(" + content.text("system.nlu_training", "en", {"percent": "40", "minutes": "6"}) + ")" in output
    assert "(" + content.text("system.nlu_training", "es", {"percent": "40", "minutes": "6"}) + ")" in output
    write_status(status_file, TrainingStatus(nlu_status.READY, 100))
    output = app.test_cli_runner().invoke(args=["chat"], input="hello\nquit\n").output
    assert "training" not in output and "(Rasa is not answering: keyword fallback)" in output
