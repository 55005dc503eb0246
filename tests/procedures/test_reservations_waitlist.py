# ruff: noqa: F811 - fixtures imported from tests.procedures.reservation_fixtures
"""Full slots and full days are offered in chat as 「満員・キャンセル待ち」: picking one puts
the resident on that slot's waitlist, books nothing and submits nothing."""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.models import Conversation, Submission
from procedures.reservations.models import Booking, WaitlistEntry, WaitlistOffer
from procedures.reservations.services import BookingRefused, slot_block, waitlist_join
from tests.factories import resident as resident_of
from tests.procedures.reservation_fixtures import (
    NOW,
    TEN,
    TOKYO,
    hiroba,  # noqa: F401 - fixture
    hiroba_document,
    hiroba_procedure,  # noqa: F401 - fixture
)
from tests.procedures.test_reservations_services import book, choices, say, tap

pytestmark = pytest.mark.django_db

ELEVEN = TEN + timedelta(hours=1)


def labels(reply) -> list[str]:
    return [choice.label for choice in choices(reply)]


def text_of(reply) -> str:
    return "\n".join(getattr(prompt, "text", "") for prompt in reply.prompts)


def fill(resource, *starts):
    """Take every place of the slots (3 residents of one place each)."""
    with tenant_scope(resource.municipality):
        for start in starts:
            for n in range(3):
                book(resource, starts_at=start, resident=f"line:c:full{start.hour}{n}")


def test_the_slot_list_offers_a_full_slot_with_its_waitlist(city, hiroba_procedure):
    fill(hiroba_procedure_resource(city), TEN)
    reply = tap(city, say(city, "こどもひろば予約"), "12/2（水）")
    assert labels(reply)[:2] == ["10:00 満員・キャンセル待ち", "11:00（残り3）"]
    assert "キャンセル待ち" in text_of(reply)


def test_a_resident_joins_a_full_slots_waitlist_without_booking_or_submitting(
    city, hiroba_procedure
):
    fill(hiroba_procedure_resource(city), TEN)
    reply = tap(
        city, tap(city, say(city, "こどもひろば予約"), "12/2（水）"), "10:00 満員・キャンセル待ち"
    )
    assert "満員" in text_of(reply)
    assert labels(reply)[:3] == ["キャンセル待ち（1人）", "キャンセル待ち（2人）", "別の時間"]
    reply = tap(city, reply, "キャンセル待ち（2人）")
    assert "キャンセル待ちに登録しました" in text_of(reply)
    assert "12/2（水）10:00–11:00" in text_of(reply) and "2人" in text_of(reply)
    with tenant_scope(city):
        entry = WaitlistEntry.objects.get()
        assert (entry.resident.handle, entry.party_size, entry.status) == (
            "line:c:U1",
            2,
            "waiting",
        )
        assert entry.slot.starts_at == TEN
        assert not Booking.objects.filter(resident__handle="line:c:U1").exists()
        assert Submission.objects.count() == 0
        assert Conversation.objects.get(resident__handle="line:c:U1").status == "active"


def test_another_time_goes_back_to_the_slot_list(city, hiroba_procedure):
    fill(hiroba_procedure_resource(city), TEN)
    reply = tap(
        city, tap(city, say(city, "こどもひろば予約"), "12/2（水）"), "10:00 満員・キャンセル待ち"
    )
    reply = tap(city, tap(city, reply, "別の時間"), "11:00（残り3）")
    reply = tap(city, reply, "1人")
    assert tap(city, reply, "送信").submission is not None


def test_a_fully_booked_day_is_listed_as_full_and_opens_its_waitlists(city, hiroba_procedure):
    fill(hiroba_procedure_resource(city), TEN, ELEVEN)
    reply = say(city, "こどもひろば予約")
    assert "12/2（水）満員・キャンセル待ち" in labels(reply) and "12/3（木）" in labels(reply)
    reply = tap(city, reply, "12/2（水）満員・キャンセル待ち")
    assert "満席" in text_of(reply)
    assert labels(reply)[:3] == [
        "10:00 満員・キャンセル待ち",
        "11:00 満員・キャンセル待ち",
        "別の日",
    ]


def test_blocked_slots_are_not_offered_for_the_waitlist(city, hiroba_procedure, admin_user):
    with tenant_scope(city):
        slot_block(resource=hiroba_procedure_resource(city), starts_at=TEN, actor=admin_user)
    reply = tap(city, say(city, "こどもひろば予約"), "12/2（水）")
    assert not [label for label in labels(reply) if label.startswith("10:00")]


def test_the_race_lost_button_replaces_the_listed_waitlist_of_the_same_slot(city, hiroba_procedure):
    reply = tap(city, tap(city, say(city, "こどもひろば予約"), "12/2（水）"), "10:00（残り3）")
    reply = tap(city, reply, "1人")
    fill(hiroba_procedure_resource(city), TEN)
    reply = tap(city, reply, "送信")
    assert labels(reply).count("キャンセル待ちに登録") == 1
    assert "10:00 満員・キャンセル待ち" not in labels(reply)
    assert len(choices(reply)) <= 13


def test_english_labels_fit_line_quick_replies():
    """Pure engine, in English: the full day, its full slots and the waitlist question."""
    document = {**hiroba_document(), "languages": ["ja", "en"]}
    offer = availability(remaining=[0, 2])
    result = engine.start(document, lang="en", now=NOW, availability=offer)
    shown = []
    for label in ("Wed Dec 2 (full)", "10:00 full: waitlist", "Join the waitlist"):
        chosen = {c.label: c for c in result.prompts[-1].choices}
        shown += list(chosen)
        assert label in chosen, list(chosen)
        inp = engine.PostbackInput(chosen[label].data)
        result = engine.advance(document, result.state, inp, now=NOW, availability=offer)
    assert all(len(label) <= 20 for label in shown)
    assert chosen["Join the waitlist"].data.startswith("gt|rsv|w|kodomo-hiroba|")


def test_joining_when_a_place_was_freed_meanwhile_offers_it_at_once(
    city, hiroba, eager_celery, django_capture_on_commit_callbacks
):
    with tenant_scope(city), time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            waitlist_join(
                resource=hiroba, starts_at=TEN, resident=resident_of(hiroba, "line:c:W1"), now=NOW
            )
        offer = WaitlistOffer.objects.get()
    assert offer.entry.resident.handle == "line:c:W1" and offer.status == "pending"


def test_joining_outside_the_booking_window_is_refused(city, hiroba):
    too_far = datetime(2026, 12, 20, 10, tzinfo=TOKYO)
    with tenant_scope(city), pytest.raises(BookingRefused, match="予約受付期間外"):
        waitlist_join(
            resource=hiroba, starts_at=too_far, resident=resident_of(hiroba, "line:c:W1"), now=NOW
        )


def test_a_resident_of_another_town_cannot_join_this_towns_waitlist(city, other_town, hiroba):
    data = f"gt|rsv|w|kodomo-hiroba|{TEN.isoformat()}|1"
    reply = say(other_town, engine.PostbackInput(data), resident="line:c:outsider")
    assert "予約を受け付けていません" in text_of(reply)
    with tenant_scope(city):
        assert not WaitlistEntry.objects.exists()


def test_the_day_list_keeps_free_days_and_stays_within_thirteen_quick_replies():
    """Pure engine: 14 days, the first 10 full; the free days still come first."""
    offer = availability(remaining=[0] * 10 + [2] * 4)
    result = engine.start(hiroba_document(), lang="ja", now=NOW, availability=offer)
    shown = [choice.label for choice in result.prompts[-1].choices]
    assert len(shown) <= 13
    assert [label for label in shown if "満員" not in label and "/" in label] == [
        "12/12（土）",
        "12/13（日）",
        "12/14（月）",
        "12/15（火）",
    ]
    assert shown[0] == "12/2（水）満員・キャンセル待ち"


def availability(remaining: list[int]) -> dict:
    """What the runtime passes the engine: one 10:00 slot a day from 12/2, with
    `remaining[i]` places left on day i (12/2 also gets a full 11:00 slot)."""
    days = []
    for offset, left in enumerate(remaining):
        day = date(2026, 12, 2) + timedelta(days=offset)
        hours = (10, 11) if offset == 0 else (10,)
        slots = [
            {
                "start": datetime.combine(day, time(hour), TOKYO).isoformat(),
                "end": datetime.combine(day, time(hour + 1), TOKYO).isoformat(),
                "capacity": 2,
                "remaining": left,
                "blocked": False,
            }
            for hour in hours
        ]
        days.append({"date": day.isoformat(), "slots": slots})
    return {"kodomo-hiroba": {"name": {"ja": "こどもひろば"}, "max_party": 1, "days": days}}


def hiroba_procedure_resource(city):
    from procedures.reservations.models import Resource

    with tenant_scope(city):
        return Resource.objects.get(key="kodomo-hiroba")
