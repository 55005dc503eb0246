"""The web form's pages: thin views over the runtime (``procedure_begin``,
``conversation_inputs``), the same path a LINE message takes after the webhook.

Every view finds the municipality by its slug and the procedure by its key among the
live ones, inside that municipality's tenant scope: another municipality's key, a draft
and a withdrawn procedure are the same 404. State changes only on POST (CSRF-checked);
a page answered successfully redirects (post/redirect/get), a refused answer is shown
again with the engine's reason in an error summary linking to the field.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from govtech.models import Municipality
from govtech.ratelimit import client_address, over_limit
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.casework.answers import answer_rows
from procedures.casework.chat import status_lines
from procedures.engine.steps import localize, postback
from procedures.languages import resident_override
from procedures.models import OPEN_CONVERSATION_STATUSES, Conversation, Procedure
from procedures.runtime import conversation_inputs, procedure_begin
from procedures.webform import identity, pages, selectors
from procedures.webform.fields import Posted, web_field

CHANNEL = "web"
# Per address and minute: starting creates a resident, so it is held tighter.
STARTS_PER_MINUTE = 20
POSTS_PER_MINUTE = 120
COMMANDS = {"back": "back", "cancel": "cancel"}

View = Callable[..., HttpResponse]


def _rate_limited(request: HttpRequest, bucket: str, limit: int) -> bool:
    return over_limit(f"webform-{bucket}", client_address(request), limit)


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "webform/too_many.html", status=429)


def public_form(view: View) -> View:
    """Resolve ``slug`` and ``key`` to a live procedure (else 404) and run the view in
    the municipality's tenant scope: ``view(request, municipality, procedure, ...)``."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, key: str, **kwargs: Any) -> HttpResponse:
        municipality = Municipality.objects.filter(slug=slug).first()
        if municipality is None:
            raise Http404
        with tenant_scope(municipality):
            procedure = selectors.live_procedure(key=key)
            if procedure is None or procedure.live_version is None:
                raise Http404
            return view(request, municipality, procedure, **kwargs)

    return wrapper


def _url(name: str, procedure: Procedure, municipality: Municipality, *args: str) -> str:
    return reverse(name, args=[municipality.slug, procedure.key, *args])


def _where(conversation: Conversation, municipality: Municipality) -> str:
    """The page for the conversation's state."""
    procedure = conversation.procedure
    if conversation.status == "submitted":
        return _url("webform-done", procedure, municipality)
    if conversation.status in OPEN_CONVERSATION_STATUSES or conversation.status == "ended":
        state = engine.ConversationState.from_dict(conversation.state)
        if state.step_id:
            return _url("webform-step", procedure, municipality, state.step_id)
    return _url("webform-start", procedure, municipality) + f"?{conversation.status}=1"


def _base(municipality: Municipality, procedure: Procedure, lang: str) -> dict[str, Any]:
    document = procedure.live_version.document if procedure.live_version else {}
    return {
        "municipality": municipality,
        "procedure": procedure,
        "title": localize(document.get("title"), lang, procedure.key),
        "lang": lang,
    }


# --- start -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@public_form
def start(request: HttpRequest, municipality: Municipality, procedure: Procedure) -> HttpResponse:
    """The start page (title, description, 開始); POST starts or continues."""
    if request.method == "POST":
        return _begin(request, municipality, procedure)
    resident = identity.web_resident(request, municipality)
    conversation = (
        selectors.web_conversation(resident=resident, procedure=procedure) if resident else None
    )
    lang = conversation.language if conversation else translation.get_language() or "ja"
    with resident_override(lang):
        document = procedure.live_version.document  # type: ignore[union-attr]
        context = _base(municipality, procedure, lang) | {
            "description": localize(document.get("description"), lang),
            "in_progress": conversation is not None
            and conversation.status in OPEN_CONVERSATION_STATUSES,
            "notice": _start_notice(request),
        }
        return render(request, "webform/start.html", context)


def _start_notice(request: HttpRequest) -> str:
    if "cancelled" in request.GET:
        return _("You cancelled the procedure. Nothing was sent.")
    if "expired" in request.GET:
        return _(
            "This procedure was closed because there was no reply for a while. "
            "Please start again from the beginning."
        )
    return ""


def _begin(request: HttpRequest, municipality: Municipality, procedure: Procedure) -> HttpResponse:
    if _rate_limited(request, "start", STARTS_PER_MINUTE):
        return _too_many(request)
    token = identity.browser_token(request) or identity.new_token()
    lang = translation.get_language() or "ja"
    resident = identity.web_resident_for_token(
        municipality=municipality, token=token, language=lang
    )
    reply = procedure_begin(
        municipality=municipality,
        resident=resident,
        procedure=procedure,
        lang=lang,
        channel=CHANNEL,
    )
    assert reply.conversation is not None  # noqa: S101 - procedure_begin always has one
    response = HttpResponseRedirect(_where(reply.conversation, municipality))
    identity.remember(response, municipality, token, secure=request.is_secure())
    return response


# --- one question, the summary, the end -----------------------------------------------------


def _current(request: HttpRequest, municipality: Municipality, procedure: Procedure):
    resident = identity.web_resident(request, municipality)
    if resident is None:
        return None, None
    return resident, selectors.web_conversation(resident=resident, procedure=procedure)


@require_http_methods(["GET", "POST"])
@public_form
def step(
    request: HttpRequest, municipality: Municipality, procedure: Procedure, step_id: str
) -> HttpResponse:
    """The page of the step the conversation is on: a question, the summary or the end.
    Any other step's address leads to the current one (the engine decides the order)."""
    resident, conversation = _current(request, municipality, procedure)
    if resident is None or conversation is None:
        return HttpResponseRedirect(_url("webform-start", procedure, municipality))
    state = engine.ConversationState.from_dict(conversation.state)
    here = _where(conversation, municipality)
    if state.step_id != step_id or here != request.path:
        return HttpResponseRedirect(here)
    if request.method == "POST":
        if _rate_limited(request, "answer", POSTS_PER_MINUTE):
            return _too_many(request)
        return _answer(request, municipality, procedure, conversation, resident)
    return _show(request, municipality, procedure, conversation)


def _show(
    request: HttpRequest,
    municipality: Municipality,
    procedure: Procedure,
    conversation: Conversation,
    *,
    error: str = "",
) -> HttpResponse:
    state = engine.ConversationState.from_dict(conversation.state)
    definition = conversation.definition
    now = timezone.now()
    with resident_override(state.lang):
        context = _base(municipality, procedure, state.lang) | {
            "error": error,
            "save_url": _url("webform-save", procedure, municipality),
            # The state's own page, which may differ from the one posted to (a slot taken
            # at 送信 asks the reservation again, with the reason, on this response).
            "action": _where(conversation, municipality),
        }
        if conversation.status == "ended":
            context["message"] = pages.end_message(definition, state)
            return render(request, "webform/end.html", context)
        offer = pages.availability(definition, now)
        if state.awaiting == "confirm":
            context["summary"] = pages.summary_page(definition, state, now=now, offer=offer)
            context["error_target"] = "submit"
            return render(request, "webform/summary.html", context)
        if state.awaiting != "answer":  # a resume offer or a field list from the chat
            return render(request, "webform/continue.html", context)
        page = pages.question_page(definition, state, now=now, offer=offer)
        if error:
            page.refill(request.POST, error)
        context["page"] = page
        context["map_config"] = _map_config() if page.step["type"] == "location" else None
        return render(request, "webform/question.html", context)


def _map_config() -> dict[str, Any] | None:
    """The tiles a map pin is placed on (the public report map's), None without tiles."""
    if not settings.MAP_TILE_URL:
        return None
    return {
        "url": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "maxZoom": settings.MAP_TILE_MAX_ZOOM,
        "pinned": _("Pin placed at %(lat)s, %(lon)s."),
        "removed": _("Pin removed."),
    }


def _inputs(request: HttpRequest, conversation: Conversation, resident) -> list[engine.Input] | str:
    """What the posted page sends the engine: a command, the summary's buttons, a
    change link, or the answer read by the step type's web field."""
    state = engine.ConversationState.from_dict(conversation.state)
    command = request.POST.get("command", "")
    if command in COMMANDS:
        return [engine.PostbackInput(postback("x", COMMANDS[command]))]
    if command == "continue":
        return [engine.PostbackInput(postback("r", "resume"))]
    if state.awaiting == "confirm":
        return _summary_inputs(request)
    step_ = next((s for s in conversation.definition["steps"] if s["id"] == state.step_id), None)
    if step_ is None or state.awaiting != "answer":
        return []
    field = web_field(step_["type"])
    return field.read(Posted(request, step_, state, resident))


def _summary_inputs(request: HttpRequest) -> list[engine.Input]:
    change = str(request.POST.get("change", ""))
    if change:
        return [
            engine.PostbackInput(postback("c", "edit")),
            engine.PostbackInput(postback("e", change)),
        ]
    return [engine.PostbackInput(str(request.POST.get("submit", "")))]


def _answer(request, municipality, procedure, conversation, resident) -> HttpResponse:
    inputs = _inputs(request, conversation, resident)
    if isinstance(inputs, str):  # refused before the engine (a file that is no photo)
        return _show(request, municipality, procedure, conversation, error=inputs)
    shown = engine.ConversationState.from_dict(conversation.state).step_id
    reply = conversation_inputs(
        municipality=municipality, resident=resident, inputs=inputs, step_id=shown
    )
    if reply.conversation is None:  # nothing open any more (a second 送信, another tab)
        return HttpResponseRedirect(_url("webform-start", procedure, municipality))
    conversation = reply.conversation
    if reply.notice and conversation.status in OPEN_CONVERSATION_STATUSES:
        return _show(request, municipality, procedure, conversation, error=reply.notice)
    return HttpResponseRedirect(_where(conversation, municipality))


# --- after submitting ----------------------------------------------------------------------------


@require_GET
@public_form
def done(request: HttpRequest, municipality: Municipality, procedure: Procedure) -> HttpResponse:
    """The reference number, the completion text and where to see the status later."""
    resident = identity.web_resident(request, municipality)
    submission = (
        selectors.latest_submission(resident=resident, procedure=procedure) if resident else None
    )
    if submission is None or submission.conversation is None:
        return HttpResponseRedirect(_url("webform-start", procedure, municipality))
    lang = submission.language
    with resident_override(lang):
        state = engine.ConversationState.from_dict(submission.conversation.state)
        completion = engine.completion_prompts(submission.definition, state, submission.reference)
        code = identity.status_code(submission.pk, municipality)
        context = _base(municipality, procedure, lang) | {
            "submission": submission,
            "completion": " ".join(getattr(prompt, "text", "") for prompt in completion),
            "status_url": request.build_absolute_uri(
                reverse("webform-status", args=[municipality.slug, code])
            ),
        }
        return render(request, "webform/done.html", context)


@require_GET
def status(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """An application's status, as 「申請状況」 words it; the answers only to the resident
    who sent it (this browser)."""
    municipality = Municipality.objects.filter(slug=slug).first()
    submission_id = (
        identity.submission_id_from_status_code(municipality, code) if municipality else None
    )
    if municipality is None or submission_id is None:
        raise Http404
    with tenant_scope(municipality):
        submission = selectors.status_submission(submission_id=submission_id)
        if submission is None:
            raise Http404
        lang = submission.language
        resident = identity.web_resident(request, municipality)
        own = resident is not None and resident.pk == submission.resident_id
        with resident_override(lang):
            context = {
                "municipality": municipality,
                "lang": lang,
                "title": localize(
                    submission.definition.get("title"), lang, submission.procedure.key
                ),
                "submission": submission,
                "lines": status_lines(submission, lang, last_message=True),
                "answers": answer_rows(submission.definition, submission.answers, lang=lang)
                if own
                else [],
            }
            response = render(request, "webform/status.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


# --- save and come back later --------------------------------------------------------------------


@require_GET
@public_form
def save(request: HttpRequest, municipality: Municipality, procedure: Procedure) -> HttpResponse:
    """The link that continues this application later, on this or another device."""
    token = identity.browser_token(request)
    _resident, conversation = _current(request, municipality, procedure)
    if token is None or conversation is None:
        return HttpResponseRedirect(_url("webform-start", procedure, municipality))
    code = identity.resume_code(municipality, token)
    lang = conversation.language
    with resident_override(lang):
        context = _base(municipality, procedure, lang) | {
            "resume_url": request.build_absolute_uri(
                _url("webform-resume", procedure, municipality, code)
            ),
            "back_url": _where(conversation, municipality),
            "days": identity.RESUME_LINK_AGE.days,
            "idle_hours": int(getattr(settings, "CONVERSATION_IDLE_MINUTES", 24 * 60) // 60),
        }
        response = render(request, "webform/save.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@public_form
def resume(
    request: HttpRequest, municipality: Municipality, procedure: Procedure, code: str
) -> HttpResponse:
    """Open a resume link: this browser becomes the resident who saved, then goes on."""
    token = identity.token_from_resume_code(municipality, code)
    resident = identity.web_resident_by_token(token) if token else None
    if token is None or resident is None:
        context = _base(municipality, procedure, translation.get_language() or "ja")
        return render(request, "webform/link_invalid.html", context, status=404)
    conversation = selectors.web_conversation(resident=resident, procedure=procedure)
    target = (
        _where(conversation, municipality)
        if conversation is not None
        else _url("webform-start", procedure, municipality)
    )
    response = HttpResponseRedirect(target)
    identity.remember(response, municipality, token, secure=request.is_secure())
    return response
