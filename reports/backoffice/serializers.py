"""What the back-office API sends and accepts. Output serializers read prepared dicts
(``reports.backoffice.presenters``), so they hold no logic; input serializers validate
the query string and bodies."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rest_framework import serializers

from procedures.models import SubmissionStatus
from procedures.reservations.models import BookingStatus

TOKYO = ZoneInfo("Asia/Tokyo")


def _when(**options) -> serializers.DateTimeField:
    """A moment in Japan time (+09:00), as the city's staff read it."""
    return serializers.DateTimeField(default_timezone=TOKYO, **options)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class DepartmentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


# --- procedures ------------------------------------------------------------------------


class ProcedureSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.CharField()
    department = DepartmentSerializer(allow_null=True)
    version = serializers.IntegerField(help_text="The live version's number.")
    published_at = _when()


class ProcedureListSerializer(serializers.Serializer):
    results = ProcedureSerializer(many=True)


class ProcedureDetailSerializer(ProcedureSerializer):
    definition = serializers.JSONField(
        help_text="The published document (govtech.procedure.v1, /schemas/procedure.v1.json)."
    )


# --- submissions -------------------------------------------------------------------------


class SubmissionQuerySerializer(serializers.Serializer):
    procedure = serializers.SlugField(required=False, help_text="A procedure's key.")
    status = serializers.ChoiceField(choices=SubmissionStatus.choices, required=False)
    submitted_from = serializers.DateField(required=False, help_text="Day (Japan time), inclusive.")
    submitted_to = serializers.DateField(required=False, help_text="Day (Japan time), inclusive.")
    updated_since = _when(
        required=False, help_text="Only those with activity (status, correction…) since then."
    )
    cursor = serializers.CharField(required=False, help_text="From the previous page's `next`.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


class SubmissionSummarySerializer(serializers.Serializer):
    reference = serializers.CharField()
    procedure = serializers.CharField(help_text="The procedure's key.")
    version = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=SubmissionStatus.choices)
    status_label = serializers.CharField()
    department = DepartmentSerializer(allow_null=True)
    channel = serializers.CharField()
    submitted_at = _when()
    last_activity_at = _when()
    due_at = _when(allow_null=True)
    url = serializers.URLField()


class SubmissionPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SubmissionSummarySerializer(many=True)


class AnswerSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The step's id.")
    type = serializers.CharField()
    label = serializers.CharField()
    text = serializers.CharField(help_text="As the resident's summary shows it.")
    value = serializers.JSONField(help_text="As stored (a choice's value, a date, a place…).")


class TimelineEntrySerializer(serializers.Serializer):
    at = _when()
    kind = serializers.CharField()
    label = serializers.CharField()
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    step = serializers.CharField(allow_blank=True, help_text="The step the file answers.")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.URLField(help_text="Download with the same token.")


class ResidentSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    language = serializers.CharField()


class SubmissionDetailSerializer(SubmissionSummarySerializer):
    fee = serializers.IntegerField(allow_null=True)
    language = serializers.CharField()
    resident = ResidentSerializer()
    answers = AnswerSerializer(many=True)
    timeline = TimelineEntrySerializer(many=True)
    attachments = AttachmentSerializer(many=True)
    next_statuses = serializers.ListField(
        child=serializers.CharField(), help_text="Where the workflow allows it to move now."
    )


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SubmissionStatus.choices)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Required for rejected; the resident reads it.",
    )
    notify = serializers.BooleanField(
        required=False, default=True, help_text="Send the resident the procedure's message."
    )
    expected_status = serializers.ChoiceField(
        choices=SubmissionStatus.choices,
        required=False,
        help_text="Refuse (409) if the submission is no longer in this status.",
    )


class StatusChangedSerializer(serializers.Serializer):
    reference = serializers.CharField()
    previous_status = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    changed_at = _when()
    notified = serializers.BooleanField(help_text="A message to the resident was queued.")


# --- bookings and reports ----------------------------------------------------------------


class BookingQuerySerializer(serializers.Serializer):
    resource = serializers.SlugField(required=False, help_text="A resource's key.")
    status = serializers.ChoiceField(choices=BookingStatus.choices, required=False)
    date_from = serializers.DateField(required=False, help_text="Slot day (Japan time), inclusive.")
    date_to = serializers.DateField(required=False, help_text="Slot day (Japan time), inclusive.")
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


class ResourceRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class BookingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    resource = ResourceRefSerializer()
    starts_at = _when()
    ends_at = _when()
    status = serializers.ChoiceField(choices=BookingStatus.choices)
    party_size = serializers.IntegerField()
    source = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    submission = serializers.CharField(allow_null=True, help_text="Its reference, if any.")
    created_at = _when()
    cancelled_at = _when(allow_null=True)


class BookingPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BookingSerializer(many=True)


class ReportQuerySerializer(serializers.Serializer):
    category = serializers.SlugField(required=False, help_text="A report category's key.")
    status = serializers.ChoiceField(choices=SubmissionStatus.choices, required=False)
    bbox = serializers.RegexField(
        r"^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$",
        required=False,
        help_text="south,west,north,east in degrees: reports placed inside.",
    )
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


class CategoryRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    reference = serializers.CharField()
    category = CategoryRefSerializer(allow_null=True)
    status = serializers.CharField()
    status_label = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    address = serializers.CharField(allow_blank=True)
    merged_into = serializers.CharField(allow_null=True)
    created_at = _when()
    closed_at = _when(allow_null=True)
    url = serializers.URLField(help_text="The submission's detail.")


class ReportPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReportSerializer(many=True)
