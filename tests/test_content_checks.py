"""`make check-content` catches each failure it exists for (on small fixture content)."""

from pathlib import Path

import pytest
import yaml

from bot.catalogs import catalog_path, read_catalog, update_all, write_catalog
from bot.checks import run_checks
from bot.content import SYSTEM_KEYS
from bot.engine import CONVERSATION_INTENTS


def write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture
def tree(tmp_path):
    """A complete, valid content tree with one topic, translated into Spanish."""
    responses, locales = tmp_path / "responses", tmp_path / "locales"
    write(
        responses / "topics" / "detainer.yml",
        {
            "intent": "detainer",
            "menu_label": "ICE hold",
            "reviewed": "2026-11-28",
            "sources": ["8 C.F.R. 287.7(d)"],
            "first": "A hold lasts 48 hours at most. Call {hotline}.",
            "more": "More detail. Call {hotline}.",
        },
    )
    write(responses / "system.yml", {"messages": {key: f"System {key}." for key in SYSTEM_KEYS}})
    write(responses / "resources.yml", {"placeholders": {"hotline": {"text": "1-844-363-1423"}}})
    write(responses / "menu.yml", {"items": ["detainer"]})
    write(tmp_path / "domain.yml", {"intents": ["detainer", *sorted(CONVERSATION_INTENTS)]})
    update_all(responses, locales, ("en", "es"))
    path = catalog_path(locales, "es")
    catalog = read_catalog(path, "es")
    for message in catalog:
        if message.id:
            message.string = "ES " + message.id
    write_catalog(catalog, path)
    return tmp_path


def check(tree):
    return run_checks(tree / "responses", tree / "locales", tree / "domain.yml", ("en", "es"))


def set_translation(tree, key, text):
    path = catalog_path(tree / "locales", "es")
    catalog = read_catalog(path, "es")
    for message in catalog:
        if message.context == key:
            message.string = text
    write_catalog(catalog, path)


def test_valid_tree_passes(tree):
    report = check(tree)
    assert report.ok, report.problems
    assert report.completeness["es"][0] == report.completeness["es"][1]


def test_missing_topic_answer_fails(tree):
    write(tree / "domain.yml", {"intents": ["detainer", "bail", *sorted(CONVERSATION_INTENTS)]})
    assert any("bail" in p and "no answer" in p for p in check(tree).problems)


def test_missing_translation_fails(tree):
    set_translation(tree, "detainer.first", "")
    assert any("[es] detainer.first: missing translation" in p for p in check(tree).problems)


def test_changed_english_marks_translation_stale(tree):
    topic = tree / "responses" / "topics" / "detainer.yml"
    data = yaml.safe_load(topic.read_text())
    data["first"] = "A hold lasts 48 hours, not counting weekends. Call {hotline}."
    write(topic, data)
    update_all(tree / "responses", tree / "locales", ("en", "es"))
    entry = next(m for m in read_catalog(catalog_path(tree / "locales", "es"), "es") if m.context == "detainer.first")
    assert entry.fuzzy and entry.string.startswith("ES A hold lasts 48 hours at most")
    assert any("detainer.first: stale translation" in p for p in check(tree).problems)


def test_placeholder_mismatch_fails(tree):
    set_translation(tree, "detainer.first", "Llame al {hotlin}.")
    problems = check(tree).problems
    assert any("detainer.first: placeholders" in p for p in problems)


def test_first_reply_over_three_segments_fails(tree):
    set_translation(tree, "detainer.first", "Información " * 50 + "{hotline}")
    assert any("[es] detainer.first:" in p and "SMS segments" in p for p in check(tree).problems)


def test_ucs2_counts_are_real(tree):
    # 200 characters of Chinese is 4 UCS-2 segments (67 per segment), not 2 GSM ones.
    set_translation(tree, "detainer.first", "中" * 200 + "{hotline}")
    assert any("UCS-2" in p for p in check(tree).problems)


def test_missing_sources_or_review_date_fails(tree):
    topic = tree / "responses" / "topics" / "detainer.yml"
    data = yaml.safe_load(topic.read_text())
    data["sources"] = []
    del data["reviewed"]
    write(topic, data)
    problems = check(tree).problems
    assert any("no sources" in p for p in problems)
    assert any("no reviewed date" in p for p in problems)


def test_ice_tip_line_is_refused(tree):
    write(tree / "responses" / "resources.yml", {"placeholders": {"hotline": {"text": "1-866-347-2423"}}})
    assert any("tip line" in p for p in check(tree).problems)


def test_missing_system_message_fails(tree):
    data = yaml.safe_load((tree / "responses" / "system.yml").read_text())
    del data["messages"]["welcome"]
    write(tree / "responses" / "system.yml", data)
    assert any("system.welcome: missing" in p for p in check(tree).problems)


def test_the_real_content_passes():
    """The shipped answers and translations pass every check (same as make check-content)."""
    root = Path(__file__).resolve().parent.parent
    report = run_checks(root / "responses", root / "locales", root / "intents" / "domain.yml")
    assert report.ok, "\n".join(report.problems)


def test_unknown_state_variant_fails(tree):
    topic = tree / "responses" / "topics" / "detainer.yml"
    data = yaml.safe_load(topic.read_text())
    data["states"] = {"XX": {"first": "Somewhere else. Call {hotline}.", "sources": ["x"]}}
    write(topic, data)
    update_all(tree / "responses", tree / "locales", ("en", "es"))
    assert any("detainer.states.XX: unknown state" in p for p in check(tree).problems)


def test_state_variant_needs_translation_and_budget(tree):
    topic = tree / "responses" / "topics" / "detainer.yml"
    data = yaml.safe_load(topic.read_text())
    data["states"] = {"IL": {"first": "Illinois limits holds. " * 25 + "Call {hotline}.", "sources": ["5 ILCS 805"]}}
    write(topic, data)
    update_all(tree / "responses", tree / "locales", ("en", "es"))
    problems = check(tree).problems
    assert any("[es] detainer.states.IL.first: missing translation" in p for p in problems)
    assert any("[en] detainer.states.IL.first:" in p and "SMS segments" in p for p in problems)


def directory_entry(**overrides):
    entry = {
        "id": "cook_pd", "name": "Cook County Public Defender", "short_name": "Cook County PD",
        "phone": "+1 844-817-4448", "languages": ["en", "es"], "kinds": ["defender"],
        "coverage": {"states": ["IL"], "counties": ["Cook"]},
    }
    entry.update(overrides)
    return entry


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"phone": "+1 555-0100"}, "is not a valid phone number"),
        ({"phone": "1-866-347-2423"}, "tip line"),
        ({"kinds": ["snacks"]}, "kinds must be"),
        ({"languages": ["xx"]}, "unknown language"),
        ({"coverage": {"states": ["ZZ"]}}, "unknown state"),
        ({"short_name": "A very long organization name indeed"}, "short_name longer"),
    ],
)
def test_directory_mistakes_fail(tree, overrides, expected):
    write(tree / "responses" / "directory.yml", {"entries": [directory_entry(**overrides)]})
    assert any(expected in p for p in check(tree).problems), check(tree).problems


def test_valid_directory_passes_and_counts_local_names_in_budget(tree):
    write(tree / "responses" / "directory.yml", {"entries": [directory_entry()]})
    assert check(tree).ok


def test_urgent_topic_without_hotline_first_fails(tree):
    topic = tree / "responses" / "topics" / "ice_at_home.yml"
    write(topic, {
        "intent": "ice_at_home", "menu_label": "ICE at the door", "reviewed": "2026-11-28",
        "sources": ["ACLU"], "first": "Do not open the door. Call {hotline}.", "more": "More.",
    })
    update_all(tree / "responses", tree / "locales", ("en", "es"))
    assert any("ice_at_home.first: urgent topic must give {hotline}" in p for p in check(tree).problems)
