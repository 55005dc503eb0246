"""Casework reads: the reviewer's inbox (queues, filters, counts), one submission with
its timeline and revisions, who can be assigned. Callers run inside a tenant scope.

The inbox costs a constant number of queries per page: one for the counts of every
queue (conditional aggregates), one for the page of rows with what the list shows
joined in, one for the paginator's total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from govtech.access import StaffContext
from govtech.models import Role, StaffMembership, User
from procedures.casework import workflow
from procedures.casework.models import CaseEvent, SubmissionRevision
from procedures.models import Procedure, Submission
from procedures.reservations.models import Booking
from procedures.selectors import submissions_for_reviewer

REVIEW_ROLES = frozenset({Role.ADMIN, Role.REVIEWER})

# The inbox's queues, in the order the console shows them. "all" is every submission.
QUEUES = ("new", "mine", "in_review", "returned", "overdue", "done", "all")
OPEN_STATUSES = ("submitted", "in_review", "returned", "accepted")
SORTS = {
    "newest": ("-submitted_at", "-pk"),
    "oldest": ("submitted_at", "pk"),
    "due": ("due_at", "submitted_at", "pk"),
    "activity": ("-last_activity_at", "-pk"),
    "reference": ("reference",),
}


def queue_filter(queue: str, *, user: User, now: datetime) -> Q:
    """What belongs to ``queue`` for ``user`` at ``now``."""
    if queue == "new":
        return Q(status=workflow.SUBMITTED, assignee__isnull=True)
    if queue == "mine":
        return Q(assignee=user, status__in=OPEN_STATUSES)
    if queue == "in_review":
        return Q(status__in=(workflow.IN_REVIEW, workflow.ACCEPTED))
    if queue == "returned":
        return Q(status=workflow.RETURNED)
    if queue == "overdue":
        return Q(due_at__lt=now, status__in=OPEN_STATUSES) | Q(
            status=workflow.RETURNED, correction_due_at__lt=now
        )
    if queue == "done":
        return Q(status__in=workflow.DONE)
    return Q()


@dataclass(frozen=True)
class InboxFilters:
    """The inbox's filters, as parsed from the query string (all optional)."""

    procedure: int | None = None
    status: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    assignee: int | None = None
    unassigned: bool = False
    channel: str = ""
    text: str = ""
    include_tests: bool = False


def _tokyo_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(queryset: QuerySet[Submission], filters: InboxFilters) -> QuerySet[Submission]:
    conditions: dict[str, Any] = {}
    if filters.procedure:
        conditions["procedure_id"] = filters.procedure
    if filters.status:
        conditions["status"] = filters.status
    if filters.submitted_from:
        conditions["submitted_at__gte"] = _tokyo_midnight(filters.submitted_from)
    if filters.submitted_to:
        conditions["submitted_at__lt"] = _tokyo_midnight(filters.submitted_to + timedelta(days=1))
    if filters.unassigned:
        conditions["assignee__isnull"] = True
    elif filters.assignee:
        conditions["assignee_id"] = filters.assignee
    if filters.channel:
        conditions["channel"] = filters.channel
    if not filters.include_tests:
        conditions["is_test"] = False
    queryset = queryset.filter(**conditions)
    for word in filters.text.split()[:5]:
        queryset = queryset.filter(search_text__icontains=word)
    return queryset


def inbox_base(*, staff: StaffContext, filters: InboxFilters) -> QuerySet[Submission]:
    """Every submission the staff member reviews that matches ``filters`` (any queue)."""
    return _filtered(submissions_for_reviewer(staff=staff), filters)


def inbox_counts(
    *, staff: StaffContext, user: User, filters: InboxFilters, now: datetime
) -> dict[str, int]:
    """How many submissions each queue holds under ``filters``: one query."""
    aggregates = {
        queue: Count("pk", filter=queue_filter(queue, user=user, now=now))
        for queue in QUEUES
        if queue != "all"
    }
    counts = inbox_base(staff=staff, filters=filters).aggregate(all=Count("pk"), **aggregates)
    return {queue: counts[queue] for queue in QUEUES}


def inbox_submissions(
    *, staff: StaffContext, user: User, queue: str, filters: InboxFilters, sort: str, now: datetime
) -> QuerySet[Submission]:
    """The queue's submissions under ``filters``, sorted, with what a list row shows."""
    return (
        inbox_base(staff=staff, filters=filters)
        .filter(queue_filter(queue, user=user, now=now))
        .select_related("procedure", "resident", "assignee", "procedure__department", "report")
        .defer("answers", "search_text", "procedure__draft", "procedure__base_document")
        .order_by(*SORTS.get(sort, SORTS["newest"]))
    )


def submission_for_staff(*, staff: StaffContext, pk: int) -> Submission | None:
    """The submission if the staff member may review it; None otherwise (another
    department's or municipality's is the same as a missing one)."""
    if not staff.has_any(REVIEW_ROLES):
        return None
    return (
        submissions_for_reviewer(staff=staff)
        .select_related(
            "procedure", "version", "resident", "assignee", "conversation", "report__category"
        )
        .filter(pk=pk)
        .first()
    )


def case_timeline(*, submission: Submission) -> list[CaseEvent]:
    """Everything that happened to the submission, oldest first."""
    return list(submission.events.select_related("actor", "notice").order_by("created_at", "pk"))


def case_revisions(*, submission: Submission) -> list[SubmissionRevision]:
    return list(submission.revisions.order_by("number"))


def resident_submissions(
    *, resident_id: int, exclude: int | None = None, limit: int = 20
) -> list[Submission]:
    """A resident's submissions, newest first (the console's "their other submissions",
    the resident's 「申請状況」)."""
    queryset = Submission.objects.filter(resident_id=resident_id, is_test=False)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return list(
        queryset.select_related("procedure", "version", "report").order_by("-submitted_at", "-pk")[
            :limit
        ]
    )


def assignable_staff(*, submission: Submission) -> list[User]:
    """Staff who may be assigned the submission: admins, and reviewers of its department
    (or of every department when they have none)."""
    department_id = submission.department_id
    memberships = StaffMembership.objects.filter(role__in=REVIEW_ROLES, user__is_active=True)
    memberships = memberships.annotate(department_count=Count("departments")).filter(
        Q(role=Role.ADMIN) | Q(department_count=0) | Q(departments=department_id)
    )
    users = {m.user_id: m.user for m in memberships.select_related("user")}
    return sorted(users.values(), key=lambda user: user.email)


def submission_bookings(*, submission: Submission) -> list[Booking]:
    """The bookings made with the submission (a reservation procedure), by slot time."""
    return list(
        Booking.objects.filter(submission=submission)
        .select_related("slot", "resource")
        .order_by("slot__starts_at", "pk")
    )


def _limited_to_departments(staff: StaffContext) -> bool:
    # The rule of ``submissions_for_reviewer``: admins and unlimited reviewers see all.
    return not (staff.is_operator or staff.is_admin) and bool(staff.reviewer_department_ids)


def inbox_procedures(*, staff: StaffContext) -> list[tuple[int, str]]:
    """(pk, title) of the procedures whose submissions the staff member reviews, for the
    inbox's procedure filter."""
    procedures = Procedure.objects.all()
    if _limited_to_departments(staff):
        procedures = procedures.filter(department__in=staff.reviewer_department_ids)
    return sorted(((p.pk, p.title) for p in procedures.only("pk", "key", "draft")), key=_second)


def _second(pair: tuple[int, str]) -> str:
    return pair[1]


def inbox_staff(*, staff: StaffContext) -> list[User]:
    """Who may work the staff member's submissions (the inbox's assignee filter and bulk
    assignment): admins, and reviewers of the same departments or of all of them."""
    memberships = StaffMembership.objects.filter(role__in=REVIEW_ROLES, user__is_active=True)
    if _limited_to_departments(staff):
        memberships = memberships.filter(
            Q(role=Role.ADMIN)
            | Q(departments__isnull=True)
            | Q(departments__in=staff.reviewer_department_ids)
        )
    users = {m.user_id: m.user for m in memberships.select_related("user")}
    return sorted(users.values(), key=lambda user: user.email)
