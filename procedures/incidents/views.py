"""What reviewers change on a report from its case page: the category (optionally
re-routed), a photo's approval for the public page, the public note.

Each view: access (``case_for_staff``: the reviewer's own submissions; another
department's or municipality's is a 404) → form → service → back to the case page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from govtech.models import User
from procedures.casework.views import case_for_staff, case_url
from procedures.incidents.models import Report, ReportCategory, ReportPhoto
from procedures.incidents.services import (
    report_photo_publish,
    report_public_note_save,
    report_recategorize,
)
from procedures.models import Submission


class CategoryForm(forms.Form):
    category = forms.TypedChoiceField(
        label=gettext_lazy("category"), coerce=int, required=False, empty_value=None
    )
    reroute = forms.BooleanField(label=gettext_lazy("route it again"), required=False)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        categories = ReportCategory.objects.values_list("pk", "name")
        self.fields["category"].choices = [("", "—"), *categories]


class PublicForm(forms.Form):
    public = forms.BooleanField(required=False)


class NoteForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("public note"), required=False, max_length=2000)


def _report(request: HttpRequest, pk: int) -> tuple[Submission, Report]:
    submission = case_for_staff(request, pk)
    report = Report.objects.filter(submission=submission).first()
    if report is None:
        raise Http404
    return submission, report


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _invalid(request: HttpRequest, submission: Submission) -> HttpResponse:
    messages.error(request, _("Please check the form."))
    return redirect(case_url(submission))


@require_POST
def report_category_view(request: HttpRequest, pk: int) -> HttpResponse:
    submission, report = _report(request, pk)
    form = CategoryForm(request.POST)
    if not form.is_valid():
        return _invalid(request, submission)
    chosen = form.cleaned_data["category"]
    category = ReportCategory.objects.filter(pk=chosen).first() if chosen else None
    report_recategorize(
        actor=_user(request),
        report=report,
        category=category,
        reroute=form.cleaned_data["reroute"],
    )
    messages.success(request, _("The category was changed."))
    return redirect(case_url(submission))


@require_POST
def report_photo_view(request: HttpRequest, pk: int, photo: int) -> HttpResponse:
    submission, report = _report(request, pk)
    found = ReportPhoto.objects.filter(pk=photo, report=report).first()
    form = PublicForm(request.POST)
    if found is None:
        raise Http404
    if not form.is_valid():
        return _invalid(request, submission)
    public = form.cleaned_data["public"]
    report_photo_publish(actor=_user(request), photo=found, public=public, now=timezone.now())
    done = _("The photo may be shown publicly.") if public else _("The photo is not public.")
    messages.success(request, done)
    return redirect(case_url(submission))


@require_POST
def report_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    submission, report = _report(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _invalid(request, submission)
    report_public_note_save(actor=_user(request), report=report, text=form.cleaned_data["text"])
    messages.success(request, _("The public note was saved."))
    return redirect(case_url(submission))
