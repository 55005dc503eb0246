"""Forms of the staff console pages of reservations (input parsing only)."""

from datetime import datetime, timedelta

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from procedures.reservations.schedule import TOKYO

MAX_EXPORT_DAYS = 366


class SlotTimeField(forms.CharField):
    """A slot's start as an ISO 8601 string with its offset (as the calendar links it)."""

    widget = forms.HiddenInput

    def to_python(self, value):
        value = super().to_python(value)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(_("This is not a slot time.")) from None
        if parsed.tzinfo is None:
            raise forms.ValidationError(_("This is not a slot time."))
        return parsed.astimezone(TOKYO)


class SlotForm(forms.Form):
    start = SlotTimeField()


class BlockForm(SlotForm):
    blocked = forms.BooleanField(required=False)


class PhoneBookingForm(SlotForm):
    """A caller booked by staff: their name and phone are the booking's contact."""

    contact_name = forms.CharField(
        label=_("caller's name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    contact_phone = forms.CharField(
        label=_("caller's phone"),
        max_length=20,
        validators=[
            RegexValidator(r"^\+?[0-9][0-9\- ]{5,18}$", _("Enter a phone number (digits and -)."))
        ],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    party_size = forms.IntegerField(label=_("party size"), min_value=1, initial=1)

    def __init__(self, *args, max_party: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_party = max(max_party, 1)
        self.fields["party_size"].widget.attrs["max"] = self.max_party
        if self.max_party == 1:
            self.fields["party_size"].widget = forms.HiddenInput()

    def clean_party_size(self) -> int:
        size = self.cleaned_data["party_size"]
        if size > self.max_party:
            raise forms.ValidationError(
                _("At most %(count)d people per booking.") % {"count": self.max_party}
            )
        return size


class CancelForm(forms.Form):
    message = forms.CharField(
        label=_("message to the resident"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Sent with the cancellation notice in LINE (optional)."),
    )


class AttendanceForm(forms.Form):
    attended = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")


class ExportForm(forms.Form):
    date_from = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("to"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and not first <= last < first + timedelta(days=MAX_EXPORT_DAYS):
            raise forms.ValidationError(
                _("Choose a period of at most %(days)d days, the end after the start.")
                % {"days": MAX_EXPORT_DAYS}
            )
        return cleaned
