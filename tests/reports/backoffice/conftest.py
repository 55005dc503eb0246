"""A city whose back offices use the API: two departments (環境課 with the pet
registration and a meeting room, 道路課 with a hall), a resident's application, a report
with a photo, bookings of both resources; tokens issued for them; and another town with
its own token, which must reach none of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from govtech.models import Department, Municipality
from govtech.tenancy import tenant_scope
from procedures.incidents.models import Report
from procedures.models import Submission
from procedures.reservations.models import Booking
from procedures.reservations.services import BookingRequest, booking_create
from procedures.services import procedure_create, procedure_publish
from reports.backoffice.services import api_token_create
from tests.factories import DepartmentFactory
from tests.factories import resident as resident_of
from tests.procedures.casework.conftest import submit_pet
from tests.procedures.docs import pet_registration
from tests.procedures.reservation_fixtures import NOW as BOOKING_NOW
from tests.procedures.reservation_fixtures import TEN, make_resource
from tests.reports.public.world import TARO, build_world, report_by_line

APPLIED = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
REPORTED = datetime(2026, 12, 5, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def issue(
    municipality: Municipality,
    *,
    scope: str = "read",
    departments: tuple[Department, ...] = (),
    days: int = 30,
    name: str = "kintone",
) -> str:
    """A token of ``municipality``; its secret."""
    _token, key = api_token_create(
        actor=None,
        municipality=municipality,
        name=name,
        scope=scope,
        expires_at=timezone.now() + timedelta(days=days),
        departments=departments,
    )
    return key


class Api:
    """Calls /api/v1/ with a bearer token."""

    def __init__(self, key: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1/{path}", params, headers=self.headers)

    def post(self, path: str, data: dict, **headers):
        return self.client.post(
            f"/api/v1/{path}",
            data,
            content_type="application/json",
            headers={**self.headers, **headers},
        )


@dataclass
class City:
    municipality: Municipality
    kankyo: Department
    doro: Department
    application: Submission
    report: Report
    bookings: list[Booking]


def _book(resource, handle: str, name: str) -> Booking:
    with tenant_scope(resource.municipality):
        person = resident_of(resource, handle, display_name=name)
        request = BookingRequest(resource=resource, starts_at=TEN, resident=person)
        return booking_create(request=request, now=BOOKING_NOW)


@pytest.fixture
def world(city, designer) -> City:
    kankyo = DepartmentFactory(municipality=city, code="kankyo", name="環境課")
    doro = DepartmentFactory(municipality=city, code="doro", name="道路課")
    pets = procedure_create(
        actor=designer, municipality=city, document=pet_registration(), department=kankyo
    )
    procedure_publish(actor=designer, procedure=pets)
    application = submit_pet(city)
    build_world(city, designer)
    report = report_by_line(city, TARO)
    with tenant_scope(city):
        # Sent on two days (submitted_at is set by the database clock).
        Submission.objects.filter(pk=application.pk).update(submitted_at=APPLIED)
        Submission.objects.filter(pk=report.submission_id).update(
            department=doro, submitted_at=REPORTED
        )
    room = make_resource(city, key="kaigishitsu", name="会議室", department=kankyo)
    hall = make_resource(city, key="hall", name="ホール", department=doro)
    bookings = [_book(room, "line:test:Ub1", "鈴木一郎"), _book(hall, "line:test:Ub2", "高橋二郎")]
    return City(city, kankyo, doro, application, report, bookings)


@pytest.fixture
def api():
    return Api


@pytest.fixture
def reader(world) -> Api:
    """A read-only token of every department."""
    return Api(issue(world.municipality))


@pytest.fixture
def writer(world) -> Api:
    return Api(issue(world.municipality, scope="write"))


@pytest.fixture
def kankyo_only(world) -> Api:
    """A read-and-write token of 環境課 only."""
    return Api(issue(world.municipality, scope="write", departments=(world.kankyo,)))


@pytest.fixture
def outsider_api(other_town) -> Api:
    """A read-and-write token of another town."""
    return Api(issue(other_town, scope="write", name="other"))
