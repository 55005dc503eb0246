"""Reads for the console's home page: what each role has to do today.

Every function reads inside the request's tenant scope and filters by the municipality
explicitly as well, so an outsider's page never counts another municipality's rows. Each
block costs a fixed number of queries, however many rows there are (the home page test
asserts it). The LINE quota is the one network read: cached, outside the counted queries.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django_scopes import scopes_disabled

from delivery.broadcasts.models import Broadcast, BroadcastStatus
from delivery.line_api import LineApiError, LineClient
from delivery.models import EventStatus, LineChannel, OutboundMessage, OutboundStatus, WebhookEvent
from govtech.access import StaffContext
from govtech.models import Municipality, StaffMembership, User
from procedures.casework.presenters import queue_label
from procedures.casework.selectors import InboxFilters, inbox_counts
from procedures.models import Procedure, Submission, SubmissionStatus

LISTED = 5  # rows shown per list; the counts cover all of them
OPEN_SUBMISSION_STATUSES = (
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.IN_REVIEW,
    SubmissionStatus.RETURNED,
)
QUOTA_CACHE_SECONDS = 300
WEBHOOK_STUCK_AFTER = timedelta(minutes=5)


@dataclass
class DraftWork:
    never_published: list[Procedure]
    never_published_count: int
    changed: list[Procedure]
    changed_count: int


def designer_drafts(*, municipality: Municipality) -> DraftWork:
    """Procedures never published, and published ones whose draft differs. One query.

    The comparison is made in Python: JSON equality in SQL differs between SQLite and
    PostgreSQL, and a municipality has tens of procedures, not thousands.
    """
    rows = list(
        Procedure.objects.filter(municipality=municipality)
        .select_related("live_version")
        .order_by("-draft_updated_at", "pk")
    )
    never = [p for p in rows if p.live_version is None]
    changed = [p for p in rows if p.live_version and p.live_version.document != p.draft]
    return DraftWork(never[:LISTED], len(never), changed[:LISTED], len(changed))


@dataclass
class QueueCount:
    queue: str
    label: str
    count: int


# The inbox's queues a reviewer's home page counts, most urgent first, with their labels.
HOME_QUEUES = ("overdue", "new", "mine", "returned", "in_review")


def reviewer_queue_counts(*, staff: StaffContext, user: User, now: datetime) -> list[QueueCount]:
    """Real (not test) submissions in the reviewer's departments, per inbox queue that
    needs them (the inbox's own counts: one query)."""
    counts = inbox_counts(staff=staff, user=user, filters=InboxFilters(), now=now)
    return [QueueCount(queue, queue_label(queue), counts[queue]) for queue in HOME_QUEUES]


@dataclass
class BroadcastWork:
    awaiting: list[Broadcast]
    awaiting_count: int
    scheduled: list[Broadcast]
    scheduled_count: int
    drafts_count: int


def _broadcasts(municipality: Municipality) -> QuerySet[Broadcast]:
    return Broadcast.objects.filter(municipality=municipality).select_related("channel")


def broadcaster_work(*, municipality: Municipality) -> BroadcastWork:
    """Broadcasts waiting for approval and scheduled ones (soonest first). Three queries."""
    counts = dict(
        _broadcasts(municipality).values_list("status").annotate(n=Count("pk")).order_by()
    )
    awaiting = _broadcasts(municipality).filter(status=BroadcastStatus.AWAITING_APPROVAL)
    scheduled = _broadcasts(municipality).filter(status=BroadcastStatus.SCHEDULED)
    return BroadcastWork(
        awaiting=list(awaiting.order_by("scheduled_at", "pk")[:LISTED]),
        awaiting_count=counts.get(BroadcastStatus.AWAITING_APPROVAL, 0),
        scheduled=list(scheduled.order_by("scheduled_at", "pk")[:LISTED]),
        scheduled_count=counts.get(BroadcastStatus.SCHEDULED, 0),
        drafts_count=counts.get(BroadcastStatus.DRAFT, 0),
    )


@dataclass
class Approvals:
    broadcasts: list[Broadcast]
    count: int


def approvals_for(*, municipality: Municipality, user: User) -> Approvals:
    """Broadcasts this admin may approve: awaiting, written by someone else. Two queries."""
    queryset = (
        _broadcasts(municipality)
        .filter(status=BroadcastStatus.AWAITING_APPROVAL)
        .exclude(created_by=user)
        .select_related("created_by")
    )
    return Approvals(list(queryset.order_by("scheduled_at", "pk")[:LISTED]), queryset.count())


@dataclass
class ChannelHealth:
    channel: LineChannel
    failed_events: int
    stuck_events: int
    failed_messages: int
    quota: dict[str, Any] | None = field(default=None)

    @property
    def ok(self) -> bool:
        return not (self.failed_events or self.stuck_events or self.failed_messages)


def channel_health(*, municipality: Municipality, now: datetime) -> list[ChannelHealth]:
    """Per LINE channel: webhook events that failed or wait too long, and failed sends in
    the last 24 hours. One query (counts as subqueries); the quota comes from
    ``channel_quota``."""
    since = now - timedelta(hours=24)
    events = WebhookEvent.objects.filter(channel=OuterRef("pk"), received_at__gte=since)
    sends = OutboundMessage.objects.filter(channel=OuterRef("pk"), created_at__gte=since)
    channels = LineChannel.objects.filter(municipality=municipality).annotate(
        failed_events=_count(events.filter(status=EventStatus.FAILED), "channel"),
        stuck_events=_count(
            events.filter(status=EventStatus.PENDING, received_at__lt=now - WEBHOOK_STUCK_AFTER),
            "channel",
        ),
        failed_messages=_count(sends.filter(status=OutboundStatus.FAILED), "channel"),
    )
    return [ChannelHealth(c, c.failed_events, c.stuck_events, c.failed_messages) for c in channels]


def _count(queryset: QuerySet, by: str) -> Coalesce:
    """COUNT(*) of ``queryset`` grouped by ``by`` (already tied to OuterRef), as a column."""
    counted = queryset.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def channel_quota(*, channel: LineChannel) -> dict[str, Any] | None:
    """This month's LINE message quota and use, cached for five minutes; None when LINE
    cannot be asked. Network I/O on a cache miss (never inside a transaction)."""
    key = f"home:quota:{channel.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    try:
        with LineClient(channel.access_token) as client:
            quota = {"limit": client.quota(retries=0), "used": client.quota_consumption(retries=0)}
    except LineApiError:
        quota = {}
    cache.set(key, quota, QUOTA_CACHE_SECONDS)
    return quota or None


@dataclass
class MunicipalityRow:
    municipality: Municipality
    staff: int
    live_procedures: int
    channels: int
    open_submissions: int


def operator_municipalities() -> list[MunicipalityRow]:
    """Every municipality with its size at a glance, for operators. One query."""
    with scopes_disabled():  # operators work across tenants
        mine = Procedure.objects.filter(municipality=OuterRef("pk"))
        channels = LineChannel.objects.filter(municipality=OuterRef("pk"))
        submissions = Submission.objects.filter(
            municipality=OuterRef("pk"), is_test=False, status__in=OPEN_SUBMISSION_STATUSES
        )
        members = StaffMembership.objects.filter(municipality=OuterRef("pk"))
        staff = members.values("municipality").annotate(people=Count("user", distinct=True))
        rows = Municipality.objects.annotate(
            staff_count=Coalesce(Subquery(staff.values("people"), output_field=IntegerField()), 0),
            live_count=_count(mine.filter(live_version__isnull=False), "municipality"),
            channel_count=_count(channels, "municipality"),
            open_count=_count(submissions, "municipality"),
        ).order_by("name")
        return [
            MunicipalityRow(m, m.staff_count, m.live_count, m.channel_count, m.open_count)
            for m in rows
        ]
