"""The FAQ in the console: entries (the sorting list and general questions) listed and
edited, a CSV imported (all or nothing, every bad line listed), the questions nobody could
answer with 「FAQに追加」, and the hit rate of the last 30 days.

Admins and broadcasters (who run the channel) change the FAQ; every staff role may look.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from delivery.faq.models import FaqDay, FaqEntry, FaqKind, UnansweredQuestion
from delivery.faq.services import (
    MAX_BYTES,
    faq_add_from_unanswered,
    faq_entry_save,
    faq_import,
    synonyms_split,
)
from govtech.access import staff_context
from govtech.console import TenantModelAdmin, console

EDIT_ROLES = frozenset({"admin", "broadcaster"})


class FaqImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=FaqKind.choices)
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "Sorting list: the standard ゴミの品目 columns. General FAQ: 質問, 回答, and "
            "optionally 同義語, カテゴリ, リンク, 手続き. UTF-8 or Shift_JIS. The file replaces "
            "the entries of its kind."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES >> 20}
            )
        return upload


class FaqEntryForm(forms.ModelForm):
    """An entry with its other words as plain text (「、」 or one per line), not JSON."""

    synonyms = forms.CharField(
        label=gettext_lazy("other words for it"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Separate them with 「、」 or write one per line."),
    )

    class Meta:
        model = FaqEntry
        fields = (
            *("municipality", "kind", "question", "reading", "question_en", "answer"),
            *("sorting", "notes", "remarks", "fee", "category", "synonyms", "link"),
            *("procedure_key", "is_active"),
        )
        # The admin's own fields replace these; this only keeps the class's defaults
        # in line with the console's (a link typed without a scheme is https).
        field_classes = {"link": partial(forms.URLField, assume_scheme="https")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["synonyms"] = "、".join(self.instance.synonyms or [])

    def clean_synonyms(self) -> list[str]:
        return synonyms_split(self.cleaned_data["synonyms"])


def hit_rate(days: int = 30) -> dict:
    """Answered, suggested and unanswered lookups of the last ``days`` days (Asia/Tokyo)."""
    since = timezone.localdate() - timedelta(days=days - 1)
    totals = FaqDay.objects.filter(day__gte=since).aggregate(
        answered=Sum("answered"), suggested=Sum("suggested"), unanswered=Sum("unanswered")
    )
    counts = {key: value or 0 for key, value in totals.items()}
    asked = sum(counts.values())
    counts["asked"] = asked
    counts["percent"] = round(100 * counts["answered"] / asked) if asked else None
    counts["days"] = days
    return counts


@admin.register(FaqEntry, site=console)
class FaqEntryAdmin(TenantModelAdmin):
    edit_roles = EDIT_ROLES
    list_display = ("question", "kind", "sorting", "category", "procedure_key", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("question", "reading", "answer", "sorting")
    form = FaqEntryForm
    change_list_template = "faq/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="delivery_faqentry_import"),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        asked = None if change else self._unanswered(request)
        if asked is None:
            faq_entry_save(actor=request.user, entry=obj)
        else:
            faq_add_from_unanswered(actor=request.user, question=asked, entry=obj)

    def _unanswered(self, request: HttpRequest) -> UnansweredQuestion | None:
        question_id = request.GET.get("from_unanswered", "")
        if not question_id.isdigit():
            return None
        return UnansweredQuestion.objects.filter(pk=int(question_id)).first()

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        asked = self._unanswered(request)
        if asked is not None:
            initial.update({"question": asked.text, "kind": FaqKind.GENERAL})
        return initial

    def import_view(self, request: HttpRequest) -> HttpResponse:
        staff = staff_context(request)
        if not staff.has_any(EDIT_ROLES) or staff.municipality is None:
            raise Http404
        form = FaqImportForm(request.POST or None, request.FILES or None)
        problems: list[tuple[int, str]] = []
        if request.method == "POST" and form.is_valid():
            counts, reading = faq_import(
                actor=request.user,
                municipality=staff.municipality,
                kind=form.cleaned_data["kind"],
                content=form.cleaned_data["file"].read(),
            )
            if counts is not None:
                messages.success(
                    request,
                    _("Imported: %(added)d added, %(changed)d changed, %(removed)d removed.")
                    % counts,
                )
                return redirect("admin:delivery_faqentry_changelist")
            problems = reading.problems
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import FAQ entries"),
            "form": form,
            "problems": problems,
            "opts": self.model._meta,
        }
        return render(request, "faq/import.html", context)

    def changelist_view(self, request, extra_context=None):
        extra = {
            "may_edit": staff_context(request).has_any(EDIT_ROLES),
            "hit_rate": hit_rate(),
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})


class AddedToFaqFilter(admin.SimpleListFilter):
    """Whether someone has answered the question with 「FAQに追加」 yet."""

    title = gettext_lazy("added to the FAQ")
    parameter_name = "added"

    def lookups(self, request, model_admin):
        return [("no", _("Not yet")), ("yes", _("Added already"))]

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(answered_by__isnull=self.value() == "no")
        return queryset


@admin.register(UnansweredQuestion, site=console)
class UnansweredQuestionAdmin(TenantModelAdmin):
    edit_roles = EDIT_ROLES
    list_display = ("text", "count", "last_asked_at", "add_to_faq")
    list_filter = (AddedToFaqFilter,)
    search_fields = ("text", "normalized")
    readonly_fields = ("normalized", "text", "count", "first_asked_at", "last_asked_at")

    def has_add_permission(self, request, *args):
        return False

    @admin.display(description=gettext_lazy("FAQ"))
    def add_to_faq(self, obj: UnansweredQuestion) -> str:
        if obj.answered_by_id:
            url = reverse("admin:delivery_faqentry_change", args=[obj.answered_by_id])
            return format_html('<a href="{}">{}</a>', url, _("In the FAQ"))
        query = urlencode({"from_unanswered": obj.pk})
        url = f"{reverse('admin:delivery_faqentry_add')}?{query}"
        return format_html('<a class="button" href="{}">{}</a>', url, _("Add to the FAQ"))
