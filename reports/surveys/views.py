"""Console pages of survey results: the list of surveys, one survey's results (filters,
charts as HTML bars with their numbers), its free-text answers (search, pages), the
aggregates as CSV, and the switch of its public page.

Mounted by ``SurveyPublicationAdmin.get_urls`` behind the console's ``admin_view``
(login, staff, tenant scope). Access is the inbox's: admins, and reviewers of the
survey's department; other roles get 403; a survey of another department or
municipality is a 404, the same as a missing one. Only admins publish results.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from delivery.broadcasts.models import AttributeField
from govtech.access import StaffContext, staff_context
from govtech.console import console
from govtech.models import User
from govtech.services import audit_log
from procedures.models import Procedure
from reports.surveys.export import aggregates_csv
from reports.surveys.models import SurveyPublication
from reports.surveys.results import TEXT_PREVIEW, survey_results, text_answers
from reports.surveys.selectors import (
    SurveyFilters,
    counted_submissions,
    filter_attributes,
    may_read_results,
    parse_survey_filters,
    publication_of,
    survey_versions,
    surveys_for_staff,
    surveys_with_counts,
)
from reports.surveys.services import survey_publication_set

TEXTS_PER_PAGE = 20


class PublicationForm(forms.ModelForm):
    class Meta:
        model = SurveyPublication
        fields = ["is_public", "minimum_count"]
        labels = {"is_public": gettext_lazy("Publish the results page")}


# --- access --------------------------------------------------------------------------------


def _reader(request: HttpRequest) -> StaffContext:
    staff = staff_context(request)
    if not may_read_results(staff):
        raise PermissionDenied
    return staff


def _survey(staff: StaffContext, pk: int) -> Procedure:
    procedure = surveys_for_staff(staff=staff).filter(pk=pk).first()
    if procedure is None:
        raise Http404
    return procedure


def attribute_choices(attributes: list[AttributeField], filters: SurveyFilters) -> list:
    """Per attribute, its options as ``(value, label, selected)`` for the filter's select."""
    chosen = dict(filters.attributes)
    return [
        (field, [_option(option, chosen.get(field.key)) for option in field.options])
        for field in attributes
        if all(isinstance(option, dict) and "value" in option for option in field.options)
    ]


def _option(option: dict[str, Any], chosen: str | None) -> tuple[str, str, bool]:
    value = str(option["value"])
    label = option.get("label") or value
    if isinstance(label, dict):  # a translated label, as procedures write them
        label = label.get("ja") or next(iter(label.values()), value)
    return value, str(label), value == chosen


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> TemplateResponse:
    base = {**console.each_context(request), "opts": SurveyPublication._meta}
    return TemplateResponse(request, template, {**base, **context})


# --- pages ---------------------------------------------------------------------------------


def surveys_view(request: HttpRequest) -> TemplateResponse:
    """The surveys whose results the staff member may read, with their answer counts."""
    staff = _reader(request)
    surveys = surveys_with_counts(staff=staff).select_related("department")
    return _render(
        request, "reports/surveys/list.html", {"title": _("Survey results"), "surveys": surveys}
    )


def results_view(request: HttpRequest, pk: int) -> TemplateResponse:
    """Every question's aggregates under the filters of the query string."""
    staff = _reader(request)
    procedure = _survey(staff, pk)
    attributes = filter_attributes()
    filters = parse_survey_filters(request.GET, attributes)
    questions, versions = survey_versions(procedure=procedure)
    submissions = counted_submissions(staff=staff, procedure=procedure, filters=filters)
    publication = publication_of(procedure=procedure)
    return _render(
        request,
        "reports/surveys/results.html",
        {
            "title": procedure.title,
            "procedure": procedure,
            "results": survey_results(submissions, questions, text_preview=TEXT_PREVIEW),
            "filters": filters,
            "filter_params": filters.as_params(),
            "attribute_choices": attribute_choices(attributes, filters),
            "versions": versions,
            "publication": publication,
            "publication_form": PublicationForm(instance=publication),
            "may_publish": staff.is_admin or staff.is_operator,
        },
    )


def texts_view(request: HttpRequest, pk: int, step_id: str) -> TemplateResponse:
    """One free-text question's answers, newest first, searched and paged. Reading
    residents' own words is audited."""
    staff = _reader(request)
    procedure = _survey(staff, pk)
    questions, _versions = survey_versions(procedure=procedure)
    question = next((q for q in questions if q.step_id == step_id and q.kind == "text"), None)
    if question is None:
        raise Http404
    filters = parse_survey_filters(request.GET, filter_attributes())
    search = request.GET.get("q", "")[:200]
    submissions = counted_submissions(staff=staff, procedure=procedure, filters=filters)
    page = Paginator(text_answers(submissions, step_id, search=search), TEXTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    audit_log(
        cast(User, request.user),
        "reports.survey.texts_viewed",
        procedure,
        {"question": step_id, "search": search, "page": page.number, **filters.as_params()},
        request=request,
    )
    return _render(
        request,
        "reports/surveys/texts.html",
        {
            "title": question.label,
            "procedure": procedure,
            "question": question,
            "page_obj": page,
            "search": search,
            "filter_params": filters.as_params(),
        },
    )


def export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The aggregates under the page's filters as CSV (UTF-8 with BOM): one row per
    option or bin, one per free-text question (its number of answers only). Audited."""
    staff = _reader(request)
    procedure = _survey(staff, pk)
    filters = parse_survey_filters(request.GET, filter_attributes())
    questions, _versions = survey_versions(procedure=procedure)
    submissions = counted_submissions(staff=staff, procedure=procedure, filters=filters)
    results = survey_results(submissions, questions)
    audit_log(
        cast(User, request.user),
        "reports.survey.exported",
        procedure,
        {"filters": filters.as_params(), "respondents": results.respondents},
        request=request,
    )
    response = HttpResponse(aggregates_csv(results), content_type="text/csv; charset=utf-8")
    day = timezone.localdate().strftime("%Y%m%d")
    filename = f"{procedure.key}-results-{day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def publication_view(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: turn the public results page on or off (admins only)."""
    staff = _reader(request)
    procedure = _survey(staff, pk)
    if not (staff.is_admin or staff.is_operator):
        raise PermissionDenied
    if request.method != "POST":
        return redirect("admin:reports_survey_results", procedure.pk)
    form = PublicationForm(request.POST, instance=publication_of(procedure=procedure))
    if not form.is_valid():
        for error in form.errors.get("minimum_count", []):
            messages.error(request, str(error))
        return redirect("admin:reports_survey_results", procedure.pk)
    survey_publication_set(
        actor=cast(User, request.user),
        procedure=procedure,
        is_public=form.cleaned_data["is_public"],
        minimum_count=form.cleaned_data["minimum_count"],
    )
    return redirect("admin:reports_survey_results", procedure.pk)
