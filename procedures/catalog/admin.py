"""Console pages of the template catalog: browse, preview, import, publish, update, files.

The catalog is a page of the console (Django admin site ``console``). Writes go through
``procedures.catalog.services``; these views only parse input, check access and render.
Access: designers and admins of a municipality browse and import; vendor members and
municipality designers/admins publish; operators see everything. A template that is
not visible to the viewer is a 404, the same as a missing one.
"""

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from govtech.access import staff_context
from govtech.console import RoleAdminMixin, console
from govtech.models import Vendor
from govtech.services import ServiceError
from procedures.builder.ui import type_labels
from procedures.catalog.forms import ImportForm, PublishForm, ResolutionForm, UploadForm
from procedures.catalog.merge import MISSING
from procedures.catalog.models import Template
from procedures.catalog.selectors import (
    CatalogViewer,
    available_update,
    catalog_facets,
    catalog_viewer,
    procedures_with_updates,
    reservations_to_choose,
    template_for,
    template_preview,
    template_update_preview,
    template_versions,
    visible_templates,
)
from procedures.catalog.services import (
    TemplateMetadata,
    UnresolvedConflicts,
    document_from_upload,
    procedure_upload,
    tags_from_text,
    template_import,
    template_publish,
    template_publish_procedure,
    template_update_apply,
)
from procedures.engine.steps import localize, step_type
from procedures.models import Procedure
from procedures.selectors import procedure_export
from procedures.services import DocumentRejected, DraftConflict

KIND_LABELS = {
    "added": gettext_lazy("added"),
    "removed": gettext_lazy("removed"),
    "changed": gettext_lazy("changed"),
    "moved": gettext_lazy("new order"),
    "both_changed": gettext_lazy("changed on both sides"),
    "deleted_by_us": gettext_lazy("you deleted it, the template changed it"),
    "deleted_by_them": gettext_lazy("the template deleted it, you changed it"),
    "order": gettext_lazy("steps reordered differently on both sides"),
}


def _viewer(request: HttpRequest) -> CatalogViewer:
    return catalog_viewer(user=request.user, staff=staff_context(request))


def _pretty(value: Any) -> str:
    if value is MISSING:
        return _("(none)")
    return json.dumps(value, ensure_ascii=False, indent=1)


def step_rows(document: dict[str, Any], lang: str = "ja") -> list[dict[str, Any]]:
    """A readable list of a document's steps (the LINE-style preview is delivery's)."""
    rows = []
    for number, step in enumerate(document.get("steps", []), start=1):
        texts = step.get("prompt") or step.get("message") or step.get("label")
        rows.append(
            {
                "number": number,
                "id": step["id"],
                "type": step["type"],
                "type_label": type_labels().get(step["type"], step["type"]),
                "label": localize(step.get("label"), lang),
                "text": localize(texts, lang) or step_type(step["type"]).name,
                "conditional": "when" in step,
                "optional": step.get("required", True) is False,
                "options": [localize(o["label"], lang) for o in step.get("options", [])],
            }
        )
    return rows


def _change_rows(changes) -> list[dict[str, str]]:
    return [
        {
            "kind": KIND_LABELS.get(change.kind, change.kind),
            "where": change.where,
            "old": _pretty(change.old),
            "new": _pretty(change.new),
        }
        for change in changes
    ]


def _tell_reservations_to_choose(request: HttpRequest, procedure: Procedure) -> None:
    """After an import: name the reservation steps whose facility is still to be chosen."""
    steps = reservations_to_choose(
        document=procedure.draft,
        municipality=procedure.municipality,
        lang=get_language() or "ja",
    )
    if steps:
        messages.warning(
            request,
            _(
                "Before publishing, choose in the builder which of your facilities these "
                "reservation steps book: %(steps)s"
            )
            % {"steps": "、".join(map(str, steps))},
        )


def _json_download(document: dict[str, Any], filename: str) -> JsonResponse:
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class PublisherFilter(admin.SimpleListFilter):
    title = gettext_lazy("publisher")
    parameter_name = "publisher"

    def lookups(self, request, model_admin):
        return catalog_facets(viewer=_viewer(request))["publishers"]

    def queryset(self, request, queryset):
        kind, _sep, slug = (self.value() or "").partition(":")
        if kind == "vendor":
            return queryset.filter(publisher_vendor__slug=slug)
        if kind == "municipality":
            return queryset.filter(publisher_municipality__slug=slug)
        return queryset


@admin.register(Template, site=console)
class TemplateAdmin(RoleAdminMixin, admin.ModelAdmin):
    """The catalog list (search, category and publisher filters) and its own pages."""

    change_list_template = "catalog/template_change_list.html"
    list_display = ["title", "category", "publisher_name", "latest", "usage", "visibility"]
    list_filter = ["category", PublisherFilter]
    search_fields = ["title", "summary", "tags", "key"]
    list_per_page = 50

    # --- permissions: nobody edits templates through the generic admin forms ----------

    def has_view_permission(self, request, obj=None):
        return _viewer(request).may_browse

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return visible_templates(viewer=_viewer(request))

    @admin.display(description=gettext_lazy("publisher"))
    def publisher_name(self, obj: Template) -> str:
        return obj.publisher_name

    @admin.display(description=gettext_lazy("latest version"), ordering="latest_number")
    def latest(self, obj: Template) -> str:
        return f"v{obj.latest_number}" if obj.latest_number else "—"

    @admin.display(description=gettext_lazy("municipalities using it"), ordering="usage")
    def usage(self, obj: Template) -> int:
        return obj.usage

    def changelist_view(self, request, extra_context=None):
        viewer = _viewer(request)
        extra = {"viewer": viewer, **(extra_context or {})}
        if viewer.may_import:
            extra["update_count"] = len(procedures_with_updates())
        return super().changelist_view(request, extra)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("publish/", view(self.publish_view), name="catalog_publish"),
            path("upload/", view(self.upload_view), name="catalog_upload"),
            path("updates/", view(self.updates_view), name="catalog_updates"),
            path("updates/<int:pk>/", view(self.update_view), name="catalog_update"),
            path(
                "procedures/<int:pk>/download/",
                view(self.procedure_download_view),
                name="catalog_procedure_download",
            ),
            path("<int:pk>/import/", view(self.import_view), name="catalog_import"),
            path(
                "<int:pk>/versions/<int:number>/download/",
                view(self.download_view),
                name="catalog_template_download",
            ),
            *super().get_urls(),
        ]

    def _render(self, request, template_name: str, context: dict[str, Any]) -> TemplateResponse:
        base = {**self.admin_site.each_context(request), "opts": self.model._meta}
        return TemplateResponse(request, template_name, {**base, **context})

    def _visible(self, request, pk) -> tuple[CatalogViewer, Template]:
        viewer = _viewer(request)
        if not viewer.may_browse:
            raise PermissionDenied
        template = template_for(viewer=viewer, pk=pk)
        if template is None:
            raise Http404
        return viewer, template

    # --- browse and preview ----------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The template page: metadata, versions, the steps of one version, usage."""
        viewer, template = self._visible(request, object_id)
        versions = list(template_versions(template=template))
        wanted = request.GET.get("version", "")
        version = next((v for v in versions if str(v.number) == wanted), versions[0])
        return self._render(
            request,
            "catalog/template_detail.html",
            {
                "title": template.title,
                "template": template,
                "versions": versions,
                "version": version,
                "steps": step_rows(version.document, get_language() or "ja"),
                "viewer": viewer,
                "previews": template_preview(
                    version=version,
                    municipality=viewer.municipality,
                    lang=get_language() or "ja",
                    now=timezone.now(),
                ),
            },
        )

    def download_view(self, request, pk: int, number: int) -> HttpResponse:
        template = self._visible(request, pk)[1]
        version = template.versions.filter(number=number).first()
        if version is None:
            raise Http404
        return _json_download(version.document, f"{template.key}-v{number}.json")

    # --- import ----------------------------------------------------------------------

    def import_view(self, request, pk: int) -> HttpResponse:
        viewer, template = self._visible(request, pk)
        if not viewer.may_import:
            raise PermissionDenied
        versions = list(template_versions(template=template))
        form = ImportForm(
            request.POST or None,
            versions=versions,
            municipality=viewer.municipality,
            initial={"version": versions[0].number},
        )
        if request.method == "POST" and form.is_valid():
            version = next(v for v in versions if v.number == form.cleaned_data["version"])
            try:
                procedure = template_import(
                    actor=request.user,
                    municipality=viewer.municipality,
                    version=version,
                    department=form.cleaned_data["department"],
                    key=form.cleaned_data["key"] or None,
                )
            except DocumentRejected as rejected:
                for error in rejected.errors:
                    form.add_error(None, error.located())
            except ServiceError as refused:
                form.add_error("key", str(refused))
            else:
                messages.success(
                    request,
                    _("Imported as a draft: %(title)s. Check it and publish when ready.")
                    % {"title": procedure.title},
                )
                _tell_reservations_to_choose(request, procedure)
                return redirect("admin:procedures_procedure_change", procedure.pk)
        context = {
            "title": _("Import a template"),
            "template": template,
            "form": form,
            "to_choose": reservations_to_choose(
                document=versions[0].document,
                municipality=viewer.municipality,
                lang=get_language() or "ja",
            ),
        }
        return self._render(request, "catalog/import.html", context)

    # --- publish ---------------------------------------------------------------------

    def publish_view(self, request) -> HttpResponse:
        viewer = _viewer(request)
        if not viewer.may_browse:
            raise PermissionDenied
        procedures = Procedure.objects.none()
        if viewer.may_import:
            procedures = Procedure.objects.filter(live_version__isnull=False)
        vendors = Vendor.objects.all() if viewer.is_operator else Vendor.objects.none()
        if not viewer.is_operator:
            vendors = Vendor.objects.filter(pk__in=viewer.vendor_ids)
        form = PublishForm(
            request.POST or None,
            request.FILES or None,
            procedures=procedures,
            vendors=vendors,
            initial=self._publish_initial(request, viewer),
        )
        if request.method == "POST" and form.is_valid():
            version = self._publish(request, form)
            if version is not None:
                messages.success(
                    request,
                    _("Published %(title)s version %(number)s to the catalog.")
                    % {"title": version.template.title, "number": version.number},
                )
                return redirect("admin:procedures_template_change", version.template_id)
        context = {
            "title": _("Publish to the catalog"),
            "form": form,
            "procedures": procedures,
            "viewer": viewer,
        }
        return self._render(request, "catalog/publish.html", context)

    def _publish_initial(self, request, viewer: CatalogViewer) -> dict[str, Any]:
        """A new version of a template prefills its metadata (?template=<pk>)."""
        template = template_for(viewer=viewer, pk=request.GET.get("template"))
        if template is None:
            return {"licence": "CC BY 4.0"}
        return {
            "title": template.title,
            "summary": template.summary,
            "category": template.category,
            "tags": template.tags,
            "licence": template.licence,
            "visibility": template.visibility,
            "visible_to": list(template.visible_to.all()),
            "vendor": template.publisher_vendor,
        }

    def _publish(self, request, form: PublishForm):
        data = form.cleaned_data
        metadata = TemplateMetadata(
            title=data["title"],
            category=data["category"],
            summary=data["summary"],
            tags=tags_from_text(data["tags"]),
            licence=data["licence"],
            visibility=data["visibility"],
            visible_to=tuple(data["visible_to"]),
        )
        try:
            if data["procedure"] is not None:
                return template_publish_procedure(
                    actor=request.user,
                    procedure=data["procedure"],
                    metadata=metadata,
                    notes=data["notes"],
                )
            return template_publish(
                actor=request.user,
                publisher=data["vendor"],
                document=document_from_upload(text=data["file"]),
                metadata=metadata,
                notes=data["notes"],
            )
        except DocumentRejected as rejected:
            for error in rejected.errors:
                form.add_error(None, error.located())
        except ServiceError as refused:
            form.add_error(None, str(refused))
        return None

    # --- files -----------------------------------------------------------------------

    def upload_view(self, request) -> HttpResponse:
        """Upload a govtech.procedure.v1 file as a draft; nothing is created on error."""
        viewer = _viewer(request)
        if not viewer.may_import:
            raise PermissionDenied
        form = UploadForm(
            request.POST or None, request.FILES or None, municipality=viewer.municipality
        )
        errors = []
        if request.method == "POST" and form.is_valid():
            try:
                procedure = procedure_upload(
                    actor=request.user,
                    municipality=viewer.municipality,
                    text=form.cleaned_data["file"],
                    department=form.cleaned_data["department"],
                )
            except DocumentRejected as rejected:
                errors = [error.located() for error in rejected.errors]
            except ServiceError as refused:
                errors = [str(refused)]
            else:
                messages.success(
                    request, _("Uploaded as a draft: %(title)s.") % {"title": procedure.title}
                )
                _tell_reservations_to_choose(request, procedure)
                return redirect("admin:procedures_procedure_change", procedure.pk)
        context = {
            "title": _("Upload a procedure file"),
            "form": form,
            "errors": errors,
            "procedures": Procedure.objects.select_related("live_version"),
        }
        return self._render(request, "catalog/upload.html", context)

    def procedure_download_view(self, request, pk: int) -> HttpResponse:
        """The live version's document (or the draft with ?draft=1, or when never published)."""
        if not _viewer(request).may_import:
            raise PermissionDenied
        procedure = Procedure.objects.select_related("live_version").filter(pk=pk).first()
        if procedure is None:  # another municipality's procedure is missing too (scope)
            raise Http404
        draft = request.GET.get("draft") == "1" or procedure.live_version is None
        document = procedure_export(procedure=procedure, draft=draft)
        suffix = "-draft" if draft else f"-v{procedure.live_version.number}"
        return _json_download(document, f"{procedure.key}{suffix}.json")

    # --- updates ---------------------------------------------------------------------

    def updates_view(self, request) -> HttpResponse:
        if not _viewer(request).may_import:
            raise PermissionDenied
        context = {"title": _("Template updates available"), "pairs": procedures_with_updates()}
        return self._render(request, "catalog/updates.html", context)

    def update_view(self, request, pk: int) -> HttpResponse:
        """Diffs, the three-way merge, one choice per conflict, then apply to the draft."""
        if not _viewer(request).may_import:
            raise PermissionDenied
        procedure = Procedure.objects.filter(pk=pk).select_related("department").first()
        version = available_update(procedure=procedure) if procedure else None
        if version is None:
            raise Http404
        preview = template_update_preview(procedure=procedure, version=version)
        form = ResolutionForm(
            request.POST or None,
            conflicts=preview.merge.conflicts,
            initial={"expected_revision": procedure.draft_revision},
        )
        if request.method == "POST" and form.is_valid():
            try:
                template_update_apply(
                    actor=request.user,
                    procedure=procedure,
                    version=version,
                    expected_revision=form.cleaned_data["expected_revision"],
                    resolutions=form.resolutions(),
                )
            except (UnresolvedConflicts, DraftConflict) as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(
                    request,
                    _("Template version %(number)s merged into the draft. Publish when ready.")
                    % {"number": version.number},
                )
                _tell_reservations_to_choose(request, procedure)
                return redirect("admin:procedures_procedure_change", procedure.pk)
        return self._render(
            request, "catalog/update.html", self._update_context(procedure, preview, form)
        )

    def _update_context(self, procedure, preview, form) -> dict[str, Any]:
        conflicts = [
            {
                "where": conflict.where,
                "kind": KIND_LABELS.get(conflict.kind, conflict.kind),
                "ours": _pretty(conflict.ours),
                "theirs": _pretty(conflict.theirs),
                "field": form[f"resolve:{conflict.where}"],
            }
            for conflict in preview.merge.conflicts
        ]
        return {
            "title": _("Update from the template"),
            "procedure": procedure,
            "preview": preview,
            "upstream": _change_rows(preview.upstream),
            "local": _change_rows(preview.local),
            "conflicts": conflicts,
            "form": form,
            "download_url": reverse(
                "admin:catalog_template_download",
                args=[preview.version.template_id, preview.version.number],
            ),
        }
