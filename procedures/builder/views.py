"""The builder's console views: parse → check access → call a service → render.

Mounted by ProcedureAdmin.get_urls (procedures/builder/urls.py) inside the console's
``admin_view``, so the staff member is logged in and the request runs in their tenant
scope. Designers and admins may use them; other roles get 403, another municipality's
procedure is a 404 like a missing one.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govtech.access import staff_context
from govtech.console import console
from govtech.jsonlimits import JsonRefused, loads_bounded
from govtech.models import Department
from govtech.services import ServiceError
from procedures.builder import conditions, fees, ui
from procedures.builder.forms import CompareForm, NewProcedureForm, PublishForm
from procedures.builder.presentation import diff_rows, problem_rows, problems_by_step
from procedures.builder.preview import step_preview
from procedures.builder.registry import tester_accounts, trial_resident_provider
from procedures.builder.selectors import procedure_for_builder, procedure_versions
from procedures.builder.services import (
    NoTester,
    builder_draft_trial_end,
    builder_draft_trials_open,
    builder_draft_try,
    builder_draft_try_line,
    builder_procedure_create,
)
from procedures.builder.state import document_from_state, editor_state
from procedures.builder.translations import document_languages, missing_translations
from procedures.diff import document_diff
from procedures.format import MAX_DOCUMENT_DEPTH
from procedures.languages import staff_language_name
from procedures.models import Procedure, ProcedureVersion
from procedures.selectors import document_problems
from procedures.services import (
    DocumentRejected,
    DraftConflict,
    procedure_publish,
    procedure_rollback,
    procedure_save_draft,
)
from procedures.steptypes import availability_for, builder_bindings, builder_kind_bindings

DESIGN_ROLES = frozenset({"admin", "designer"})


# --- access --------------------------------------------------------------------------------


def _require_designer(request: HttpRequest) -> None:
    if not staff_context(request).has_any(DESIGN_ROLES):
        raise PermissionDenied


def _designer_procedure(request: HttpRequest, pk: int) -> Procedure:
    """The procedure a designer may edit: 403 for other roles, 404 when not theirs."""
    _require_designer(request)
    procedure = procedure_for_builder(pk=pk)
    if procedure is None:
        raise Http404
    return procedure


def _version_of(procedure: Procedure, number: int) -> ProcedureVersion:
    version = procedure_versions(procedure=procedure).filter(number=number).first()
    if version is None:
        raise Http404
    return version


# --- helpers -------------------------------------------------------------------------------


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = loads_bounded(request.body or b"{}", max_depth=MAX_DOCUMENT_DEPTH + 4)
    except JsonRefused:
        raise
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ValueError(_("The request is not valid JSON."))
    return body


def _state_document(body: dict[str, Any]) -> dict[str, Any]:
    """The document of the editor state in ``body``; ValueError (a clear one) when the state
    is not shaped as the builder writes it (found by tests/fuzz: a null state was a 500)."""
    state = body.get("state")
    if not isinstance(state, dict):
        raise ValueError(_("The builder's data is missing from the request."))
    try:
        return document_from_state(state)
    except (AttributeError, KeyError, TypeError) as problem:
        raise ValueError(
            _("The builder's data is not in the form the builder writes.")
        ) from problem


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> TemplateResponse:
    base = {**console.each_context(request), "opts": Procedure._meta}
    return TemplateResponse(request, template, {**base, **context})


def _problems(procedure: Procedure, document: dict[str, Any]) -> list[dict[str, Any]]:
    """What stops publishing (and warnings), the municipality's resources included."""
    problems = document_problems(
        document=document, municipality=procedure.municipality, include_warnings=True
    )
    return problem_rows(problems, document)


def _catalog_url() -> str | None:
    try:
        return reverse("admin:procedures_template_changelist")
    except NoReverseMatch:
        return None


def _urls(procedure: Procedure) -> dict[str, str]:
    def name(suffix: str) -> str:
        return reverse(f"admin:procedures_procedure_{suffix}", args=[procedure.pk])

    return {
        "builder": name("builder"),
        "save": name("builder_save"),
        "preview": name("builder_preview"),
        "convert": name("builder_convert"),
        "try": name("builder_try"),
        "try_line": name("builder_try_line"),
        "try_end": name("builder_try_end"),
        "publish": name("publish"),
        "translations": name("translations"),
        "history": name("versions"),
        "advanced": name("change") + "?advanced=1",
    }


# --- the builder page ------------------------------------------------------------------------


@require_GET
def builder_page(request: HttpRequest, pk: int) -> TemplateResponse:
    procedure = _designer_procedure(request, pk)
    config = {
        "revision": procedure.draft_revision,
        "key": procedure.key,
        "state": editor_state(procedure.draft),
        "problems": _problems(procedure, procedure.draft),
        # What bound step types offer for their bound field (a reservation's resources).
        "bindings": builder_bindings(request=request, municipality=procedure.municipality),
        # What a kind's steps may be bound to (a profile's: the resident attributes).
        "kind_bindings": builder_kind_bindings(
            request=request, municipality=procedure.municipality
        ),
        "types": ui.step_types(),
        "languages": ui.language_choices(),
        "kinds": ui.kind_choices(),
        "strings": ui.strings(),
        "labels": ui.labels(),
        "urls": _urls(procedure),
    }
    context = {
        "title": _("Builder: %(title)s") % {"title": procedure.title},
        "procedure": procedure,
        "builder_config": config,
        "tab": "builder",
        "urls": config["urls"],
        "types": config["types"],
        # Try it needs a channel that can play a test chat (the simulator; never production).
        "can_try": trial_resident_provider() is not None,
        "tester_registration_url": _tester_registration_url(),
        "trying_in_line": builder_draft_trials_open(actor=request.user, procedure=procedure),
    }
    return _page(request, "builder/builder.html", context)


@require_POST
def builder_save(request: HttpRequest, pk: int) -> JsonResponse:
    """Save the draft unless someone saved since ``expected_revision`` (409, nothing lost)."""
    procedure = _designer_procedure(request, pk)
    try:
        body = _json_body(request)
        document = _state_document(body)
        expected = int(body["expected_revision"])
    except (KeyError, TypeError, ValueError) as problem:
        return JsonResponse({"error": str(problem)}, status=400)
    try:
        procedure = procedure_save_draft(
            actor=request.user, procedure=procedure, document=document, expected_revision=expected
        )
    except DraftConflict as conflict:
        return JsonResponse({"error": str(conflict), "conflict": True}, status=409)
    except ServiceError as refused:
        return JsonResponse({"error": str(refused)}, status=400)
    return JsonResponse(
        {
            "revision": procedure.draft_revision,
            "state": editor_state(procedure.draft),
            "problems": _problems(procedure, procedure.draft),
        }
    )


@require_POST
def builder_preview(request: HttpRequest, pk: int) -> JsonResponse:
    """The LINE messages of one step of the (unsaved) state, as render_prompts makes them.

    A bound step shows what its binding offers now (a reservation step, the days its
    resource offers: only this municipality's, the request runs in its tenant scope).
    """
    _designer_procedure(request, pk)
    now = timezone.now()
    try:
        body = _json_body(request)
        document = _state_document(body)
        index, lang = int(body["index"]), str(body.get("lang") or "ja")
        availability = availability_for(_previewed_steps(document, index), now=now)
        found = step_preview(document, index=index, lang=lang, now=now, availability=availability)
    except (KeyError, TypeError, ValueError) as problem:
        return JsonResponse({"error": str(problem), "messages": []})
    return JsonResponse({"messages": found})


def _previewed_steps(document: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """The previewed step, for its binding to load what it offers (none when out of range)."""
    steps = document.get("steps")
    step = steps[index] if isinstance(steps, list) and 0 <= index < len(steps) else None
    return [step] if isinstance(step, dict) else []


@require_POST
def builder_convert(request: HttpRequest, pk: int) -> JsonResponse:
    """Editor model ↔ JSON Logic for the "advanced" toggles (conditions and fees)."""
    _designer_procedure(request, pk)
    try:
        body = _json_body(request)
        kind = body.get("kind", "condition")
        if "model" in body:
            convert = conditions.condition_to_logic if kind == "condition" else fees.fee_to_logic
            return JsonResponse({"logic": convert(body["model"])})
        convert = conditions.logic_to_condition if kind == "condition" else fees.logic_to_fee
        return JsonResponse({"model": convert(body.get("logic"))})
    except (KeyError, TypeError, ValueError) as problem:
        return JsonResponse({"error": str(problem)}, status=400)


@require_POST
def builder_try(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the saved draft for the designer in the LINE simulator and open its chat page."""
    procedure = _designer_procedure(request, pk)
    try:
        trial = builder_draft_try(actor=request.user, procedure=procedure)
    except DocumentRejected as rejected:
        for error in rejected.errors[:5]:
            messages.error(request, error.located())
        return redirect("admin:procedures_procedure_builder", procedure.pk)
    except ServiceError as refused:
        messages.error(request, str(refused))
        return redirect("admin:procedures_procedure_builder", procedure.pk)
    query = urlencode({"channel": trial.channel_id, "user": trial.user_id})
    return redirect(f"{reverse('simulator:chat')}?{query}")


def _tester_registration_url() -> str | None:
    testers = tester_accounts()
    return testers.registration_url() if testers is not None else None


@require_POST
def builder_try_line(request: HttpRequest, pk: int) -> HttpResponse:
    """「LINEで試す」: send the saved draft to the designer's own LINE tester account(s)."""
    procedure = _designer_procedure(request, pk)
    back = redirect("admin:procedures_procedure_builder", procedure.pk)
    try:
        testers = builder_draft_try_line(actor=request.user, procedure=procedure)
    except DocumentRejected as rejected:
        for error in rejected.errors[:5]:
            messages.error(request, error.located())
        return back
    except NoTester as missing:
        url = _tester_registration_url()
        how = _("Register it first: %(url)s") % {"url": url} if url else ""
        messages.error(request, f"{missing} {how}".strip())
        return back
    except ServiceError as refused:
        messages.error(request, str(refused))
        return back
    names = ", ".join(tester.resident.display_name or tester.user_id for tester in testers)
    messages.success(
        request,
        _(
            "The draft was sent to your LINE (%(names)s). Answer it there; its keywords start"
            " the draft for you until you stop testing. Residents still get the published"
            " version."
        )
        % {"names": names},
    )
    return back


@require_POST
def builder_try_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop trying the draft in LINE: the designer's keywords start the published version."""
    procedure = _designer_procedure(request, pk)
    ended = builder_draft_trial_end(actor=request.user, procedure=procedure)
    text = (
        _("Testing in LINE has ended.") if ended else _("You were not trying this draft in LINE.")
    )
    messages.info(request, text)
    return redirect("admin:procedures_procedure_builder", procedure.pk)


# --- new, publish, history ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def builder_new(request: HttpRequest) -> HttpResponse:
    """A procedure from scratch: key, title and department; then the builder opens."""
    _require_designer(request)
    if staff_context(request).municipality is None:
        raise PermissionDenied  # operators work across municipalities, not inside one
    form = NewProcedureForm(request.POST or None, departments=Department.objects.all())
    if request.method == "POST" and form.is_valid():
        try:
            procedure = builder_procedure_create(
                actor=request.user,
                municipality=staff_context(request).municipality,
                key=form.cleaned_data["key"],
                title=form.cleaned_data["title"],
                department=form.cleaned_data["department"],
            )
        except ServiceError as refused:
            form.add_error("key", str(refused))
        else:
            return redirect("admin:procedures_procedure_builder", procedure.pk)
    context = {"title": _("New procedure"), "form": form, "catalog_url": _catalog_url()}
    return _page(request, "builder/new.html", context)


def _publish_context(procedure: Procedure, form: PublishForm) -> dict[str, Any]:
    rows = _problems(procedure, procedure.draft)
    live = procedure.live_version
    changes = document_diff(live.document, procedure.draft) if live else []
    return {
        "title": _("Publish: %(title)s") % {"title": procedure.title},
        "procedure": procedure,
        "form": form,
        "tab": "publish",
        "grouped": problems_by_step(rows, procedure.draft),
        "error_count": sum(1 for row in rows if row["severity"] == "error"),
        "warning_count": sum(1 for row in rows if row["severity"] != "error"),
        # Publishing warns, never refuses: residents get the first language meanwhile.
        "missing_translations": missing_translations(procedure.draft),
        "first_language": staff_language_name(document_languages(procedure.draft)[0]),
        "diff": diff_rows(changes, live.document, procedure.draft) if live else None,
        "live": live,
        "urls": _urls(procedure),
    }


@require_http_methods(["GET", "POST"])
def publish_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Errors at their step, the change note and the diff; POST publishes (audited)."""
    procedure = _designer_procedure(request, pk)
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["change_note"]
        try:
            version = procedure_publish(actor=request.user, procedure=procedure, change_note=note)
        except DocumentRejected:
            pass  # the page below shows every error at its step
        else:
            messages.success(
                request, _("Published as version %(number)s.") % {"number": version.number}
            )
            return redirect("admin:procedures_procedure_versions", procedure.pk)
    return _page(request, "builder/publish.html", _publish_context(procedure, form))


@require_GET
def versions_page(request: HttpRequest, pk: int) -> TemplateResponse:
    """History: every version (publisher, time, note), and the diff of any two."""
    procedure = _designer_procedure(request, pk)
    versions = list(procedure_versions(procedure=procedure))
    compare = CompareForm(request.GET) if "old" in request.GET else None
    diff = None
    if compare is not None and compare.is_valid():
        old = _version_of(procedure, compare.cleaned_data["old"])
        new = _version_of(procedure, compare.cleaned_data["new"])
        diff = diff_rows(document_diff(old.document, new.document), old.document, new.document)
    context = {
        "title": _("History: %(title)s") % {"title": procedure.title},
        "procedure": procedure,
        "tab": "history",
        "versions": versions,
        "compare": compare,
        "diff": diff,
        "urls": _urls(procedure),
    }
    return _page(request, "builder/versions.html", context)


@require_GET
def version_page(request: HttpRequest, pk: int, number: int) -> TemplateResponse:
    procedure = _designer_procedure(request, pk)
    version = _version_of(procedure, number)
    context = {
        "title": _("Version %(number)s of %(title)s")
        % {"number": version.number, "title": procedure.title},
        "procedure": procedure,
        "tab": "history",
        "version": version,
        "steps": problems_by_step([], version.document)[1:],
        "pretty": json.dumps(version.document, ensure_ascii=False, indent=2),
        "urls": _urls(procedure),
    }
    return _page(request, "builder/version.html", context)


def _rollback_refused(request: HttpRequest, version, rejected: DocumentRejected) -> None:
    problems = "; ".join(error.located() for error in rejected.errors)
    messages.error(
        request,
        _("Version %(number)s cannot be republished: %(problems)s")
        % {"number": version.number, "problems": problems},
    )


@require_POST
def rollback_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """Republish an older version as a new one (procedure_rollback; audited)."""
    procedure = _designer_procedure(request, pk)
    version = _version_of(procedure, number)
    try:
        new = procedure_rollback(actor=request.user, procedure=procedure, version=version)
    except DocumentRejected as rejected:
        _rollback_refused(request, version, rejected)
        return redirect("admin:procedures_procedure_versions", procedure.pk)
    messages.success(
        request,
        _("Version %(old)s republished as version %(new)s.")
        % {"old": version.number, "new": new.number},
    )
    return redirect("admin:procedures_procedure_versions", procedure.pk)
