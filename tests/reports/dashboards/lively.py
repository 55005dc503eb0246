"""A month of plausible activity in a city, for the dashboards' browser test and its
screenshots: friends growing with a few blocks, broadcasts, a procedure's conversations
stopping along its steps, bookings with no-shows. Random but seeded (the same every run);
the hand-counted figures are in ``fixtures``, not here."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from delivery.broadcasts.models import Broadcast, BroadcastRecipient
from delivery.models import Friend
from delivery.services import line_channel_create
from govtech.models import Department
from govtech.tenancy import tenant_scope
from procedures.models import Conversation, Procedure, ProcedureVersion, Resident, Submission
from procedures.reservations.models import Booking, OpeningRule, Resource, Slot
from tests.reports.dashboards.fixtures import DOCUMENT, STEPS

TOKYO = ZoneInfo("Asia/Tokyo")
DAYS = 30


def lively_city(city, *, today: date) -> Procedure:
    """Fill ``city`` with the ``DAYS`` days before ``today``; returns the procedure."""
    rng = random.Random(7)
    city.population = 48_000
    city.save(update_fields=["population"])
    with tenant_scope(city):
        first = today - timedelta(days=DAYS)
        friends = _friends(city, rng, first)
        _broadcasts(city, rng, first, friends)
        procedure = _conversations(city, rng, first)
        _bookings(city, rng, first)
    return procedure


def _moment(rng, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(7, 22), rng.randint(0, 59)), TOKYO)


def _friends(city, rng, first: date) -> list[Friend]:
    channel = line_channel_create(
        actor=None,
        municipality=city,
        name="デモ市公式",
        channel_id="2000000901",
        channel_secret="s" * 32,
        access_token="t" * 40,
    )
    follows = [_moment(rng, first - timedelta(days=rng.randint(1, 400))) for _ in range(1800)]
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        follows += [_moment(rng, day) for _ in range(rng.randint(15, 45))]
    people = Resident.objects.bulk_create(
        Resident(municipality=city, handle=f"lively:{n}") for n in range(len(follows))
    )
    rows = []
    for n, (person, followed) in enumerate(zip(people, follows, strict=True)):
        blocked = followed + timedelta(days=rng.randint(0, 60)) if rng.random() < 0.06 else None
        rows.append(
            Friend(
                municipality=city,
                channel=channel,
                resident=person,
                line_user_id=f"U{n:032x}",
                followed_at=followed,
                unfollowed_at=blocked,
                is_following=blocked is None,
            )
        )
    return Friend.objects.bulk_create(rows)


def _broadcasts(city, rng, first: date, friends: list[Friend]) -> None:
    channel = friends[0].channel
    titles = ["粗大ごみの収集日変更", "防災訓練のお知らせ", "子育て支援給付金", "年末年始の窓口"]
    for number, title in enumerate(titles):
        started = datetime.combine(first + timedelta(days=4 + 7 * number), time(12), TOKYO)
        audience = [
            f
            for f in friends
            if f.followed_at < started and (f.unfollowed_at is None or f.unfollowed_at > started)
        ]
        sent = Broadcast.objects.create(
            municipality=city,
            channel=channel,
            title=title,
            status="sent",
            started_at=started,
            recipients_count=len(audience),
        )
        BroadcastRecipient.objects.bulk_create(
            BroadcastRecipient(broadcast=sent, seq=n, friend=f) for n, f in enumerate(audience)
        )
        # A few recipients block the account within hours of the broadcast.
        quitting = rng.sample(audience, rng.randint(3, 15))
        for friend in quitting:
            friend.unfollowed_at = started + timedelta(hours=rng.randint(1, 20))
            friend.is_following = False
        Friend.objects.bulk_update(quitting, ["unfollowed_at", "is_following"])


def _conversations(city, rng, first: date) -> Procedure:
    department = Department.objects.create(municipality=city, code="sodai", name="ごみ対策課")
    procedure = Procedure.objects.create(
        municipality=city, department=department, key="bulky-waste", draft=DOCUMENT
    )
    version = ProcedureVersion.objects.create(
        municipality=city, procedure=procedure, number=1, document=DOCUMENT
    )
    procedure.live_version = version
    procedure.save(update_fields=["live_version"])
    runs = []
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        runs += [(_moment(rng, day), _outcome(rng)) for _ in range(rng.randint(8, 25))]
    people = Resident.objects.bulk_create(
        Resident(municipality=city, handle=f"lively:c{n}") for n in range(len(runs))
    )
    for person, (started, (status, reached)) in zip(people, runs, strict=True):
        state = {"procedure_key": procedure.key, "status": status, "step_id": STEPS[reached]}
        state |= {"lang": "ja", "updated_at": "", "started_at": "", "history": STEPS[:reached]}
        conversation = Conversation.objects.create(
            municipality=city,
            resident=person,
            procedure=procedure,
            version=version,
            status=status,
            state=state,
            updated_at=started,
        )
        Conversation.objects.filter(pk=conversation.pk).update(started_at=started)
        if status == "submitted":
            _submission(city, procedure, version, conversation, person, started, rng)
    return procedure


def _outcome(rng) -> tuple[str, int]:
    roll = rng.random()
    if roll < 0.55:
        return "submitted", len(STEPS) - 1
    if roll < 0.7:
        return "cancelled", 1
    if roll < 0.88:
        return "expired", 2  # the photo step loses the most
    return "expired", rng.choice([0, 3])


def _submission(city, procedure, version, conversation, person, started, rng) -> None:
    submission = Submission.objects.create(
        municipality=city,
        reference=f"BW-{conversation.pk:06d}",
        procedure=procedure,
        version=version,
        conversation=conversation,
        resident=person,
        answers={},
        channel="web" if rng.random() < 0.2 else "line",
    )
    sent = started + timedelta(minutes=rng.randint(2, 40))
    Submission.objects.filter(pk=submission.pk).update(submitted_at=sent)


def _bookings(city, rng, first: date) -> None:
    resource = Resource.objects.create(
        municipality=city,
        key="recycle-hall",
        name="リサイクル館",
        capacity=6,
        closed_on_holidays=False,
    )
    for weekday in range(6):
        OpeningRule.objects.create(
            municipality=city, resource=resource, weekday=weekday, opens=time(9), closes=time(16)
        )
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        if day.weekday() == 6:
            continue
        for hour in range(9, 16):
            starts = datetime.combine(day, time(hour), TOKYO)
            slot = Slot.objects.create(
                municipality=city,
                resource=resource,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                capacity=6,
            )
            Booking.objects.bulk_create(
                Booking(
                    municipality=city,
                    resource=resource,
                    slot=slot,
                    status="no_show" if rng.random() < 0.08 else "attended",
                )
                for _ in range(rng.randint(0, 6))
            )
