# ruff: noqa: F811 - fixtures imported from tests.procedures.reservation_fixtures
"""Each slot's `taken` counter is the capacity check: it must equal what its rows hold
(bookings that hold a place, pending waitlist offers) after every kind of change, and a
resident who loses the last place is offered the nearest free times in the same reply."""

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps

from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.reservations.models import Booking, Slot, WaitlistOffer
from procedures.reservations.selectors import slots_out_of_step
from procedures.reservations.services import (
    BookingRefused,
    SlotFull,
    booking_cancel,
    booking_change,
    booking_mark_attendance,
    slot_block,
    waitlist_join,
    waitlist_offer_accept,
    waitlist_offer_decline,
    waitlist_offers_expire,
)
from procedures.residents.services import resident_erase
from tests.factories import resident as resident_of
from tests.procedures.reservation_fixtures import NOW, TEN, hiroba  # noqa: F401 - fixture
from tests.procedures.test_reservations_services import book, say, tap

pytestmark = pytest.mark.django_db

ELEVEN = TEN + timedelta(hours=1)


def taken(resource, starts_at=TEN) -> int:
    return Slot.objects.get(resource=resource, starts_at=starts_at).taken


def join(resource, handle, party=1):
    person = resident_of(resource, handle)
    return waitlist_join(
        resource=resource, starts_at=TEN, resident=person, party_size=party, now=NOW
    )


def test_the_counter_follows_bookings_cancellations_and_changes(city, hiroba, admin_user):
    with tenant_scope(city):
        first = book(hiroba, resident="line:c:A", party=2)
        assert taken(hiroba) == 2
        second = book(hiroba, resident="line:c:B")
        booking_mark_attendance(booking=second, actor=admin_user, attended=True)
        assert taken(hiroba) == 3  # who came still holds the place
        moved = booking_change(booking=first, starts_at=ELEVEN, now=NOW)
        assert (taken(hiroba), taken(hiroba, ELEVEN)) == (1, 2)
        booking_cancel(booking=moved, now=NOW)
        booking_cancel(booking=moved, now=NOW)  # twice: released once
        assert (taken(hiroba), taken(hiroba, ELEVEN)) == (1, 0)
        assert slots_out_of_step(resource=hiroba) == []


def test_a_refused_booking_leaves_no_row_and_the_counter_alone(city, hiroba, admin_user):
    with tenant_scope(city):
        book(hiroba, resident="line:c:A", party=2)
        book(hiroba, resident="line:c:B")
        with pytest.raises(SlotFull) as full:
            book(hiroba, resident="line:c:C")
        assert full.value.alternatives[0].starts_at == ELEVEN
        slot_block(resource=hiroba, starts_at=ELEVEN, actor=admin_user)
        with pytest.raises(SlotFull):
            book(hiroba, starts_at=ELEVEN, resident="line:c:C")
        assert Booking.objects.count() == 2 and taken(hiroba) == 3
        assert taken(hiroba, ELEVEN) == 0
        assert slots_out_of_step(resource=hiroba) == []


def test_a_change_tapped_twice_books_once(city, hiroba):
    with tenant_scope(city):
        mine = book(hiroba, resident="line:c:A")
        stale = Booking.objects.get(pk=mine.pk)
        booking_change(booking=mine, starts_at=ELEVEN, now=NOW)
        with pytest.raises(BookingRefused, match="キャンセル"):
            booking_change(booking=stale, starts_at=TEN + timedelta(days=1), now=NOW)
        assert Booking.objects.filter(status="confirmed").count() == 1
        assert slots_out_of_step(resource=hiroba) == []


def test_offers_hold_places_until_accepted_declined_or_expired(city, hiroba):
    with tenant_scope(city), time_machine.travel(NOW, tick=False):
        holders = [book(hiroba, resident=f"line:c:H{n}") for n in range(3)]
        join(hiroba, "line:c:W1")
        join(hiroba, "line:c:W2", party=2)
        join(hiroba, "line:c:W3")
        booking_cancel(booking=holders[0], now=NOW)  # 1 free: W1 (W2's party does not fit)
        booking_cancel(booking=holders[1], now=NOW)  # 1 free: W3, the next it fits
        offers = {o.entry.resident.handle: o for o in WaitlistOffer.objects.all()}
        assert set(offers) == {"line:c:W1", "line:c:W3"} and taken(hiroba) == 3
        waitlist_offer_accept(offer=offers["line:c:W1"], now=NOW)
        waitlist_offer_decline(offer=offers["line:c:W3"], now=NOW)  # 1 free, W2 needs 2
        assert taken(hiroba) == 2 and slots_out_of_step(resource=hiroba) == []
        booking_cancel(booking=holders[2], now=NOW)  # now 2 free: W2
        offer = WaitlistOffer.objects.get(entry__resident__handle="line:c:W2")
        assert taken(hiroba) == 3
        assert waitlist_offers_expire(now=offer.expires_at) == 1
        assert taken(hiroba) == 1 and slots_out_of_step(resource=hiroba) == []


def test_erasing_a_resident_gives_their_places_back_through_a_recount(
    city, hiroba, admin_user, eager_celery, django_capture_on_commit_callbacks
):
    with tenant_scope(city), time_machine.travel(NOW, tick=False):
        leaving = book(hiroba, resident="line:c:A", party=2).resident
        book(hiroba, resident="line:c:B")
        join(hiroba, "line:c:W1")
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        resident_erase(actor=admin_user, resident=leaving)
    with tenant_scope(city):
        assert WaitlistOffer.objects.get().entry.resident.handle == "line:c:W1"
        assert taken(hiroba) == 2 and slots_out_of_step(resource=hiroba) == []


def test_the_migration_counts_the_places_rows_already_hold(city, hiroba):
    migration = importlib.import_module("procedures.migrations.0012_slot_taken")
    with tenant_scope(city):
        book(hiroba, resident="line:c:A", party=2)
        cancelled = book(hiroba, starts_at=ELEVEN, resident="line:c:B")
        booking_cancel(booking=cancelled, now=NOW)
        Slot.objects.update(taken=0)  # as before the counter existed
        assert len(slots_out_of_step(resource=hiroba)) == 1
        migration.count_taken_places(apps, None)
        assert (taken(hiroba), taken(hiroba, ELEVEN)) == (2, 0)
        assert slots_out_of_step(resource=hiroba) == []


def test_a_change_to_a_slot_filled_meanwhile_offers_the_nearest_free_times(city, hiroba):
    with tenant_scope(city):
        book(hiroba)
    reply = tap(city, tap(city, say(city, "予約の確認"), "変更"), "12/3（木）")
    with tenant_scope(city):
        for n in range(3):
            book(hiroba, starts_at=ELEVEN + timedelta(days=1), resident=f"line:c:fast{n}")
    reply = tap(city, reply, "11:00（残り3）")
    text = reply.prompts[0].text
    assert "埋まりました" in text and "12/3（木）10:00" in text
    labels = [choice.label for choice in reply.prompts[0].choices]
    assert labels[0] == "12/3（木）10:00"
    reply = say(city, engine.PostbackInput(reply.prompts[0].choices[0].data))
    assert "変更しました" in reply.prompts[0].text
    with tenant_scope(city):
        mine = Booking.objects.get(resident__handle="line:c:U1", status="confirmed")
        assert mine.slot.starts_at == TEN + timedelta(days=1)
        assert slots_out_of_step(resource=hiroba) == []
