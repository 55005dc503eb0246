"""The standard report categories (道路, 公園, 河川, 不法投棄, 街路灯, その他), each with a
report procedure made from a starter template, set up in one action.

道路 uses the road-damage starter; the others the generic report starter (photo, place,
details) with the category's own title, key and trigger word.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from govtech.models import Department, Municipality, User
from govtech.services import audit_log
from procedures.catalog.starters import STARTER_DIR
from procedures.incidents.models import ReportCategory, ReportSettings
from procedures.models import Procedure
from procedures.services import procedure_create, procedure_publish


@dataclass(frozen=True)
class StandardCategory:
    key: str
    name: str
    name_en: str
    starter: str  # file name in procedures/starter/
    procedure_key: str


STANDARD_CATEGORIES = (
    StandardCategory("road", "道路", "Roads", "road-damage", "road-damage"),
    StandardCategory("park", "公園", "Parks", "report-generic", "report-park"),
    StandardCategory("river", "河川", "Rivers", "report-generic", "report-river"),
    StandardCategory("dumping", "不法投棄", "Illegal dumping", "report-generic", "report-dumping"),
    StandardCategory(
        "streetlight", "街路灯", "Streetlights", "report-generic", "report-streetlight"
    ),
    StandardCategory("other", "その他", "Other", "report-generic", "report-other"),
)


def _document(standard: StandardCategory) -> dict[str, Any]:
    path = STARTER_DIR / f"{standard.starter}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    if standard.starter == standard.procedure_key:
        return document
    document = copy.deepcopy(document)
    document["key"] = standard.procedure_key
    document["title"] = {"ja": f"{standard.name}の通報", "en": f"Report: {standard.name_en}"}
    document["category"] = "通報"
    document["triggers"] = {"keywords": [f"{standard.name}の通報"]}
    return document


def report_categories_standard_ensure(
    *,
    actor: User | None,
    municipality: Municipality,
    departments: dict[str, Department] | None = None,
) -> list[ReportCategory]:
    """Create the standard categories the municipality lacks (by key), each with its
    report procedure: an existing procedure of that key is reused, otherwise one is made
    from the starter and published. Idempotent: a second call creates nothing. Returns the
    categories created. ``departments`` (by category key) sets who handles them. Audited.

    Called inside the municipality's tenant scope.
    """
    existing = set(ReportCategory.objects.values_list("key", flat=True))
    created = []
    with transaction.atomic():
        for position, standard in enumerate(STANDARD_CATEGORIES):
            if standard.key in existing:
                continue
            department = (departments or {}).get(standard.key)
            procedure = _procedure(actor, municipality, standard, department)
            category = ReportCategory.objects.create(
                municipality=municipality,
                key=standard.key,
                name=standard.name,
                name_en=standard.name_en,
                procedure=procedure,
                department=department or procedure.department,
                position=position * 10,
            )
            audit_log(
                actor,
                "procedures.reportcategory.created",
                category,
                {"standard": True, "procedure": procedure.key},
            )
            created.append(category)
    return created


def _procedure(
    actor: User | None,
    municipality: Municipality,
    standard: StandardCategory,
    department: Department | None,
) -> Procedure:
    procedure = Procedure.objects.filter(key=standard.procedure_key).first()
    taken = procedure is not None and ReportCategory.objects.filter(procedure=procedure).exists()
    if procedure is not None and not taken:
        return procedure
    document = _document(standard)
    if taken:  # already another category's: this one gets its own
        document["key"] = f"{standard.procedure_key}-{standard.key}"
    procedure = procedure_create(
        actor=actor, municipality=municipality, document=document, department=department
    )
    procedure_publish(actor=actor, procedure=procedure, change_note="Standard report category")
    return procedure


def report_settings_default_ensure(*, municipality: Municipality, department: Department) -> None:
    """Give the municipality report settings with ``department`` as the default, unless it
    has settings already (the seed's; staff edit them in the console)."""
    ReportSettings.objects.get_or_create(
        municipality=municipality, defaults={"default_department": department}
    )
