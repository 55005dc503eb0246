"""The 「登録情報の変更」 (``profile``) procedure's side in delivery: its steps are bound
to the municipality's attribute fields, by taking a field's key as their id.

The builder offers the fields (a bound step takes its type and options from the field);
publishing warns when a bound step no longer matches its field (options changed in the
console since) or when no step is bound at all (nothing would be registered). On submit
``services.profile_submitted`` writes the answers of bound steps to the resident.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from delivery.broadcasts.models import AttributeField, AttributeKind
from govtech.access import staff_context
from govtech.models import Municipality
from govtech.tenancy import tenant_scope
from procedures.format import FormatError
from procedures.steptypes import KindBinding

# The step type that asks for each kind of attribute.
STEP_TYPES = {
    AttributeKind.CHOICE: "choice",
    AttributeKind.MULTI_CHOICE: "multi_choice",
    AttributeKind.NUMBER: "number",
    AttributeKind.TEXT: "text",
}


def _fields(municipality: Municipality) -> dict[str, AttributeField]:
    with tenant_scope(municipality):
        return {field.key: field for field in AttributeField.objects.order_by("key")}


def _step_options(field: AttributeField) -> list[dict[str, Any]]:
    return [
        {"value": str(option.get("value")), "label": {"ja": str(option.get("label", ""))}}
        for option in field.options
        if isinstance(option, dict)
    ]


def _step_problems(index: int, step: dict, field: AttributeField) -> list[FormatError]:
    path, step_id = f"steps[{index}]", step.get("id")
    expected = STEP_TYPES.get(AttributeKind(field.kind))
    if step.get("type") != expected:
        message = _("“%(field)s” is a “%(kind)s” attribute: ask it with that kind of step.") % {
            "field": field.label,
            "kind": AttributeKind(field.kind).label,
        }
        return [FormatError(f"{path}.type", step_id, "attribute_type", message, "warning")]
    if expected not in ("choice", "multi_choice"):
        return []
    options: list[Any] = step["options"] if isinstance(step.get("options"), list) else []
    values = [str(o.get("value")) for o in options if isinstance(o, dict)]
    if values == field.option_values:
        return []
    message = _(
        "The options differ from the attribute “%(field)s” (%(values)s): open the builder to"
        " take them over, or residents' answers outside them are not registered."
    ) % {"field": field.label, "values": ", ".join(field.option_values)}
    return [FormatError(f"{path}.options", step_id, "attribute_options", message, "warning")]


class ProfileAttributes(KindBinding):
    """The ``profile`` kind's steps bound to attribute fields (builder and publishing)."""

    kind = "profile"

    def problems(self, *, document: Any, municipality: Municipality) -> list[FormatError]:
        steps = document.get("steps") if isinstance(document, dict) else None
        if not isinstance(steps, list):
            return []
        fields = _fields(municipality)
        found: list[FormatError] = []
        bound = 0
        for index, step in enumerate(steps):
            field = fields.get(str(step.get("id"))) if isinstance(step, dict) else None
            if field is not None:
                bound += 1
                found += _step_problems(index, step, field)
        if not bound:
            message = _(
                "No step is bound to a resident attribute: this procedure registers nothing."
            )
            found.append(FormatError("steps", None, "attribute_none", message, "warning"))
        return found

    def builder_choices(self, *, request: HttpRequest, municipality: Municipality) -> dict:
        fields = _fields(municipality)
        manages = staff_context(request).has_any({"admin"})
        return {
            "fields": [
                {
                    "key": field.key,
                    "label": field.label,
                    "type": STEP_TYPES.get(AttributeKind(field.kind)),
                    "options": _step_options(field),
                }
                for field in fields.values()
            ],
            "url": reverse("admin:delivery_attributefield_changelist") if manages else None,
            "strings": {
                "label": _("Resident attribute"),
                "help": _(
                    "The answer is registered as this attribute of the resident; the kind of"
                    " question and its options come from the attribute."
                ),
                "none": _("(not registered)"),
                "no_fields": _("This municipality has no resident attributes yet."),
                "open": _("Edit the resident attributes"),
                "follows": _(
                    "The options follow the attribute “%(field)s”; change them in the"
                    " resident attributes."
                ),
                "synced": _("The options were taken over from the resident attributes."),
            },
        }
