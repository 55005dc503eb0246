"""Segment rules → one Django ``Q`` over Friend, so audiences are counted and frozen in SQL.

A rule set is a group ``{"match": "all" | "any", "conditions": [...]}``; a condition is
another group, an attribute condition ``{"field", "op", "value"}`` or a behaviour
``{"behaviour", "value"}``:

- ops: ``is`` (equal), ``in`` (one of a list), ``has`` (a multi-choice list holds the
  value), ``gte``/``lte`` (numbers), ``set`` (any value given).
- behaviours: ``followed_since`` (ISO date), ``completed_procedure`` (procedure key),
  ``has_booking`` (resource key).

Attributes belong to the friend's Resident (procedures): on PostgreSQL ``is``/``in``/``has``
are jsonb containment (``@>``) on ``procedures_resident.attributes``, served by its GIN
index (procedures migration 0004). SQLite uses JSON1 functions. Behaviours join the
resident's submissions and bookings by foreign key.
"""

from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.broadcasts.models import ATTRIBUTE_KEY
from procedures.models import Booking, Submission

OPS = {"is", "in", "has", "gte", "lte", "set"}
BEHAVIOURS = {"followed_since", "completed_procedure", "has_booking"}
BUILT_IN_FIELDS = {"language": "language"}  # Friend columns usable like attributes
MAX_DEPTH = 3


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise ValidationError(_("An attribute key is missing."))
    ATTRIBUTE_KEY(key)
    return key


def validate_rules(rules: Any, depth: int = 0) -> None:
    """Raise ValidationError unless ``rules`` is a well-formed group."""
    if rules in ({}, None):
        return
    if not isinstance(rules, dict) or rules.get("match") not in ("all", "any"):
        raise ValidationError(_("A rule group needs match: all or any."))
    if depth > MAX_DEPTH:
        raise ValidationError(_("Rule groups are nested too deeply."))
    conditions = rules.get("conditions")
    if not isinstance(conditions, list):
        raise ValidationError(_("A rule group needs a list of conditions."))
    for condition in conditions:
        if isinstance(condition, dict) and "match" in condition:
            validate_rules(condition, depth + 1)
        elif isinstance(condition, dict) and condition.get("behaviour") in BEHAVIOURS:
            continue
        elif isinstance(condition, dict) and condition.get("op") in OPS:
            _check_key(condition.get("field"))
        else:
            raise ValidationError(_("Unknown condition: %(condition)s") % {"condition": condition})


def rules_q(rules: dict | None) -> Q:
    """The Q for Friend rows matching ``rules`` (an empty rule set matches everyone)."""
    if not rules:
        return Q()
    validate_rules(rules)
    return _group_q(rules)


def _group_q(group: dict) -> Q:
    parts = [_condition_q(condition) for condition in group["conditions"]]
    if not parts:
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined & part) if group["match"] == "all" else (combined | part)
    return combined


def _condition_q(condition: dict) -> Q:
    if "match" in condition:
        return _group_q(condition)
    if "behaviour" in condition:
        return _behaviour_q(condition["behaviour"], condition.get("value"))
    return _attribute_q(condition["field"], condition["op"], condition.get("value"))


def _attribute_q(key: str, op: str, value: Any) -> Q:
    if key in BUILT_IN_FIELDS:
        column = BUILT_IN_FIELDS[key]
        values = value if isinstance(value, list) else [value]
        return Q(**{f"{column}__in": [str(v) for v in values]}) if op in ("is", "in") else Q()
    if op == "set":
        return Q(resident__attributes__has_key=key)
    if op in ("gte", "lte"):
        return Q(**{f"resident__attributes__{key}__{op}": value})
    if op == "in":
        values = value if isinstance(value, list) else [value]
        combined = Q(pk__in=[])
        for item in values:
            combined |= _equals_q(key, item)
        return combined
    if op == "has":
        return _list_holds_q(key, value)
    return _equals_q(key, value)


def _equals_q(key: str, value: Any) -> Q:
    if connection.vendor == "postgresql":
        return Q(resident__attributes__contains={key: value})
    return Q(**{f"resident__attributes__{key}": value})


def _list_holds_q(key: str, value: Any) -> Q:
    if connection.vendor == "postgresql":
        return Q(resident__attributes__contains={key: [value]})
    # SQLite: the key is validated against ATTRIBUTE_KEY, so it is safe in the JSON path.
    path = f'$."{key}"'
    # The correlated subquery filters on the friend's resident_id, so it needs no join alias.
    sql = (
        "EXISTS (SELECT 1 FROM procedures_resident r, json_each(r.attributes, %s)"
        " WHERE r.id = delivery_friend.resident_id AND json_each.value = %s)"
    )
    return Q(RawSQL(sql, (path, value), output_field=BooleanField()))  # noqa: S611


def _day_start(value: Any) -> datetime:
    day = date.fromisoformat(str(value))
    return timezone.make_aware(datetime.combine(day, time.min))


def _behaviour_q(behaviour: str, value: Any) -> Q:
    if behaviour == "followed_since":
        return Q(followed_at__gte=_day_start(value))
    resident = OuterRef("resident_id")
    if behaviour == "completed_procedure":
        done = Submission.objects.filter(
            procedure__key=str(value), resident=resident, is_test=False
        )
        return Q(Exists(done))
    booked = Booking.objects.filter(resource__key=str(value), resident=resident, status="confirmed")
    return Q(Exists(booked))
