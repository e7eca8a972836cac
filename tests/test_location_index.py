"""The checked-in ZIP index (bot/content/zipindex.json.gz) says what the zipcodes package says.

The webhook no longer loads the zipcodes package (its database costs 50-240 MB in every
worker); ``make zipindex`` writes the index it needs. These tests fail when the index is
stale (a new zipcodes release) or the resolver built from it answers differently.
"""

from __future__ import annotations

import gzip
import json

import pytest

from bot.content.location import INDEX_PATH, Location, LocationResolver, build_index

zipcodes = pytest.importorskip("zipcodes")


@pytest.fixture(scope="module")
def fresh() -> dict:
    return build_index()


def test_checked_in_index_is_the_one_the_package_gives(fresh):
    with gzip.open(INDEX_PATH, "rt", encoding="utf-8") as handle:
        stored = json.load(handle)
    assert stored == fresh, "zipindex.json.gz is stale: run make zipindex and commit it"


def test_every_zip_resolves_to_the_packages_state_and_county():
    resolver = LocationResolver()
    checked = 0
    for record in zipcodes.filter_by_state("IL") + zipcodes.filter_by_state("PR") + zipcodes.filter_by_state("TX"):
        county = record["county"]
        for suffix in (" County", " Parish", " Borough", " Census Area", " Municipality"):
            if county and county.endswith(suffix):
                county = county[: -len(suffix)]
        assert resolver.from_zip(record["zip_code"]) == Location(record["state"], county or None)
        checked += 1
    assert checked > 3000
    assert resolver.from_zip("60623") == Location("IL", "Cook")
    assert resolver.from_zip("99999") is None
    assert resolver.from_city("Chicago") == Location("IL", "Cook")
    assert ("IL", "Cook") in resolver.counties_for_zip_prefix("606")
