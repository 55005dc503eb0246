"""The reviewer's console: the inbox, the case page with its actions, and each
procedure's workflow page.

Mounted by ``SubmissionAdmin`` (``get_urls``, ``changelist_view``, ``change_view``)
behind the console's ``admin_view`` (login, staff, tenant scope). Each view: access →
service → response. Access: admins and reviewers (operators too) work submissions, other
roles get 403; a submission they may not review (another department's, another
municipality's) is a 404, the same as a missing one. The workflow page is for admins
and designers. Errors of the services are shown as messages, never as a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.http import require_POST

from govtech.access import StaffContext, staff_context
from govtech.console import console
from govtech.models import User
from govtech.services import ServiceError, audit_log
from procedures.casework import workflow
from procedures.casework.answers import question_steps
from procedures.casework.forms import (
    BULK_ASSIGN,
    BULK_ASSIGN_ME,
    MESSAGE_STATUSES,
    AssignForm,
    BulkForm,
    CorrectionForm,
    InboxForm,
    MessageForm,
    NoteForm,
    StatusForm,
    WorkflowForm,
    message_field,
    silent_field,
    transition_field,
)
from procedures.casework.presenters import case_context, inbox_row, language_name, queue_label
from procedures.casework.selectors import (
    QUEUES,
    REVIEW_ROLES,
    assignable_staff,
    inbox_counts,
    inbox_procedures,
    inbox_staff,
    inbox_submissions,
    submission_for_staff,
)
from procedures.casework.services import (
    case_assign,
    case_message,
    case_note,
    case_request_correction,
    case_transition,
    procedure_workflow_save,
)
from procedures.images import MAX_BYTES, CleanImage, ImageRejected
from procedures.incidents.map import has_report_categories
from procedures.incidents.photos import after_photo_clean, report_transition
from procedures.models import Procedure, Submission, SubmissionStatus
from procedures.selectors import submissions_for_reviewer

PAGE_SIZE = 50
DESIGN_ROLES = frozenset({"admin", "designer"})


# --- access --------------------------------------------------------------------------------


def _reviewer(request: HttpRequest) -> StaffContext:
    staff = staff_context(request)
    if not staff.has_any(REVIEW_ROLES):
        raise PermissionDenied
    return staff


def case_for_staff(request: HttpRequest, pk: Any) -> Submission:
    """The submission if the staff member reviews it. 404 when it is not theirs to see
    (missing, another municipality's, another department's); 403 when it is in their
    municipality but their role does not review submissions."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    staff = staff_context(request)
    if not staff.has_any(REVIEW_ROLES):
        _refuse_role(Submission.objects.filter(pk=number).exists())
    submission = submission_for_staff(staff=staff, pk=number)
    if submission is None:
        raise Http404
    return submission


def procedure_for_designer(request: HttpRequest, pk: int) -> Procedure:
    """The procedure for its workflow page: admins and designers; 404 when it is not in
    the municipality, 403 for other roles."""
    procedure = Procedure.objects.filter(pk=pk).first()
    if not staff_context(request).has_any(DESIGN_ROLES):
        _refuse_role(procedure is not None)
    if procedure is None:
        raise Http404
    return procedure


def _refuse_role(exists: bool) -> None:
    # What the role may not touch is a 403 only when it exists in the staff member's own
    # municipality (the query is scoped to it): anything else stays a 404.
    if exists:
        raise PermissionDenied
    raise Http404


# --- helpers -------------------------------------------------------------------------------


def _render(request: HttpRequest, template: str, context: dict) -> TemplateResponse:
    base = {**console.each_context(request), "opts": Submission._meta}
    return TemplateResponse(request, template, {**base, **context})


def case_url(submission: Submission) -> str:
    return reverse("admin:procedures_submission_change", args=[submission.pk])


def _back_to_case(submission: Submission) -> HttpResponse:
    return redirect(case_url(submission))


def _form_errors(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


# --- inbox ---------------------------------------------------------------------------------


def inbox(request: HttpRequest) -> HttpResponse:
    """The reviewer's inbox: queues with counts, filters, sorting, 50 rows a page; a POST
    is a bulk action on the ticked rows. A constant number of queries per page."""
    staff = _reviewer(request)
    colleagues = inbox_staff(staff=staff)
    if request.method == "POST":
        return _bulk(request, staff, colleagues)
    user: User = request.user  # type: ignore[assignment]
    procedures = inbox_procedures(staff=staff)
    titles = dict(procedures)  # rows defer the procedure's draft, where its title is
    form = InboxForm(_legacy_query(request), procedures=procedures, staff=colleagues)
    queue, sort = form.value("queue", "new"), form.value("sort", "newest")
    filters, now = form.filters(), timezone.now()
    counts = inbox_counts(staff=staff, user=user, filters=filters, now=now)
    rows = inbox_submissions(
        staff=staff, user=user, queue=queue, filters=filters, sort=sort, now=now
    ).select_related("procedure__workflow")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "casework/inbox.html",
        {
            "title": _("Inbox"),
            "form": form,
            "queue": queue,
            "sort": sort,
            "queues": [(name, queue_label(name), counts[name]) for name in QUEUES],
            "page": page,
            "rows": [inbox_row(s, now=now, titles=titles) for s in page.object_list],
            "query": _query_without(request, "page"),
            "queue_query": _query_without(request, "page", "queue"),
            "sort_query": _query_without(request, "page", "sort"),
            "colleagues": colleagues,
            "statuses": [(v, label) for v, label in SubmissionStatus.choices if v != "returned"],
            "report_map": has_report_categories(),
        },
    )


def _legacy_query(request: HttpRequest):
    """The query string, with the old changelist's ``status__exact`` (links on the home
    page) read as ``status`` and the inbox's ``all`` queue for it."""
    query = request.GET.copy()
    if "status__exact" in query and "status" not in query:
        query["status"] = query["status__exact"]
        query.setdefault("queue", "all")
    return query


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _bulk(request: HttpRequest, staff: StaffContext, colleagues: list[User]) -> HttpResponse:
    """Assign or move the ticked submissions, each through the services; the refused ones
    are listed, the others done."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    back = back or reverse("admin:procedures_submission_changelist")
    form = BulkForm(request.POST, staff=colleagues)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(back)
    chosen = submissions_for_reviewer(staff=staff).filter(pk__in=form.cleaned_data["ids"])
    done, refused = 0, []
    for submission in chosen.select_related("procedure").order_by("reference"):
        try:
            _bulk_one(request, submission, form.cleaned_data)
        except ServiceError as exc:
            refused.append(f"{submission.reference}: {exc}")
        else:
            done += 1
    if done:
        messages.success(request, _("%(count)d submissions done.") % {"count": done})
    if refused:
        messages.warning(request, _("Not done: %(list)s") % {"list": "; ".join(refused)})
    return redirect(back)


def _bulk_one(request: HttpRequest, submission: Submission, data: dict) -> None:
    user: User = request.user  # type: ignore[assignment]
    if data["action"] in (BULK_ASSIGN_ME, BULK_ASSIGN):
        pk = user.pk if data["action"] == BULK_ASSIGN_ME else data["assignee"]
        assignee = next((u for u in assignable_staff(submission=submission) if u.pk == pk), None)
        if assignee is None:
            raise ServiceError(_("This person cannot be assigned this submission."))
        case_assign(actor=user, submission=submission, assignee=assignee)
        return
    expected = request.POST.get(f"seen_{submission.pk}") or None
    case_transition(
        actor=user,
        submission=submission,
        to=data["to"],
        reason=data.get("reason", ""),
        expected=expected,
    )


# --- the case page -------------------------------------------------------------------------


def case_page(request: HttpRequest, pk: Any) -> TemplateResponse:
    """One submission: answers by the pinned version's labels, booking and fee, the
    resident, the timeline with revisions, and the reviewer's forms. (Each view is
    audited by ``SubmissionAdmin``'s PersonalDataAdminMixin.)"""
    submission = case_for_staff(request, pk)
    staff = staff_context(request)
    context = case_context(submission, staff=staff, now=timezone.now())
    return _render(request, "casework/case.html", {"title": submission.reference, **context})


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_POST
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    """A status change; for a report, optionally with an "after" photo for the reporter."""
    submission = case_for_staff(request, pk)
    kind = workflow.kind_of(submission)
    # Any status parses; the service decides what the workflow allows now (and refuses a
    # double click: the status the reviewer saw has changed).
    form = StatusForm(
        request.POST, request.FILES, choices=SubmissionStatus.choices, with_photo=bool(kind)
    )
    if not form.is_valid():
        _form_errors(request, form)
        return _back_to_case(submission)
    try:
        photo = _after_photo(form.cleaned_data.get("photo"))
        report_transition(
            actor=_user(request),
            submission=submission,
            to=form.cleaned_data["to"],
            reason=form.cleaned_data["reason"],
            notify=form.cleaned_data["notify"],
            expected=form.cleaned_data["expected"],
            photo=photo,
        )
    except (ServiceError, ImageRejected) as exc:
        messages.error(request, str(exc))
    else:
        label = workflow.status_label(submission.status, kind)
        messages.success(request, _("The status is now “%(status)s”.") % {"status": label})
    return _back_to_case(submission)


def _after_photo(upload) -> CleanImage | None:
    """The staff's photo checked like a resident's (size before reading, then type,
    pixels, EXIF); None when none was chosen. Raises ImageRejected."""
    if upload is None:
        return None
    if upload.size > MAX_BYTES:
        raise ImageRejected(_("This photo is larger than 10 MB."))
    return after_photo_clean(upload.read())


@require_POST
def case_return(request: HttpRequest, pk: int) -> HttpResponse:
    """返戻: the resident is asked in LINE to correct the ticked fields."""
    submission = case_for_staff(request, pk)
    steps = [(step["id"], step["id"]) for step in question_steps(submission.definition)]
    form = CorrectionForm(request.POST, steps=steps)
    if not form.is_valid():
        _form_errors(request, form)
        return _back_to_case(submission)
    try:
        case_request_correction(
            actor=_user(request),
            submission=submission,
            fields=form.cleaned_data["steps"],
            reason=form.cleaned_data["reason"],
            expected=form.cleaned_data["expected"],
            deadline=form.cleaned_data["deadline"],
        )
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The resident was asked to correct the submission."))
    return _back_to_case(submission)


@require_POST
def case_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    submission = case_for_staff(request, pk)
    staff = assignable_staff(submission=submission)
    data = request.POST.copy()
    if "me" in data:
        data["assignee"] = str(request.user.pk)
    form = AssignForm(data, staff=staff)
    if not form.is_valid():
        _form_errors(request, form)
        return _back_to_case(submission)
    assignee = next((u for u in staff if u.pk == form.cleaned_data["assignee"]), None)
    event = case_assign(actor=_user(request), submission=submission, assignee=assignee)
    if event is not None:
        messages.success(request, _("The assignee was changed."))
    return _back_to_case(submission)


def _written(request: HttpRequest, pk: int, form_class, service, done: str) -> HttpResponse:
    """A text the reviewer wrote about the case (a note, a message): form, service, back."""
    submission = case_for_staff(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back_to_case(submission)
    try:
        service(actor=_user(request), submission=submission, text=form.cleaned_data["text"])
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return _back_to_case(submission)


@require_POST
def case_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _written(request, pk, NoteForm, case_note, _("The note was added."))


@require_POST
def case_message_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _written(
        request, pk, MessageForm, case_message, _("The message was sent to the resident.")
    )


# --- workflow ------------------------------------------------------------------------------


def workflow_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a procedure's workflow: the transition grid, messages, days, withdrawal."""
    procedure = procedure_for_designer(request, pk)
    flow, kind = workflow.workflow_for(procedure), workflow.procedure_kind(procedure)
    languages = _languages(procedure)
    if request.method == "POST":
        form = WorkflowForm(request.POST, languages=languages)
        unknown = form.unknown_statuses(request.POST)
        if unknown:
            names = ", ".join(unknown)
            form.add_error(None, _("Unknown statuses: %(statuses)s") % {"statuses": names})
        if not unknown and form.is_valid():
            return _save_workflow(request, procedure, form)
    else:
        initial = _workflow_initial(flow, languages, kind)
        form = WorkflowForm(initial=initial, languages=languages)
    audit_log(_user(request), "procedures.procedure.workflow_viewed", procedure, request=request)
    return _render(
        request,
        "casework/workflow.html",
        {
            "title": _("Workflow: %(procedure)s") % {"procedure": procedure.title},
            "procedure": procedure,
            "form": form,
            "grid": _grid(form, kind),
            "message_rows": _message_rows(form, languages, kind),
            "languages": languages,
            "opts": Procedure._meta,
        },
    )


def _save_workflow(request: HttpRequest, procedure: Procedure, form: WorkflowForm) -> HttpResponse:
    try:
        _flow, unreachable = procedure_workflow_save(
            actor=_user(request),
            procedure=procedure,
            transitions=form.transitions(),
            messages=form.messages(),
            target_days=form.cleaned_data["target_days"],
            correction_days=form.cleaned_data["correction_days"],
            allow_withdraw=form.cleaned_data["allow_withdraw"],
        )
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("admin:procedures_submission_workflow", procedure.pk)
    messages.success(request, _("The workflow was saved."))
    if unreachable:
        labels = "、".join(str(SubmissionStatus(s).label) for s in unreachable)
        messages.warning(
            request,
            _("No submission can reach these statuses with this grid: %(statuses)s")
            % {"statuses": labels},
        )
    return redirect("admin:procedures_submission_workflow", procedure.pk)


def _languages(procedure: Procedure) -> list[str]:
    document = procedure.live_version.document if procedure.live_version else procedure.draft
    languages = [lang for lang in document.get("languages") or ["ja"] if isinstance(lang, str)]
    return languages if "ja" in languages else ["ja", *languages]


def _workflow_initial(flow, languages: list[str], kind: str = "") -> dict[str, Any]:
    initial: dict[str, Any] = {
        "target_days": flow.target_days,
        "correction_days": flow.correction_days,
        "allow_withdraw": flow.allow_withdraw,
    }
    for source, targets in workflow.transitions_of(flow, kind).items():
        for target in targets:
            initial[transition_field(source, target)] = True
    for status, written in (flow.messages or {}).items():
        if status not in MESSAGE_STATUSES:
            continue
        texts = written if isinstance(written, dict) else {"ja": str(written)}
        if not any(texts.values()):
            initial[silent_field(status)] = True
        for lang in languages:
            initial[message_field(status, lang)] = texts.get(lang, "")
    return initial


def _grid(form: WorkflowForm, kind: str = "") -> list[tuple[str, list]]:
    statuses = list(workflow.DEFAULT_TRANSITIONS)
    return [
        (
            workflow.status_label(source, kind),
            [form[transition_field(source, t)] if source != t else None for t in statuses],
        )
        for source in statuses
    ]


def _message_rows(form: WorkflowForm, languages: list[str], kind: str = "") -> list[dict[str, Any]]:
    rows = []
    for status in MESSAGE_STATUSES:
        defaults = {lang: _default_message(status, lang, kind) for lang in languages}
        fields = [
            (language_name(lang), form[message_field(status, lang)], defaults[lang])
            for lang in languages
        ]
        rows.append(
            {
                "status": status,
                "label": workflow.status_label(status, kind),
                "silent": form[silent_field(status)],
                "fields": fields,
            }
        )
    return rows


def _default_message(status: str, lang: str, kind: str = "") -> str:
    with override(lang):
        return workflow.default_messages(kind).get(status, "")
