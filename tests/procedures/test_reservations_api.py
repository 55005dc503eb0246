# ruff: noqa: F811 - fixtures imported from tests.procedures.reservation_fixtures
"""The public availability API: no login, per municipality, in the OpenAPI schema."""

import pytest
import time_machine

from govtech.tenancy import tenant_scope
from procedures.reservations.services import BookingRequest, booking_create
from tests.factories import resident as resident_of
from tests.procedures.reservation_fixtures import NOW, TEN, hiroba  # noqa: F401

pytestmark = pytest.mark.django_db
URL = "/api/v1/municipalities/{slug}/resources/{key}/availability/"


def test_anyone_sees_each_slot_with_capacity_and_remaining_places(client, city, hiroba):
    with tenant_scope(city):
        request = BookingRequest(
            resource=hiroba, starts_at=TEN, party_size=2, resident=resident_of(hiroba, "r")
        )
        booking_create(request=request, now=NOW)
    with time_machine.travel(NOW, tick=False):
        response = client.get(
            URL.format(slug="demo-city", key="kodomo-hiroba"), {"from": "2026-12-02", "days": 1}
        )
    assert response.status_code == 200
    assert response.json()["slots"] == [
        {
            "start": "2026-12-02T10:00:00+09:00",
            "end": "2026-12-02T11:00:00+09:00",
            "capacity": 3,
            "remaining": 1,
        },
        {
            "start": "2026-12-02T11:00:00+09:00",
            "end": "2026-12-02T12:00:00+09:00",
            "capacity": 3,
            "remaining": 3,
        },
    ]


def test_another_municipality_has_no_such_resource(client, city, other_town, hiroba):
    response = client.get(URL.format(slug="other-town", key="kodomo-hiroba"))
    assert response.status_code == 404
    assert client.get(URL.format(slug="nowhere", key="kodomo-hiroba")).status_code == 404


def test_bad_parameters_are_refused(client, city, hiroba):
    url = URL.format(slug="demo-city", key="kodomo-hiroba")
    assert client.get(url, {"days": 999}).status_code == 400
    assert client.get(url, {"from": "tomorrow"}).status_code == 400


def test_the_endpoint_is_in_the_openapi_schema(client):
    response = client.get("/api/schema/")
    assert b"/availability/" in response.content
