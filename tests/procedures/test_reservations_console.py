# ruff: noqa: F811 - fixtures imported from tests.procedures.reservation_fixtures
"""Staff console of reservations: calendar, phone bookings, cancel, attendance, blocking,
CSV export — roles, departments, the outsider, audit and query counts."""

import csv
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from govtech.models import AuditLogEntry, Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from procedures.reservations.models import Booking, Slot
from procedures.reservations.services import BookingRequest, booking_cancel, booking_create
from tests.factories import DepartmentFactory
from tests.factories import resident as resident_of
from tests.procedures.reservation_fixtures import (
    NOW,
    TEN,
    hiroba,  # noqa: F401 - fixture
    make_resource,
)

pytestmark = pytest.mark.django_db

ELEVEN = TEN.replace(hour=11)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def book(resource, resident="line:c:U1", starts_at=TEN, party=1, **contact) -> Booking:
    with tenant_scope(resource.municipality):
        return booking_create(
            request=BookingRequest(
                resource=resource,
                starts_at=starts_at,
                party_size=party,
                resident=resident_of(resource, resident) if resident else None,
                **contact,
            ),
            now=NOW,
        )


def audited(city, action: str) -> list[AuditLogEntry]:
    with tenant_scope(city):
        return list(AuditLogEntry.objects.filter(action=action))


def calendar(resource, view="day", day="2026-12-02") -> str:
    url = reverse("admin:reservations_calendar", args=[resource.pk])
    return f"{url}?date={day}&view={view}"


def urls_of(resource, booking) -> list[tuple[str, str]]:
    """Every staff page of reservations, with the method it is used with."""
    return [
        ("get", calendar(resource)),
        ("get", calendar(resource, "week")),
        ("get", reverse("admin:reservations_book", args=[resource.pk]) + "?start=x"),
        ("post", reverse("admin:reservations_block", args=[resource.pk])),
        ("get", reverse("admin:reservations_export", args=[resource.pk])),
        ("get", reverse("admin:reservations_booking_cancel", args=[booking.pk])),
        ("post", reverse("admin:reservations_booking_attendance", args=[booking.pk])),
        ("get", reverse("admin:procedures_booking_change", args=[booking.pk])),
        ("get", reverse("admin:procedures_resource_change", args=[resource.pk])),
    ]


# --- calendar ------------------------------------------------------------------------------


def test_the_week_calendar_shows_each_slots_bookings_and_remaining_places(
    client, admin_user, city, hiroba
):
    book(hiroba, resident="", contact_name="山田花子", contact_phone="090-1111-2222", party=2)
    client.force_login(admin_user)
    body = client.get(calendar(hiroba, "week")).content.decode()
    assert "山田花子 ×2" in body
    assert "残り 1 / 3" in body  # 10:00 on Wednesday
    assert body.count("残り 3 / 3") == 13  # the other 13 slots of the week
    assert "12/2 (水)" in body


def test_the_day_calendar_lists_bookings_with_their_actions_and_the_view_is_audited(
    client, admin_user, city, hiroba
):
    booking = book(hiroba, resident="", contact_name="山田花子", contact_phone="090-1111-2222")
    client.force_login(admin_user)
    body = client.get(calendar(hiroba)).content.decode()
    assert "090-1111-2222" in body and "10:00–11:00" in body
    assert reverse("admin:reservations_booking_cancel", args=[booking.pk]) in body
    assert "電話予約を受け付ける" in body and "この枠を止める" in body
    [entry] = audited(city, "procedures.resource.calendar_viewed")
    assert entry.actor == admin_user


def test_the_calendar_query_count_does_not_grow_with_the_number_of_bookings(
    client, admin_user, city
):
    resource = make_resource(city, capacity=50, max_per_day_per_resident=5)
    client.force_login(admin_user)
    book(resource, resident="line:c:first")
    client.get(calendar(resource, "week"))  # warm caches (session, content types)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(calendar(resource, "week")).status_code == 200
        return len(queries)

    few = count()
    for n in range(12):
        book(resource, resident=f"line:c:{n}", starts_at=[TEN, ELEVEN][n % 2])
    assert count() == few


# --- phone bookings ------------------------------------------------------------------------


def test_staff_book_a_phone_caller_through_the_capacity_path_and_it_is_audited(
    client, reviewer, city, hiroba
):
    client.force_login(reviewer)
    url = reverse("admin:reservations_book", args=[hiroba.pk])
    form = client.get(url, {"start": TEN.isoformat()}).content.decode()
    assert "電話予約" in form and "2026/12/2" in form
    response = client.post(
        url,
        {
            "start": TEN.isoformat(),
            "contact_name": "佐藤一郎",
            "contact_phone": "0238-22-1111",
            "party_size": "2",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == calendar(hiroba)
    with tenant_scope(city):
        booking = Booking.objects.get()
    assert (booking.contact_name, booking.contact_phone) == ("佐藤一郎", "0238-22-1111")
    assert (booking.source, booking.places, booking.created_by) == ("phone", 2, reviewer)
    assert booking.resident is None
    [entry] = audited(city, "procedures.booking.created")
    assert entry.actor == reviewer and entry.data == {"source": "phone"}


def test_a_phone_booking_into_a_full_slot_is_refused_with_the_nearest_free_slots(
    client, admin_user, city, hiroba
):
    book(hiroba, resident="line:c:A", party=2)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:reservations_book", args=[hiroba.pk]),
        {"start": TEN.isoformat(), "contact_name": "佐藤", "contact_phone": "0238221111",
         "party_size": "2"},
    )  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200
    assert "埋まりました" in body and "12/2 (水) 11:00" in body
    with tenant_scope(city):
        assert Booking.objects.count() == 1


def test_a_phone_booking_needs_a_name_and_a_phone_number_and_a_party_that_fits(
    client, admin_user, city, hiroba
):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:reservations_book", args=[hiroba.pk]),
        {"start": TEN.isoformat(), "contact_name": "", "contact_phone": "abc", "party_size": "3"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"contact_name", "contact_phone", "party_size"}
    with tenant_scope(city):
        assert not Booking.objects.exists()


# --- cancel, attendance, block -------------------------------------------------------------


def test_staff_cancel_and_the_resident_is_told_in_japanese_through_the_outbox(
    client, admin_user, city, hiroba, eager_celery, django_capture_on_commit_callbacks, notices
):
    booking = book(hiroba, resident="line:c:U1")
    client.force_login(admin_user)
    url = reverse("admin:reservations_booking_cancel", args=[booking.pk])
    assert "LINE" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"message": "設備点検のため休館します。"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    [(resident, prompts)] = notices.sent
    assert resident == booking.resident
    assert prompts[0]["text"] == (
        "市の都合により予約を取り消しました：こどもひろば 12/2（水）10:00–11:00\n"
        "設備点検のため休館します。"
    )
    [entry] = audited(city, "procedures.booking.cancelled")
    assert entry.data == {"message": "設備点検のため休館します。"}


def test_marking_attendance_is_audited_and_a_cancelled_booking_cannot_be_marked(
    client, reviewer, city, hiroba
):
    came = book(hiroba, resident="line:c:A")
    gone = book(hiroba, resident="line:c:B")
    with tenant_scope(city):
        booking_cancel(booking=gone, now=NOW)
    client.force_login(reviewer)
    for booking, attended in [(came, "1"), (gone, "1")]:
        url = reverse("admin:reservations_booking_attendance", args=[booking.pk])
        assert client.post(url, {"attended": attended}).status_code == 302
    came.refresh_from_db()
    gone.refresh_from_db()
    assert (came.status, gone.status) == ("attended", "cancelled")
    [entry] = audited(city, "procedures.booking.attendance")
    assert entry.target_id == str(came.pk) and entry.data == {"attended": True}


def test_a_slot_is_blocked_and_reopened_and_both_are_audited(client, admin_user, city, hiroba):
    client.force_login(admin_user)
    url = reverse("admin:reservations_block", args=[hiroba.pk])
    client.post(url, {"start": TEN.isoformat(), "blocked": "1", "view": "week"})
    with tenant_scope(city):
        assert Slot.objects.get().is_blocked
    assert "ブロック中" in client.get(calendar(hiroba, "week")).content.decode()
    response = client.post(url, {"start": TEN.isoformat()})
    assert response["Location"] == calendar(hiroba)
    with tenant_scope(city):
        assert not Slot.objects.get().is_blocked
    assert len(audited(city, "procedures.slot.blocked")) == 1
    assert len(audited(city, "procedures.slot.unblocked")) == 1


def test_blocking_a_time_that_is_not_a_slot_changes_nothing(client, admin_user, city, hiroba):
    client.force_login(admin_user)
    url = reverse("admin:reservations_block", args=[hiroba.pk])
    client.post(url, {"start": TEN.replace(minute=30).isoformat(), "blocked": "1"})
    with tenant_scope(city):
        assert not Slot.objects.exists()


# --- CSV export ----------------------------------------------------------------------------


def test_the_csv_export_is_utf8_with_a_bom_in_japanese_and_audited(
    client, admin_user, city, hiroba
):
    book(hiroba, resident="", contact_name="山田花子", contact_phone="090-1111-2222", party=2)
    book(hiroba, resident="line:c:late", starts_at=TEN.replace(day=9))  # outside the period
    client.force_login(admin_user)
    response = client.get(
        reverse("admin:reservations_export", args=[hiroba.pk]),
        {"date_from": "2026-12-01", "date_to": "2026-12-07"},
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "bookings-kodomo-hiroba-20261201-20261207.csv" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["予約番号", "日付", "開始"]
    assert len(rows) == 2
    assert rows[1][1:4] == ["2026-12-02", "10:00", "11:00"]
    assert "山田花子" in rows[1] and "090-1111-2222" in rows[1]
    [entry] = audited(city, "procedures.booking.exported")
    assert entry.data == {"from": "2026-12-01", "to": "2026-12-07", "count": 1}


def test_an_export_with_a_bad_period_exports_nothing(client, admin_user, city, hiroba):
    client.force_login(admin_user)
    response = client.get(
        reverse("admin:reservations_export", args=[hiroba.pk]),
        {"date_from": "2026-12-07", "date_to": "2026-12-01"},
    )
    assert response.status_code == 302
    assert audited(city, "procedures.booking.exported") == []


# --- lists and resources -------------------------------------------------------------------


def test_the_bookings_list_filters_and_offers_no_delete(client, admin_user, city, hiroba):
    book(hiroba, resident="", contact_name="山田花子", contact_phone="090")
    book(hiroba, resident="", contact_name="鈴木次郎", contact_phone="090", starts_at=ELEVEN)
    client.force_login(admin_user)
    url = reverse("admin:procedures_booking_changelist")
    body = client.get(url, {"slot__starts_at__day": "2", "slot__starts_at__month": "12",
                            "slot__starts_at__year": "2026", "status": "confirmed",
                            "resource__id__exact": hiroba.pk}).content.decode()  # fmt: skip
    assert "山田花子" in body and "鈴木次郎" in body
    assert "delete_selected" not in body
    with tenant_scope(city):
        booking = Booking.objects.first()
    delete = reverse("admin:procedures_booking_delete", args=[booking.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_an_admin_creates_a_resource_with_opening_hours_and_closures(client, admin_user, city):
    client.force_login(admin_user)
    data = {
        "municipality": city.pk, "key": "madoguchi", "name": "市民課窓口", "name_en": "",
        "kind": "counter", "department": "", "location": "", "slot_minutes": "30",
        "capacity": "2", "capacity_unit": "people", "max_party_size": "1",
        "opens_days_ahead": "30", "closes_hours_before": "1", "max_active_per_resident": "1",
        "max_per_day_per_resident": "1", "closed_on_holidays": "on",
        "offer_hold_minutes": "30", "is_active": "on",
        "opening_rules-TOTAL_FORMS": "1", "opening_rules-INITIAL_FORMS": "0",
        "opening_rules-0-weekday": "0", "opening_rules-0-opens": "09:00",
        "opening_rules-0-closes": "12:00",
        "closures-TOTAL_FORMS": "1", "closures-INITIAL_FORMS": "0",
        "closures-0-date": "2026-12-29", "closures-0-reason": "年末年始",
        "reminder_rules-TOTAL_FORMS": "0", "reminder_rules-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = client.post(reverse("admin:procedures_resource_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    with tenant_scope(city):
        from procedures.reservations.models import Resource

        resource = Resource.objects.get(key="madoguchi")
        rule = resource.opening_rules.get()
        closure = resource.closures.get()
    assert rule.municipality == city and closure.municipality == city
    assert audited(city, "procedures.resource.created")


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["designer", "broadcaster"])
def test_designers_and_broadcasters_are_refused(client, request, role, city, hiroba):
    booking = book(hiroba)
    client.force_login(request.getfixturevalue(role))
    for method, url in urls_of(hiroba, booking):
        assert getattr(client, method)(url).status_code == 403, url


def test_a_reviewer_of_another_department_gets_404_and_one_of_its_department_manages(
    client, reviewer, city
):
    kodomo = DepartmentFactory(municipality=city, code="kodomo", name="こども課")
    doro = DepartmentFactory(municipality=city, code="doro", name="道路課")
    resource = make_resource(city, department=kodomo)
    booking = book(resource)
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[doro]
    )
    client.force_login(reviewer)
    for method, url in urls_of(resource, booking):
        assert getattr(client, method)(url).status_code == 404, url
    assert (
        "こどもひろば"
        not in client.get(reverse("admin:procedures_resource_changelist")).content.decode()
    )
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[kodomo]
    )
    assert client.get(calendar(resource)).status_code == 200


def test_the_outsider_gets_404_for_every_page_of_the_citys_resource_and_booking(
    client, outsider, city, hiroba
):
    booking = book(hiroba)
    client.force_login(outsider)
    for method, url in urls_of(hiroba, booking):
        assert getattr(client, method)(url).status_code == 404, url
    body = client.get(reverse("admin:procedures_booking_changelist")).content.decode()
    assert "こどもひろば" not in body
    with tenant_scope(city):
        booking.refresh_from_db()
        assert booking.status == "confirmed" and not Slot.objects.filter(is_blocked=True).exists()
