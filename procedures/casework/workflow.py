"""The default workflows, and what a procedure's own workflow allows and says.

Statuses are ``procedures.models.SubmissionStatus``. A procedure's ``ProcedureWorkflow``
may narrow or widen the transitions and reword the messages; without one, the default of
its kind: ``DEFAULT_TRANSITIONS`` for applications, ``REPORT_TRANSITIONS`` for reports
(通報: 受付 → 対応中 → 完了, or 対応不可), whose statuses also read differently
(``status_label``) and say other things to the reporter (``default_messages``).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from procedures.casework.models import ProcedureWorkflow
from procedures.engine.steps import localize
from procedures.languages import resident_override
from procedures.models import Procedure, Submission, SubmissionStatus

SUBMITTED, IN_REVIEW, RETURNED = "submitted", "in_review", "returned"
ACCEPTED, REJECTED, COMPLETED, WITHDRAWN = "accepted", "rejected", "completed", "withdrawn"

# 受付 → 審査中 → 承認 / 却下 / 返戻 → 完了. A returned submission comes back to 審査中
# when the resident corrects it (or when the reviewer takes the request back).
DEFAULT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    SUBMITTED: (IN_REVIEW, ACCEPTED, REJECTED, RETURNED),
    IN_REVIEW: (ACCEPTED, REJECTED, RETURNED),
    RETURNED: (IN_REVIEW, REJECTED),
    ACCEPTED: (COMPLETED,),
    REJECTED: (),
    COMPLETED: (),
    WITHDRAWN: (),
}
# A report (通報): 受付 → 対応中 → 完了, or 対応不可 with a reason. Nobody approves a
# pothole; staff may still ask the reporter for a better photo or place (返戻).
REPORT = "report"
REPORT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    SUBMITTED: (IN_REVIEW, COMPLETED, REJECTED, RETURNED),
    IN_REVIEW: (COMPLETED, REJECTED, RETURNED),
    RETURNED: (IN_REVIEW, REJECTED),
    ACCEPTED: (COMPLETED,),
    REJECTED: (),
    COMPLETED: (),
    WITHDRAWN: (),
}
REASON_REQUIRED = frozenset({REJECTED, RETURNED})
# A resident may withdraw what nobody has decided on yet.
WITHDRAWABLE = frozenset({SUBMITTED, IN_REVIEW, RETURNED})
# What the inbox lists as 完了: nothing more is done with these.
DONE = frozenset({REJECTED, COMPLETED, WITHDRAWN})


def kind_of(submission: Submission) -> str:
    """``"report"`` for a report (a submission with a report row: one made with a
    ``report``-kind version), else ``""``. Callers that list submissions join the row in
    (``select_related("report")``), so this costs no query."""
    try:
        submission.report  # noqa: B018 - the reverse one-to-one is the question
    except ObjectDoesNotExist:
        return ""
    return REPORT


def procedure_kind(procedure: Procedure) -> str:
    """``"report"`` for a procedure whose draft is a report, else ``""``."""
    return REPORT if procedure.kind == REPORT else ""


def default_transitions(kind: str = "") -> Mapping[str, tuple[str, ...]]:
    return REPORT_TRANSITIONS if kind == REPORT else DEFAULT_TRANSITIONS


def status_label(status: str, kind: str = "") -> str:
    """The status as staff and residents read it: a report is 対応中 where an application
    is 審査中, 対応不可 where it is 却下."""
    if kind == REPORT and status in _report_labels():
        return _report_labels()[status]
    try:
        return str(SubmissionStatus(status).label)
    except ValueError:
        return status


def _report_labels() -> dict[str, str]:
    return {
        SUBMITTED: pgettext("report status", "Received"),
        IN_REVIEW: pgettext("report status", "In progress"),
        REJECTED: pgettext("report status", "Cannot be handled"),
        COMPLETED: pgettext("report status", "Done"),
    }


def default_messages(kind: str = "") -> dict[str, str]:
    """The message residents get on each status when the procedure says nothing else (in
    the active language). 審査中 is quiet by default for applications, 対応中 is told to
    reporters; 返戻 has its own message."""
    if kind == REPORT:
        return {
            IN_REVIEW: _(
                "We have started working on your report “{procedure}” (reference {reference})."
            ),
            REJECTED: _(
                "We are sorry: we could not act on your report “{procedure}” (reference "
                "{reference}).\nReason: {reason}"
            ),
            COMPLETED: _(
                "Your report “{procedure}” (reference {reference}) has been dealt with. "
                "Thank you for telling us."
            ),
        }
    return {
        ACCEPTED: _("Your application “{procedure}” (reference {reference}) has been accepted."),
        REJECTED: _(
            "We are sorry: your application “{procedure}” (reference {reference}) could not "
            "be accepted.\nReason: {reason}"
        ),
        COMPLETED: _("Your application “{procedure}” (reference {reference}) is complete."),
    }


def workflow_for(procedure: Procedure) -> ProcedureWorkflow:
    """The procedure's workflow; an unsaved default one when it has none."""
    try:
        return procedure.workflow
    except ProcedureWorkflow.DoesNotExist:
        return ProcedureWorkflow(municipality_id=procedure.municipality_id, procedure=procedure)


def transitions_of(workflow: ProcedureWorkflow, kind: str = "") -> Mapping[str, tuple[str, ...]]:
    if not workflow.transitions:
        return default_transitions(kind)
    return {status: tuple(workflow.transitions.get(status, ())) for status in DEFAULT_TRANSITIONS}


def next_statuses(workflow: ProcedureWorkflow, status: str, kind: str = "") -> tuple[str, ...]:
    """The statuses a submission in ``status`` may move to (staff's choices)."""
    return transitions_of(workflow, kind).get(status, ())


def status_text(
    workflow: ProcedureWorkflow,
    status: str,
    *,
    lang: str,
    reference: str,
    procedure: str,
    reason: str = "",
    kind: str = "",
) -> str:
    """The message for ``status`` in ``lang``, filled in; empty when nothing is to be sent.

    A language the procedure did not write falls back to Japanese, then the default text.
    For a report, what staff wrote (``reason``) is added below a message that does not
    quote it: 「対応が完了しました」 followed by what was done.
    """
    written = workflow.messages.get(status) if workflow.messages else None
    with resident_override(lang):
        if written is None:
            template = default_messages(kind).get(status, "")
        else:
            template = localize(written, lang) if isinstance(written, dict) else str(written)
    values = {"reference": reference, "procedure": procedure, "reason": reason or "-"}
    text = _fill(template, values)
    if kind == REPORT and text and reason and "{reason}" not in template:
        text = f"{text}\n\n{reason}"
    return text


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Replace the known ``{name}`` placeholders only: a message with other braces (or a
    typo) is sent as written instead of failing."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def unreachable_statuses(
    transitions: Mapping[str, tuple[str, ...] | list[str]], *, allow_withdraw: bool
) -> list[str]:
    """Statuses no submission can reach from 受付 under ``transitions`` (a grid that is
    allowed, but probably a mistake). A returned submission comes back to 審査中 when
    corrected, and 取下げ is reached by residents when the procedure allows it."""
    reached, todo = {SUBMITTED}, [SUBMITTED]
    while todo:
        status = todo.pop()
        following = list(transitions.get(status, ()))
        if status == RETURNED:
            following.append(IN_REVIEW)
        if allow_withdraw and status in WITHDRAWABLE:
            following.append(WITHDRAWN)
        for target in following:
            if target not in reached:
                reached.add(target)
                todo.append(target)
    return [status for status in DEFAULT_TRANSITIONS if status not in reached]
