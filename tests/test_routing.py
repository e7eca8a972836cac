"""Location from ZIP/city/state, and routing answers to local help by need, place and language."""

import json
import re

import pytest

from bot.content.directory import Router, load_directory
from bot.clients.identity import sender_from_twilio
from bot.content.location import Location
from bot.language.segments import sms_text
from bot.services import location_resolver
from tests.conftest import ID_HASH_KEY, post_signed, sms_form, twiml_messages


@pytest.fixture(scope="module")
def resolver():
    return location_resolver()


def write_directory(tmp_path, entries):
    import yaml

    path = tmp_path / "directory.yml"
    path.write_text(yaml.safe_dump({"entries": entries}), encoding="utf-8")
    return path


def entry(ident, kinds, coverage, languages=("en",), phone="+1 312-555-0100", verified=True, hours="24/7"):
    return {"id": ident, "name": ident, "short_name": ident.upper(), "phone": phone, "verified": verified,
            "hours": hours, "languages": list(languages), "kinds": list(kinds), "coverage": coverage}


# -- location --------------------------------------------------------------


def test_zip_gives_state_and_county(resolver):
    assert resolver.from_zip("60623") == Location("IL", "Cook")
    assert resolver.from_zip("90011") == Location("CA", "Los Angeles")
    assert resolver.from_zip("00000") is None


def test_city_and_state_names(resolver):
    assert resolver.from_city("Houston") == Location("TX", "Harris")
    assert resolver.from_state("Texas") == Location("TX")
    assert resolver.from_state("tejas") == Location("TX")
    assert resolver.from_state("Nueva York") == Location("NY")
    assert resolver.from_state("Narnia") is None


def test_entities_prefer_zip_then_city_in_state(resolver):
    from bot.clients.nlu import Entity

    assert resolver.from_entities([Entity("city", "Houston"), Entity("state", "TX")]) == Location("TX", "Harris")
    assert resolver.from_entities([Entity("zip", "60623"), Entity("state", "TX")]) == Location("IL", "Cook")
    assert resolver.from_entities([Entity("state", "Illinois")]) == Location("IL")


# -- router ----------------------------------------------------------------


def test_county_beats_state_beats_national(tmp_path, resolver):
    path = write_directory(tmp_path, [
        entry("national", ["legal_aid"], {"national": True}),
        entry("statewide", ["legal_aid"], {"states": ["IL"]}),
        entry("cook", ["legal_aid"], {"states": ["IL"], "counties": ["Cook"]}),
    ])
    router = Router(load_directory(path, resolver))
    assert router.best("legal_aid", Location("IL", "Cook"), "en").id == "cook"
    assert router.best("legal_aid", Location("IL", "Lake"), "en").id == "statewide"
    assert router.best("legal_aid", Location("TX", "Harris"), "en") is None
    assert router.best("legal_aid", Location("TX", "Harris"), "en", include_national=True).id == "national"
    assert router.best("legal_aid", None, "en", include_national=True).id == "national"


def test_need_and_language_decide(tmp_path, resolver):
    path = write_directory(tmp_path, [
        entry("english_only", ["legal_aid"], {"states": ["IL"]}, languages=["en"]),
        entry("bilingual", ["legal_aid"], {"states": ["IL"]}, languages=["en", "es"]),
        entry("defender", ["defender"], {"states": ["IL"]}, languages=["en", "es"]),
    ])
    router = Router(load_directory(path, resolver))
    assert router.best("legal_aid", Location("IL"), "es").id == "bilingual"
    assert router.best("defender", Location("IL"), "en").id == "defender"
    assert router.best("hotline", Location("IL"), "en") is None


def test_zip_prefix_coverage_becomes_counties(tmp_path, resolver):
    path = write_directory(tmp_path, [entry("south_side", ["hotline"], {"states": ["IL"], "zip_prefixes": ["606"]})])
    router = Router(load_directory(path, resolver))
    assert router.best("hotline", Location("IL", "Cook"), "en").id == "south_side"
    assert router.best("hotline", Location("IL", "Sangamon"), "en") is None


# -- through /sms with the real content and model -------------------------------


def answer(client, phone, body):
    response = post_signed(client, sms_form(phone, body))
    assert response.status_code == 200
    return twiml_messages(response.data)[0]


def local(app, kind, location, lang="en"):
    """What the router gives this person for a need: the closest verified entry (or the verified national one)."""
    placeholder = {"legal_aid": "legal_help", "hotline": "hotline", "defender": "defender"}[kind]
    resource = app.extensions["kyr"].router.pick(placeholder, location, lang)
    assert resource is not None, f"no verified {kind} for {location}"
    return resource.sms_label()


def test_zip_then_question_gives_state_aware_answer_with_local_help(app, client, phone, redis_client):
    saved = answer(client, phone, "i live in 60623")
    assert "Cook County, IL" in saved
    reply = answer(client, phone, "my brother has an ice hold")
    content = app.extensions["kyr"].content
    cook = Location("IL", "Cook")
    expected_key = app.extensions["kyr"].engine.answers.topic_key("detainer", "first", cook)
    assert expected_key == "detainer.states.IL.first"
    assert reply.startswith(sms_text(content.text(expected_key, "en", {}), "en")[:50])
    assert local(app, "legal_aid", cook) in reply or local(app, "hotline", cook) in reply
    # Only state and county are kept, never the ZIP code.
    raw = redis_client.get("kyr:session:" + sender_from_twilio(phone, ID_HASH_KEY, "US").key)
    assert json.loads(raw)["loc"] == {"state": "IL", "county": "Cook"}
    assert "60623" not in raw


def test_routed_answer_asks_for_zip_then_answers_locally(app, client, phone):
    content = app.extensions["kyr"].content
    first = answer(client, phone, "where can i find a free immigration lawyer")
    assert first.endswith(sms_text(content.text("system.more_footer_zip", "en"), "en"))
    second = answer(client, phone, "60623")
    assert second.startswith("Got it: Cook County, IL.")
    assert local(app, "legal_aid", Location("IL", "Cook")) in second


def test_city_is_accepted_when_asked(app, client, phone):
    answer(client, phone, "where can i find a free immigration lawyer")
    reply = answer(client, phone, "Houston")
    assert reply.startswith("Got it: Harris County, TX.")


def test_ice_at_the_door_puts_the_local_hotline_first(app, client, phone):
    answer(client, phone, "i live in 60623")
    reply = answer(client, phone, "ICE is at my door right now")
    first_sentence = re.split(r"[.!?]\s", reply, maxsplit=1)[0]
    assert local(app, "hotline", Location("IL", "Cook")) in first_sentence


def test_area_without_local_entries_falls_back_to_national(app, client, phone):
    answer(client, phone, "59801")  # Missoula, Montana
    reply = answer(client, phone, "ICE is at my door right now")
    national = app.extensions["kyr"].content.placeholders["hotline"]
    assert national in reply


def test_unknown_zip_gets_a_clear_answer(app, client, phone):
    content = app.extensions["kyr"].content
    assert answer(client, phone, "00000") == sms_text(content.text("system.location_unknown", "en"), "en")


def test_ok_is_not_oklahoma(app, client, phone, redis_client):
    answer(client, phone, "hello")
    answer(client, phone, "ok")
    raw = redis_client.get("kyr:session:" + sender_from_twilio(phone, ID_HASH_KEY, "US").key)
    assert "loc" not in json.loads(raw)


def test_ok_while_asked_for_a_zip_is_not_a_place(app, client, phone, redis_client):
    answer(client, phone, "where can i find a free immigration lawyer")
    answer(client, phone, "ok")
    raw = redis_client.get("kyr:session:" + sender_from_twilio(phone, ID_HASH_KEY, "US").key)
    assert "loc" not in json.loads(raw)


def test_state_code_in_capitals_is_accepted_when_asked(app, client, phone):
    answer(client, phone, "where can i find a free immigration lawyer")
    assert answer(client, phone, "TX").startswith("Got it: TX.")
