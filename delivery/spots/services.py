"""Writes for spots: a standard CSV staged for preview, then applied all at once; a spot
edited in the console; the dataset written back in the standard schema.

An import is all-or-nothing twice over: a file with any bad line is not staged (every bad
line is listed), and applying a staged file changes every spot or none.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from delivery.spots.models import Spot, SpotImport
from delivery.spots.standard import (
    EXPORT_HEADERS,
    HAZARD_HEADERS,
    ReadResult,
    days_text,
    read_spots,
)
from govtech.models import Municipality, User
from govtech.services import ServiceError, audit_log

# The fields an import sets; everything a row of the file can say about a spot.
IMPORTED_FIELDS = (
    "name",
    "name_kana",
    "name_en",
    "category",
    "address",
    "latitude",
    "longitude",
    "phone",
    "url",
    "days",
    "weekdays",
    "open_on_holidays",
    "opens_at",
    "closes_at",
    "hours_note",
    "description",
    "barrier_free",
    "note",
    "hazards",
    "capacity",
    "extra",
)


@dataclass
class ImportDiff:
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[Spot, dict[str, Any], list[str]]] = field(default_factory=list)
    unchanged: int = 0
    removed: list[Spot] = field(default_factory=list)


def spot_import_stage(
    *, actor: User, municipality: Municipality, kind: str, filename: str, content: bytes
) -> tuple[SpotImport | None, ReadResult]:
    """Read a standard CSV; when every line is good, keep its rows for the preview.
    Returns (the staged import or None, what reading found)."""
    result = read_spots(content)
    if result.problems:
        return None, result
    staged = SpotImport.objects.with_scope(municipality=municipality).create(
        municipality=municipality,
        kind=kind,
        filename=filename[:200],
        encoding=result.encoding,
        generation=result.generation,
        rows=[_storable(row) for row in result.rows],
        created_by=actor,
    )
    return staged, result


def _storable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strftime("%H:%M") if isinstance(v, time) else v for k, v in row.items()}


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    values = {name: row.get(name) for name in IMPORTED_FIELDS}
    for name in ("opens_at", "closes_at"):
        stored = values[name]
        values[name] = time.fromisoformat(stored) if isinstance(stored, str) and stored else None
    for name in ("name_kana", "name_en", "category", "address", "phone", "url", "days"):
        values[name] = values[name] or ""
    return values


def spot_import_diff(staged: SpotImport) -> ImportDiff:
    """What applying the staged file would change, by ``ID``."""
    diff = ImportDiff()
    stored = {spot.source_id: spot for spot in Spot.objects.filter(kind=staged.kind)}
    in_file = set()
    for row in staged.rows:
        in_file.add(row["source_id"])
        spot = stored.get(row["source_id"])
        if spot is None:
            diff.added.append(row)
            continue
        values = _fields(row)
        changed = [name for name, value in values.items() if getattr(spot, name) != value]
        if changed:
            diff.changed.append((spot, row, changed))
        else:
            diff.unchanged += 1
    diff.removed = [spot for source_id, spot in stored.items() if source_id not in in_file]
    return diff


def spot_import_apply(*, actor: User, staged: SpotImport, remove_missing: bool) -> dict[str, int]:
    """Apply the staged file: add new IDs, update changed ones, and (when asked) remove
    spots the file no longer has. All or nothing; a staged file is applied once.
    Audited as ``spots.imported``."""
    with transaction.atomic():
        locked = SpotImport.objects.select_for_update().get(pk=staged.pk)
        if locked.applied_at is not None:
            raise ServiceError("This file has already been applied.")
        diff = spot_import_diff(locked)
        Spot.objects.bulk_create(
            Spot(
                municipality_id=locked.municipality_id,
                kind=locked.kind,
                source_id=row["source_id"],
                **_fields(row),
            )
            for row in diff.added
        )
        for spot, row, changed in diff.changed:
            for name, value in _fields(row).items():
                setattr(spot, name, value)
            spot.save(update_fields=[*changed, "updated_at"])
        removed = 0
        if remove_missing and diff.removed:
            removed, _ = Spot.objects.filter(pk__in=[s.pk for s in diff.removed]).delete()
        summary = {
            "added": len(diff.added),
            "changed": len(diff.changed),
            "unchanged": diff.unchanged,
            "removed": removed,
            "kept": 0 if remove_missing else len(diff.removed),
        }
        locked.applied_at = timezone.now()
        locked.summary = summary
        locked.save(update_fields=["applied_at", "summary"])
        audit_log(
            actor,
            "spots.imported",
            locked,
            {"kind": locked.kind, "file": locked.filename, **summary},
        )
    return summary


def spot_save(*, actor: User, spot: Spot, changed: list[str]) -> Spot:
    """Store a spot edited in the console (the form has checked it). Audited."""
    creating = spot.pk is None
    spot.full_clean()
    spot.save()
    audit_log(
        actor,
        "spots.created" if creating else "spots.changed",
        spot,
        {"kind": spot.kind, "id": spot.source_id, "fields": sorted(changed)},
    )
    return spot


def spot_delete(*, actor: User, spot: Spot) -> None:
    audit_log(actor, "spots.deleted", spot, {"kind": spot.kind, "id": spot.source_id})
    spot.delete()


def spots_csv(*, municipality: Municipality, kind: str) -> Iterator[str]:
    """The dataset in the current standard schema (UTF-8 with BOM for Excel), one line at
    a time: what the import read, the hazards as 災害種別_ columns of 1 and blank, and
    every other column the file had. The spots are read now, in the caller's tenant
    scope; the lines are made as they are consumed (a streamed response)."""
    spots = list(Spot.objects.filter(kind=kind).order_by("source_id"))
    return _csv_lines(municipality, spots)


def _csv_lines(municipality: Municipality, spots: list[Spot]) -> Iterator[str]:
    hazards = list(HAZARD_HEADERS) if any(spot.hazards for spot in spots) else []
    extra: list[str] = []
    for spot in spots:
        extra.extend(n for n in spot.extra if n not in extra and n not in EXPORT_HEADERS)
    header = [*EXPORT_HEADERS, "想定収容人数", *[HAZARD_HEADERS[h] for h in hazards], *extra]
    yield "\ufeff" + _line(header)
    for spot in spots:
        cells = [
            str(spot.extra.get("全国地方公共団体コード", "")),
            spot.source_id,
            str(spot.extra.get("地方公共団体名") or municipality.name),
            spot.name,
            spot.name_kana,
            spot.name_en,
            spot.category,
            spot.address,
            f"{spot.latitude:.6f}",
            f"{spot.longitude:.6f}",
            spot.phone,
            spot.days or days_text(spot.weekdays, spot.open_on_holidays),
            spot.opens_at.strftime("%H:%M") if spot.opens_at else "",
            spot.closes_at.strftime("%H:%M") if spot.closes_at else "",
            spot.hours_note,
            spot.description,
            spot.barrier_free,
            spot.url,
            spot.note,
            "" if spot.capacity is None else str(spot.capacity),
            *["1" if hazard in spot.hazards else "" for hazard in hazards],
            *[str(spot.extra.get(name, "")) for name in extra],
        ]
        yield _line(cells)


def _line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()
