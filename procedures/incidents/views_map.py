"""The staff map of reports and the merge of possible duplicates, in the console.

Mounted under ``/admin/procedures/submission/`` by ``SubmissionAdmin.get_urls`` behind the
console's ``admin_view`` (login, staff, tenant scope, never cached), names
``admin:procedures_submission_report_<name>``. Reviewers and admins only (other roles:
403); they see the reports of the departments they review (``submissions_for_reviewer``),
and a report they may not review (another department's or municipality's) is a 404 like
a missing one. Each view: access → selector or service → response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from govtech.models import User
from govtech.services import ServiceError
from procedures.casework.views import _render, _reviewer, case_for_staff, case_url
from procedures.incidents.duplicates import report_merge, report_unmerge
from procedures.incidents.map import (
    OPEN_STATUSES,
    MapFilters,
    map_list_rows,
    map_markers,
    map_submissions,
    report_categories,
    status_legend,
)
from procedures.incidents.models import Report
from procedures.models import SubmissionStatus

PAGE_SIZE = 50


def report_map_urls(admin_view: Callable) -> list[URLPattern]:
    """The map and merge URLs, to mount before the submission admin's own."""

    def route(pattern: str, view: Callable, name: str) -> URLPattern:
        return path(pattern, admin_view(view), name=f"procedures_submission_report_{name}")

    return [
        route("reports/map/", report_map, "map"),
        route("reports/map/markers.json", report_map_markers, "map_markers"),
        route("<int:pk>/merge/", report_merge_view, "merge"),
        route("<int:pk>/unmerge/", report_unmerge_view, "unmerge"),
    ]


# --- the map -------------------------------------------------------------------------------


class MapFilterForm(forms.Form):
    category = forms.TypedChoiceField(
        label=gettext_lazy("Category"), required=False, coerce=int, empty_value=None
    )
    status = forms.MultipleChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[(s, label) for s, label in SubmissionStatus.choices],
        widget=forms.CheckboxSelectMultiple,
    )
    sent_from = forms.DateField(
        label=gettext_lazy("Sent from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sent_to = forms.DateField(
        label=gettext_lazy("Sent until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, categories: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("All categories")), *((c.pk, c.name) for c in categories)]
        self.fields["category"].choices = choices

    def filters(self) -> MapFilters:
        """The filters asked for; what does not parse is left out (the open reports of
        every category by default)."""
        if not self.is_valid():
            return MapFilters()
        data = self.cleaned_data
        return MapFilters(
            category=data["category"],
            statuses=tuple(data["status"]) or OPEN_STATUSES,
            sent_from=data["sent_from"],
            sent_to=data["sent_to"],
        )


def _filters(request: HttpRequest, categories: list) -> tuple[MapFilterForm, MapFilters]:
    query = request.GET.copy()
    if "status" not in query:
        query.setlist("status", list(OPEN_STATUSES))
    form = MapFilterForm(query, categories=categories)
    return form, form.filters()


@require_safe
def report_map(request: HttpRequest) -> HttpResponse:
    """The map of the reports the staff member reviews, with the filters and a list of
    50 a page beside it (the list is the page without JavaScript or tiles)."""
    staff = _reviewer(request)
    categories = report_categories()
    form, filters = _filters(request, categories)
    rows = map_list_rows(map_submissions(staff=staff, filters=filters))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "incidents/map.html",
        {
            "title": _("Report map"),
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "legend": status_legend(filters.statuses),
            "map": _map_config(query.urlencode()),
        },
    )


def _map_config(query: str) -> dict[str, Any] | None:
    """What static/incidents/report-map.js needs; None without a tile server (no map)."""
    if not settings.MAP_TILE_URL:
        return None
    markers = reverse("admin:procedures_submission_report_map_markers")
    return {
        "markers": f"{markers}?{query}" if query else markers,
        "caseUrl": reverse("admin:procedures_submission_change", args=[0]),
        "tiles": {
            "url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "maxZoom": settings.MAP_TILE_MAX_ZOOM,
        },
        "labels": {
            "duplicate": _("possible duplicate"),
            "truncated": _("Only the newest reports are on the map; narrow the filters."),
        },
    }


@require_safe
def report_map_markers(request: HttpRequest) -> JsonResponse:
    """The markers of the map under the same filters, as compact JSON (see
    ``procedures.incidents.map.map_markers``)."""
    staff = _reviewer(request)
    categories = report_categories()
    _form, filters = _filters(request, categories)
    data = map_markers(staff=staff, filters=filters, categories=categories)
    response = JsonResponse(
        data, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")}
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- merging -------------------------------------------------------------------------------


def _report_of(request: HttpRequest, pk: Any) -> Report:
    """The report of a submission the staff member reviews; 404 otherwise."""
    submission = case_for_staff(request, pk)
    report = Report.objects.filter(submission=submission).first()
    if report is None:
        raise Http404
    report.submission = submission
    return report


class MergeForm(forms.Form):
    other = forms.IntegerField()
    direction = forms.ChoiceField(choices=[("into_other", ""), ("into_this", "")])


@require_POST
def report_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge this report into another (``into_other``), or another into this one."""
    this = _report_of(request, pk)
    form = MergeForm(request.POST)
    if not form.is_valid():
        raise Http404
    other = _report_of(request, form.cleaned_data["other"])
    into_other = form.cleaned_data["direction"] == "into_other"
    duplicate, main = (this, other) if into_other else (other, this)
    try:
        report_merge(actor=cast(User, request.user), duplicate=duplicate, main=main)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(duplicate)s was merged into %(main)s.")
            % {"duplicate": duplicate.submission.reference, "main": main.submission.reference},
        )
    return redirect(case_url(main.submission if into_other else this.submission))


@require_POST
def report_unmerge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo the merge of this report into another."""
    report = _report_of(request, pk)
    try:
        report_unmerge(actor=cast(User, request.user), duplicate=report)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The merge was undone."))
    back = request.POST.get("back")
    if back and back.isdigit():
        return redirect(reverse("admin:procedures_submission_change", args=[int(back)]))
    return redirect(case_url(report.submission))
