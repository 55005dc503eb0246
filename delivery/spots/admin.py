"""Spots in the console: the list, editing one, importing a standard CSV (upload → a
preview of what changes → apply) and exporting a dataset in the standard schema.

Admins and broadcasters (who run the channel) change spots; every staff role may look.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from delivery.spots.models import Spot, SpotImport, SpotKind
from delivery.spots.services import (
    spot_import_apply,
    spot_import_diff,
    spot_import_stage,
    spots_csv,
)
from delivery.spots.standard import MAX_BYTES
from govtech.access import staff_context
from govtech.console import TenantModelAdmin, console

EDIT_ROLES = frozenset({"admin", "broadcaster"})
PREVIEW_ROWS = 200  # rows of each kind of change listed on the preview page


class SpotImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("dataset"), choices=SpotKind.choices)
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "The standard dataset's CSV (自治体標準オープンデータセット), UTF-8 or Shift_JIS."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES >> 20}
            )
        return upload


@admin.register(Spot, site=console)
class SpotAdmin(TenantModelAdmin):
    edit_roles = EDIT_ROLES
    list_display = ("name", "kind", "category", "address", "opens_at", "closes_at", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "name_kana", "address", "source_id")
    fieldsets = (
        (None, {"fields": ("kind", "source_id", "name", "name_kana", "name_en", "category")}),
        (gettext_lazy("Place"), {"fields": ("address", "latitude", "longitude")}),
        (
            gettext_lazy("Hours"),
            {
                "fields": (
                    "days",
                    "weekdays",
                    "open_on_holidays",
                    "opens_at",
                    "closes_at",
                    "hours_note",
                )
            },
        ),
        (
            gettext_lazy("Details"),
            {
                "fields": (
                    "phone",
                    "url",
                    "description",
                    "barrier_free",
                    "note",
                    "hazards",
                    "capacity",
                )
            },
        ),
        (None, {"fields": ("is_active",)}),
    )
    change_list_template = "spots/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="delivery_spot_import"),
            path("import/<int:pk>/", view(self.preview_view), name="delivery_spot_preview"),
            path("export/<str:kind>/", view(self.export_view), name="delivery_spot_export"),
            *super().get_urls(),
        ]

    def _may_edit(self, request: HttpRequest) -> bool:
        return staff_context(request).has_any(EDIT_ROLES)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self._may_edit(request):
            raise Http404
        form = SpotImportForm(request.POST or None, request.FILES or None)
        problems, reading = [], None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            staged, reading = spot_import_stage(
                actor=request.user,
                municipality=staff_context(request).municipality,
                kind=form.cleaned_data["kind"],
                filename=upload.name,
                content=upload.read(),
            )
            if staged is not None:
                return redirect("admin:delivery_spot_preview", staged.pk)
            problems = reading.problems
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import spots"),
            "form": form,
            "problems": problems,
            "reading": reading,
            "opts": self.model._meta,
        }
        return render(request, "spots/import.html", context)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self._may_edit(request):
            raise Http404
        staged = SpotImport.objects.filter(pk=pk).first()
        if staged is None:
            raise Http404
        if request.method == "POST" and staged.applied_at is None:
            summary = spot_import_apply(
                actor=request.user, staged=staged, remove_missing=bool(request.POST.get("remove"))
            )
            messages.success(
                request,
                _(
                    "Applied: %(added)d added, %(changed)d changed, %(removed)d removed, "
                    "%(unchanged)d unchanged."
                )
                % summary,
            )
            changelist = reverse("admin:delivery_spot_changelist")
            return redirect(f"{changelist}?kind__exact={staged.kind}")
        diff = spot_import_diff(staged) if staged.applied_at is None else None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Check the changes before applying them"),
            "staged": staged,
            "diff": diff,
            "added": diff.added[:PREVIEW_ROWS] if diff else [],
            "changed": diff.changed[:PREVIEW_ROWS] if diff else [],
            "removed": diff.removed[:PREVIEW_ROWS] if diff else [],
            "opts": self.model._meta,
        }
        return render(request, "spots/preview.html", context)

    def export_view(self, request: HttpRequest, kind: str) -> StreamingHttpResponse:
        if kind not in SpotKind.values:
            raise Http404
        municipality = staff_context(request).municipality
        if municipality is None:
            raise Http404
        response = StreamingHttpResponse(
            (line.encode("utf-8") for line in spots_csv(municipality=municipality, kind=kind)),
            content_type="text/csv; charset=utf-8",
        )
        day = timezone.localdate().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="spots-{kind}-{day}.csv"'
        return response

    def changelist_view(self, request, extra_context=None):
        extra = {"kinds": SpotKind.choices, "may_edit": self._may_edit(request)}
        return super().changelist_view(request, {**(extra_context or {}), **extra})
