"""The FAQ in the console: entries (the sorting list and general questions) listed and
edited, a CSV imported (all or nothing, every bad line listed), the questions nobody could
answer with 「FAQに追加」, and the hit rate of the last 30 days.

Admins and broadcasters (who run the channel) change the FAQ; every staff role may look.
"""

from __future__ import annotations

from datetime import timedelta

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

from delivery.faq.matching import keys_for
from delivery.faq.models import FaqDay, FaqEntry, FaqKind, UnansweredQuestion
from delivery.faq.services import MAX_BYTES, faq_import
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
    exclude = ("search_keys",)
    change_list_template = "faq/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="delivery_faqentry_import"),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        obj.search_keys = keys_for(obj.question, obj.reading, obj.question_en, obj.synonyms)
        super().save_model(request, obj, form, change)
        question_id = request.GET.get("from_unanswered")
        if not change and question_id and question_id.isdigit():
            UnansweredQuestion.objects.filter(pk=int(question_id)).update(answered_by=obj)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        question_id = request.GET.get("from_unanswered")
        if question_id and question_id.isdigit():
            asked = UnansweredQuestion.objects.filter(pk=int(question_id)).first()
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


@admin.register(UnansweredQuestion, site=console)
class UnansweredQuestionAdmin(TenantModelAdmin):
    edit_roles = EDIT_ROLES
    list_display = ("text", "count", "last_asked_at", "add_to_faq")
    list_filter = (("answered_by", admin.EmptyFieldListFilter),)
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
