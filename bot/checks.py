"""``make check-content``: fail before a wrong, stale or too-long answer ships.

Checks every topic intent has an answer with sources and a review date;
every system message exists; every translation exists, is not stale (fuzzy)
and keeps the English placeholders; first replies and the menu fit in three
SMS segments in the encoding a phone would use; ICE's tip line appears
nowhere. Prints a per-locale table of completeness and segments.
"""

from __future__ import annotations

import dataclasses
import re
import string
import sys
from pathlib import Path

import yaml

from bot.catalogs import catalog_path, read_catalog, source_entries
from bot.config import PROJECT_ROOT
from bot.content import SYSTEM_KEYS, ContentBase, ContentError
from bot.engine import CONVERSATION_INTENTS
from bot.languages import SUPPORTED_LANGUAGES
from bot.segments import count_segments, sms_text

FIRST_REPLY_SEGMENTS = 3
MENU_LABEL_MAX_CHARS = 24
#: ICE's tip line for reporting people (1-866-DHS-2-ICE). It must never be offered as help.
_TIP_LINE = re.compile(r"347\W?2423|DHS\W?2\W?ICE", re.IGNORECASE)


@dataclasses.dataclass
class Report:
    problems: list[str] = dataclasses.field(default_factory=list)
    rows: list[tuple[str, str, str, int, int]] = dataclasses.field(default_factory=list)
    completeness: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)

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
) -> Report:
    report = Report()
    try:
        content = ContentBase(responses_dir, locales_dir, languages)
    except ContentError as exc:
        report.problems.append(str(exc))
        return report

    for intent in topic_intents(domain_path):
        if intent not in content.topics:
            report.problems.append(f"{intent}: topic intent has no answer in responses/topics/")
    for topic in content.topics.values():
        if not topic.sources:
            report.problems.append(f"{topic.intent}: no sources")
        if topic.reviewed is None:
            report.problems.append(f"{topic.intent}: no reviewed date")
    for key in SYSTEM_KEYS:
        if key not in content.system:
            report.problems.append(f"system.{key}: missing in responses/system.yml")
    for name, value in content.placeholders.items():
        if _TIP_LINE.search(value):
            report.problems.append(f"resources.{name}: ICE's tip line must never be given as help")

    _check_catalogs(report, responses_dir, locales_dir, languages)

    known = set(content.placeholders)
    for lang in languages:
        for source in content.source_texts():
            if source.key.startswith("system.") and source.key[7:] not in SYSTEM_KEYS:
                continue
            raw = content.raw(source.key, lang)
            unknown = placeholders(raw) - known
            if unknown:
                report.problems.append(f"[{lang}] {source.key}: unknown placeholder(s) {sorted(unknown)}")
            if _TIP_LINE.search(content.fill(raw)):
                report.problems.append(f"[{lang}] {source.key}: contains ICE's tip line")
        for topic in content.topics.values():
            label = content.text(f"{topic.intent}.menu_label", lang)
            if len(label) > MENU_LABEL_MAX_CHARS:
                report.problems.append(f"[{lang}] {topic.intent}.menu_label: {len(label)} chars > {MENU_LABEL_MAX_CHARS}")
            first = f"{content.text(f'{topic.intent}.first', lang)}\n{content.text('system.more_footer', lang)}"
            _budget(report, lang, f"{topic.intent}.first", first, FIRST_REPLY_SEGMENTS)
            _budget(report, lang, f"{topic.intent}.more", content.text(f"{topic.intent}.more", lang), None)
        if all(key in content.system for key in ("menu_intro", "menu_footer", "not_understood")) and all(
            intent in content.topics for intent in content.menu
        ):
            lines = [content.text("system.not_understood", lang), content.text("system.menu_intro", lang)]
            lines += [f"{n} {content.text(f'{i}.menu_label', lang)}" for n, i in enumerate(content.menu, 1)]
            lines.append(content.text("system.menu_footer", lang))
            _budget(report, lang, "menu", "\n".join(lines), FIRST_REPLY_SEGMENTS)
    return report


def _budget(report: Report, lang: str, key: str, text: str, limit: int | None) -> None:
    counted = count_segments(sms_text(text, lang))
    report.rows.append((lang, key, counted.encoding, counted.units, counted.segments))
    if limit is not None and counted.segments > limit:
        report.problems.append(
            f"[{lang}] {key}: {counted.segments} SMS segments ({counted.encoding}, {counted.units} units) > {limit}"
        )
    if len(text) > 1600:
        report.problems.append(f"[{lang}] {key}: {len(text)} characters > Twilio's 1,600 limit")


def format_report(report: Report) -> str:
    lines = ["Translations: locale  complete/total"]
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


def main() -> int:
    report = run_checks(
        PROJECT_ROOT / "responses", PROJECT_ROOT / "locales", PROJECT_ROOT / "intents" / "domain.yml"
    )
    print(format_report(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
