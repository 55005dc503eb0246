"""Reads of the dashboards: who sees which figures, the date range, and the figures, taken
from the daily aggregates only (never from friends, conversations or bookings), so a page
costs the same few queries at a million friends as at ten. Callers run inside the
request's tenant scope."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Min, Q, QuerySet, Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from govtech.access import StaffContext
from govtech.models import Municipality, Role
from procedures.casework.answers import step_labels
from procedures.models import Procedure, ProcedureVersion
from procedures.reservations.models import Resource
from procedures.reservations.selectors import resources_for_staff
from reports.dashboards.aggregation import tokyo_today
from reports.dashboards.models import (
    BroadcastBlocks,
    DailyFriends,
    DailyProcedure,
    DailyResource,
    DailyStep,
)

FRIEND_ROLES = frozenset({Role.ADMIN, Role.BROADCASTER})
PROCEDURE_ROLES = frozenset({Role.ADMIN, Role.DESIGNER, Role.REVIEWER})
DEFAULT_DAYS = 30
MAX_DAYS = 366


# --- access --------------------------------------------------------------------------------


def may_see_friends(staff: StaffContext) -> bool:
    return staff.municipality is not None and bool(staff.roles & FRIEND_ROLES)


def procedures_for_dashboard(*, staff: StaffContext) -> QuerySet[Procedure]:
    """Procedures whose figures the staff member sees: admins and designers all (designers
    build every procedure, see the builder), reviewers those of their departments (all
    when they have none), broadcasters none."""
    procedures = Procedure.objects.order_by("key")
    if staff.roles & {Role.ADMIN, Role.DESIGNER}:
        return procedures
    if Role.REVIEWER not in staff.roles:
        return procedures.none()
    if staff.reviewer_department_ids:
        return procedures.filter(department__in=staff.reviewer_department_ids)
    return procedures


def resources_for_dashboard(*, staff: StaffContext) -> QuerySet[Resource]:
    """The reservation resources the staff member manages (the calendar's rule)."""
    return resources_for_staff(staff=staff).order_by("name", "pk")


# --- the date range ------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def as_params(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def parse_range(params: Mapping[str, str]) -> DateRange:
    """``from`` and ``to`` (YYYY-MM-DD, both included); by default the last 30 days up to
    yesterday (today is computed tonight). Swapped when reversed, at most a year long;
    what does not parse is the default."""
    last = _day(params.get("to")) or tokyo_today() - timedelta(days=1)
    first = _day(params.get("from")) or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    return DateRange(first, last)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- friends and broadcasts ----------------------------------------------------------------


@dataclass
class FriendFigures:
    days: list[DailyFriends]
    population: int
    friends: int | None  # at the end of the range
    follows: int
    blocks: int

    @property
    def coverage(self) -> float | None:
        """Friends ÷ population, when the admin entered the population."""
        if not self.population or self.friends is None:
            return None
        return self.friends / self.population

    @property
    def block_rate(self) -> float | None:
        """Blocks in the range ÷ the friends there were at its start (plus those who came)."""
        if not self.days:
            return None
        base = self.days[0].friends - self.days[0].follows + self.days[0].blocks + self.follows
        return self.blocks / base if base else None


def friend_figures(*, municipality: Municipality, period: DateRange) -> FriendFigures:
    """The friends rows of the range. One query."""
    days = list(
        DailyFriends.objects.filter(
            municipality=municipality, day__range=(period.first, period.last)
        )
    )
    return FriendFigures(
        days=days,
        population=municipality.population,
        friends=days[-1].friends if days else None,
        follows=sum(d.follows for d in days),
        blocks=sum(d.blocks for d in days),
    )


def broadcast_blocks(*, municipality: Municipality, period: DateRange) -> list[BroadcastBlocks]:
    """Broadcasts that started in the range with their blocks. One query."""
    rows = BroadcastBlocks.objects.filter(
        municipality=municipality, day__range=(period.first, period.last)
    )
    return list(rows.order_by("started_at"))


# --- procedures ----------------------------------------------------------------------------


@dataclass
class ProcedureTotals:
    procedure: Procedure
    started: int = 0
    completed: int = 0
    submissions: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.started if self.started else None


def procedure_totals(
    *, procedures: QuerySet[Procedure], period: DateRange
) -> list[ProcedureTotals]:
    """Each procedure with its started, completed and submissions in the range, busiest
    first. One query (the procedures joined to their summed days)."""
    in_range = Q(dashboard_days__day__range=(period.first, period.last))
    rows = procedures.annotate(
        sum_started=Sum("dashboard_days__started", filter=in_range),
        sum_completed=Sum("dashboard_days__completed", filter=in_range),
        sum_submissions=Sum("dashboard_days__submissions", filter=in_range),
    )
    totals = [
        ProcedureTotals(p, p.sum_started or 0, p.sum_completed or 0, p.sum_submissions or 0)
        for p in rows
    ]
    return sorted(totals, key=lambda t: (-t.started, -t.submissions, t.procedure.key))


@dataclass
class ProcedureFigures:
    days: list[DailyProcedure]
    started: int
    completed: int
    median_seconds: float | None
    channels: dict[str, int] = field(default_factory=dict)

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.started if self.started else None

    @property
    def submissions(self) -> int:
        return sum(self.channels.values())


def procedure_figures(*, procedure: Procedure, period: DateRange) -> ProcedureFigures:
    """The procedure's days in the range and their totals. One query.

    The range's median time is the median of the days' medians weighted by their
    completions: the daily rows keep no single durations, and at one day per row this is
    within a day's spread of the true median."""
    days = list(
        DailyProcedure.objects.filter(procedure=procedure, day__range=(period.first, period.last))
    )
    channels: Counter[str] = Counter()
    for day in days:
        channels.update(day.submissions_by_channel)
    return ProcedureFigures(
        days=days,
        started=sum(d.started for d in days),
        completed=sum(d.completed for d in days),
        median_seconds=_weighted_median(
            [(d.median_seconds, d.completed) for d in days if d.median_seconds is not None]
        ),
        channels=dict(channels.most_common()),
    )


def _weighted_median(values: list[tuple[int, int]]) -> float | None:
    total = sum(weight for _value, weight in values)
    if not total:
        return None
    seen = 0
    for value, weight in sorted(values):
        seen += weight
        if seen * 2 >= total:
            return value
    return None  # unreachable: the weights add up to total


@dataclass
class FunnelStep:
    step_id: str
    label: str
    reached: int
    stopped: int
    share: float | None  # reached ÷ conversations started
    drop: float | None  # stopped ÷ reached


def funnel(*, procedure: Procedure, period: DateRange, started: int) -> list[FunnelStep]:
    """Per step, in the latest version's order (steps it no longer has after them), how
    many conversations got at least that far and how many stopped there. Two queries."""
    sums = (
        DailyStep.objects.filter(procedure=procedure, day__range=(period.first, period.last))
        .values("step_id")
        .annotate(reached=Sum("reached"), stopped=Sum("stopped"), position=Min("position"))
        .order_by()
    )
    found = {row["step_id"]: row for row in sums}
    document = _latest_document(procedure)
    labels = {**step_labels(document, get_language() or "ja"), **_type_labels(document)}
    order = [step["id"] for step in document.get("steps", []) if step.get("id") in found]
    order += sorted(set(found) - set(order), key=lambda s: (found[s]["position"], s))
    return [
        FunnelStep(
            step_id=step_id,
            label=labels.get(step_id, step_id),
            reached=found[step_id]["reached"],
            stopped=found[step_id]["stopped"],
            share=found[step_id]["reached"] / started if started else None,
            drop=(
                found[step_id]["stopped"] / found[step_id]["reached"]
                if found[step_id]["reached"]
                else None
            ),
        )
        for step_id in order
    ]


def _latest_document(procedure: Procedure) -> dict[str, Any]:
    version = ProcedureVersion.objects.filter(procedure=procedure).order_by("-number").first()
    return version.document if version else procedure.draft


def _type_labels(document: Mapping[str, Any]) -> dict[str, str]:
    names = {"confirm": _("Confirmation (summary and send)"), "end": _("End")}
    return {
        step["id"]: names[step["type"]]
        for step in document.get("steps", [])
        if step.get("type") in names and not (step.get("label") or step.get("prompt"))
    }


# --- reservations --------------------------------------------------------------------------


@dataclass
class ResourceFigures:
    resource: Resource
    days: list[DailyResource]
    capacity: int
    booked: int
    bookings: int
    no_shows: int

    @property
    def occupancy(self) -> float | None:
        return self.booked / self.capacity if self.capacity else None

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.bookings if self.bookings else None


def resource_figures(*, resources: QuerySet[Resource], period: DateRange) -> list[ResourceFigures]:
    """Each resource with its days in the range and their totals. Two queries."""
    listed = list(resources)
    rows = DailyResource.objects.filter(
        resource__in=[r.pk for r in listed], day__range=(period.first, period.last)
    )
    by_resource: dict[int, list[DailyResource]] = {r.pk: [] for r in listed}
    for row in rows:
        by_resource[row.resource_id].append(row)
    return [
        ResourceFigures(
            resource=r,
            days=by_resource[r.pk],
            capacity=sum(d.capacity for d in by_resource[r.pk]),
            booked=sum(d.booked for d in by_resource[r.pk]),
            bookings=sum(d.bookings for d in by_resource[r.pk]),
            no_shows=sum(d.no_shows for d in by_resource[r.pk]),
        )
        for r in listed
    ]
