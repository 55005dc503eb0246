"""Forms of the reviewer's console (input parsing only; the services decide)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from procedures.casework import workflow
from procedures.casework.selectors import QUEUES, SORTS, InboxFilters
from procedures.models import SubmissionStatus

UNASSIGNED = "none"
CHANNELS = [("", _("any channel")), ("line", "LINE"), ("web", _("web form"))]


def _choices(first: str, pairs: Iterable[tuple[Any, str]]) -> list[tuple[str, str]]:
    return [("", first), *((str(value), label) for value, label in pairs)]


class InboxForm(forms.Form):
    """The inbox's query string: queue, filters, sort and page."""

    queue = forms.ChoiceField(choices=[(q, q) for q in QUEUES], required=False)
    q = forms.CharField(label=_("search"), required=False, max_length=200)
    procedure = forms.TypedChoiceField(label=_("procedure"), coerce=int, required=False)
    status = forms.ChoiceField(label=_("status"), required=False)
    submitted_from = forms.DateField(
        label=_("submitted from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = forms.DateField(
        label=_("submitted until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    assignee = forms.ChoiceField(label=_("assignee"), required=False)
    channel = forms.ChoiceField(label=_("channel"), choices=CHANNELS, required=False)
    tests = forms.BooleanField(label=_("show test submissions"), required=False)
    sort = forms.ChoiceField(choices=[(s, s) for s in SORTS], required=False)

    def __init__(self, data, *, procedures: Sequence[tuple[int, str]], staff: Sequence[Any]):
        super().__init__(data)
        self.fields["procedure"].choices = _choices(_("all procedures"), procedures)
        self.fields["status"].choices = _choices(_("any status"), SubmissionStatus.choices)
        people = [(user.pk, user.email) for user in staff]
        self.fields["assignee"].choices = [
            ("", _("anyone")),
            (UNASSIGNED, _("unassigned")),
            *((str(pk), email) for pk, email in people),
        ]

    def value(self, name: str, default: Any = "") -> Any:
        """A cleaned value, or ``default`` when absent or invalid (a bad filter is ignored)."""
        if not self.is_valid() and name in self.errors:
            return default
        return self.cleaned_data.get(name) or default

    def filters(self) -> InboxFilters:
        assignee = self.value("assignee")
        return InboxFilters(
            procedure=self.value("procedure", None),
            status=self.value("status"),
            submitted_from=self.value("submitted_from", None),
            submitted_to=self.value("submitted_to", None),
            assignee=int(assignee) if assignee and assignee != UNASSIGNED else None,
            unassigned=assignee == UNASSIGNED,
            channel=self.value("channel"),
            text=self.value("q"),
            include_tests=bool(self.value("tests", False)),
        )


BULK_ASSIGN_ME, BULK_ASSIGN, BULK_MOVE = "assign_me", "assign", "move"


class BulkForm(forms.Form):
    """An action on the ticked rows of the inbox."""

    action = forms.ChoiceField(
        choices=[
            (BULK_ASSIGN_ME, _("Assign to me")),
            (BULK_ASSIGN, _("Assign to a colleague")),
            (BULK_MOVE, _("Move to status")),
        ]
    )
    ids = forms.TypedMultipleChoiceField(coerce=int)
    assignee = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    to = forms.ChoiceField(choices=SubmissionStatus.choices, required=False)
    reason = forms.CharField(required=False, max_length=2000)

    def __init__(self, data, *, staff: Sequence[Any]):
        super().__init__(data)
        # Which ids are the reviewer's is checked against their submissions, not here.
        self.fields["ids"].choices = [(value, value) for value in data.getlist("ids")]
        self.fields["assignee"].choices = [("", "—"), *((u.pk, u.email) for u in staff)]

    def clean(self):
        data = super().clean()
        if data.get("action") == BULK_ASSIGN and not data.get("assignee"):
            self.add_error("assignee", _("Choose a colleague."))
        if data.get("action") == BULK_MOVE and not data.get("to"):
            self.add_error("to", _("Choose a status."))
        return data


# --- the case page's forms ----------------------------------------------------------------


class StatusForm(forms.Form):
    expected = forms.CharField(widget=forms.HiddenInput)
    to = forms.ChoiceField(label=_("new status"))
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to reject; the resident reads it."),
    )
    notify = forms.BooleanField(label=_("tell the resident"), required=False, initial=True)

    def __init__(
        self, data=None, files=None, *, choices: Sequence[tuple[str, str]], with_photo=False, **kw
    ):
        super().__init__(data, files, **kw)
        self.fields["to"].choices = list(choices)
        if with_photo:  # a report: an "after" photo goes to the reporter with the message
            self.fields["reason"].label = _("message to the reporter")
            self.fields["reason"].help_text = _(
                "Added to the status message; required when it cannot be handled (the reason)."
            )
            self.fields["photo"] = forms.FileField(
                label=_("photo after the work"),
                required=False,
                widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
                help_text=_("JPEG or PNG, up to 10 MB; sent to the reporter with the message."),
            )


class CorrectionForm(forms.Form):
    """返戻: the fields to correct (question steps of the pinned version) and why."""

    expected = forms.CharField(widget=forms.HiddenInput)
    steps = forms.MultipleChoiceField(
        label=_("fields to correct"), widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        label=_("reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    deadline = forms.DateField(
        label=_("deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the procedure's days to correct."),
    )

    def __init__(self, data=None, *, steps: Sequence[tuple[str, str]], **kwargs):
        super().__init__(data, **kwargs)
        self.fields["steps"].choices = list(steps)

    def clean_deadline(self):
        day = self.cleaned_data.get("deadline")
        if day is None:
            return None
        # The end of that day in Tokyo: the resident may correct all day long.
        deadline = timezone.make_aware(datetime.combine(day, time(23, 59)))
        if deadline <= timezone.now():
            raise forms.ValidationError(_("The deadline must be in the future."))
        return deadline


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(
        label=_("assignee"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, data=None, *, staff: Sequence[Any], **kwargs):
        super().__init__(data, **kwargs)
        self.fields["assignee"].choices = [
            ("", _("nobody")),
            *((user.pk, user.email) for user in staff),
        ]


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("internal note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Residents never see notes."),
    )


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("message to the resident"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent in LINE with a Reply button; the answer lands on the timeline."),
    )


# --- workflow ------------------------------------------------------------------------------


# Statuses a reviewer's transition tells residents about with the workflow's message.
# 返戻 sends the correction request instead; 受付 and 取下げ are the resident's own doing.
MESSAGE_STATUSES = (workflow.IN_REVIEW, workflow.ACCEPTED, workflow.REJECTED, workflow.COMPLETED)


def transition_field(source: str, target: str) -> str:
    return f"t_{source}_{target}"


def message_field(status: str, lang: str) -> str:
    return f"m_{status}_{lang}"


def silent_field(status: str) -> str:
    return f"silent_{status}"


class WorkflowForm(forms.Form):
    """A procedure's workflow: a checkbox per (status → status), a message per status and
    language (empty: the default text), target days, days to correct, withdrawal."""

    target_days = forms.IntegerField(
        label=_("target days"), required=False, min_value=1, max_value=365
    )
    correction_days = forms.IntegerField(
        label=_("days to correct"), min_value=1, max_value=365, initial=14
    )
    allow_withdraw = forms.BooleanField(label=_("residents may withdraw"), required=False)

    def __init__(self, data=None, *, languages: Sequence[str], **kwargs):
        super().__init__(data, **kwargs)
        self.languages = list(languages)
        for source in workflow.DEFAULT_TRANSITIONS:
            for target in workflow.DEFAULT_TRANSITIONS:
                if source != target:
                    self.fields[transition_field(source, target)] = forms.BooleanField(
                        required=False
                    )
        for status in MESSAGE_STATUSES:
            self.fields[silent_field(status)] = forms.BooleanField(required=False)
            for lang in self.languages:
                self.fields[message_field(status, lang)] = forms.CharField(
                    required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
                )

    def unknown_statuses(self, data) -> list[str]:
        """Statuses named in posted grid fields that do not exist (refused, not ignored)."""
        known = set(workflow.DEFAULT_TRANSITIONS)
        named = {key.removeprefix("t_") for key in data if key.startswith("t_")}
        return sorted(key for key in named if not any(_pair(key, a, known) for a in known))

    def transitions(self) -> dict[str, list[str]]:
        return {
            source: [
                target
                for target in workflow.DEFAULT_TRANSITIONS
                if source != target and self.cleaned_data.get(transition_field(source, target))
            ]
            for source in workflow.DEFAULT_TRANSITIONS
        }

    def messages(self) -> dict[str, dict[str, str]]:
        """Only what differs from the default: written texts, and {"ja": ""} for silence."""
        written: dict[str, dict[str, str]] = {}
        for status in MESSAGE_STATUSES:
            if self.cleaned_data.get(silent_field(status)):
                written[status] = {lang: "" for lang in self.languages}
                continue
            texts = {
                lang: self.cleaned_data.get(message_field(status, lang), "").strip()
                for lang in self.languages
            }
            texts = {lang: text for lang, text in texts.items() if text}
            if texts:
                written[status] = texts
        return written


def _pair(key: str, source: str, known: set[str]) -> bool:
    return key.startswith(f"{source}_") and key.removeprefix(f"{source}_") in known
