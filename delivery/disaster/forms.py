"""Forms of the disaster pages. A ``request_key`` rides along on every confirmation page:
the service does nothing twice for the same key (a double tap, a resubmitted form)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from delivery.broadcasts.models import AttributeField, AttributeKind
from delivery.disaster.models import AlertTemplate, DisasterSettings

SAFETY_QUESTION = _("Are you safe? Please tap one of the buttons below.")


class AreasMixin(forms.Form):
    areas = forms.MultipleChoiceField(
        label=_("areas"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: everyone."),
    )
    request_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, area_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["areas"].choices = area_choices
        if not area_choices:
            del self.fields["areas"]

    def chosen_areas(self) -> list[str]:
        return list(self.cleaned_data.get("areas") or [])


class AlertForm(AreasMixin):
    template = forms.ModelChoiceField(
        label=_("alert template"),
        queryset=None,
        required=False,
        help_text=_("Its title and text are used where you leave them empty."),
    )
    title = forms.CharField(label=_("title"), max_length=100, required=False)
    text = forms.CharField(label=_("text"), max_length=2000, required=False, widget=forms.Textarea)
    field_order = ["template", "title", "text", "areas"]

    def __init__(self, *args, alert_required: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = AlertTemplate.objects.all()
        self.alert_required = alert_required

    def clean(self):
        data = super().clean()
        template = data.get("template")
        if template is not None:
            data["title"] = data.get("title") or template.title
            data["text"] = data.get("text") or template.text
        if self.alert_required and not (data.get("text") or "").strip():
            raise forms.ValidationError(_("Choose a template or write the alert's text."))
        return data


class SafetyCheckForm(AreasMixin):
    text = forms.CharField(
        label=_("question"), max_length=1000, widget=forms.Textarea, initial=SAFETY_QUESTION
    )
    field_order = ["text", "areas"]


class DisasterSettingsForm(forms.Form):
    """Querysets are set per request: tenant-owned rows can only be read in a scope."""

    area_field = forms.ModelChoiceField(
        label=_("area attribute"),
        queryset=None,
        required=False,
        help_text=DisasterSettings._meta.get_field("area_field").help_text,
    )
    second_person_required = forms.BooleanField(
        label=_("a second admin must confirm"),
        required=False,
        help_text=DisasterSettings._meta.get_field("second_person_required").help_text,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choice_kinds = (AttributeKind.CHOICE, AttributeKind.MULTI_CHOICE)
        self.fields["area_field"].queryset = AttributeField.objects.filter(kind__in=choice_kinds)
