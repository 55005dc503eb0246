"""Reservations in LINE, end to end through the simulator: book, the race lost with the
nearest alternatives, the waitlist offer, list, change and cancel in chat; a full slot's
waitlist joined from the slot list."""

import pytest
from django_scopes import scopes_disabled

from procedures.models import Submission
from procedures.reservations.models import Booking, WaitlistOffer
from procedures.services import procedure_create, procedure_publish
from tests.procedures.reservation_fixtures import TOKYO, hiroba_document, make_resource

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def labels(resident) -> list[str]:
    return [action.get("label", "") for action in resident.quick_replies()]


def pick_slot(resident, day_label=None):
    """Start the procedure and pick a day (the first offered, or `day_label`) and its first time."""
    resident.say("こどもひろば予約")
    resident.received()
    resident.tap(day_label or labels(resident)[0])
    resident.received()
    slot = next(label for label in labels(resident) if "残り" in label)
    resident.tap(slot)
    return slot


def test_residents_book_wait_change_and_cancel_in_chat(line_world, city, designer):
    make_resource(city, capacity=1, max_party_size=1)
    procedure = procedure_create(actor=designer, municipality=city, document=hiroba_document())
    procedure_publish(actor=designer, procedure=procedure)
    taro, hanako = line_world("U" + "a" * 32), line_world("U" + "b" * 32)

    pick_slot(hanako)  # hanako hesitates on the summary…
    hanako.received()
    pick_slot(taro)
    taro.received()
    taro.tap("送信")  # …while taro takes the last place
    taro.received()
    assert "予約を受け付けました" in taro.texts()

    hanako.tap("送信")
    hanako.received()
    assert "埋まりました" in hanako.texts() and "近い空き枠" in hanako.texts()
    hanako.tap("キャンセル待ちに登録")
    hanako.received()
    assert "キャンセル待ちに登録しました" in hanako.texts()

    taro.say("予約の確認")
    taro.received()
    assert "こどもひろば" in taro.texts()
    taro.tap("変更")
    taro.received()
    taro.tap(labels(taro)[1])
    taro.received()
    taro.tap(next(label for label in labels(taro) if "残り" in label))
    taro.received()
    assert "予約を変更しました" in taro.texts()

    hanako.received()  # the place taro left is offered to hanako at once
    assert "空きが出ました" in hanako.texts()
    hanako.tap("予約する")
    hanako.received()
    assert "予約が確定しました" in hanako.texts()

    taro.say("予約の確認")
    taro.received()
    taro.tap("キャンセル")
    taro.received()
    taro.tap("キャンセルする")
    taro.received()
    assert "予約をキャンセルしました" in taro.texts()
    with scopes_disabled():
        statuses = sorted(Booking.objects.values_list("status", flat=True))
        assert WaitlistOffer.objects.get().status == "accepted"
    assert statuses == ["cancelled", "cancelled", "confirmed"]


def test_a_resident_waits_for_a_full_slot_from_the_slot_list_and_books_the_freed_place(
    line_world, city, designer
):
    make_resource(city, capacity=1, max_party_size=1)
    procedure = procedure_create(actor=designer, municipality=city, document=hiroba_document())
    procedure_publish(actor=designer, procedure=procedure)
    taro, hanako = line_world("U" + "c" * 32), line_world("U" + "d" * 32)
    taken = pick_slot(taro)[:5]  # "10:00（残り1）" → "10:00"
    taro.received()
    taro.tap("送信")
    taro.received()
    assert "予約を受け付けました" in taro.texts()

    hanako.say("こどもひろば予約")
    hanako.received()
    hanako.tap(labels(hanako)[0])  # the same day: its taken time is now full
    hanako.received()
    assert f"{taken} 満員・キャンセル待ち" in labels(hanako)
    hanako.tap(f"{taken} 満員・キャンセル待ち")
    hanako.received()
    assert "満員です" in hanako.texts()
    hanako.tap("キャンセル待ちに登録")
    hanako.received()
    assert "キャンセル待ちに登録しました" in hanako.texts()
    with scopes_disabled():
        assert (
            Booking.objects.filter(resident__line_friends__line_user_id__endswith="d" * 32).count()
            == 0
        )
        assert Submission.objects.count() == 1  # taro's only

    taro.say("予約の確認")
    taro.received()
    taro.tap("キャンセル")
    taro.received()
    taro.tap("キャンセルする")
    taro.received()

    hanako.received()  # the freed place is offered to hanako at once
    assert "空きが出ました" in hanako.texts()
    hanako.tap("予約する")
    hanako.received()
    assert "予約が確定しました" in hanako.texts()
    with scopes_disabled():
        booked = Booking.objects.get(status="confirmed")
        assert booked.resident.line_friends.get().line_user_id.endswith("d" * 32)
        assert f"{booked.slot.starts_at.astimezone(TOKYO):%H:%M}" == taken
        assert WaitlistOffer.objects.get().status == "accepted"
        assert Submission.objects.count() == 1
