"""Resident attribute fields as staff edit them: the field and its options, no JSON.

An option is a value (a slug, stored in ``Resident.attributes``) and a label (what
residents and staff read). Changing a value that residents hold moves them with it (they
keep their answer under its new value); removing an option clears it from the residents
who held it. Both go through ``resident_attributes_update`` (or, for a single-choice
value that no longer exists, ``resident_attribute_forget``) one resident at a time, so
whatever follows attribute changes (per-segment rich menus) sees every one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from delivery.broadcasts.models import AttributeField, AttributeKind
from govtech.models import Municipality, User
from govtech.services import audit_log
from govtech.tenancy import tenant_scope
from procedures.residents.models import Resident
from procedures.residents.services import resident_attribute_forget, resident_attributes_update

OPTION_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
LIST_KINDS = frozenset({AttributeKind.CHOICE, AttributeKind.MULTI_CHOICE})


@dataclass(frozen=True)
class OptionRow:
    """One row of the options editor: ``original`` is the value it had when the page
    was opened (empty for a new row), so a changed value is a rename."""

    value: str
    label: str
    original: str = ""


def options_validate(*, kind: str, rows: list[OptionRow]) -> None:
    """Raise ValidationError (every problem at once) unless ``rows`` are valid options."""
    problems = []
    if kind in LIST_KINDS and not rows:
        problems.append(_("A list needs at least one option."))
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if not OPTION_VALUE.match(row.value):
            problems.append(
                _(
                    "Option %(number)s: the value “%(value)s” must be lowercase letters,"
                    " digits, - or _ (at most 40)."
                )
                % {"number": number, "value": row.value}
            )
        if not row.label.strip():
            problems.append(_("Option %(number)s has no label.") % {"number": number})
        if row.value in seen:
            problems.append(
                _("The value “%(value)s” is used twice; each option needs its own.")
                % {"value": row.value}
            )
        seen.add(row.value)
    if problems:
        raise ValidationError(problems)


def attribute_value_counts(*, field: AttributeField) -> Counter[str]:
    """How many residents hold each value of ``field`` (a list counts each of its items).

    One query over the residents who have the attribute; the caller's tenant scope."""
    counts: Counter[str] = Counter()
    held = Resident.objects.filter(attributes__has_key=field.key).values_list(
        f"attributes__{field.key}", flat=True
    )
    for value in held.iterator(chunk_size=2000):
        for item in value if isinstance(value, list) else [value]:
            counts[str(item)] += 1
    return counts


def _moves(before: list[str], rows: list[OptionRow]) -> tuple[dict[str, str], set[str]]:
    """Renamed values (old → new) and removed ones, from the rows as posted."""
    renames = {
        row.original: row.value
        for row in rows
        if row.original and row.original in before and row.original != row.value
    }
    kept = {row.original or row.value for row in rows} | set(renames)
    return renames, {value for value in before if value not in kept}


def _moved_value(value: Any, renames: dict[str, str], removed: set[str]) -> Any:
    if isinstance(value, list):
        return [renames.get(str(v), str(v)) for v in value if str(v) not in removed]
    if str(value) in removed:
        return None
    return renames.get(str(value), value)


def _residents_move(field: AttributeField, renames: dict[str, str], removed: set[str]) -> int:
    """Rewrite the residents who hold a renamed or removed value; how many changed."""
    changed = 0
    holders = Resident.objects.filter(attributes__has_key=field.key).order_by("pk")
    for resident in holders.iterator(chunk_size=500):
        value = resident.attributes.get(field.key)
        moved = _moved_value(value, renames, removed)
        if moved == value:
            continue
        if moved is None:
            resident_attribute_forget(resident=resident, key=field.key)
        else:
            resident_attributes_update(resident=resident, values={field.key: moved})
        changed += 1
    return changed


def attribute_field_save(
    *,
    actor: User | None,
    municipality: Municipality,
    key: str,
    label: str,
    kind: str,
    rows: list[OptionRow],
    field: AttributeField | None = None,
) -> tuple[AttributeField, int]:
    """Create or change an attribute field with its options; returns it and how many
    residents' values were moved (renamed or cleared) to follow the options.

    The key of an existing field never changes (residents' values and segments name
    it). A value renamed in the editor is renamed for every resident holding it; a
    removed option is cleared from them. One transaction. Raises ValidationError.
    """
    rows = rows if kind in LIST_KINDS else []
    options_validate(kind=kind, rows=rows)
    with tenant_scope(municipality), transaction.atomic():
        if field is None:
            field = AttributeField(municipality=municipality, key=key)
        elif kind != field.kind:  # residents' values are of the old kind
            raise ValidationError(_("The kind of an attribute cannot change once it exists."))
        before = field.option_values if field.pk else []
        field.label, field.kind = label, kind
        field.options = [{"value": row.value, "label": row.label.strip()} for row in rows]
        field.full_clean()
        field.save()
        renames, removed = _moves(before, rows)
        moved = _residents_move(field, renames, removed) if (renames or removed) else 0
    audit_log(
        actor,
        "delivery.attributefield.saved",
        field,
        {"options": field.option_values, "renamed": renames, "removed": sorted(removed)},
    )
    return field, moved
