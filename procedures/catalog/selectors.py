"""Reads of the template catalog: what a viewer may see, usage, updates and their preview.

The catalog is shared, so its rows are not tenant-scoped; visibility is decided here
and nowhere else. Usage counts join procedures of every municipality on purpose, but
only a number leaves this module, never another municipality's procedure.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from govtech.access import StaffContext
from govtech.models import Department, Municipality, User
from procedures.builder.preview import step_preview
from procedures.catalog.merge import MergeResult, merge_documents
from procedures.catalog.models import Template, TemplateVersion, TemplateVisibility
from procedures.catalog.placeholders import Values, fill_placeholders, unfilled_placeholders
from procedures.diff import Change, document_diff
from procedures.engine.steps import localize
from procedures.format import FormatError, validate_document
from procedures.models import Procedure
from procedures.selectors import unbound_steps

DESIGN_ROLES = frozenset({"admin", "designer"})


@dataclass(frozen=True)
class CatalogViewer:
    """Who looks at the catalog: a municipality's staff, vendor members, both, or an operator."""

    municipality: Municipality | None = None
    vendor_ids: frozenset[int] = field(default_factory=frozenset)
    is_operator: bool = False
    may_import: bool = False  # a designer or admin of ``municipality``

    @property
    def may_browse(self) -> bool:
        """Designers and admins, vendor members and operators use the catalog."""
        return self.is_operator or self.may_import or bool(self.vendor_ids)


def catalog_viewer(*, user: User, staff: StaffContext) -> CatalogViewer:
    """The viewer behind a request (vendor memberships are global, not per municipality)."""
    if not user.is_authenticated:
        return CatalogViewer()
    return CatalogViewer(
        municipality=staff.municipality,
        vendor_ids=frozenset(user.vendors.values_list("pk", flat=True)),
        is_operator=staff.is_operator,
        may_import=staff.municipality is not None and bool(staff.roles & DESIGN_ROLES),
    )


def _visibility(viewer: CatalogViewer) -> Q:
    if viewer.is_operator:
        return Q()
    rule = Q(visibility=TemplateVisibility.PUBLIC) | Q(publisher_vendor__in=viewer.vendor_ids)
    if viewer.municipality is not None:
        rule |= Q(publisher_municipality=viewer.municipality)
        rule |= Q(visibility=TemplateVisibility.SELECTED, visible_to=viewer.municipality)
    return rule


def visible_templates(*, viewer: CatalogViewer) -> QuerySet[Template]:
    """Templates the viewer may see, with ``usage`` (municipalities) and ``latest_number``."""
    ids = Template.objects.filter(_visibility(viewer)).values("pk")
    return (
        Template.objects.filter(pk__in=ids)
        .select_related("publisher_vendor", "publisher_municipality")
        .annotate(
            usage=Count("versions__importers__municipality", distinct=True),
            latest_number=Max("versions__number"),
        )
    )


def catalog_search(
    *, viewer: CatalogViewer, query: str = "", category: str = "", publisher: str = ""
) -> QuerySet[Template]:
    """Visible templates matching a free-text query, a category and a publisher.

    ``publisher`` is ``vendor:<slug>`` or ``municipality:<slug>``.
    """
    templates = visible_templates(viewer=viewer)
    if query.strip():
        words = query.split()
        for word in words:
            templates = templates.filter(
                Q(title__icontains=word)
                | Q(summary__icontains=word)
                | Q(key__icontains=word)
                | Q(tags__icontains=word)
            )
    if category:
        templates = templates.filter(category=category)
    kind, _sep, slug = publisher.partition(":")
    if kind == "vendor":
        templates = templates.filter(publisher_vendor__slug=slug)
    elif kind == "municipality":
        templates = templates.filter(publisher_municipality__slug=slug)
    return templates


def catalog_facets(*, viewer: CatalogViewer) -> dict[str, list[tuple[str, str]]]:
    """Categories and publishers of the visible templates, for the filters."""
    templates = list(visible_templates(viewer=viewer).order_by())
    categories = sorted({t.category for t in templates})
    publishers = sorted(
        {_publisher_value(t): t.publisher_name for t in templates}.items(), key=lambda p: p[1]
    )
    return {"categories": [(c, c) for c in categories], "publishers": publishers}


def _publisher_value(template: Template) -> str:
    kind = "vendor" if template.publisher_vendor_id else "municipality"
    return f"{kind}:{template.publisher.slug}"


def template_for(*, viewer: CatalogViewer, pk: Any) -> Template | None:
    """One visible template, or None (the same for missing and not visible)."""
    try:
        return visible_templates(viewer=viewer).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def template_visible_to(*, template: Template, municipality: Municipality) -> bool:
    viewer = CatalogViewer(municipality=municipality)
    return Template.objects.filter(_visibility(viewer), pk=template.pk).exists()


def template_versions(*, template: Template) -> QuerySet[TemplateVersion]:
    return template.versions.select_related("published_by").order_by("-number")


def latest_version(*, template: Template) -> TemplateVersion | None:
    return template.versions.order_by("-number").first()


def environment_values(
    *, municipality: Municipality, department: Department | None = None
) -> Values:
    """The texts placeholders stand for in this municipality (and department)."""
    ja = {"municipality.name": municipality.name}
    if department is not None:
        ja.update(
            {
                "department.name": department.name,
                "department.phone": department.phone,
                "department.email": department.email,
            }
        )
    return {"ja": ja, "en": {"municipality.name": municipality.name_en}}


def importable_document(
    *,
    version: TemplateVersion,
    municipality: Municipality,
    department: Department | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """The version's document as this municipality gets it: placeholders filled, key set."""
    values = environment_values(municipality=municipality, department=department)
    document = fill_placeholders(version.document, values)
    document["key"] = key or version.document["key"]
    return document


# --- updates of imported procedures (callers run inside the procedure's tenant scope) ---


def available_update(*, procedure: Procedure) -> TemplateVersion | None:
    """The newest version of the procedure's template, if newer than the one imported
    and still visible to the procedure's municipality."""
    source = procedure.source_template_version
    if source is None or procedure.base_document is None:
        return None
    template = source.template
    if not template_visible_to(template=template, municipality=procedure.municipality):
        return None
    newest = latest_version(template=template)
    return newest if newest is not None and newest.number > source.number else None


def procedures_with_updates() -> list[tuple[Procedure, TemplateVersion]]:
    """Procedures of the current tenant scope whose template has a newer version."""
    imported = Procedure.objects.filter(source_template_version__isnull=False).select_related(
        "source_template_version__template", "municipality", "department"
    )
    pairs = []
    for procedure in imported:
        newest = available_update(procedure=procedure)
        if newest is not None:
            pairs.append((procedure, newest))
    return pairs


@dataclass(frozen=True)
class ReservationToChoose:
    """A reservation step whose facility the designer chooses after importing.

    A template keeps its publisher's resource keys; here they name no active resource
    (or one that is inactive), so publishing refuses the step until one is chosen.
    """

    step_id: str
    name: str  # the step's short name or question
    key: str  # the resource key in the document

    def __str__(self) -> str:
        return f"「{self.name}」({self.step_id})" if self.name != self.step_id else self.step_id


@dataclass
class UpdatePreview:
    """What applying ``version`` to a procedure's draft would do."""

    version: TemplateVersion
    upstream: list[Change]  # the imported version → the new version
    local: list[Change]  # the imported version → the current draft
    merge: MergeResult
    errors: list[FormatError]  # of the merged document (drafts may be invalid)
    unfilled: list[str]
    # Reservation steps of the merged draft that book no active resource here yet.
    reservations_to_choose: list[ReservationToChoose]


def template_update_preview(
    *, procedure: Procedure, version: TemplateVersion, resolutions: dict[str, str] | None = None
) -> UpdatePreview:
    """The step-by-step diffs and the three-way merge of an update, without applying it."""
    theirs = importable_document(
        version=version,
        municipality=procedure.municipality,
        department=procedure.department,
        key=procedure.key,
    )
    base = procedure.base_document or {}
    merged = merge_documents(base, procedure.draft, theirs, resolutions)
    return UpdatePreview(
        version=version,
        upstream=document_diff(base, theirs),
        local=document_diff(base, procedure.draft),
        merge=merged,
        errors=validate_document(merged.document),
        unfilled=unfilled_placeholders(merged.document),
        reservations_to_choose=reservations_to_choose(
            document=merged.document, municipality=procedure.municipality
        ),
    )


def reservations_to_choose(
    *, document: dict[str, Any], municipality: Municipality, lang: str = "ja"
) -> list[ReservationToChoose]:
    """Steps of ``document`` that bind nothing ``municipality`` has (a reservation step
    booking no active resource of it).

    Shown like placeholders without a value: the import still succeeds, as a draft.
    """
    steps = {step.get("id"): step for step in document.get("steps", []) if isinstance(step, dict)}
    found = []
    for problem in unbound_steps(document=document, municipality=municipality):
        step = steps.get(problem.step_id, {})
        name = localize(step.get("label"), lang) or localize(step.get("prompt"), lang)
        step_id = problem.step_id or ""
        field = problem.path.rsplit(".", 1)[-1]  # what the step binds: "resource", …
        found.append(ReservationToChoose(step_id, name or step_id, str(step.get(field))))
    return found


def template_preview(
    *, version: TemplateVersion, municipality: Municipality | None, lang: str, now: datetime
) -> dict[str, Any]:
    """Each step of a version as LINE shows it (the webhook's renderer), for the catalog page.

    Placeholders are filled for the viewer's municipality when there is one. Steps the
    engine cannot show on their own are left out rather than faked; a reservation step
    offers no slots (its resource key is the publisher's, bound only after import).
    """
    document = (
        importable_document(version=version, municipality=municipality)
        if municipality is not None
        else version.document
    )
    steps = []
    for index, step in enumerate(document.get("steps", [])):
        try:
            messages = step_preview(document, index=index, lang=lang, now=now)
        except ValueError:
            continue
        if messages:
            label = localize(step.get("label") or step.get("prompt") or step.get("message"), lang)
            steps.append(
                {"label": f"{index + 1}. {label or step['id']}"[:60], "messages": messages}
            )
    name = municipality.name if municipality is not None else version.template.title
    return {"initial": name[:1], "name": name, "steps": steps}
