"""Writes of the template catalog: publishing templates, importing them, applying updates.

Every staff change is audited. Template versions are only ever inserted, so a new
version never changes what importers already have: they take it explicitly, through a
three-way merge into their draft (``template_update_apply``).
"""

import copy
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from govtech.models import Department, Municipality, Role, StaffMembership, User, Vendor
from govtech.services import ServiceError, audit_log
from govtech.tenancy import tenant_scope
from procedures.catalog.merge import Conflict
from procedures.catalog.models import Template, TemplateVersion, TemplateVisibility
from procedures.catalog.placeholders import Values, strip_environment
from procedures.catalog.selectors import (
    environment_values,
    importable_document,
    template_update_preview,
    template_visible_to,
)
from procedures.format import DocumentError, load_document, validate_document
from procedures.models import Procedure
from procedures.services import (
    DocumentRejected,
    procedure_create,
    procedure_import,
    procedure_save_draft,
    publishable_errors,
)

Publisher = Vendor | Municipality


class UnresolvedConflicts(ServiceError):
    """An update cannot be applied until every conflict has a resolution."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        places = ", ".join(conflict.where for conflict in conflicts)
        super().__init__(
            _("Choose mine or theirs for every conflict first: %(places)s") % {"places": places}
        )


@dataclass(frozen=True)
class TemplateMetadata:
    """What the catalog shows about a template (the document is separate)."""

    title: str
    category: str
    summary: str = ""
    tags: tuple[str, ...] = ()
    licence: str = "CC BY 4.0"
    visibility: str = TemplateVisibility.PUBLIC
    visible_to: tuple[Municipality, ...] = field(default_factory=tuple)


def _check_publisher(actor: User | None, publisher: Publisher) -> None:
    """Vendor members publish as their vendor, designers and admins as their municipality."""
    if actor is None or actor.is_superuser:
        return  # the system (seed_demo) or a platform operator
    if isinstance(publisher, Vendor):
        allowed = publisher.members.filter(pk=actor.pk).exists()
    else:
        with scopes_disabled():  # a membership check across tenants is the point here
            allowed = StaffMembership.objects.filter(
                user=actor, municipality=publisher, role__in=[Role.ADMIN, Role.DESIGNER]
            ).exists()
    if not allowed:
        raise ServiceError(_("You may not publish templates for this publisher."))


def _template_for(publisher: Publisher, key: str) -> Template | None:
    owner = "publisher_vendor" if isinstance(publisher, Vendor) else "publisher_municipality"
    return Template.objects.select_for_update().filter(**{owner: publisher, "key": key}).first()


def _save_metadata(template: Template, metadata: TemplateMetadata) -> bool:
    """Store the metadata; True when anything changed (or the template is new)."""
    values = {
        "title": metadata.title,
        "summary": metadata.summary,
        "category": metadata.category,
        "tags": ", ".join(tag.strip() for tag in metadata.tags if tag.strip()),
        "licence": metadata.licence,
        "visibility": metadata.visibility,
    }
    selected = metadata.visibility == TemplateVisibility.SELECTED
    audience = {m.pk for m in metadata.visible_to} if selected else set()
    is_new = template.pk is None
    changed = is_new or any(getattr(template, name) != value for name, value in values.items())
    changed = changed or set(template.visible_to.values_list("pk", flat=True)) != audience
    if changed:
        for name, value in values.items():
            setattr(template, name, value)
        template.save()
        template.visible_to.set(audience)
    return changed


@transaction.atomic
def template_publish(
    *,
    actor: User | None,
    publisher: Publisher,
    document: dict[str, Any],
    metadata: TemplateMetadata,
    notes: str = "",
    environment: Values | None = None,
) -> TemplateVersion:
    """Publish ``document`` as the next version of the publisher's template of its key.

    The first publication creates the template. ``environment`` values (the publisher's
    city name, department...) are replaced by placeholders first. Publishing the same
    document as the latest version inserts nothing and returns that version (metadata is
    still updated), so running it twice is harmless. Raises DocumentRejected (located
    errors, including a step asking for a My Number) and ServiceError when ``actor``
    may not publish for ``publisher``. The template row is locked while numbering.
    """
    _check_publisher(actor, publisher)
    # A template belongs to no municipality: its resource keys are bound on import.
    errors = publishable_errors(document, municipality=None)
    if errors:
        raise DocumentRejected(errors)
    if metadata.visibility not in TemplateVisibility.values:
        raise ServiceError(_("Unknown visibility: %(value)s") % {"value": metadata.visibility})
    stripped = strip_environment(document, environment or {})
    template = _template_for(publisher, document["key"])
    if template is None:
        owner = "publisher_vendor" if isinstance(publisher, Vendor) else "publisher_municipality"
        template = Template(key=document["key"], **{owner: publisher})
    changed = _save_metadata(template, metadata)
    version, inserted = _insert_template_version(actor, template, stripped, notes)
    if not (changed or inserted):
        return version
    audit_log(
        actor,
        "procedures.template.published",
        template,
        {
            "version": version.number,
            "new_version": inserted,
            "key": template.key,
            "visibility": template.visibility,
        },
        municipality=publisher if isinstance(publisher, Municipality) else None,
    )
    return version


def _insert_template_version(
    actor: User | None, template: Template, document: dict[str, Any], notes: str
) -> tuple[TemplateVersion, bool]:
    """The next version (inserted: True), or the latest one when the document is the same."""
    latest = template.versions.order_by("-number").first()
    if latest is not None and latest.document == document:
        return latest, False
    version = TemplateVersion.objects.create(
        template=template,
        number=(latest.number if latest else 0) + 1,
        document=copy.deepcopy(document),
        notes=notes,
        published_by=actor,
    )
    return version, True


def template_publish_procedure(
    *, actor: User | None, procedure: Procedure, metadata: TemplateMetadata, notes: str = ""
) -> TemplateVersion:
    """Publish a procedure's live version as a template of its municipality.

    The city's name and the procedure's department details become placeholders.
    Raises ServiceError when the procedure has no published version.
    """
    if procedure.live_version is None:
        raise ServiceError(_("Publish the procedure before sharing it in the catalog."))
    environment = environment_values(
        municipality=procedure.municipality, department=procedure.department
    )
    return template_publish(
        actor=actor,
        publisher=procedure.municipality,
        document=procedure.live_version.document,
        metadata=metadata,
        notes=notes,
        environment=environment,
    )


@transaction.atomic
def template_import(
    *,
    actor: User | None,
    municipality: Municipality,
    version: TemplateVersion,
    department: Department | None = None,
    key: str | None = None,
) -> Procedure:
    """Import a template version as a new draft procedure of ``municipality``.

    Placeholders are filled with the municipality's (and department's) values and the
    provenance is recorded (template version and the document as imported, the base of
    later three-way merges). All or nothing. Raises ServiceError when the template is not
    visible to the municipality (the same message as a missing one) or the key is taken,
    DocumentRejected when the chosen key is not valid.
    """
    if not template_visible_to(template=version.template, municipality=municipality):
        raise ServiceError(_("No such template."))
    if department is not None and department.municipality_id != municipality.pk:
        raise ServiceError(_("No such department."))
    document = importable_document(
        version=version, municipality=municipality, department=department, key=key
    )
    procedure = procedure_create(
        actor=actor, municipality=municipality, document=document, department=department
    )
    with tenant_scope(municipality):
        Procedure.objects.filter(pk=procedure.pk).update(
            source_template_version=version, base_document=document
        )
    procedure.source_template_version, procedure.base_document = version, document
    audit_log(
        actor,
        "procedures.procedure.imported_from_template",
        procedure,
        {"template": version.template_id, "version": version.number, "key": procedure.key},
    )
    return procedure


@transaction.atomic
def template_update_apply(
    *,
    actor: User | None,
    procedure: Procedure,
    version: TemplateVersion,
    expected_revision: int,
    resolutions: dict[str, str] | None = None,
) -> Procedure:
    """Merge a newer template version into the procedure's draft (three-way).

    Non-conflicting changes of both sides are kept; every conflict needs a resolution
    ("ours" / "theirs") or UnresolvedConflicts is raised and nothing changes. The draft is
    saved with the revision check (DraftConflict when someone saved meanwhile); the new
    version becomes the procedure's provenance and merge base. The live version is not
    touched: the designer publishes when ready.
    """
    source = procedure.source_template_version
    if source is None or source.template_id != version.template_id:
        raise ServiceError(_("This procedure was not imported from that template."))
    if version.number <= source.number:
        raise ServiceError(_("This procedure already has that template version."))
    if not template_visible_to(template=version.template, municipality=procedure.municipality):
        raise ServiceError(_("No such template."))
    preview = template_update_preview(procedure=procedure, version=version, resolutions=resolutions)
    if not preview.merge.clean:
        raise UnresolvedConflicts(preview.merge.unresolved)
    procedure = procedure_save_draft(
        actor=actor,
        procedure=procedure,
        document=preview.merge.document,
        expected_revision=expected_revision,
    )
    theirs = importable_document(
        version=version,
        municipality=procedure.municipality,
        department=procedure.department,
        key=procedure.key,
    )
    with tenant_scope(procedure.municipality):
        Procedure.objects.filter(pk=procedure.pk).update(
            source_template_version=version, base_document=theirs
        )
    procedure.source_template_version, procedure.base_document = version, theirs
    audit_log(
        actor,
        "procedures.procedure.template_update_applied",
        procedure,
        {
            "template": version.template_id,
            "from_version": source.number,
            "to_version": version.number,
            "resolutions": dict(resolutions or {}),
        },
    )
    return procedure


def document_from_upload(*, text: str) -> dict[str, Any]:
    """Parse and validate an uploaded file; DocumentRejected with located errors."""
    try:
        document = load_document(text)
    except DocumentError as problem:
        raise DocumentRejected(problem.errors) from None
    errors = validate_document(document)
    if errors:
        raise DocumentRejected(errors)
    return document


def procedure_upload(
    *,
    actor: User | None,
    municipality: Municipality,
    text: str,
    department: Department | None = None,
) -> Procedure:
    """Import an uploaded govtech.procedure.v1 file as a draft, like ``import_procedure``.

    All or nothing: on DocumentRejected (located errors) nothing is created or changed.
    """
    document = document_from_upload(text=text)
    return procedure_import(
        actor=actor, municipality=municipality, document=document, department=department
    )


def tags_from_text(text: str) -> tuple[str, ...]:
    """「防災, 子育て」 → ("防災", "子育て"); full-width commas too."""
    return tuple(tag.strip() for tag in text.replace("、", ",").split(",") if tag.strip())
