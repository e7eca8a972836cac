#!/usr/bin/env python3
"""``make bench``: run every benchmark against its anchors and print one table.

Each benchmark is its own script (run in the env it needs) and writes JSON to
``results/bench/``; this script runs them in order, shows a progress line per
step with the elapsed time, and prints the table. Steps, with what they took
on 2 idle cores on 2026-11-28 (13.9 minutes in all, nothing cached):

  sms      benchmarks/sms_cost.py              app env   1 s
  lang     benchmarks/language_detection.py    app env   2 s (before/after issue 17, lingua from the dev env)
  tfidf    benchmarks/tfidf_baseline.py        app env   12 s
  heldout  benchmarks/nlu_heldout.py           Rasa env  (a) scored 43 s; (b) trained 246 s at 10 epochs, scored
  topics   benchmarks/topics_before_after.py   Rasa env  the model before the hotline topics: trained once (~8 min), cached
  cv       benchmarks/nlu_cross_validation.py  Rasa env  5 trainings of (a) on 20% of the data, 10 epochs: 341 s
  anchor   benchmarks/rest_anchor.py           Rasa env  rules-only assistant, core training only: 11 s
  speed    benchmarks/speed.py                 app env   two Rasa servers, one after the other: 2.5 min;
                                                         the webhook before issue 17 runs beside today's

Budget knobs (environment): BENCH_DEFAULT_EPOCHS (epochs for Rasa's default
pipeline, Rasa's own default is 100), BENCH_CV_EPOCHS and BENCH_CV_FRACTION
(cross-validation epochs and stratified share of the data), BENCH_LOAD_SCALE
(multiplies the request counts), BENCH_STEPS (comma list, default all).
Anchor models and CV results are cached under ``models/anchors/`` by a
fingerprint of config and data, so a re-run with nothing changed skips the
trainings; the table says when a number came from the cache.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "bench"
APP_PY = ROOT / ".venv" / "bin" / "python"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"

DEFAULT_EPOCHS = int(os.environ.get("BENCH_DEFAULT_EPOCHS") or 10)
CV_EPOCHS = int(os.environ.get("BENCH_CV_EPOCHS") or 10)
CV_FRACTION = float(os.environ.get("BENCH_CV_FRACTION") or 0.2)
LOAD_SCALE = float(os.environ.get("BENCH_LOAD_SCALE") or 1.0)
#: The code before issue 17 (lingua, the zipcodes database in every worker): its webhook runs beside
#: today's in the speed step, so before and after come from the same run on the same machine.
BEFORE_REVISION = "a1eb338"
STEPS = [s.strip() for s in (os.environ.get("BENCH_STEPS") or "sms,lang,tfidf,heldout,topics,waiting,cv,anchor,speed").split(",")]

START = time.monotonic()


def elapsed() -> str:
    seconds = int(time.monotonic() - START)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def step(name: str, command: list[str], number: int, total: int) -> tuple[int, str]:
    """Run one benchmark; pass its progress lines through; keep its output in results/bench/logs/."""
    print(f"==> [{elapsed()}] step {number}/{total}: {name}", flush=True)
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    started = time.monotonic()
    env = dict(os.environ, PYTHONUNBUFFERED="1", RASA_TELEMETRY_ENABLED="false",
               SQLALCHEMY_SILENCE_UBER_WARNING="1", TF_CPP_MIN_LOG_LEVEL="2")
    stdout_lines = []
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace")
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            stdout_lines.append(line)
            last = line.split("\r")[-1]  # progress bars end their updates with \r, not a newline
            if last.startswith("  ["):
                print(f"    {last.strip()}  (elapsed {elapsed()})", flush=True)
        code = process.wait()
    print(f"    done in {time.monotonic() - started:.0f} s (exit {code}; log {log_path.relative_to(ROOT)})", flush=True)
    return code, "".join(stdout_lines)


def before_checkout() -> Path | None:
    """The tree at BEFORE_REVISION (git archive, cached under models/anchors/), or None without git."""
    path = ROOT / "models" / "anchors" / f"code-{BEFORE_REVISION}"
    if (path / "webhook.py").exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    try:
        archive = subprocess.run(["git", "archive", BEFORE_REVISION], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(path)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return path if (path / "webhook.py").exists() else None


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        mem = "? GB RAM"
    return f"{os.cpu_count()} CPUs ({cpu}, {platform.machine()}), {mem}"


def train_time() -> dict | None:
    """How long the last `make train` took, from models/ (validate log written before training, model after)."""
    model, validate, log = ROOT / "models" / "kyr-nlu.tar.gz", ROOT / "models" / "validate.log", ROOT / "models" / "train.log"
    if not (model.exists() and validate.exists()):
        return None
    out = {"seconds": model.stat().st_mtime - validate.stat().st_mtime}
    if log.exists():
        text = log.read_text(errors="replace")
        stamps = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) INFO .*(Starting|Finished) to train component 'DIETClassifier'"
                            r"|^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) INFO .*(Starting|Finished) training component 'DIETClassifier'",
                            text, re.M)
        times = [datetime.strptime(a or c, "%Y-%m-%d %H:%M:%S") for a, _b, c, _d in stamps]
        epochs = re.findall(r"Epochs: 100%\|[^|]*\| (\d+)/\d+", text.replace("\r", "\n"))
        if len(times) >= 2 and epochs:
            diet = (times[-1] - times[0]).total_seconds()
            out.update(diet_seconds=diet, epochs=int(epochs[-1]), seconds_per_epoch=diet / int(epochs[-1]))
    return out


def fmt(value, spec: str = ".3f") -> str:
    """``format(value, spec)``, or a dash of the same width when there is no value."""
    if value is None:
        width = re.match(r"[+ ]?(\d*)", spec).group(1)
        return "-".rjust(int(width) if width else 1)
    return format(value, spec)


def table(total_seconds: float, failures: list[str]) -> str:
    lines = []
    add = lines.append
    heldout, cv, tfidf = load("nlu_heldout") or {}, load("nlu_cross_validation") or {}, load("tfidf") or {}
    speed, sms = load("speed") or {}, load("sms_cost") or {}
    project, default = heldout.get("project") or {}, heldout.get("default") or {}
    add(f"make bench: {time.strftime('%Y-%m-%d %H:%M')}, {machine()}; took {total_seconds / 60:.1f} min"
        + (f"; FAILED steps: {', '.join(failures)}" if failures else ""))
    add("")
    add("1. UNDERSTANDING on the held-out set intents/test/<locale>/ (never trained on): accuracy / macro-F1 / out-of-scope recall")
    b_note = (f"{default.get('epochs')} ep{' cached' if default.get('cached') else ''}" if default else "not run")
    cv_set = cv.get("settings") or {}
    cv_note = (f"{cv_set.get('epochs')} ep, {cv_set.get('fraction', 1):.0%} data{' cached' if cv.get('cached') else ''}"
               if cv else "not run")
    add(f"{'':<7}{'':>4} | {'(a) this project':^18} | {'(b) Rasa default':^18} | {'(c) TF-IDF + LR':^18} | "
        f"{'a-b':>6} {'a-c':>6} | {'(a) 5-fold CV':^13}")
    add(f"{'locale':<7}{'n':>4} | {'acc':>6}{'F1':>6}{'OOS':>6} | {'acc':>6}{'F1':>6}{'OOS':>6} | {'acc':>6}{'F1':>6}{'OOS':>6} | "
        f"{'acc':>6} {'acc':>6} | {'acc':>6}{'F1':>7}")
    add(f"{'':<7}{'':>4} | {str(project.get('epochs', '?')) + ' epochs':^18} | {b_note:^18} | {'':^18} | "
        f"{'':>6} {'':>6} | {cv_note:^13}")
    locales = list((project.get("locales") or tfidf.get("locales") or {}).keys())
    for locale in locales:
        a = (project.get("locales") or {}).get(locale) or {}
        b = (default.get("locales") or {}).get(locale) or {}
        c = (tfidf.get("locales") or {}).get(locale) or {}
        k = (cv.get("locales") or {}).get(locale) or {}
        diff_b = a["accuracy"] - b["accuracy"] if a and b else None
        diff_c = a["accuracy"] - c["accuracy"] if a and c else None
        add(f"{locale:<7}{a.get('n', c.get('n', 0)):>4} | {fmt(a.get('accuracy'), '6.3f')}{fmt(a.get('macro_f1'), '6.3f')}"
            f"{fmt(a.get('oos_recall'), '6.2f')} | {fmt(b.get('accuracy'), '6.3f')}{fmt(b.get('macro_f1'), '6.3f')}"
            f"{fmt(b.get('oos_recall'), '6.2f')} | {fmt(c.get('accuracy'), '6.3f')}{fmt(c.get('macro_f1'), '6.3f')}"
            f"{fmt(c.get('oos_recall'), '6.2f')} | {fmt(diff_b, '+6.3f')} {fmt(diff_c, '+6.3f')} | "
            f"{fmt(k.get('accuracy'), '6.3f')}{fmt(k.get('macro_f1'), '7.3f')}")
    if project.get("overall"):
        a, b = project["overall"], default.get("overall") or {}
        add(f"{'all':<7}{a['n']:>4} | {a['accuracy']:6.3f}{a['macro_f1']:6.3f}{fmt(a.get('oos_recall'), '6.2f')} | "
            f"{fmt(b.get('accuracy'), '6.3f')}{fmt(b.get('macro_f1'), '6.3f')}{fmt(b.get('oos_recall'), '6.2f')} | "
            f"{'':>18} | {'':>6} {'':>6} | {fmt((cv.get('overall') or {}).get('accuracy'), '6.3f')}"
            f"{fmt((cv.get('overall') or {}).get('macro_f1'), '7.3f')}")
    if project.get("locales"):
        def wrong(result: dict) -> str:
            counts = [row.get("wrong") for row in (result.get("locales") or {}).values()]
            return str(sum(counts)) if counts and None not in counts else "-"

        add(f"  wrong topic (a confident, wrong intent; other misses get the menu), of"
            f" {(project.get('overall') or {}).get('n', '?')}: (a) {wrong(project)}, (b) {wrong(default)},"
            f" (c) {wrong(tfidf)}")
    if cv:
        add(f"  CV: {cv_set.get('folds')} folds stratified by locale+intent over {cv.get('examples')} of "
            f"{cv.get('of_examples')} unique training examples; fold accuracy {cv['fold_accuracy_mean']:.3f} "
            f"± {cv['fold_accuracy_sd']:.3f}; trainings {sum(f['train_seconds'] for f in cv['folds']):.0f} s;"
            f" {cv['overall']['fallback_share']:.0%} answered nlu_fallback, accuracy of the best intent"
            f" ignoring the fallback {fmt(cv.get('accuracy_no_fallback'), '.3f')}")
    if default:
        add(f"  (b) trained in {default.get('train_seconds', 0):.0f} s ({default.get('epochs')} epochs"
            f"{', Rasa default is 100' if default.get('epochs') != 100 else ''}); in-process parse "
            f"{default.get('parse_ms', 0):.1f} ms vs (a) {project.get('parse_ms', 0):.1f} ms")
    topics = load("topics") or {}
    if topics.get("after"):
        add("")
        add(f"1b. NEW TOPICS (issue 14): held-out accuracy and wrong topics, model before ({topics['before_revision']})"
            " vs after")
        add(f"{'locale':<7}{'n':>5} | {'acc before':>10}{'after':>7} | {'wrong before':>12}{'after':>7} | "
            f"{'old-topic wrong before':>22}{'after':>7}")
        n = sum(r["n"] for r in topics["after"].values())
        for locale, a in topics["after"].items():
            b = topics["before"].get(locale) or {}
            add(f"{locale:<7}{a['n']:>5} | {fmt(b.get('accuracy'), '10.3f')}{a['accuracy']:>7.3f} | "
                f"{fmt(b.get('wrong'), '12d')}{a['wrong']:>7} | {fmt(b.get('old_topic_wrong'), '22d')}"
                f"{a['old_topic_wrong']:>7}")
        wrong_before = sum((topics["before"].get(k) or {}).get("wrong", 0) for k in topics["after"])
        wrong_after = sum(r["wrong"] for r in topics["after"].values())
        add(f"  wrong topics overall: {wrong_before} ({wrong_before / max(1, n):.1%}) before, "
            f"{wrong_after} ({wrong_after / max(1, n):.1%}) after, of {n} held-out messages (goal: 2% or less)")
    waiting = load("waiting") or {}
    if waiting.get("rows"):
        add("")
        add(f"1c. WAITING FOR A PERSON (issue 21): {waiting['numbers']} numbers x {waiting['messages']} held-out messages,"
            f" concurrency {waiting['concurrency']}, handoff on, nobody claiming")
        add(f"  {'code':<22}{'deliveries':>11}{'empty':>7}{'empty after STOP':>18}{'errors':>8}{'left waiting':>14}")
        for name, counts in waiting["rows"]:
            add(f"  {name:<22}{counts['deliveries']:>11}{counts['empty']:>7}{counts['empty_after_stop']:>18}"
                f"{counts['errors']:>8}{counts['waiting']:>14}")
    language = load("language") or {}
    if language.get("after"):
        add("")
        add(f"1d. LANGUAGE (issue 17): before = lingua + marker words ({language.get('before_revision')}), after = model from"
            " intents/data")
        add(f"  {'locale':<7}| first messages of 3+ words in the writer's language | NLU held-out: right / wrong (would switch)")
        add(f"  {'':<7}| {'n':>4}{'before':>9}{'after':>9} {'short n':>8}{'before':>8}{'after':>7} |"
            f" {'n':>5}{'right b':>9}{'after':>7}{'wrong b':>9}{'after':>7}")
        before = language.get("before") or {}
        for locale, a in language["after"]["first"].items():
            b = (before.get("first") or {}).get(locale) or {}
            ah, bh = language["after"]["heldout"][locale], (before.get("heldout") or {}).get(locale) or {}
            share = lambda part, whole: part / whole if whole else None  # noqa: E731
            add(f"  {locale:<7}| {a['n_long']:>4}{fmt(share(b.get('long_right', 0), b.get('n_long')), '9.1%')}"
                f"{fmt(share(a['long_right'], a['n_long']), '9.1%')} {a['n_short']:>8}"
                f"{fmt(share(b.get('short_right', 0), b.get('n_short')), '8.1%')}{fmt(share(a['short_right'], a['n_short']), '7.1%')} |"
                f" {ah['n']:>5}{fmt(share(bh.get('right', 0), bh.get('n')), '9.1%')}{fmt(share(ah['right'], ah['n']), '7.1%')}"
                f"{fmt(share(bh.get('wrong', 0), bh.get('n')), '9.1%')}{fmt(share(ah['wrong'], ah['n']), '7.1%')}")
        if language.get("before_missing"):
            add(f"  (no before column: {language['before_missing']})")
    add("")
    add("2. SPEED: signed POST /sms (this stack) vs Rasa's REST channel (rules-only assistant, same NLU model), same messages")
    add(f"{'conc':>4} | {'/sms p50':>8}{'p95':>6}{'p99':>6}{'msg/s':>7}{'fail':>5} | {'REST p50':>8}{'p95':>6}{'p99':>6}"
        f"{'msg/s':>7}{'fail':>5} | {'throughput /sms:REST':>20}{'p50 /sms:REST':>14} | {'NLU parse alone p50':>19}{'msg/s':>7}"
        f" | {'/sms:parse':>10}")
    sms_rows = {r["concurrency"]: r for r in (speed.get("sms") or {}).get("rows", [])}
    rest_rows = {r["concurrency"]: r for r in (speed.get("rest") or {}).get("rows", [])}
    parse_rows = {r["concurrency"]: r for r in (speed.get("parse") or {}).get("rows", [])}
    for conc in sorted(set(sms_rows) | set(rest_rows)):
        s, r, p = sms_rows.get(conc, {}), rest_rows.get(conc, {}), parse_rows.get(conc, {})
        ratio = s["throughput"] / r["throughput"] if s and r else None
        lat = s["p50_ms"] / r["p50_ms"] if s and r else None
        add(f"{conc:>4} | {fmt(s.get('p50_ms'), '8.0f')}{fmt(s.get('p95_ms'), '6.0f')}{fmt(s.get('p99_ms'), '6.0f')}"
            f"{fmt(s.get('throughput'), '7.1f')}{fmt(s.get('failures'), '5d')} | {fmt(r.get('p50_ms'), '8.0f')}"
            f"{fmt(r.get('p95_ms'), '6.0f')}{fmt(r.get('p99_ms'), '6.0f')}{fmt(r.get('throughput'), '7.1f')}"
            f"{fmt(r.get('failures'), '5d')} | {fmt(ratio, '20.2f')}{fmt(lat, '14.2f')} | "
            f"{fmt(p.get('p50_ms'), '19.0f')}{fmt(p.get('throughput'), '7.1f')}"
            f" | {fmt(s['throughput'] / p['throughput'] if s and p else None, '10.2f')}")
    before_rows = {r["concurrency"]: r for r in (speed.get("sms_before") or {}).get("rows", [])}
    if before_rows:
        add(f"  before ({speed.get('before_revision')}, lingua, no --preload), beside it in the same rounds: /sms msg/s"
            + "".join(f"  c={c} {r['throughput']:.1f} (p50 {r['p50_ms']:.0f} ms, /sms:parse "
                      f"{fmt(r['throughput'] / parse_rows[c]['throughput'] if c in parse_rows else None, '.2f')})"
                      for c, r in sorted(before_rows.items())))
    if speed.get("same_nlu"):
        same, total = speed["same_nlu"]
        add(f"  same NLU check: {same} of {total} messages got identical intent and confidence from both Rasa servers")
    if speed.get("sms"):
        add(f"  /sms: gunicorn {speed.get('workers')} workers x {speed.get('threads')} threads + Redis + Rasa NLU server;"
            f" {speed['sms'].get('rasa_timeouts', 0)} Rasa timeouts (answered by keywords) of "
            f"{speed['sms'].get('answered', 0)} answers")
    add("")
    add("3. MEMORY (RSS after the load) AND START-UP")
    sm, rs, tt = speed.get("sms") or {}, speed.get("rest") or {}, train_time()
    workers = sm.get("webhook_worker_rss_mb") or []
    if sm:
        add(f"  webhook: {len(workers)} workers {' + '.join(f'{w:.0f}' for w in workers)} MB + master "
            f"{sm.get('webhook_master_rss_mb', 0):.0f} MB; Rasa NLU server {sm.get('rasa_rss_mb', 0):.0f} MB "
            f"(idle {sm.get('rasa_rss_idle_mb', 0):.0f}); Redis {sm.get('redis_rss_mb', 0):.0f} MB; stack total "
            f"{sum(workers) + sm.get('webhook_master_rss_mb', 0) + sm.get('rasa_rss_mb', 0) + sm.get('redis_rss_mb', 0):.0f} MB")
    for number, memory in enumerate((speed.get("sms_before") or {}).get("webhook_worker_memory_mb") or [], start=1):
        add(f"  before: webhook worker {number}: RSS {memory['rss']:.0f} MB, PSS {memory['pss']:.0f} MB,"
            f" private {memory['uss']:.0f} MB")
    for number, memory in enumerate(sm.get("webhook_worker_memory_mb") or [], start=1):
        add(f"  webhook worker {number} (gunicorn --preload): RSS {memory['rss']:.0f} MB (target 120), PSS {memory['pss']:.0f} MB,"
            f" private {memory['uss']:.0f} MB")
    if rs:
        add(f"  Rasa rules-only REST server: {rs.get('rss_mb', 0):.0f} MB (idle {rs.get('rss_idle_mb', 0):.0f})")
    if sm:
        add(f"  start to first answer: Rasa NLU server {sm.get('rasa_first_answer_s', 0):.1f} s, then webhook "
            f"{sm.get('webhook_first_answer_s', 0):.1f} s (stack {sm.get('rasa_first_answer_s', 0) + sm.get('webhook_first_answer_s', 0):.1f} s);"
            f" Rasa REST server {rs.get('first_answer_s', 0):.1f} s")
    if tt:
        extra = (f"; DIET {tt['epochs']} epochs in {tt['diet_seconds']:.0f} s = {tt['seconds_per_epoch']:.1f} s/epoch"
                 if "epochs" in tt else "")
        add(f"  time to train the project model (last make train): {tt['seconds'] / 60:.1f} min{extra}")
    add("")
    add("4. SMS COST: segments per reply, worst case with the longest local organization name")
    add(f"{'locale':<7}{'encoding':<10}{'first mean':>11}{'max':>5}{'MORE mean':>11}{'max':>5}")
    for lang, row in (sms.get("locales") or {}).items():
        add(f"{lang:<7}{row['encoding']:<10}{row['first_mean']:>11.2f}{row['first_max']:>5}{row['more_mean']:>11.2f}"
            f"{row['more_max']:>5}")
    if sms.get("problems"):
        add(f"  {sms['problems']} content problem(s) reported by make check-content at the time of the run")
    return "\n".join(lines)


def main() -> int:
    if not (ROOT / "models" / "kyr-nlu.tar.gz").exists():
        print("no trained model: run `make train` (or `make run`) first", file=sys.stderr)
        return 2
    commands = {
        "sms": [str(APP_PY), "benchmarks/sms_cost.py"],
        "lang": [str(APP_PY), "benchmarks/language_detection.py"],
        "tfidf": [str(APP_PY), "benchmarks/tfidf_baseline.py"],
        "heldout": [str(RASA_PY), "benchmarks/nlu_heldout.py", "--default-epochs", str(DEFAULT_EPOCHS)],
        "cv": [str(RASA_PY), "benchmarks/nlu_cross_validation.py", "--folds", "5", "--epochs", str(CV_EPOCHS),
               "--fraction", str(CV_FRACTION)],
        "anchor": [str(RASA_PY), "benchmarks/rest_anchor.py"],
        "topics": [str(RASA_PY), "benchmarks/topics_before_after.py"],
        "waiting": [str(APP_PY), "benchmarks/waiting_soak.py"],
    }
    print(f"==> make bench: {len(STEPS)} steps; (b) at {DEFAULT_EPOCHS} epochs, CV at {CV_EPOCHS} epochs on "
          f"{CV_FRACTION:.0%} of the data; models and results cached in models/anchors/", flush=True)
    outputs = {"sms": "sms_cost", "lang": "language", "tfidf": "tfidf", "heldout": "nlu_heldout", "cv": "nlu_cross_validation",
               "speed": "speed", "topics": "topics", "waiting": "waiting"}
    for name in STEPS:  # never print a previous run's numbers as this run's
        if name in outputs:
            (RESULTS / f"{outputs[name]}.json").unlink(missing_ok=True)
    failures = []
    anchor_model = None
    steps = [s for s in STEPS if s in (*commands, "speed")]
    for number, name in enumerate(steps, start=1):
        if name == "speed":
            if anchor_model is None:
                anchors = sorted((ROOT / "models" / "anchors").glob("rest-rules-*.tar.gz"), key=lambda p: p.stat().st_mtime)
                anchor_model = anchors[-1] if anchors else None
            command = [str(APP_PY), "benchmarks/speed.py", "--scale", str(LOAD_SCALE)]
            if anchor_model is None:
                # /sms, /model/parse and memory still mean something without the REST anchor.
                failures.append("speed (no REST anchor model: /sms and parse only)")
                command += ["--anchor-model", "/dev/null", "--only", "sms"]
            else:
                command += ["--anchor-model", str(anchor_model)]
            before = before_checkout()
            if before is not None:
                command += ["--before", str(before), "--before-label", BEFORE_REVISION]
        else:
            command = commands[name]
        code, output = step(name, command, number, len(steps))
        if name == "anchor" and code == 0:
            anchor_model = Path(output.strip().splitlines()[-1])
        if code != 0 and not (name == "sms" and load("sms_cost")):
            failures.append(name)
    text = table(time.monotonic() - START, failures)
    (RESULTS / "table.txt").write_text(text + "\n", encoding="utf-8")
    print()
    print(text)
    print(f"\n(table saved to {(RESULTS / 'table.txt').relative_to(ROOT)})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
