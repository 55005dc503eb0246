# ruff: noqa: F811 - fixtures imported from tests.procedures.reservation_fixtures
"""Reservations: schedules, holidays, the booking window, capacity, change, waitlist, chat."""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.models import Submission
from procedures.reservations.models import (
    Booking,
    Closure,
    WaitlistOffer,
)
from procedures.reservations.selectors import slot_availability, slots_out_of_step
from procedures.reservations.services import (
    BookingRefused,
    BookingRequest,
    SlotFull,
    booking_cancel,
    booking_change,
    booking_create,
    waitlist_join,
    waitlist_offer_accept,
    waitlist_offer_next,
    waitlist_offers_expire,
)
from procedures.runtime import resident_input
from tests.factories import resident as resident_of
from tests.procedures.reservation_fixtures import (
    NOW,
    TEN,
    TOKYO,
    hiroba,  # noqa: F401 - fixture
    hiroba_procedure,  # noqa: F401 - fixture
    make_resource,
)

pytestmark = pytest.mark.django_db


def book(resource, starts_at=TEN, resident="line:c:U1", party=1, now=NOW):
    request = BookingRequest(
        resource=resource,
        starts_at=starts_at,
        party_size=party,
        resident=resident_of(resource, resident),
    )
    return booking_create(request=request, now=now)


def test_availability_lists_each_slot_with_its_remaining_places(city, hiroba):
    with tenant_scope(city):
        book(hiroba, party=2)
        slots = slot_availability(resource=hiroba, first=date(2026, 12, 2), days=1, now=NOW)
    assert [(s.starts_at.hour, s.capacity, s.remaining) for s in slots] == [(10, 3, 1), (11, 3, 3)]


def test_public_holidays_and_closures_have_no_slots(city, hiroba):
    with tenant_scope(city):
        Closure.objects.create(municipality=city, resource=hiroba, date=date(2026, 12, 3))
        # 2026-11-23 is 勤労感謝の日 (Labour Thanksgiving Day).
        holiday = slot_availability(
            resource=hiroba, first=date(2026, 11, 23), days=1, now=NOW - timedelta(days=10)
        )
        closed = slot_availability(resource=hiroba, first=date(2026, 12, 3), days=1, now=NOW)
        with pytest.raises(BookingRefused):
            book(hiroba, starts_at=datetime(2026, 12, 3, 10, tzinfo=TOKYO))
    assert holiday == [] and closed == []


def test_a_resource_open_on_holidays_offers_them(city):
    resource = make_resource(city, key="gym", closed_on_holidays=False)
    with tenant_scope(city):
        slots = slot_availability(
            resource=resource, first=date(2026, 11, 23), days=1, now=NOW - timedelta(days=10)
        )
    assert len(slots) == 2


def test_the_booking_window_opens_days_ahead_and_closes_hours_before(city, hiroba):
    far = datetime(2026, 12, 16, 10, tzinfo=TOKYO)  # 15 days ahead: not yet open
    with tenant_scope(city), time_machine.travel(NOW, tick=False):
        with pytest.raises(BookingRefused, match="予約受付期間外"):
            book(hiroba, starts_at=far, now=NOW)
        with pytest.raises(BookingRefused, match="予約受付期間外"):  # 30 minutes before
            soon = datetime(2026, 12, 1, 10, tzinfo=TOKYO)
            book(hiroba, starts_at=soon, now=NOW.replace(hour=9, minute=30))
        assert book(hiroba, starts_at=far, now=NOW + timedelta(days=1)).pk


def test_capacity_is_never_exceeded_and_the_nearest_times_are_offered(city, hiroba):
    with tenant_scope(city):
        book(hiroba, resident="line:c:A", party=2)
        book(hiroba, resident="line:c:B", party=1)
        with pytest.raises(SlotFull) as full:
            book(hiroba, resident="line:c:C", party=1)
    assert full.value.alternatives[0].starts_at == TEN + timedelta(hours=1)


def test_per_resident_limits_hold(city, hiroba):
    with tenant_scope(city):
        book(hiroba)
        with pytest.raises(BookingRefused, match="すでに予約"):
            book(hiroba, starts_at=TEN + timedelta(hours=1))


def test_a_change_secures_the_new_slot_before_releasing_the_old(city, hiroba):
    eleven = TEN + timedelta(hours=1)
    with tenant_scope(city):
        mine = book(hiroba, resident="line:c:A")
        book(hiroba, starts_at=eleven, resident="line:c:B", party=2)
        book(hiroba, starts_at=eleven, resident="line:c:C")
        with pytest.raises(SlotFull):
            booking_change(booking=mine, starts_at=eleven, now=NOW)
        mine.refresh_from_db()
        assert mine.status == "confirmed"  # the full target left the old booking alone
        moved = booking_change(booking=mine, starts_at=TEN + timedelta(days=1), now=NOW)
        mine.refresh_from_db()
    assert mine.status == "cancelled" and moved.status == "confirmed"


def test_freed_places_are_offered_to_the_waiting_residents_in_the_order_they_joined(
    city, hiroba, eager_celery, django_capture_on_commit_callbacks
):
    with tenant_scope(city), time_machine.travel(NOW, tick=False):
        first = book(hiroba, resident="line:c:A", party=2)
        book(hiroba, resident="line:c:B")
        for handle in ("line:c:W1", "line:c:W2", "line:c:W3"):
            waitlist_join(
                resource=hiroba, starts_at=TEN, resident=resident_of(hiroba, handle), now=NOW
            )
        with django_capture_on_commit_callbacks(execute=True):
            booking_cancel(booking=first, now=NOW)  # two places free: W1 and W2, not W3
        offers = list(WaitlistOffer.objects.order_by("id"))
        assert [o.entry.resident.handle for o in offers] == ["line:c:W1", "line:c:W2"]
        with pytest.raises(SlotFull):  # the freed places are held for them
            book(hiroba, resident="line:c:X")
        booking = waitlist_offer_accept(offer=offers[0], now=NOW + timedelta(minutes=5))
        assert slots_out_of_step(resource=hiroba) == []
    assert booking.resident.handle == "line:c:W1" and booking.status == "confirmed"


def test_an_expired_offer_moves_on_to_the_next_resident(city, hiroba):
    with tenant_scope(city):
        freed = book(hiroba, resident="line:c:A")
        book(hiroba, resident="line:c:B", party=2)
        waitlist_join(
            resource=hiroba, starts_at=TEN, resident=resident_of(hiroba, "line:c:W1"), now=NOW
        )
        waitlist_join(
            resource=hiroba, starts_at=TEN, resident=resident_of(hiroba, "line:c:W2"), now=NOW
        )
        booking_cancel(booking=freed, now=NOW)  # offered to W1 at once
        assert waitlist_offer_next(slot_id=freed.slot_id, now=NOW) == []  # nothing else free
        first = WaitlistOffer.objects.get()
        # While held, nobody else can take the place, even once its time is up:
        # it goes to the next resident waiting, not to whoever books first.
        for minutes in (10, 31):
            with pytest.raises(SlotFull):
                book(hiroba, resident="line:c:X", now=NOW + timedelta(minutes=minutes))
        assert waitlist_offers_expire(now=NOW + timedelta(minutes=31)) == 1
        offers = list(WaitlistOffer.objects.order_by("id"))
        with pytest.raises(BookingRefused, match="有効期限"):
            waitlist_offer_accept(offer=offers[0], now=NOW + timedelta(minutes=32))
    assert [o.status for o in offers] == ["expired", "pending"]
    assert offers[1].entry.resident.handle == "line:c:W2" and first.pk == offers[0].pk


def test_blocked_slots_cannot_be_booked(city, hiroba, admin_user):
    from procedures.reservations.services import slot_block

    with tenant_scope(city):
        slot_block(resource=hiroba, starts_at=TEN, actor=admin_user)
        with pytest.raises(SlotFull):
            book(hiroba)


# --- in chat ------------------------------------------------------------------------------


def say(city, inp, resident="line:c:U1", now=NOW):
    if isinstance(inp, str):
        inp = engine.TextInput(inp)
    return resident_input(municipality=city, resident=resident_of(city, resident), inp=inp, now=now)


def choices(reply):
    found = []
    for prompt in reply.prompts:
        found += list(getattr(prompt, "choices", ()))
        if isinstance(prompt, engine.ConfirmationPrompt):
            found.append(prompt.submit)
    return found


def tap(city, reply, label, **kwargs):
    for choice in choices(reply):
        if choice.label == label:
            return say(city, engine.PostbackInput(choice.data), **kwargs)
    raise AssertionError(f"no {label!r} in {[c.label for c in choices(reply)]}")


def test_a_resident_books_in_chat_and_the_submission_holds_the_booking(city, hiroba_procedure):
    reply = say(city, "こどもひろば予約")
    assert "12/2（水）" in [c.label for c in choices(reply)]
    reply = tap(city, reply, "12/2（水）")
    assert [c.label for c in choices(reply)][:2] == ["10:00（残り3）", "11:00（残り3）"]
    reply = tap(city, reply, "10:00（残り3）")
    reply = tap(city, reply, "1人")
    reply = tap(city, reply, "送信")
    assert reply.submission is not None
    with tenant_scope(city):
        booking = Booking.objects.get()
        assert booking.submission == reply.submission
        assert Submission.objects.get().answers["visit"]["start"] == TEN.isoformat()


def test_a_slot_filled_meanwhile_is_refused_with_nearest_alternatives(city, hiroba_procedure):
    reply = say(city, "こどもひろば予約")
    reply = tap(city, tap(city, reply, "12/2（水）"), "10:00（残り3）")
    reply = tap(city, reply, "2人")
    with tenant_scope(city):
        book(hiroba_procedure_resource(city), resident="line:c:other", party=2)
    reply = tap(city, reply, "送信")
    text = "\n".join(getattr(p, "text", "") for p in reply.prompts)
    assert reply.submission is None
    assert "埋まりました" in text and "12/2（水）11:00" in text
    assert "キャンセル待ちに登録" in [c.label for c in choices(reply)]
    with tenant_scope(city):
        assert Booking.objects.count() == 1 and Submission.objects.count() == 0


def hiroba_procedure_resource(city):
    from procedures.reservations.models import Resource

    return Resource.objects.get(key="kodomo-hiroba")


def test_residents_list_change_and_cancel_their_bookings_in_chat(city, hiroba, eager_celery):
    with tenant_scope(city):
        book(hiroba)
    reply = say(city, "予約の確認")
    assert "12/2（水）10:00–11:00" in reply.prompts[0].text
    reply = tap(city, tap(city, reply, "変更"), "12/3（木）")
    reply = tap(city, reply, "11:00（残り3）")
    assert "変更しました" in reply.prompts[0].text
    reply = tap(city, tap(city, say(city, "予約の確認"), "キャンセル"), "キャンセルする")
    assert "キャンセルしました" in reply.prompts[0].text
    assert say(city, "予約の確認").prompts[0].text == "予定されている予約はありません。"


def test_another_resident_cannot_cancel_my_booking(city, hiroba):
    with tenant_scope(city):
        mine = book(hiroba)
    reply = say(city, engine.PostbackInput(f"gt|rsv|cx|{mine.pk}"), resident="line:c:intruder")
    assert "見つからない" in reply.prompts[0].text
    with tenant_scope(city):
        mine.refresh_from_db()
    assert mine.status == "confirmed"


def test_reminder_times_follow_the_rules(city, hiroba):
    from procedures.reservations.models import ReminderRule
    from procedures.reservations.tasks import reminder_due_at

    rule = ReminderRule(days_before=1, at_time=time(18))
    two_hours = ReminderRule(hours_before=2)
    assert reminder_due_at(rule, TEN) == datetime(2026, 12, 1, 18, tzinfo=TOKYO)
    assert reminder_due_at(two_hours, TEN) == datetime(2026, 12, 2, 8, tzinfo=TOKYO)
