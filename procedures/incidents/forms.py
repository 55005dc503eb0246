"""Console forms of report categories, areas and settings (parsing and checks only)."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from procedures.incidents.models import ReportArea, ReportCategory, ReportSettings
from procedures.incidents.services import geometry_from_geojson

MAX_GEOJSON_BYTES = 2 * 1024 * 1024

# django-scopes: a ModelForm evaluates its foreign-key querysets when the class is built
# (import time, no scope). The console scopes them again per request.
with scopes_disabled():

    class ReportCategoryForm(forms.ModelForm):
        class Meta:
            model = ReportCategory
            fields = [
                "municipality",
                "key",
                "name",
                "name_en",
                "description",
                "department",
                "procedure",
                "is_public",
                "is_active",
                "position",
            ]

    class ReportAreaForm(forms.ModelForm):
        """The area's GeoJSON pasted (or a .geojson file), checked and stored as the bare
        Polygon or MultiPolygon."""

        geometry = forms.CharField(
            label=_("area (GeoJSON)"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "class": "vLargeTextField"}),
            help_text=_(
                "A GeoJSON Polygon or MultiPolygon (a Feature or a collection of one "
                "feature is fine), longitude first. Or upload a .geojson file below."
            ),
        )
        geojson_file = forms.FileField(
            label=_(".geojson file"),
            required=False,
            widget=forms.ClearableFileInput(attrs={"accept": ".geojson,.json"}),
        )

        class Meta:
            model = ReportArea
            fields = ["municipality", "name", "category", "department", "priority", "geometry"]

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.instance.pk and isinstance(self.instance.geometry, dict):
                self.initial["geometry"] = json.dumps(self.instance.geometry, ensure_ascii=False)

        def clean(self):
            data = super().clean()
            upload = self.files.get("geojson_file")
            text = data.get("geometry") or ""
            if upload is not None:
                if upload.size > MAX_GEOJSON_BYTES:
                    raise ValidationError(_("The file is larger than 2 MB."))
                text = upload.read().decode("utf-8", errors="replace")
            if not text.strip():
                self.add_error("geometry", _("Paste the area's GeoJSON or upload a file."))
                return data
            try:
                data["geometry"] = geometry_from_geojson(text)
            except ValidationError as error:
                self.add_error("geometry", error)
            return data

    class ReportSettingsForm(forms.ModelForm):
        class Meta:
            model = ReportSettings
            fields = [
                "municipality",
                "default_department",
                "duplicate_radius_m",
                "duplicate_days",
                "public_enabled",
                "public_precision_m",
            ]
