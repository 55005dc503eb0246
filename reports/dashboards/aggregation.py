"""Filling the daily aggregates from the three apps' rows, in Asia/Tokyo days.

``aggregates_compute`` recomputes a range of days of one municipality and replaces their
rows in one transaction: running it twice, or for a day already computed, leaves the same
rows (the beat task and the backfill command both call it). Reads first, outside the
transaction; a fixed number of queries per range (one more per reservation resource),
whatever the number of days.

Where the figures come from, and what they cannot know:

- friends: ``Friend.followed_at``/``unfollowed_at`` (the last follow and the block that
  ended it). A friend is counted on a day when they had followed before its end and not
  blocked before it. A resident who blocked and followed again has only the new follow
  on record, so a rebuilt past day misses their earlier block; the nightly run, which
  computes yesterday while it is fresh, does not.
- funnels: each conversation's state already holds the step it is at (``step_id``) and
  the steps it answered (``history``); the furthest of them in the version it ran is where
  it got to. Nothing is written per turn for the dashboards.
- conversations are counted on the day they started, so a conversation finished days
  later changes an earlier day: the nightly run recomputes the last ``SETTLE_DAYS``.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, DateTimeField, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from delivery.broadcasts.models import Broadcast, BroadcastRecipient
from delivery.models import Friend
from govtech.models import Municipality
from govtech.tenancy import tenant_scope
from procedures.models import Conversation, ProcedureVersion, Submission
from procedures.reservations.models import HOLDING_STATUSES, Booking, BookingStatus, Resource
from procedures.reservations.schedule import TOKYO
from procedures.reservations.selectors import staff_calendar
from reports.dashboards.models import (
    BroadcastBlocks,
    DailyFriends,
    DailyProcedure,
    DailyResource,
    DailyStep,
)

# Blocks counted after a broadcast: within this many hours of its start.
BLOCK_WINDOW_HOURS = 24
# Days the nightly run recomputes (conversations started then may still be finishing).
SETTLE_DAYS = 7


def tokyo_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(TOKYO).date()


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From the start of ``first`` to the start of the day after ``last``, in Tokyo."""
    return (
        datetime.combine(first, time.min, TOKYO),
        datetime.combine(last + timedelta(days=1), time.min, TOKYO),
    )


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass
class Aggregates:
    """The rows of a range of days, before they are stored."""

    friends: list[DailyFriends] = field(default_factory=list)
    broadcasts: list[BroadcastBlocks] = field(default_factory=list)
    procedures: list[DailyProcedure] = field(default_factory=list)
    steps: list[DailyStep] = field(default_factory=list)
    resources: list[DailyResource] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in vars(self).items()}


def aggregates_compute(*, municipality: Municipality, first: date, last: date) -> dict[str, int]:
    """Recompute the aggregates of ``first``..``last`` (Tokyo days, both included) and
    replace that range's rows in one transaction, under a lock on the municipality's row.
    Idempotent; a day without activity still gets its friends row (the count carries on).
    Returns the rows written per kind."""
    with tenant_scope(municipality):
        rows = _compute(municipality, first, last)
        with transaction.atomic():
            # Two runs over the same days (the nightly task and a backfill) take turns:
            # otherwise the second's delete would miss the first's new rows and its insert
            # would break the unique constraints.
            Municipality.objects.select_for_update().filter(pk=municipality.pk).first()
            _replace(municipality, first, last, rows)
    return rows.counts()


def _compute(municipality: Municipality, first: date, last: date) -> Aggregates:
    low, high = day_bounds(first, last)
    rows = Aggregates(friends=_friend_days(municipality, first, last))
    rows.broadcasts = _broadcast_blocks(municipality, low, high)
    rows.procedures, rows.steps = _procedure_days(municipality, low, high)
    rows.resources = _resource_days(municipality, first, last)
    return rows


def _replace(municipality: Municipality, first: date, last: date, rows: Aggregates) -> None:
    for model, kind in (
        (DailyFriends, "friends"),
        (BroadcastBlocks, "broadcasts"),
        (DailyProcedure, "procedures"),
        (DailyStep, "steps"),
        (DailyResource, "resources"),
    ):
        model.objects.filter(municipality=municipality, day__range=(first, last)).delete()
        model.objects.bulk_create(getattr(rows, kind), batch_size=1000)


# --- friends -------------------------------------------------------------------------------


def _friend_days(municipality: Municipality, first: date, last: date) -> list[DailyFriends]:
    """Follows and blocks per day (two grouped queries) and the running count of friends,
    from the counts before ``first`` (one query)."""
    low, high = day_bounds(first, last)
    friends = Friend.objects.filter(municipality=municipality, is_test=False).annotate(
        follow_at=Coalesce("followed_at", "created_at", output_field=DateTimeField())
    )
    before = friends.aggregate(
        follows=Count("pk", filter=Q(follow_at__lt=low)),
        blocks=Count("pk", filter=Q(unfollowed_at__lt=low)),
    )
    follows = _per_day(friends.filter(follow_at__gte=low, follow_at__lt=high), "follow_at")
    blocks = _per_day(
        friends.filter(unfollowed_at__gte=low, unfollowed_at__lt=high), "unfollowed_at"
    )
    total = before["follows"] - before["blocks"]
    days = []
    for day in days_between(first, last):
        total += follows.get(day, 0) - blocks.get(day, 0)
        days.append(
            DailyFriends(
                municipality=municipality,
                day=day,
                friends=max(total, 0),
                follows=follows.get(day, 0),
                blocks=blocks.get(day, 0),
            )
        )
    return days


def _per_day(queryset, moment: str) -> dict[date, int]:
    by_day = queryset.annotate(day=TruncDate(moment, tzinfo=TOKYO)).values("day")
    return dict(by_day.annotate(n=Count("pk")).order_by().values_list("day", "n"))


# --- broadcasts ----------------------------------------------------------------------------


def _broadcast_blocks(
    municipality: Municipality, low: datetime, high: datetime
) -> list[BroadcastBlocks]:
    """Each broadcast that started sending in the range, with its recipients who blocked
    within ``BLOCK_WINDOW_HOURS`` of the start. Two queries."""
    window = timedelta(hours=BLOCK_WINDOW_HOURS)
    broadcasts = list(
        Broadcast.objects.filter(
            municipality=municipality, started_at__gte=low, started_at__lt=high
        ).only("pk", "title", "started_at", "recipients_count")
    )
    blocked = (
        BroadcastRecipient.objects.filter(
            broadcast__in=[b.pk for b in broadcasts],
            friend__unfollowed_at__gte=F("broadcast__started_at"),
            friend__unfollowed_at__lt=F("broadcast__started_at") + window,
        )
        .values("broadcast")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["broadcast"]: row["n"] for row in blocked} if broadcasts else {}
    return [
        BroadcastBlocks(
            municipality=municipality,
            broadcast=b,
            day=started.astimezone(TOKYO).date(),
            started_at=started,
            title=b.title,
            recipients=b.recipients_count,
            blocks=counts.get(b.pk, 0),
            hours=BLOCK_WINDOW_HOURS,
        )
        for b in broadcasts
        if (started := b.started_at) is not None  # always: filtered on it above
    ]


# --- procedures and their funnels ----------------------------------------------------------


@dataclass
class _Cohort:
    """The conversations of one procedure started on one day."""

    started: int = 0
    durations: list[float] = field(default_factory=list)
    reached: Counter = field(default_factory=Counter)  # step id -> conversations
    stopped: Counter = field(default_factory=Counter)
    positions: dict[str, int] = field(default_factory=dict)


def _procedure_days(
    municipality: Municipality, low: datetime, high: datetime
) -> tuple[list[DailyProcedure], list[DailyStep]]:
    """Per procedure and day: the conversations started (their funnel, completions and
    median time) and the submissions made. Three queries, conversations read in batches."""
    cohorts: dict[tuple[int, date], _Cohort] = defaultdict(_Cohort)
    steps_of = _VersionSteps()
    for row in _conversations(municipality, low, high):
        procedure_id, version_id, day, status, step_id, history, submitted_at, started_at = row
        cohort = cohorts[procedure_id, day]
        cohort.started += 1
        if status == "submitted" and submitted_at is not None:
            # Never negative: a submission dated before its conversation (backdated data,
            # as the demo's seeded working day) counts as immediate.
            cohort.durations.append(max(0.0, (submitted_at - started_at).total_seconds()))
        _count_funnel(cohort, steps_of(version_id), status, [*(history or []), step_id])
    submissions = _submissions_per_day(municipality, low, high)
    procedures, steps = [], []
    for procedure_id, day in sorted(set(cohorts) | set(submissions)):
        cohort = cohorts.get((procedure_id, day), _Cohort())
        channels = submissions.get((procedure_id, day), {})
        procedures.append(_procedure_row(municipality, procedure_id, day, cohort, channels))
        steps += [
            DailyStep(
                municipality=municipality,
                procedure_id=procedure_id,
                day=day,
                step_id=step_id,
                position=position,
                reached=cohort.reached[step_id],
                stopped=cohort.stopped[step_id],
            )
            for step_id, position in cohort.positions.items()
        ]
    return procedures, steps


def _conversations(municipality: Municipality, low: datetime, high: datetime) -> Iterable:
    """Residents' conversations started in the range (no tests, no corrections)."""
    conversations = Conversation.objects.filter(
        municipality=municipality,
        is_test=False,
        version__isnull=False,
        correcting__isnull=True,
        started_at__gte=low,
        started_at__lt=high,
    ).annotate(day=TruncDate("started_at", tzinfo=TOKYO))
    return conversations.values_list(
        "procedure_id",
        "version_id",
        "day",
        "status",
        "state__step_id",
        "state__history",
        "submission__submitted_at",
        "started_at",
    ).iterator(chunk_size=5000)


@dataclass(frozen=True)
class _Steps:
    ids: list[str]
    index: dict[str, int]


class _VersionSteps:
    """The step ids of each version, in order, loaded once per version."""

    def __init__(self) -> None:
        self.known: dict[int, _Steps] = {}

    def __call__(self, version_id: int) -> _Steps:
        if version_id not in self.known:
            document = ProcedureVersion.objects.filter(pk=version_id).values_list(
                "document", flat=True
            )
            ids = [step["id"] for step in (document.first() or {}).get("steps", [])]
            self.known[version_id] = _Steps(ids, {step_id: i for i, step_id in enumerate(ids)})
        return self.known[version_id]


def _count_funnel(cohort: _Cohort, steps: _Steps, status: str, seen: list[Any]) -> None:
    """A conversation reached every step up to the furthest it was at (all of them when
    submitted) and, unless submitted, stopped at that furthest one."""
    index = steps.index
    for step_id, position in index.items():
        cohort.positions.setdefault(step_id, position)
    at = [index[s] for s in seen if isinstance(s, str) and s in index]
    if status == "submitted":
        furthest = len(steps.ids) - 1
    elif at:
        furthest = max(at)
    else:
        return
    cohort.reached.update(steps.ids[: furthest + 1])
    if status != "submitted":
        cohort.stopped[steps.ids[furthest]] += 1


def _submissions_per_day(
    municipality: Municipality, low: datetime, high: datetime
) -> dict[tuple[int, date], dict[str, int]]:
    """Residents' submissions per procedure, day and channel. One query."""
    rows = (
        Submission.objects.filter(
            municipality=municipality, is_test=False, submitted_at__gte=low, submitted_at__lt=high
        )
        .annotate(day=TruncDate("submitted_at", tzinfo=TOKYO))
        .values("procedure_id", "day", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    found: dict[tuple[int, date], dict[str, int]] = defaultdict(dict)
    for row in rows:
        found[row["procedure_id"], row["day"]][row["channel"]] = row["n"]
    return found


def _procedure_row(
    municipality: Municipality,
    procedure_id: int,
    day: date,
    cohort: _Cohort,
    channels: dict[str, int],
) -> DailyProcedure:
    median = statistics.median(cohort.durations) if cohort.durations else None
    return DailyProcedure(
        municipality=municipality,
        procedure_id=procedure_id,
        day=day,
        started=cohort.started,
        completed=len(cohort.durations),
        median_seconds=None if median is None else round(median),
        submissions=sum(channels.values()),
        submissions_by_channel=channels,
    )


# --- reservations --------------------------------------------------------------------------


def _resource_days(municipality: Municipality, first: date, last: date) -> list[DailyResource]:
    """Per resource and day with slots: places offered by the schedule (closed days and
    blocked slots offer none) and the bookings of that day's slots. A fixed number of
    queries per resource (its calendar) and one for every resource's bookings."""
    low, high = day_bounds(first, last)
    booked = _bookings_per_day(municipality, low, high)
    rows, days, now = [], (last - first).days + 1, timezone.now()
    for resource in Resource.objects.filter(municipality=municipality):
        calendar = staff_calendar(resource=resource, first=first, days=days, now=now)
        for calendar_day in calendar:
            capacity = 0 if calendar_day.closed else _places(calendar_day.slots)
            taken = booked.get((resource.pk, calendar_day.day), {})
            if not capacity and not taken:
                continue
            rows.append(
                DailyResource(
                    municipality=municipality,
                    resource=resource,
                    day=calendar_day.day,
                    capacity=capacity,
                    booked=taken.get("places") or 0,
                    bookings=taken.get("bookings") or 0,
                    no_shows=taken.get("no_shows") or 0,
                )
            )
    return rows


def _places(slots) -> int:
    return sum(slot.capacity for slot in slots if not slot.blocked)


def _bookings_per_day(
    municipality: Municipality, low: datetime, high: datetime
) -> dict[tuple[int, date], dict[str, Any]]:
    holding = Q(status__in=HOLDING_STATUSES)
    rows = (
        Booking.objects.filter(
            municipality=municipality, slot__starts_at__gte=low, slot__starts_at__lt=high
        )
        .annotate(day=TruncDate("slot__starts_at", tzinfo=TOKYO))
        .values("resource_id", "day")
        .annotate(
            places=Sum("places", filter=holding),
            bookings=Count("pk", filter=holding),
            no_shows=Count("pk", filter=Q(status=BookingStatus.NO_SHOW)),
        )
        .order_by()
    )
    return {(row["resource_id"], row["day"]): dict(row) for row in rows}
