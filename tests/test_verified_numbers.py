"""Only verified numbers reach people; urgent answers give a line that is open now;
production refuses an untrusted urgent hotline; MORE replies say when they were checked."""

from __future__ import annotations

import datetime
import logging
import shutil
import zoneinfo

import pytest
import yaml

from bot import create_app
from bot.content.answers import AnswerComposer, month_year
from bot.config import ConfigError
from bot.content.texts import ContentBase
from bot.content.directory import Router, load_directory, load_resources
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.content.location import Location
from bot.language.segments import sms_text
from tests.conftest import ROOT, post_signed, sms_form, twiml_messages
from tests.test_deploy_config import own_hotline, production_env, responses_copy

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
#: A Tuesday at 10:00 and a Sunday at 03:00, Chicago time.
TUESDAY_MORNING = datetime.datetime(2026, 12, 8, 10, 0, tzinfo=CHICAGO)
SUNDAY_NIGHT = datetime.datetime(2026, 12, 6, 3, 0, tzinfo=CHICAGO)


def entry(ident, kinds=("hotline",), coverage=None, verified=True, hours="24/7", phone="+1 312-555-0100", **extra):
    return {"id": ident, "name": ident, "short_name": ident.upper(), "phone": phone, "verified": verified,
            "hours": hours, "timezone": "America/Chicago", "languages": ["en", "es"], "kinds": list(kinds),
            "coverage": coverage or {"national": True}, **extra}


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def router_for(tmp_path, entries, defaults=None):
    directory = load_directory(write_yaml(tmp_path / "directory.yml", {"entries": entries}))
    resources = load_resources(write_yaml(tmp_path / "resources.yml", {"placeholders": defaults or {}}))
    return Router(directory, resources)


# -- the router never gives an unverified entry ---------------------------------------


def test_unverified_local_entry_is_never_given(tmp_path):
    router = router_for(tmp_path, [
        entry("cook_unverified", coverage={"states": ["IL"], "counties": ["Cook"]}, verified=False),
        entry("national_verified"),
    ])
    cook = Location("IL", "Cook")
    assert router.pick("hotline", cook, "en").id == "national_verified"
    assert all(r.verified for r in router.ranked("hotline", cook, "en"))


def test_unverified_default_falls_back_to_a_verified_national_entry(tmp_path):
    router = router_for(
        tmp_path,
        [entry("state_unverified", coverage={"states": ["FL"]}, verified=False), entry("national_verified")],
        {"hotline": {"text": "1-844-363-1423", "label": "Old line", "verified": False}},
    )
    assert router.pick("hotline", Location("FL"), "en").id == "national_verified"
    assert router.default_values()["hotline"] == "NATIONAL_VERIFIED 312-555-0100"


def test_no_verified_entry_gives_nothing_rather_than_a_guess(tmp_path):
    router = router_for(tmp_path, [entry("only", verified=False)], {"hotline": {"text": "1-844-363-1423", "label": "X"}})
    assert router.pick("hotline", None, "en") is None
    assert "hotline" not in router.default_values()


def test_resources_entries_need_verified_true_literally(tmp_path):
    resources = load_resources(write_yaml(tmp_path / "resources.yml", {"placeholders": {
        "hotline": {"text": "1-888-624-4752", "label": "CHIRLA", "verified": "yes"},
        "legal_help": {"text": "example.org/help", "verified": True},
    }}))
    assert not resources["hotline"].verified  # only a YAML true counts
    assert resources["legal_help"].verified and resources["legal_help"].url == "example.org/help"


def test_numbers_are_shown_with_the_organizations_name(tmp_path):
    router = router_for(tmp_path, [], {"hotline": {"text": "1-888-624-4752", "label": "CHIRLA hotline", "verified": True}})
    assert router.default_values()["hotline"] == "CHIRLA hotline 888-624-4752"


def test_shipped_content_never_fills_a_placeholder_from_an_unverified_entry():
    content = ContentBase(ROOT / "responses", ROOT / "locales", ("en",))
    directory = load_directory(ROOT / "responses" / "directory.yml")
    unverified = [r for r in [*directory, *content.resources.values()] if not r.verified]
    shown = " ".join(content.placeholders.values())
    for resource in unverified:
        for contact in filter(None, (resource.phone_display(), resource.url)):
            if not any(contact in r.sms_label() for r in [*directory, *content.resources.values()] if r.verified):
                assert contact not in shown, f"unverified {resource.id} ({contact}) reaches people"


def test_every_location_gets_only_verified_entries_from_the_shipped_directory():
    from bot.services import location_resolver

    resolver = location_resolver()
    content = ContentBase(ROOT / "responses", ROOT / "locales", ("en",))
    directory = load_directory(ROOT / "responses" / "directory.yml", resolver)
    router = Router(directory, content.resources)
    places = [None, Location("IL", "Cook"), Location("FL", "Miami-Dade"), Location("FL"), Location("OR"),
              Location("OR", "Multnomah"), Location("TX", "Harris"), Location("CA", "Los Angeles"), Location("NY", "Kings"),
              Location("MT", "Missoula")]
    for place in places:
        for placeholder in ("hotline", "legal_help", "defender"):
            for now in (None, TUESDAY_MORNING, SUNDAY_NIGHT):
                resource = router.pick(placeholder, place, "en", now)
                assert resource is None or resource.verified, (placeholder, place, resource)


# -- urgent answers: open now, else 24/7 -----------------------------------------------


@pytest.fixture
def office_and_night(tmp_path):
    return router_for(tmp_path, [
        entry("office_line", coverage={"states": ["TX"], "counties": ["Harris"]}, hours="Mon-Fri 09:00-17:00"),
        entry("unknown_hours", coverage={"states": ["TX"]}, hours="unknown"),
        entry("night_line", hours="24/7"),
    ])


def test_urgent_routing_gives_the_local_line_while_it_is_open(office_and_night):
    assert office_and_night.pick("hotline", Location("TX", "Harris"), "en", TUESDAY_MORNING).id == "office_line"


def test_urgent_routing_gives_a_24_7_line_when_the_local_one_is_closed(office_and_night):
    assert office_and_night.pick("hotline", Location("TX", "Harris"), "en", SUNDAY_NIGHT).id == "night_line"


def test_unknown_hours_never_count_as_open(office_and_night):
    assert office_and_night.pick("hotline", Location("TX", "Travis"), "en", TUESDAY_MORNING).id == "night_line"


def test_non_urgent_answers_keep_the_closest_line(office_and_night):
    assert office_and_night.pick("hotline", Location("TX", "Harris"), "en").id == "office_line"


def test_composer_uses_the_clock_only_for_urgent_topics(office_and_night):
    content = ContentBase(ROOT / "responses", ROOT / "locales", ("en",))
    composer = AnswerComposer(content, office_and_night, clock=lambda: SUNDAY_NIGHT)
    harris = Location("TX", "Harris")
    assert "NIGHT_LINE" in composer.first_reply("ice_at_home", harris, "en")
    assert composer.routed_values(harris, "en")["hotline"].startswith("OFFICE_LINE")


def test_bad_hours_are_refused_with_the_entry_named(tmp_path):
    from bot.content.directory import DirectoryError

    with pytest.raises(DirectoryError, match=r"directory.yml.broken.hours"):
        router_for(tmp_path, [entry("broken", hours="weekdays, mornings")])


# -- production refuses an untrusted urgent hotline ---------------------------------------


def test_production_refuses_the_shipped_sample_hotline():
    with pytest.raises(ConfigError, match=r"resources.yml \(placeholders.hotline\) is the shipped sample"):
        create_app(production_env())


def test_production_refuses_an_unverified_hotline(tmp_path):
    responses = responses_copy(tmp_path, sample=None, verified=False)
    with pytest.raises(ConfigError, match=r"placeholders.hotline\) is not verified"):
        create_app(production_env(RESPONSES_DIR=str(responses)))


def test_production_starts_with_a_verified_hotline_of_its_own(tmp_path):
    app = create_app(production_env(RESPONSES_DIR=own_hotline(tmp_path)))
    assert app.extensions["kyr"].content.placeholders["hotline"] == "Our hotline 312-555-0199"


def test_development_starts_with_the_sample_and_says_so(make_app, caplog):
    with caplog.at_level(logging.WARNING, logger="bot.services"):
        make_app()
    assert any("urgent hotline" in r.getMessage() and "sample" in r.getMessage() for r in caplog.records)


# -- MORE replies end with their review date, in the reader's language ------------------------


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_more_replies_end_with_the_review_date_in_each_language(lang):
    content = ContentBase(ROOT / "responses", ROOT / "locales", SUPPORTED_LANGUAGES)
    composer = AnswerComposer(content, Router([], content.resources))
    for intent, topic in content.topics.items():
        for location in [None, *(Location(state) for state in topic.states)]:
            key = composer.topic_key(intent, "more", location)
            reviewed = content.reviewed_for(key)
            expected = content.text("system.checked", lang, {"month": month_year(reviewed, lang)})
            assert composer.more_reply(intent, location, lang).endswith("\n" + expected), (lang, key)
            assert str(reviewed.year) in expected


def test_month_names_are_the_readers():
    december = datetime.date(2026, 12, 7)
    assert month_year(december, "en") == "December 2026"
    assert "diciembre" in month_year(december, "es")
    assert month_year(december, "ht") == "desanm 2026"
    assert month_year(december, "zh") == "2026年12月"


def test_a_state_variant_shows_its_own_review_date(tmp_path):
    responses = tmp_path / "responses"
    shutil.copytree(ROOT / "responses", responses)
    path = responses / "topics" / "detainer.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["reviewed"] = datetime.date(2026, 12, 1)
    data["states"]["TX"]["reviewed"] = datetime.date(2026, 3, 15)
    write_yaml(path, data)
    content = ContentBase(responses, ROOT / "locales", ("en",))
    composer = AnswerComposer(content, Router([], content.resources))
    assert composer.more_reply("detainer", Location("TX"), "en").endswith("Checked March 2026.")
    assert composer.more_reply("detainer", Location("MT"), "en").endswith("Checked December 2026.")


def test_more_through_sms_ends_with_the_date(app, client, phone):
    content = app.extensions["kyr"].content
    post_signed(client, sms_form(phone, "a mi hermano le pusieron un hold de migracion en la carcel"))
    reply = twiml_messages(post_signed(client, sms_form(phone, "MAS")).data)[0]
    month = month_year(content.reviewed_for("detainer.more"), "es")
    assert reply.endswith(sms_text(content.text("system.checked", "es", {"month": month}), "es"))


# -- stale answers: a warning and /healthz, never a failure by itself ---------------------------


def test_healthz_reports_stale_content(make_app, tmp_path):
    responses = tmp_path / "responses"
    shutil.copytree(ROOT / "responses", responses)
    path = responses / "topics" / "bail.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["reviewed"] = datetime.date.today() - datetime.timedelta(days=400)
    write_yaml(path, data)
    assert make_app(RESPONSES_DIR=str(responses)).test_client().get("/healthz").json["content"] == "stale"
    # The same content with a generous limit is not stale: the limit is configuration.
    fresh = make_app(RESPONSES_DIR=str(responses), CONTENT_MAX_AGE_DAYS="100000")
    assert fresh.test_client().get("/healthz").json["content"] == "ok"
