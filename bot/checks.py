"""``make check-content``: fail before a wrong, unreadable, unverified or too-long answer ships.

Checks every topic intent has an answer with sources and a review date (each
state variant too); every system message exists; every translation exists,
is not stale (fuzzy) and keeps the English placeholders; first replies fit
the SMS budget of their encoding (3 segments in GSM-7, 4 in UCS-2) and the
menu fits in three; English first replies read at about grade 6
(Flesch-Kincaid: median 6, none above 8; MORE texts median 8); every number
people can be given has a name and a verified entry behind it; ICE's tip
line, its VOICE line and its detention line appear in no text, entry or
translation. Prints per-locale completeness, segments, grades, unverified
entries and the answers whose review is older than ``CONTENT_MAX_AGE_DAYS``
(a warning only: time passing must not fail a build by itself).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import re
import string
import sys
from pathlib import Path

import phonenumbers
import yaml

from bot.content.answers import ROUTED_PLACEHOLDERS, URGENT_TOPICS, AnswerComposer
from bot.content.catalogs import catalog_path, read_catalog, source_entries
from bot.config import PROJECT_ROOT, ConfigError, load_settings
from bot.content.texts import ADVERTISED_WORD_KEYS, SYSTEM_KEYS, VOICE_PLACEHOLDERS, ContentBase, ContentError, group_label_key
from bot.content.directory import KINDS, DirectoryError, Resource, Router, load_directory
from bot.content import readability
from bot.conversation.engine import CONVERSATION_INTENTS
from bot.language import identify, keywords
from bot.language.languages import KNOWN_LANGUAGE_CODES, SUPPORTED_LANGUAGES, fold
from bot.content.location import US_STATE_CODES
from bot.language.segments import count_segments, sms_text

#: A topic's first reply with its footer (and the menu, and the local-help message): 3 segments in GSM-7; 4 in UCS-2 (Chinese, Arabic,
#: Vietnamese: 268 characters) so translators need not cut the key point (review T2).
TOPIC_FIRST_SEGMENTS = {"GSM-7": 3, "UCS-2": 4}
MENU_LABEL_MAX_CHARS = 24
#: A group's label heads its sub-menu and stands in the main menu.
GROUP_LABEL_MAX_CHARS = 28
DEFAULT_MAX_AGE_DAYS = 120
#: Lines that report people to ICE or belong to ICE or jail enforcement: never offered as help.
BLOCKED_NUMBERS = {
    "8663472423": "ICE tip line (1-866-DHS-2-ICE)",
    "8028726199": "ICE tip line from abroad",
    "8028726196": "ICE tip line TTY",
    "8554886423": "ICE VOICE line (1-855-48-VOICE)",
    "8883514024": "ICE Detention Reporting and Information Line",
}
_BLOCKED_WORDS = re.compile(r"DHS\W?2\W?ICE|48\W?VOICE", re.IGNORECASE)
#: A phone number as people write it: 10 digits (after an optional 1) with any separators.
_PHONE = re.compile(r"(?<!\d)(?:\+?1[\s.\-]*)?\(?\d{3}\)?[\s.\-]*\d{3}[\s.\-]*\d{4}(?!\d)")
#: Words that SMS accent folding turns into another word a reader would take instead (Spanish "sí" → "si").
#: Messages the language identifier is measured on and never trained on (make bench-lang).
LANGUAGE_HELDOUT = PROJECT_ROOT / "benchmarks" / "data" / "language_heldout.yml"
MEANING_FOLDS = {"es": re.compile(r"(?<!\w)sí(?!\w)", re.IGNORECASE)}


def blocked_numbers(text: str) -> list[str]:
    """Names of the blocked lines that ``text`` contains, however the digits are written."""
    found = [BLOCKED_NUMBERS[d[-10:]] for d in (re.sub(r"\D", "", m) for m in _PHONE.findall(text)) if d[-10:] in BLOCKED_NUMBERS]
    if _BLOCKED_WORDS.search(text):
        found.append("ICE enforcement vanity number")
    return found


@dataclasses.dataclass
class Report:
    problems: list[str] = dataclasses.field(default_factory=list)
    rows: list[tuple[str, str, str, int, int]] = dataclasses.field(default_factory=list)
    completeness: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    #: (key, Flesch-Kincaid grade) of every English first reply and MORE text.
    grades: list[tuple[str, float]] = dataclasses.field(default_factory=list)
    #: (key, reviewed) of answers not checked within the age limit: printed, never a failure.
    stale: list[tuple[str, datetime.date | None]] = dataclasses.field(default_factory=list)
    #: Entries with verified: false (never given to anyone; listed so someone checks them).
    unverified: list[str] = dataclasses.field(default_factory=list)
    max_age_days: int = DEFAULT_MAX_AGE_DAYS

    @property
    def ok(self) -> bool:
        return not self.problems


def placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def topic_intents(domain_path: Path) -> list[str]:
    with domain_path.open(encoding="utf-8") as handle:
        intents = yaml.safe_load(handle).get("intents") or []
    return [str(i) for i in intents if str(i) not in CONVERSATION_INTENTS]


def _check_catalogs(report: Report, responses_dir: Path, locales_dir: Path, languages) -> None:
    entries = source_entries(responses_dir)
    for lang in languages:
        if lang == "en":
            report.completeness[lang] = (len(entries), len(entries))
            continue
        catalog = read_catalog(catalog_path(locales_dir, lang), lang)
        found = {m.context: m for m in catalog if m.id} if catalog else {}
        done = 0
        for key, english in entries:
            message = found.get(key)
            if message is None or not message.string:
                report.problems.append(f"[{lang}] {key}: missing translation")
            elif message.fuzzy or message.id != english:
                report.problems.append(f"[{lang}] {key}: stale translation (English changed; review and clear 'fuzzy')")
            elif placeholders(message.string) != placeholders(english):
                report.problems.append(
                    f"[{lang}] {key}: placeholders {sorted(placeholders(message.string))} "
                    f"differ from English {sorted(placeholders(english))}"
                )
            else:
                done += 1
        report.completeness[lang] = (done, len(entries))


def run_checks(
    responses_dir: Path,
    locales_dir: Path,
    domain_path: Path,
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES,
    today: datetime.date | None = None,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
) -> Report:
    report = Report(max_age_days=max_age_days)
    try:
        content = ContentBase(responses_dir, locales_dir, languages)
        directory = load_directory(responses_dir / "directory.yml")
    except (ContentError, DirectoryError) as exc:
        report.problems.append(str(exc))
        return report

    _check_topics(report, content, domain_path)
    _check_directory(report, content, directory)
    _check_resources(report, content)
    _check_readability(report, content)
    _check_catalogs(report, responses_dir, locales_dir, languages)
    report.stale = content.stale(today or datetime.date.today(), max_age_days)
    worst = _worst_case_values(content, directory)
    known = set(content.resources) | set(worst) | VOICE_PLACEHOLDERS
    composer = AnswerComposer(content, Router(directory, content.resources))
    for lang in languages:
        _check_texts(report, content, lang, known, worst)
        _check_budgets(report, content, lang, worst, composer)
        _check_advertised_words(report, content, lang)
    return report


def _check_topics(report: Report, content: ContentBase, domain_path: Path) -> None:
    for intent in topic_intents(domain_path):
        if intent not in content.topics:
            report.problems.append(f"{intent}: topic intent has no answer in responses/topics/")
    for topic in content.topics.values():
        if not topic.sources:
            report.problems.append(f"{topic.intent}: no sources")
        if topic.reviewed is None:
            report.problems.append(f"{topic.intent}: no reviewed date")
        for state, variant in topic.states.items():
            if state not in US_STATE_CODES:
                report.problems.append(f"{topic.intent}.states.{state}: unknown state (use a 2-letter code such as IL)")
            if not variant.sources:
                report.problems.append(f"{topic.intent}.states.{state}: no sources")
            if variant.reviewed is None:
                report.problems.append(f"{topic.intent}.states.{state}: no reviewed date (each state variant has its own)")
    for key in SYSTEM_KEYS:
        if key not in content.system:
            report.problems.append(f"system.{key}: missing in responses/system.yml")


def _check_resources(report: Report, content: ContentBase) -> None:
    """Every placeholder default: named when it is a number, verified or replaced, never an ICE line."""
    for name, resource in content.resources.items():
        where = f"resources.{name}"
        text = " ".join(filter(None, (resource.phone, resource.url, resource.name, resource.short_name)))
        for line in blocked_numbers(text):
            report.problems.append(f"{where}: {line} must never be given as help")
        if resource.phone and not resource.short_name:
            report.problems.append(f"{where}: a number needs a label (the organization's name shown before it)")
        if not resource.verified:
            report.unverified.append(where)
    used = {name for source in content.source_texts() for name in placeholders(source.text)}
    for name in sorted(used & set(content.resources)):
        if name not in content.placeholders:
            report.problems.append(
                f"resources.{name}: no verified entry (here or national in directory.yml): people would get no number"
            )


def _check_readability(report: Report, content: ContentBase) -> None:
    """English first replies at about grade 6 (median 6, none above 8); MORE texts median 8."""
    firsts, mores = [], []
    for topic in content.topics.values():
        for key in topic.keys():
            if key.endswith(".menu_label"):
                continue
            grade = readability.grade(topic.english(key))
            report.grades.append((key, grade))
            if key.endswith(".first"):
                firsts.append(grade)
                if grade > readability.FIRST_MAX:
                    report.problems.append(f"{key}: reads at grade {grade} > {readability.FIRST_MAX} (first replies)")
            else:
                mores.append(grade)
    if firsts and readability.median(firsts) > readability.FIRST_MEDIAN_MAX:
        report.problems.append(
            f"first replies: median grade {readability.median(firsts)} > {readability.FIRST_MEDIAN_MAX}"
        )
    if mores and readability.median(mores) > readability.MORE_MEDIAN_MAX:
        report.problems.append(f"MORE texts: median grade {readability.median(mores)} > {readability.MORE_MEDIAN_MAX}")


def _check_directory(report: Report, content: ContentBase, directory: list[Resource]) -> None:
    seen: set[str] = set()
    for resource in directory:
        where = f"directory.{resource.id}"
        if resource.id in seen:
            report.problems.append(f"{where}: duplicate id")
        seen.add(resource.id)
        if not resource.phone and not resource.url:
            report.problems.append(f"{where}: needs a phone or a url")
        if resource.phone:
            try:
                valid = phonenumbers.is_valid_number(phonenumbers.parse(resource.phone, "US"))
            except phonenumbers.NumberParseException:
                valid = False
            if not valid:
                report.problems.append(f"{where}: {resource.phone!r} is not a valid phone number")
        text = " ".join(filter(None, (resource.phone, resource.url, resource.name, resource.short_name)))
        for line in blocked_numbers(text):
            report.problems.append(f"{where}: {line} must never be given as help")
        if not resource.verified:
            report.unverified.append(where)
        unknown_kinds = resource.kinds - set(KINDS)
        if unknown_kinds or not resource.kinds:
            report.problems.append(f"{where}: kinds must be some of {', '.join(KINDS)}")
        if resource.languages - set(KNOWN_LANGUAGE_CODES):
            report.problems.append(f"{where}: unknown language code(s) {sorted(resource.languages - set(KNOWN_LANGUAGE_CODES))}")
        bad_states = {s for s in resource.states if s not in US_STATE_CODES}
        if bad_states:
            report.problems.append(f"{where}: unknown state(s) {sorted(bad_states)}")
        if not resource.national and not resource.states:
            report.problems.append(f"{where}: coverage needs national: true or states")
        if len(resource.short_name) > MENU_LABEL_MAX_CHARS:
            report.problems.append(f"{where}: short_name longer than {MENU_LABEL_MAX_CHARS} characters")


def _worst_case_values(content: ContentBase, directory: list[Resource]) -> dict[str, str]:
    """The longest text each routed placeholder can take, to check SMS budgets honestly."""
    # Values the engine fills itself: a county label, and the expected wait for a person.
    worst = {"place": "Matanuska-Susitna County, AK", "minutes": "120", "percent": "99", "month": "septiembre de 2026", "position": "12"}
    worst.update(content.placeholders)
    for placeholder, kind in ROUTED_PLACEHOLDERS.items():
        options = [content.placeholders.get(placeholder, "")]
        default = content.resources.get(placeholder)
        has_default = default is not None and default.verified
        # Only verified entries are ever inserted; national ones only stand in for a missing default.
        options += [
            r.sms_label() for r in directory
            if kind in r.kinds and r.verified and (not r.national or not has_default)
        ]
        worst[placeholder] = max(options, key=len)
    return worst


def _check_texts(report: Report, content: ContentBase, lang: str, known: set[str], worst: dict[str, str]) -> None:
    for source in content.source_texts():
        if source.key.startswith("system.") and source.key[7:] not in SYSTEM_KEYS and not source.key.startswith(
            "system.menu_group_"
        ):
            continue
        raw = content.raw(source.key, lang)
        unknown = placeholders(raw) - known
        if unknown:
            report.problems.append(f"[{lang}] {source.key}: unknown placeholder(s) {sorted(unknown)}")
        for line in blocked_numbers(content.fill(raw, worst)):
            report.problems.append(f"[{lang}] {source.key}: contains the {line}; it must never be given as help")
        folds = MEANING_FOLDS.get(lang)
        if folds is not None and folds.search(raw) and sms_text(raw, lang) != raw:
            report.problems.append(
                f"[{lang}] {source.key}: SMS folding turns '{folds.search(raw).group(0)}' into a different word; reword"
            )
        if source.key.endswith(".first") and source.key.split(".")[0] in URGENT_TOPICS:
            first_sentence = re.split(r"[.!?](?:\s|$)", raw, maxsplit=1)[0]
            if "{hotline}" not in first_sentence:
                report.problems.append(f"[{lang}] {source.key}: urgent topic must give {{hotline}} in its first sentence")


def _check_budgets(
    report: Report, content: ContentBase, lang: str, worst: dict[str, str], composer: AnswerComposer
) -> None:
    if any(key not in content.system for key in ("more_footer", "more_footer_zip", "location_thanks")):
        return
    footer = content.text("system.more_footer", lang)
    zip_footer = content.text("system.more_footer_zip", lang)
    thanks = content.text("system.location_thanks", lang, worst)
    for topic in content.topics.values():
        label = content.text(f"{topic.intent}.menu_label", lang)
        if len(label) > MENU_LABEL_MAX_CHARS:
            report.problems.append(f"[{lang}] {topic.intent}.menu_label: {len(label)} chars > {MENU_LABEL_MAX_CHARS}")
        routed = composer.names_local_help(topic.intent)
        for key in topic.keys():
            if key.endswith(".menu_label"):
                continue
            text = content.text(key, lang, worst)
            if key.endswith(".more"):
                _budget(report, lang, key, f"{text}\n{composer.checked_line(key, lang)}", None)
                continue
            # The longest way this first reply can be sent: with the ZIP prompt, or after "Got it: <place>."
            candidates = [f"{text}\n{zip_footer if routed else footer}"]
            if routed:
                candidates.append(f"{thanks}\n{text}\n{footer}")
            longest = max(candidates, key=lambda t: count_segments(sms_text(t, lang)).units)
            encoding = count_segments(sms_text(longest, lang)).encoding
            _budget(report, lang, key, longest, TOPIC_FIRST_SEGMENTS[encoding])
    if all(key in content.system for key in ("menu_intro", "menu_footer", "not_understood")):
        # The longest way the main menu is sent: after "not understood"; each sub-menu on its own.
        menu = f"{content.text('system.not_understood', lang)}\n{content.menu_text(lang)}"
        _budget(report, lang, "menu", menu, None, by_encoding=True)
        for group in content.menu_groups:
            label = content.menu_label(group, lang)
            if len(label) > GROUP_LABEL_MAX_CHARS:
                report.problems.append(f"[{lang}] {group_label_key(group)}: {len(label)} chars > {GROUP_LABEL_MAX_CHARS}")
            _budget(report, lang, f"menu {group}", content.menu_text(lang, group), None, by_encoding=True)
    if "location_saved" in content.system:
        _budget(report, lang, "location_saved", content.text("system.location_saved", lang, worst), None, by_encoding=True)
    for key in ("handoff_queued", "handoff_nobody_came", "handoff_hours_ended", "handoff_reading", "handoff_in_line"):
        if key in content.system:
            _budget(report, lang, key, content.text(f"system.{key}", lang, worst), None, by_encoding=True)


def _check_advertised_words(report: Report, content: ContentBase, lang: str) -> None:
    """A text that says "reply PERSON" must name a word the bot knows in that language."""
    for key, command in ADVERTISED_WORD_KEYS.items():
        if key not in content.system:
            continue
        word = keywords.ADVERTISED[command].get(lang)
        text = " " + re.sub(r"[^\w\s]", " ", fold(content.raw(f"system.{key}", lang))) + " "
        named = word and (f" {word} " in text if word.isascii() else word in text)
        if not named or keywords.command(word) != command:
            report.problems.append(
                f"[{lang}] system.{key}: must tell people to send {word!r} (bot/language/keywords.py ADVERTISED[{command!r}])")


def _budget(report: Report, lang: str, key: str, text: str, limit: int | None, by_encoding: bool = False) -> None:
    counted = count_segments(sms_text(text, lang))
    if by_encoding:
        limit = TOPIC_FIRST_SEGMENTS[counted.encoding]
    report.rows.append((lang, key, counted.encoding, counted.units, counted.segments))
    if limit is not None and counted.segments > limit:
        report.problems.append(
            f"[{lang}] {key}: {counted.segments} SMS segments ({counted.encoding}, {counted.units} units) > {limit}"
        )
    if len(text) > 1600:
        report.problems.append(f"[{lang}] {key}: {len(text)} characters > Twilio's 1,600 limit")


def format_report(report: Report) -> str:
    lines = [f"{'English text':<45}{'FK grade':>9}"]
    lines += [f"{key:<45}{grade:>9}" for key, grade in report.grades]
    firsts = [g for k, g in report.grades if k.endswith(".first")]
    mores = [g for k, g in report.grades if k.endswith(".more")]
    if firsts:
        lines.append(
            f"first replies: median {readability.median(firsts)} (limit {readability.FIRST_MEDIAN_MAX}), "
            f"max {max(firsts)} (limit {readability.FIRST_MAX}); MORE: median {readability.median(mores)} "
            f"(limit {readability.MORE_MEDIAN_MAX})"
        )
    lines.append("")
    lines.append(f"Answers not reviewed in {report.max_age_days} days (CONTENT_MAX_AGE_DAYS): {len(report.stale)}")
    if report.stale:
        lines.append(f"  {'answer':<40}{'reviewed':>12}")
        lines += [f"  {key:<40}{str(day or 'never'):>12}" for key, day in report.stale]
    lines.append("")
    lines.append(f"Unverified entries (never given to anyone until checked): {len(report.unverified)}")
    lines += [f"  {where}" for where in report.unverified]
    lines.append("")
    lines.append("Translations: locale  complete/total")
    for lang, (done, total) in report.completeness.items():
        lines.append(f"  {lang:<6} {done:>4}/{total:<4} {'OK' if done == total else 'INCOMPLETE'}")
    lines.append("")
    lines.append(f"{'locale':<7}{'text':<34}{'encoding':<9}{'units':>6}{'segments':>10}")
    for lang, key, encoding, units, segments in report.rows:
        lines.append(f"{lang:<7}{key:<34}{encoding:<9}{units:>6}{segments:>10}")
    lines.append("")
    if report.problems:
        lines.append(f"{len(report.problems)} problem(s):")
        lines.extend(f"  - {problem}" for problem in report.problems)
    else:
        lines.append("content OK")
    return "\n".join(lines)


def language_model_problems(data_dir: Path, heldout: Path, model_path: Path = identify.MODEL_PATH) -> list[str]:
    """The language identifier must be built from today's NLU examples (``make langid``)."""
    try:
        built = identify.LanguageModel.load(model_path).fingerprint
    except (OSError, ValueError, KeyError) as exc:
        return [f"language model {model_path.name}: {exc}; run make langid"]
    if built != identify.fingerprint(data_dir, heldout):
        return [f"language model {model_path.name} is older than intents/data/: run make langid and commit it"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="check answers, translations and SMS budgets")
    parser.add_argument("--lang", action="append", help="only report on this locale (repeatable); for translators")
    args = parser.parse_args(argv)
    try:
        max_age = load_settings(os.environ).content_max_age_days
    except ConfigError as exc:
        parser.error(str(exc))
    report = run_checks(
        PROJECT_ROOT / "responses", PROJECT_ROOT / "locales", PROJECT_ROOT / "intents" / "domain.yml",
        max_age_days=max_age,
    )
    report.problems += language_model_problems(PROJECT_ROOT / "intents" / "data", LANGUAGE_HELDOUT)
    if args.lang:
        wanted = tuple(f"[{lang}]" for lang in args.lang)
        report.problems = [p for p in report.problems if p.startswith(wanted) or not p.startswith("[")]
        report.rows = [row for row in report.rows if row[0] in args.lang]
        report.completeness = {k: v for k, v in report.completeness.items() if k in args.lang or k == "en"}
    print(format_report(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
