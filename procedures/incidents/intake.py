"""Reports another system posts for a resident (Open311 ``POST requests``): the same
submission a LINE report makes, of the category's published procedure, in the same inbox.

Kept apart from ``procedures.incidents.services`` because it calls ``submission_create``
(``procedures.services``), which itself calls ``report_register`` there: one module would
make an import cycle.

How the API's fields land on the procedure's steps (in the steps' order):

- ``lat``/``long``/``address_string`` → the first ``location`` step;
- ``description`` → the first ``text`` step (``media_url`` is added to it as a link line,
  so the reviewer sees it; no photo is downloaded);
- ``phone``/``email`` → the first ``phone``/``email`` step;
- every other answerable step (choice, multiple choice, yes/no, number, date, text,
  postal code) is an Open311 *attribute* whose code is the step id (``api_attributes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from govtech.services import ServiceError
from govtech.tenancy import tenant_scope
from procedures.engine.conversation import ConversationState
from procedures.engine.steps.base import InvalidAnswer, StepContext, localize, step_type
from procedures.incidents.models import ReportCategory
from procedures.models import Conversation, ConversationStatus, Submission
from procedures.residents.services import resident_for_handle
from procedures.services import submission_create
from procedures.steptypes import submit_effects_run

API_CHANNEL = "open311"
# Step type -> Open311 attribute datatype, for steps an API client answers as attributes.
ATTRIBUTE_DATATYPES = {
    "text": "text",
    "postal_code": "string",
    "number": "number",
    "date": "datetime",
    "choice": "singlevaluelist",
    "yes_no": "singlevaluelist",
    "multi_choice": "multivaluelist",
}
# Steps filled from the API's own fields (the first of each type), never attributes.
STANDARD_FIELD_TYPES = ("location", "phone", "email")


class ApiReportRejected(ServiceError):
    """What the client sent cannot make a submission; the message says which field."""


@dataclass(frozen=True)
class ApiAttribute:
    """A step an API client answers as an Open311 attribute (its code is the step id)."""

    code: str
    datatype: str
    required: bool
    description: str
    order: int
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ApiReport:
    """A report as another system posts it. ``reporter_handle`` names the reporting
    person for that client (e.g. ``open311:3:taro@example.jp``)."""

    reporter_handle: str
    reporter_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    description: str = ""
    phone: str = ""
    email: str = ""
    media_url: str = ""
    attributes: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


def _first_of(steps: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((step for step in steps if step.get("type") == kind), None)


def _attribute_steps(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    steps = list(document.get("steps", []))
    description = _first_of(steps, "text")
    return [
        step
        for step in steps
        if step.get("type") in ATTRIBUTE_DATATYPES and step is not description
    ]


def _values(step: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    if step["type"] == "yes_no":
        return (("true", _("Yes")), ("false", _("No")))
    options = step.get("options", [])
    return tuple(
        (str(o["value"]), localize(o.get("label"), "ja", str(o["value"]))) for o in options
    )


def api_attributes(document: Mapping[str, Any]) -> list[ApiAttribute]:
    """The attributes of a report procedure (its published document), in step order. A
    step asked only under a condition (``when``) is never required."""
    return [
        ApiAttribute(
            code=step["id"],
            datatype=ATTRIBUTE_DATATYPES[step["type"]],
            required=bool(step.get("required", True)) and "when" not in step,
            description=localize(step.get("label") or step.get("prompt"), "ja", step["id"]),
            order=order,
            values=_values(step),
        )
        for order, step in enumerate(_attribute_steps(document), start=1)
    ]


def _attribute_answer(step: Mapping[str, Any], raw: str | Sequence[str], ctx: StepContext) -> Any:
    values = [raw] if isinstance(raw, str) else list(raw)
    keys = {key for key, _name in _values(step)}
    if step["type"] == "multi_choice":
        if not values or any(value not in keys for value in values):
            raise InvalidAnswer(_("Choose among the listed values."))
        return [key for key, _name in _values(step) if key in values]
    if len(values) != 1:
        raise InvalidAnswer(_("Give one value."))
    if step["type"] == "yes_no":
        if values[0] not in keys:
            raise InvalidAnswer(_("Give true or false."))
        return values[0] == "true"
    if step["type"] == "choice" and values[0] not in keys:
        raise InvalidAnswer(_("Choose among the listed values."))
    kind = step_type(step["type"])
    answer = kind.parse_text(step, values[0], ctx)
    kind.validate(step, answer, ctx)
    return answer


def _attribute_answers(
    document: Mapping[str, Any], given: Mapping[str, Any], ctx: StepContext
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for step, attribute in zip(_attribute_steps(document), api_attributes(document), strict=True):
        raw = given.get(step["id"])
        if raw in (None, "", []):
            if attribute.required:
                raise ApiReportRejected(
                    _("The attribute %(code)s is required.") % {"code": step["id"]}
                )
            continue
        try:
            answers[step["id"]] = _attribute_answer(step, raw, ctx)
        except InvalidAnswer as error:
            raise ApiReportRejected(f"{step['id']}: {error}") from error
    return answers


def _standard_answers(document: Mapping[str, Any], report: ApiReport) -> dict[str, Any]:
    steps = list(document.get("steps", []))
    answers: dict[str, Any] = {}
    place = _first_of(steps, "location")
    if place is not None:
        answers[place["id"]] = {
            "latitude": report.latitude,
            "longitude": report.longitude,
            "address": report.address[:200],
            "title": "",
        }
    description = _first_of(steps, "text")
    text = "\n".join(part for part in (report.description, _media_line(report)) if part)
    if description is not None and text:
        answers[description["id"]] = text
    for kind, value in (("phone", report.phone), ("email", report.email)):
        step = _first_of(steps, kind)
        if step is not None and value:
            answers[step["id"]] = value
    return answers


def _media_line(report: ApiReport) -> str:
    return _("Photo (link): %(url)s") % {"url": report.media_url} if report.media_url else ""


def api_report_answers(
    document: Mapping[str, Any], report: ApiReport, *, now: datetime
) -> dict[str, Any]:
    """The answers ``report`` gives the procedure ``document``; ApiReportRejected for a
    missing required attribute or a value its step refuses (the message names it)."""
    ctx = StepContext(definition=document, lang="ja", now=now)
    answers = _attribute_answers(document, report.attributes, ctx)
    answers.update(_standard_answers(document, report))
    return answers


@transaction.atomic
def report_submit_from_api(
    *, category: ReportCategory, report: ApiReport, channel: str = API_CHANNEL, now: datetime
) -> Submission:
    """A submission of ``category``'s published procedure from what another system
    posted: its resident found or created by ``report.reporter_handle``, a conversation
    already submitted on ``channel`` (as a finished LINE conversation), then
    ``submission_create`` and the kind's submit effects as for LINE (reference, routing,
    report, case). Raises
    ApiReportRejected when the category takes no reports or an answer is refused."""
    procedure = category.procedure
    version = procedure.live_version if procedure is not None else None
    if procedure is None or version is None or not category.is_active:
        raise ApiReportRejected(_("This category does not take reports now."))
    municipality = category.municipality
    answers = api_report_answers(version.document, report, now=now)
    resident = resident_for_handle(
        municipality=municipality, handle=report.reporter_handle, display_name=report.reporter_name
    )
    state = ConversationState(
        procedure_key=procedure.key,
        status=ConversationStatus.SUBMITTED,
        step_id=None,
        lang="ja",
        updated_at=now.isoformat(),
        started_at=now.isoformat(),
        answers=answers,
        history=list(answers),
    )
    with tenant_scope(municipality):
        conversation = Conversation.objects.create(
            municipality=municipality,
            resident=resident,
            procedure=procedure,
            version=version,
            status=ConversationStatus.SUBMITTED,
            state=state.to_dict(),
            language="ja",
            channel=channel,
            updated_at=now,
        )
    submission = submission_create(conversation=conversation, answers=answers, fee=None, now=now)
    submit_effects_run(submission)
    return submission
