"""Regression tests for the December 2026 security review (issue #15): staff accounts,
login limits and the console (findings 2, 4, 8, 9, 10, 12).

Real Redis (the handoff test database), real HTTP through the Flask test client or
a threaded werkzeug server, real threads where the finding is a race.
"""

from __future__ import annotations

import pytest

from tests.conftest import post_signed, sms_form
from tests.test_handoff import (  # noqa: F401  (handoff_url is a fixture)
    ASK_ES, HANDOFF_ENV, handoff_of, handoff_url, log_in, make_staff,
)


@pytest.fixture
def app(make_app, handoff_url):
    return make_app(REDIS_URL=handoff_url, **HANDOFF_ENV)


@pytest.fixture
def waiting(app, phone):
    """A Spanish SMS conversation waiting for a person; returns its handoff id."""
    post_signed(app.test_client(), sms_form(phone, ASK_ES))
    return handoff_of(app, phone).id


# -- #8: /console/stats is for admins ------------------------------------------------


def test_stats_are_for_admins_only(app, waiting):
    make_staff(app, "ana", languages=("es",))
    make_staff(app, "root", role="admin")
    staff, admin = app.test_client(), app.test_client()
    log_in(staff, "ana")
    log_in(admin, "root")
    assert staff.get("/console/stats").status_code == 403
    assert 'href="/console/stats"' not in staff.get("/console/").get_data(as_text=True)
    assert admin.get("/console/stats").status_code == 200
    assert 'href="/console/stats"' in admin.get("/console/").get_data(as_text=True)
