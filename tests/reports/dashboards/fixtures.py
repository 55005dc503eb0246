"""A small hand-counted city for the dashboards: friends following and blocking over
three days, a broadcast, a procedure's conversations stopping at known steps, and a
reservation resource with bookings. The expected figures are written out next to the data
(``EXPECTED_*``), counted by hand from it, not by the code under test.

Days are Tokyo days around 2026-11-20 (a Friday); times are given in Tokyo.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from delivery.broadcasts.models import Broadcast, BroadcastRecipient
from delivery.models import Friend
from delivery.services import line_channel_create
from govtech.tenancy import tenant_scope
from procedures.models import Conversation, Procedure, ProcedureVersion, Submission
from procedures.reservations.models import Booking, OpeningRule, Resource, Slot
from tests.factories import DepartmentFactory, line_friend
from tests.factories import resident as resident_of

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = date(2026, 11, 20)
NEXT = DAY + timedelta(days=1)
FIRST, LAST = DAY - timedelta(days=1), DAY + timedelta(days=1)  # the range computed
_numbers = count(1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TOKYO)


# --- friends -------------------------------------------------------------------------------
#
# followed            blocked             on 11/19  11/20  11/21 (end of day)
# 11/01 10:00         —                   yes       yes    yes
# 11/19 09:00         —                   yes       yes    yes
# 11/19 12:00         11/20 10:00         yes       no     no      (blocked after the broadcast)
# 11/20 08:00         —                   no        yes    yes
# 11/20 23:30         —                   no        yes    yes     (still 11/20 in Tokyo)
# 11/21 00:30         —                   no        no     yes     (11/20 in UTC)
# 11/15 10:00         11/21 09:00         yes       yes    no      (blocked 23 h after: counted)
# 11/15 10:00         11/22 12:00         yes       yes    yes     (blocked too late for it)
# a test account      —                   never counted
FRIENDS = [
    (at(date(2026, 11, 1), 10), None),
    (at(FIRST, 9), None),
    (at(FIRST, 12), at(DAY, 10)),
    (at(DAY, 8), None),
    (at(DAY, 23, 30), None),
    (at(NEXT, 0, 30), None),
    (at(date(2026, 11, 15), 10), at(NEXT, 9)),
    (at(date(2026, 11, 15), 10), at(date(2026, 11, 22), 12)),
]
EXPECTED_FRIENDS = {  # day: (friends at its end, follows, blocks)
    FIRST: (5, 2, 0),
    DAY: (6, 2, 1),
    NEXT: (6, 1, 1),
}
BROADCAST_STARTED = at(DAY, 9, 30)  # to every friend following then: 6 recipients
EXPECTED_BROADCAST = (6, 2)  # recipients, blocks within 24 hours of the start

# --- a procedure and its conversations ----------------------------------------------------

STEPS = ["name", "kind", "photo", "confirm"]
DOCUMENT = {
    "format": "govtech.procedure.v1",
    "key": "bulky-waste",
    "kind": "application",
    "title": {"ja": "粗大ごみ収集の申込"},
    "languages": ["ja"],
    "steps": [
        {"id": "name", "type": "text", "label": {"ja": "氏名"}, "prompt": {"ja": "氏名"}},
        {
            "id": "kind",
            "type": "choice",
            "label": {"ja": "品目"},
            "prompt": {"ja": "品目"},
            "options": [{"value": "sofa", "label": {"ja": "ソファ"}}],
        },
        {"id": "photo", "type": "image", "label": {"ja": "写真"}, "prompt": {"ja": "写真"}},
        {"id": "confirm", "type": "confirm"},
    ],
}
# (status, history, step_id, minutes to submit, channel): conversations started 11/20 10:00.
CONVERSATIONS = [
    ("submitted", ["name", "kind", "photo"], "confirm", 10, "line"),
    ("submitted", ["name", "kind", "photo"], "confirm", 30, "line"),
    ("cancelled", ["name"], "kind", None, ""),
    ("expired", ["name", "kind"], "photo", None, ""),
    ("active", [], "name", None, ""),
    ("confirming", ["name", "kind", "photo"], "confirm", None, ""),
    # went back (もどる) from kind to name and left: it stopped at name, where it was
    ("cancelled", [], "name", None, ""),
]
EXPECTED_PROCEDURE = {"started": 7, "completed": 2, "median_seconds": 20 * 60}
EXPECTED_FUNNEL = {  # step: (reached, stopped there)
    "name": (7, 2),
    "kind": (5, 1),
    "photo": (4, 1),
    "confirm": (3, 1),
}
WEB_SUBMISSIONS = 1  # one more on 11/20 from the web form, without a conversation

# --- reservations --------------------------------------------------------------------------
#
# Open 10:00-12:00 every day, 60-minute slots of 4 places: 8 places a day. On 11/20 the
# 11:00 slot is blocked (4 places offered); bookings of 11/20: 2 places attended, 1 place
# no-show, 1 cancelled (not counted).
EXPECTED_RESOURCE = {FIRST: (8, 0, 0, 0), DAY: (4, 3, 2, 1), NEXT: (8, 0, 0, 0)}


@pytest.fixture
def sodai(city):
    return DepartmentFactory(municipality=city, code="sodai", name="ごみ対策課")


@pytest.fixture
def line_channel(city):
    return line_channel_create(
        actor=None,
        municipality=city,
        name="デモ市",
        channel_id="2000000801",
        channel_secret="s" * 32,
        access_token="t" * 40,
    )


@pytest.fixture
def friends(city, line_channel):
    made = []
    for followed, blocked in FRIENDS:
        made.append(
            line_friend(
                line_channel,
                f"U{next(_numbers):032x}",
                followed_at=followed,
                unfollowed_at=blocked,
                is_following=blocked is None,
            )
        )
    line_friend(line_channel, f"U{next(_numbers):032x}", followed_at=at(DAY, 9), is_test=True)
    return made


@pytest.fixture
def broadcast(city, line_channel, friends):
    recipients = [
        friend
        for friend, (followed, blocked) in zip(friends, FRIENDS, strict=True)
        if followed < BROADCAST_STARTED and (blocked is None or blocked > BROADCAST_STARTED)
    ]
    with tenant_scope(city):
        sent = Broadcast.objects.create(
            municipality=city,
            channel=line_channel,
            title="年末年始のごみ収集",
            status="sent",
            started_at=BROADCAST_STARTED,
            recipients_count=len(recipients),
        )
        BroadcastRecipient.objects.bulk_create(
            BroadcastRecipient(broadcast=sent, seq=n, friend=f) for n, f in enumerate(recipients)
        )
    return sent


@pytest.fixture
def bulky(city, sodai):
    """The procedure, published once, of ごみ対策課, with its conversations."""
    with tenant_scope(city):
        procedure = Procedure.objects.create(
            municipality=city, department=sodai, key="bulky-waste", draft=DOCUMENT
        )
        version = ProcedureVersion.objects.create(
            municipality=city, procedure=procedure, number=1, document=DOCUMENT
        )
        procedure.live_version = version
        procedure.save(update_fields=["live_version"])
        for row in CONVERSATIONS:
            _conversation(city, procedure, version, at(DAY, 10), *row)
        _conversation(city, procedure, version, at(NEXT, 10), "active", [], "name", None, "")
        test = _conversation(city, procedure, version, at(DAY, 11), "active", [], "name", None, "")
        Conversation.objects.filter(pk=test.pk).update(is_test=True)
        _submission(city, procedure, version, at(DAY, 15), "web", None)
    return procedure


def _conversation(city, procedure, version, started, status, history, step_id, minutes, channel):
    person = resident_of(city, f"test:{next(_numbers)}")
    state = {"procedure_key": procedure.key, "status": status, "step_id": step_id}
    state |= {"lang": "ja", "updated_at": "", "started_at": "", "history": history}
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
    if minutes is not None:
        sent = started + timedelta(minutes=minutes)
        _submission(city, procedure, version, sent, channel, conversation, person)
    return conversation


def _submission(city, procedure, version, when, channel, conversation, person=None):
    number = next(_numbers)
    submission = Submission.objects.create(
        municipality=city,
        reference=f"BW-{number:06d}",
        procedure=procedure,
        version=version,
        conversation=conversation,
        resident=person or resident_of(city, f"test:{number}"),
        answers={"name": "山田太郎"},
        channel=channel,
    )
    Submission.objects.filter(pk=submission.pk).update(submitted_at=when)


@pytest.fixture
def hall(city, sodai):
    with tenant_scope(city):
        resource = Resource.objects.create(
            municipality=city,
            key="recycle-hall",
            name="リサイクル館",
            department=sodai,
            capacity=4,
            max_party_size=4,
            closed_on_holidays=False,
        )
        for weekday in range(7):
            OpeningRule.objects.create(
                municipality=city,
                resource=resource,
                weekday=weekday,
                opens=time(10),
                closes=time(12),
            )
        ten = Slot.objects.create(
            municipality=city,
            resource=resource,
            starts_at=at(DAY, 10),
            ends_at=at(DAY, 11),
            capacity=4,
        )
        Slot.objects.create(
            municipality=city,
            resource=resource,
            starts_at=at(DAY, 11),
            ends_at=at(DAY, 12),
            capacity=4,
            is_blocked=True,
        )
        for places, status in ((2, "attended"), (1, "no_show"), (1, "cancelled")):
            Booking.objects.create(
                municipality=city,
                resource=resource,
                slot=ten,
                party_size=places,
                places=places,
                status=status,
                resident=resident_of(city, f"test:{next(_numbers)}"),
            )
    return resource


@pytest.fixture
def dashboard_city(city, friends, broadcast, bulky, hall):
    """Everything above, in demo-city."""
    return city


def friend_count(city) -> int:
    with tenant_scope(city):
        return Friend.objects.count()
