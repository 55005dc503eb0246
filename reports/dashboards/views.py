"""Console pages of the dashboards: the overview (friends, broadcasts, procedures), one
procedure (its funnel, days and channels) and reservations.

Mounted by ``reports.dashboards.admin`` behind the console's ``admin_view`` (login, staff,
tenant scope). Access: the overview shows each role its own sections (friends and
broadcasts to admins and broadcasters; procedures to admins, designers and reviewers of
their departments); a procedure or resource that is not theirs (another department's or
municipality's) is a 404, the same as a missing one; a role with no figures there gets
403. Every figure comes from the daily aggregates (``selectors``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from govtech.access import StaffContext, staff_context
from govtech.console import console
from govtech.models import Municipality, Role
from reports.dashboards import charts
from reports.dashboards.selectors import (
    PROCEDURE_ROLES,
    DateRange,
    broadcast_blocks,
    friend_figures,
    funnel,
    may_see_friends,
    parse_range,
    procedure_figures,
    procedure_totals,
    procedures_for_dashboard,
    resource_figures,
    resources_for_dashboard,
)

RESERVATION_ROLES = frozenset({Role.ADMIN, Role.REVIEWER})


def _municipality(staff: StaffContext) -> Municipality:
    """Dashboards are a municipality's: an operator (no municipality) finds none."""
    if staff.municipality is None:
        raise Http404
    return staff.municipality


def _render(request: HttpRequest, template: str, period: DateRange, **context) -> HttpResponse:
    context = {
        **console.each_context(request),
        "period": period,
        "range_query": urlencode(period.as_params()),
        **context,
    }
    return TemplateResponse(request, f"reports/dashboards/{template}", context)


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """The overview: friends over time, coverage, blocks after broadcasts, procedures."""
    staff = staff_context(request)
    municipality = _municipality(staff)
    period = parse_range(request.GET)
    context: dict = {"title": _("Dashboard")}
    if may_see_friends(staff):
        figures = friend_figures(municipality=municipality, period=period)
        broadcasts = broadcast_blocks(municipality=municipality, period=period)
        context |= {
            "friends": figures,
            "broadcasts": broadcasts,
            "friends_chart": charts.friends_chart(figures.days),
            "broadcasts_chart": charts.broadcasts_chart(broadcasts),
        }
    if staff.roles & PROCEDURE_ROLES:
        procedures = procedures_for_dashboard(staff=staff)
        context["procedures"] = procedure_totals(procedures=procedures, period=period)
    context["shows_reservations"] = bool(staff.roles & RESERVATION_ROLES)
    return _render(request, "overview.html", period, **context)


def procedure_dashboard_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One procedure: started, completed, rate, median time, the funnel, days, channels."""
    staff = staff_context(request)
    _municipality(staff)
    if not staff.roles & PROCEDURE_ROLES:
        raise PermissionDenied
    procedure = procedures_for_dashboard(staff=staff).filter(pk=pk).first()
    if procedure is None:
        raise Http404
    period = parse_range(request.GET)
    figures = procedure_figures(procedure=procedure, period=period)
    steps = funnel(procedure=procedure, period=period, started=figures.started)
    return _render(
        request,
        "procedure.html",
        period,
        title=procedure.title,
        procedure=procedure,
        figures=figures,
        steps=steps,
        channels=charts.channel_rows(figures.channels),
        funnel_chart=charts.funnel_chart(steps),
        days_chart=charts.procedure_days_chart(figures.days),
        channels_chart=charts.channels_chart(figures.channels),
    )


def reservations_dashboard_view(request: HttpRequest) -> HttpResponse:
    """Occupancy and no-shows of the resources the staff member manages (``resource``:
    one of them)."""
    staff = staff_context(request)
    _municipality(staff)
    if not staff.roles & RESERVATION_ROLES:
        raise PermissionDenied
    resources = resources_for_dashboard(staff=staff)
    wanted = request.GET.get("resource", "")
    if wanted:
        resources = resources.filter(pk=int(wanted) if wanted.isdigit() else 0)
        if not resources.exists():
            raise Http404
    period = parse_range(request.GET)
    figures = resource_figures(resources=resources, period=period)
    return _render(
        request,
        "reservations.html",
        period,
        title=_("Reservations dashboard"),
        resources=[
            (f, charts.resource_chart(f), f"resource-chart-{f.resource.pk}") for f in figures
        ],
    )
