"""`make check-content` catches each failure it exists for (on small fixture content)."""

from pathlib import Path

import pytest
import yaml

from bot.content.catalogs import catalog_path, read_catalog, update_all, write_catalog
from bot.checks import format_report, run_checks
from bot.language import keywords
from bot.content.texts import ADVERTISED_WORD_KEYS, SYSTEM_KEYS
from bot.conversation.engine import CONVERSATION_INTENTS


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
    # Texts that tell people a word to send name it in each language ("Reply PERSON"/"PERSONA").
    said = {key: " ".join(keywords.ADVERTISED[word][lang] for lang in ("en", "es"))
            for key, word in ADVERTISED_WORD_KEYS.items()}
    write(responses / "system.yml", {"messages": {key: f"System {key}. {said.get(key, '')}".strip() for key in SYSTEM_KEYS}})
    write(responses / "resources.yml", {"placeholders": {"hotline": {
        "text": "1-312-555-0199", "label": "Test hotline", "verified": True, "hours": "24/7"}}})
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


def edit_detainer(tree, **fields):
    """Change fields of the fixture topic and bring the catalogs up to date, as an editor would."""
    topic = tree / "responses" / "topics" / "detainer.yml"
    data = yaml.safe_load(topic.read_text())
    data.update(fields)
    write(topic, data)
    update_all(tree / "responses", tree / "locales", ("en", "es"))


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
    # 260 characters of Chinese is 5 UCS-2 segments (67 per segment), over the UCS-2 budget of 4.
    set_translation(tree, "detainer.first", "中" * 260 + "{hotline}")
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
    edit_detainer(tree, states={"XX": {"first": "Somewhere else. Call {hotline}.", "sources": ["x"]}})
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


# -- issue 13: blocked numbers, readability, verified names, review dates, folding ----------------

BLOCKED_SPELLINGS = [
    "1-866-347-2423", "(866) 347-2423", "866.347.2423", "+18663472423", "1-866-DHS-2-ICE",
    "802-872-6199", "802 872 6196", "1-855-488-6423", "1-855-48-VOICE", "888-351-4024",
]


@pytest.mark.parametrize("number", BLOCKED_SPELLINGS)
def test_each_blocked_number_fails_in_an_answer(tree, number):
    topic = tree / "responses" / "topics" / "detainer.yml"
    data = yaml.safe_load(topic.read_text())
    data["more"] = f"More detail. Do not call {number}. Call {{hotline}}."
    write(topic, data)
    assert any("detainer.more: contains the" in p for p in check(tree).problems), number


@pytest.mark.parametrize("number", BLOCKED_SPELLINGS)
def test_each_blocked_number_fails_in_a_translation(tree, number):
    set_translation(tree, "detainer.first", f"Llame al {number} o {{hotline}}.")
    assert any("[es] detainer.first: contains the" in p for p in check(tree).problems), number


@pytest.mark.parametrize("number", ["+1 866-347-2423", "+1 802-872-6199", "+1 802-872-6196", "+1 855-488-6423"])
def test_each_blocked_number_fails_in_the_directory(tree, number):
    write(tree / "responses" / "directory.yml", {"entries": [directory_entry(phone=number)]})
    assert any("must never be given as help" in p for p in check(tree).problems), number


def test_a_number_without_a_name_fails(tree):
    write(tree / "responses" / "resources.yml", {"placeholders": {"hotline": {"text": "1-312-555-0199", "verified": True}}})
    assert any("resources.hotline: a number needs a label" in p for p in check(tree).problems)


def test_an_unverified_hotline_with_no_verified_replacement_fails(tree):
    write(tree / "responses" / "resources.yml", {"placeholders": {"hotline": {
        "text": "1-312-555-0199", "label": "Old line", "verified": False}}})
    report = check(tree)
    assert any("resources.hotline: no verified entry" in p for p in report.problems)
    assert "resources.hotline" in report.unverified


def test_hard_first_reply_fails_readability(tree):
    edit_detainer(tree, first=("Notwithstanding administrative determinations, immigration detainers constitute "
                               "discretionary interagency notifications. Call {hotline}."))
    problems = check(tree).problems
    assert any(p.startswith("detainer.first: reads at grade") for p in problems)
    assert any(p.startswith("first replies: median grade") for p in problems)


def test_grades_are_reported_for_every_english_text(tree):
    report = check(tree)
    assert {key for key, _ in report.grades} == {"detainer.first", "detainer.more"}


def test_state_variant_needs_its_own_review_date(tree):
    edit_detainer(tree, states={"IL": {"first": "In Illinois, call {hotline}.", "sources": ["5 ILCS 805"]}})
    assert any("detainer.states.IL: no reviewed date" in p for p in check(tree).problems)


def test_old_answers_are_listed_but_do_not_fail(tree):
    import datetime

    later = datetime.date(2027, 12, 1)
    report = run_checks(tree / "responses", tree / "locales", tree / "domain.yml", ("en", "es"), today=later)
    assert report.ok, report.problems
    assert report.stale == [("detainer", datetime.date(2026, 11, 28))]
    assert "detainer" in format_report(report)


def test_spanish_si_that_folding_would_change_fails(tree):
    set_translation(tree, "detainer.first", "Sí, tiene derechos. Llame al {hotline}. Información.")
    assert any("[es] detainer.first: SMS folding turns 'Sí'" in p for p in check(tree).problems)


def test_a_text_must_name_the_word_the_bot_knows(tree):
    """"Reply PERSONA" in a translation only helps if the bot knows PERSONA (bot/language/keywords.py)."""
    set_translation(tree, "system.handoff_offer", "Para hablar con alguien, responda HUMANO POR FAVOR.")
    problems = check(tree).problems
    assert any("[es] system.handoff_offer" in p and "persona" in p for p in problems), problems
