"""Forms of the builder's server-rendered pages (new procedure, publish, compare)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from govtech.models import Department, slug_validator


class NewProcedureForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    key = forms.SlugField(
        label=_("Key"),
        max_length=80,
        validators=[slug_validator],
        help_text=_("Lowercase letters, digits and hyphens, e.g. juminhyo-by-mail. Cannot change."),
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments


class PublishForm(forms.Form):
    change_note = forms.CharField(
        label=_("Change note"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        max_length=2000,
        help_text=_("What changed, for colleagues reading the history."),
    )


class CompareForm(forms.Form):
    old = forms.IntegerField(label=_("From version"), min_value=1)
    new = forms.IntegerField(label=_("To version"), min_value=1)
