"""Console forms of the catalog. Choices are narrowed per request (tenant, vendor)."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from govtech.models import Department, Municipality, Vendor
from procedures.catalog.models import CATEGORIES, TemplateVisibility
from procedures.models import Procedure

MAX_UPLOAD_BYTES = 512 * 1024


class UploadedDocumentField(forms.FileField):
    """A .json file read as UTF-8 text (validated as a procedure by the service)."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload is None:
            return None
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 512 KB)."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None


# django-scopes: model choice fields evaluate querysets when the class is built (import
# time, no scope); each form narrows them again per request.
with scopes_disabled():

    class ImportForm(forms.Form):
        version = forms.TypedChoiceField(label=_("template version"), coerce=int)
        department = forms.ModelChoiceField(
            label=_("department"), queryset=Department.objects.none(), required=False
        )
        key = forms.SlugField(
            label=_("key"),
            max_length=80,
            required=False,
            help_text=_("Leave empty to use the template's key; needed when that key is taken."),
        )

        def __init__(self, *args, versions, municipality, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["version"].choices = [(v.number, f"v{v.number}") for v in versions]
            self.fields["department"].queryset = Department.objects.filter(
                municipality=municipality
            )

    class UploadForm(forms.Form):
        file = UploadedDocumentField(label=_("procedure file (govtech.procedure.v1 JSON)"))
        department = forms.ModelChoiceField(
            label=_("department"), queryset=Department.objects.none(), required=False
        )

        def __init__(self, *args, municipality, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["department"].queryset = Department.objects.filter(
                municipality=municipality
            )

    class PublishForm(forms.Form):
        """Publish a procedure (municipality staff) or an uploaded file (vendor members)."""

        procedure = forms.ModelChoiceField(
            label=_("procedure"), queryset=Procedure.objects.none(), required=False
        )
        vendor = forms.ModelChoiceField(
            label=_("publish as vendor"), queryset=Vendor.objects.none(), required=False
        )
        file = UploadedDocumentField(
            label=_("procedure file (govtech.procedure.v1 JSON)"), required=False
        )
        title = forms.CharField(label=_("title"), max_length=200)
        summary = forms.CharField(label=_("summary"), widget=forms.Textarea, required=False)
        category = forms.CharField(
            label=_("category"),
            max_length=100,
            widget=forms.TextInput(attrs={"list": "catalog-categories"}),
        )
        tags = forms.CharField(
            label=_("tags"), max_length=300, required=False, help_text=_("Separate with commas.")
        )
        licence = forms.CharField(label=_("licence"), max_length=100, initial="CC BY 4.0")
        visibility = forms.ChoiceField(label=_("visibility"), choices=TemplateVisibility.choices)
        visible_to = forms.ModelMultipleChoiceField(
            label=_("visible to"), queryset=Municipality.objects.all(), required=False
        )
        notes = forms.CharField(label=_("version notes"), widget=forms.Textarea, required=False)

        categories = CATEGORIES

        def __init__(self, *args, procedures, vendors, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["procedure"].queryset = procedures
            self.fields["vendor"].queryset = vendors

        def clean(self):
            data = super().clean()
            from_procedure = data.get("procedure") is not None
            from_file = bool(data.get("file")) and data.get("vendor") is not None
            if from_procedure == from_file:
                raise forms.ValidationError(
                    _("Choose either a procedure of your municipality, or a vendor and a file.")
                )
            if data.get("visibility") == TemplateVisibility.SELECTED and not data.get("visible_to"):
                self.add_error("visible_to", _("Choose the municipalities that may see it."))
            return data


class ResolutionForm(forms.Form):
    """One keep mine / take theirs choice per conflict (fields named after ``where``)."""

    expected_revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, conflicts, **kwargs):
        super().__init__(*args, **kwargs)
        for conflict in conflicts:
            self.fields[f"resolve:{conflict.where}"] = forms.ChoiceField(
                label=conflict.where,
                choices=[("ours", _("Keep mine")), ("theirs", _("Take theirs"))],
                widget=forms.RadioSelect,
                required=False,
            )

    def resolutions(self) -> dict[str, str]:
        prefix = "resolve:"
        return {
            name.removeprefix(prefix): value
            for name, value in self.cleaned_data.items()
            if name.startswith(prefix) and value
        }
