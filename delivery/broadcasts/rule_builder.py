"""What the segment page's visual rule builder offers (static/broadcasts/segment_builder.js).

The builder edits the same rules JSON that ``segments.validate_rules`` checks (groups
nested up to ``segments.MAX_DEPTH``); it only needs to know, for the municipality,
which subjects a condition can be about (its attribute fields, the built-in language,
the behaviours of ``segments.BEHAVIOURS``), which operators fit each one and what kind
of value they take. Labels are translated here, so the script carries no text of its own.

Value kinds: ``choice`` (one option), ``choices`` (a list of options), ``number``,
``text``, ``date`` (ISO) and ``none`` (the operator takes no value).
"""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from delivery.broadcasts.models import AttributeField, AttributeKind
from delivery.broadcasts.segments import BEHAVIOURS, BUILT_IN_FIELDS, MAX_DEPTH
from procedures.models import Procedure
from procedures.reservations.models import Resource


def _op_labels() -> dict[str, str]:
    return {
        "is": _("is"),
        "in": _("is one of"),
        "has": _("includes"),
        "gte": _("is at least"),
        "lte": _("is at most"),
        "set": _("has been answered"),
    }


# Operators per attribute kind, with the kind of value each takes.
KIND_OPS: dict[str, list[tuple[str, str]]] = {
    AttributeKind.CHOICE: [("is", "choice"), ("in", "choices"), ("set", "none")],
    AttributeKind.MULTI_CHOICE: [("has", "choice"), ("set", "none")],
    AttributeKind.NUMBER: [("is", "number"), ("gte", "number"), ("lte", "number"), ("set", "none")],
    AttributeKind.TEXT: [("is", "text"), ("set", "none")],
}


def _ops(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    labels = _op_labels()
    return [{"op": op, "label": labels[op], "value": value} for op, value in pairs]


def _option_label(option: dict) -> str:
    label = option.get("label") or option["value"]
    if isinstance(label, dict):  # a translated label, as procedures write them
        label = label.get("ja") or next(iter(label.values()), option["value"])
    return str(label)


def _attribute_subject(field: AttributeField) -> dict[str, Any]:
    options = [
        {"value": str(option["value"]), "label": _option_label(option)}
        for option in field.options
        if isinstance(option, dict) and "value" in option
    ]
    return {
        "id": f"field:{field.key}",
        "group": "attribute",
        "field": field.key,
        "label": field.label,
        "ops": _ops(KIND_OPS.get(field.kind, KIND_OPS[AttributeKind.TEXT])),
        "options": options,
    }


def _language_subject() -> dict[str, Any]:
    return {
        "id": "field:language",
        "group": "attribute",
        "field": "language",
        "label": _("Language"),
        "ops": _ops([("is", "choice"), ("in", "choices")]),
        "options": [{"value": code, "label": str(name)} for code, name in settings.LANGUAGES],
    }


def _behaviour_subjects() -> list[dict[str, Any]]:
    procedures = [{"value": p.key, "label": p.title} for p in Procedure.objects.order_by("key")]
    resources = [{"value": r.key, "label": r.name} for r in Resource.objects.order_by("key")]
    subjects = [
        ("followed_since", _("Became a friend"), _("on or after"), "date", []),
        ("completed_procedure", _("Completed the procedure"), _("is"), "choice", procedures),
        ("has_booking", _("Has a booking at"), _("is"), "choice", resources),
    ]
    return [
        {
            "id": f"behaviour:{name}",
            "group": "behaviour",
            "behaviour": name,
            "label": label,
            "ops": [{"op": "", "label": op_label, "value": value}],
            "options": options,
        }
        for name, label, op_label, value, options in subjects
        if name in BEHAVIOURS
    ]


def _strings() -> dict[str, str]:
    return {
        "match_all": _("all of these conditions"),
        "match_any": _("any of these conditions"),
        "match_label": _("Friends who match"),
        "subject": _("Attribute or behaviour"),
        "operator": _("Operator"),
        "value": _("Value"),
        "condition": _("Condition %(n)s"),
        "remove": _("Remove condition %(n)s"),
        "remove_text": _("Remove"),
        "add": _("Add a condition"),
        "attributes": _("Resident attributes"),
        "behaviours": _("Behaviour"),
        "no_conditions": _("No conditions: every friend receives it."),
        "needs_value": _("Enter a value: this condition is left out until then."),
        "unknown_option": _("(unknown: %(value)s)"),
        "group": _("Group %(n)s"),
        "group_match": _("In this group, friends who match"),
        "add_group": _("Add a group (all/any)"),
        "add_in_group": _("Add a condition to group %(n)s"),
        "add_group_in_group": _("Add a group inside group %(n)s"),
        "remove_group": _("Remove group %(n)s"),
        "remove_group_text": _("Remove group"),
        "empty_group": _("An empty group is left out."),
    }


def builder_config() -> dict[str, Any]:
    """Subjects, operators and labels for the current tenant (call inside its scope)."""
    fields = [f for f in AttributeField.objects.order_by("key") if f.key not in BUILT_IN_FIELDS]
    return {
        "subjects": [
            *(_attribute_subject(field) for field in fields),
            _language_subject(),
            *_behaviour_subjects(),
        ],
        "strings": _strings(),
        "max_depth": MAX_DEPTH,
    }
