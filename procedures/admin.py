"""Console pages: procedures (with versions) and submissions.

Designers work in the no-code builder (procedures/builder, mounted by ProcedureAdmin's
``get_urls``); the change form below, which edits the draft as raw JSON, is only the
builder's "advanced" escape hatch (``?advanced=1``).
"""

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from govtech.access import staff_context
from govtech.console import PersonalDataAdminMixin, TenantModelAdmin, console
from govtech.services import ServiceError
from procedures.builder.urls import builder_urls
from procedures.casework import views as casework_views
from procedures.casework.media import media_urls
from procedures.casework.urls import casework_urls
from procedures.incidents.urls import report_case_urls
from procedures.incidents.views_map import report_map_urls
from procedures.models import Notice, Procedure, ProcedureVersion, Submission
from procedures.selectors import submissions_for_reviewer
from procedures.services import (
    DocumentRejected,
    procedure_department_change,
    procedure_publish,
    procedure_rollback,
    procedure_save_draft,
    procedure_unpublish,
)

DESIGN_ROLES = frozenset({"admin", "designer"})
REVIEW_ROLES = frozenset({"admin", "reviewer"})


# django-scopes: a ModelForm evaluates its foreign-key querysets when the class is
# built (import time, no scope). The querysets are scoped again per request.
with scopes_disabled():

    class ProcedureForm(forms.ModelForm):
        draft = forms.JSONField(
            label=_("draft (govtech.procedure.v1)"),
            widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "class": "vLargeTextField"}),
        )

        expected_revision = forms.IntegerField(
            label=_("draft revision"), widget=forms.HiddenInput, required=False
        )

        class Meta:
            model = Procedure
            fields = ["key", "department", "draft"]

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["expected_revision"].initial = self.instance.draft_revision


class VersionInline(admin.TabularInline):
    model = ProcedureVersion
    fields = ["number", "published_at", "published_by", "change_note", "restored_from"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Procedure, site=console)
class ProcedureAdmin(TenantModelAdmin):
    form = ProcedureForm
    inlines = [VersionInline]
    list_display = [
        "procedure_title",
        "key",
        "department",
        "status",
        "submissions",
        "last_published",
        "builder_links",
    ]
    list_filter = ["department"]
    change_list_template = "builder/procedure_change_list.html"
    search_fields = ["key"]
    list_select_related = ["department", "live_version"]
    actions = ["publish", "unpublish"]
    view_roles = frozenset({"admin", "designer", "reviewer", "broadcaster"})
    edit_roles = DESIGN_ROLES

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                submission_count=Count("submissions", filter=Q(submissions__is_test=False)),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self.has_change_permission(request, obj):
            # Read-only: the revision guard is for saving, there is nothing to show.
            fields = [name for name in fields if name != "expected_revision"]
        return fields

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        if not self.has_change_permission(request):
            shown.remove("builder_links")  # reviewers and broadcasters only look
        return shown

    def get_urls(self):
        return builder_urls(self.admin_site.admin_view) + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        # New procedures start in the builder (from scratch) or in the template catalog.
        if request.method == "GET" and self.has_add_permission(request):
            return redirect("admin:procedures_procedure_builder_new")
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Designers edit in the builder; the raw JSON form stays behind "advanced".
        wants_json = request.GET.get("advanced") == "1" or request.method != "GET"
        if not wants_json and self.has_change_permission(request):
            procedure = self.get_object(request, object_id)  # None: not theirs, 404 below
            if procedure is not None:
                return redirect("admin:procedures_procedure_builder", procedure.pk)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("title"))
    def procedure_title(self, obj: Procedure) -> str:
        return obj.title

    @admin.display(description=_("edit"))
    def builder_links(self, obj: Procedure) -> str:
        links = [
            (reverse("admin:procedures_procedure_builder", args=[obj.pk]), _("Builder")),
            (reverse("admin:procedures_procedure_publish", args=[obj.pk]), _("Publish")),
            (reverse("admin:procedures_procedure_versions", args=[obj.pk]), _("History")),
            (reverse("admin:procedures_submission_workflow", args=[obj.pk]), _("Workflow")),
        ]
        return format_html_join(" | ", '<a href="{}">{}</a>', links)

    @admin.display(description=_("status"))
    def status(self, obj: Procedure) -> str:
        if obj.live_version is None:
            return _("Draft")
        if obj.live_version.document != obj.draft:
            return _("Published, changed since")
        return _("Published")

    @admin.display(description=_("submissions"), ordering="submission_count")
    def submissions(self, obj: Procedure) -> int:
        return obj.submission_count

    @admin.display(description=_("last published"))
    def last_published(self, obj: Procedure):
        return obj.live_version.published_at if obj.live_version else "—"

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        if "department" in form.changed_data:
            self._change_department(request, obj, form.cleaned_data["department"])
        try:
            procedure_save_draft(
                actor=request.user,
                procedure=obj,
                document=form.cleaned_data["draft"],
                expected_revision=form.cleaned_data["expected_revision"] or obj.draft_revision,
            )
        except ServiceError as exc:
            messages.error(request, str(exc))

    def _change_department(self, request, procedure: Procedure, department) -> None:
        moved = procedure_department_change(
            actor=request.user, procedure=procedure, department=department
        )
        messages.info(
            request,
            _("The procedure now belongs to %(department)s; %(count)d submissions moved with it.")
            % {"department": department or _("no department"), "count": moved},
        )

    @admin.action(description=_("Publish the draft"))
    def publish(self, request, queryset):
        for procedure in queryset:
            try:
                version = procedure_publish(actor=request.user, procedure=procedure)
            except DocumentRejected as exc:
                for error in exc.errors:
                    messages.error(request, f"{procedure.key}: {error.located()}")
                continue
            messages.success(
                request,
                _("%(key)s published as version %(number)s")
                % {"key": procedure.key, "number": version.number},
            )

    @admin.action(description=_("Unpublish"))
    def unpublish(self, request, queryset):
        for procedure in queryset:
            procedure_unpublish(actor=request.user, procedure=procedure)


@admin.register(ProcedureVersion, site=console)
class ProcedureVersionAdmin(TenantModelAdmin):
    """History: every published version, read-only, with a rollback action."""

    list_display = ["procedure", "number", "published_at", "published_by", "change_note"]
    list_filter = ["procedure"]
    list_select_related = ["procedure", "published_by"]
    readonly_fields = [
        "procedure",
        "number",
        "published_at",
        "published_by",
        "change_note",
        "pretty",
    ]
    exclude = ["document", "restored_from"]
    actions = ["rollback"]
    view_roles = DESIGN_ROLES
    edit_roles = DESIGN_ROLES

    @admin.display(description=_("document"))
    def pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.document, ensure_ascii=False, indent=2))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Versions are immutable; the change view is read-only, actions stay available.
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description=_("Republish this version (rollback)"))
    def rollback(self, request, queryset):
        for version in queryset.select_related("procedure"):
            try:
                new = procedure_rollback(
                    actor=request.user, procedure=version.procedure, version=version
                )
            except DocumentRejected as rejected:
                messages.error(
                    request,
                    _("Version %(number)s cannot be republished: %(problems)s")
                    % {
                        "number": version.number,
                        "problems": "; ".join(e.located() for e in rejected.errors),
                    },
                )
                continue
            messages.success(
                request,
                _("%(key)s: version %(old)s republished as version %(new)s")
                % {"key": version.procedure.key, "old": version.number, "new": new.number},
            )


class CasePageAdmin(TenantModelAdmin):
    """The casework case page in place of Django's change form; PersonalDataAdminMixin
    (before it in SubmissionAdmin's bases) audits every view of it."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return casework_views.case_page(request, object_id)


@admin.register(Submission, site=console)
class SubmissionAdmin(PersonalDataAdminMixin, CasePageAdmin):
    viewed_action = "procedures.submission.viewed"
    view_roles = REVIEW_ROLES
    edit_roles = REVIEW_ROLES

    def get_queryset(self, request):
        return submissions_for_reviewer(
            staff=staff_context(request), submissions=super().get_queryset(request)
        )

    def get_urls(self):
        # Before the admin's own: its "<path:object_id>/" would take the case's actions
        # and the photo URLs.
        admin_view = self.admin_site.admin_view
        return (
            casework_urls(admin_view)
            + media_urls(admin_view)
            + report_map_urls(admin_view)
            + report_case_urls(admin_view)
            + super().get_urls()
        )

    def changelist_view(self, request, extra_context=None):
        return casework_views.inbox(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


from procedures.catalog import admin as catalog_admin  # noqa: E402, F401 - catalog pages
from procedures.incidents import admin as incidents_admin  # noqa: E402, F401 - report categories
from procedures.reservations import admin as reservations_admin  # noqa: E402, F401 - reservations


@admin.register(Notice, site=console)
class NoticeAdmin(PersonalDataAdminMixin, TenantModelAdmin):
    """What was told to residents outside a conversation, and what became of it: a failed
    or unreachable notice stays here with its error (read-only; admins only)."""

    viewed_action = "procedures.notice.viewed"
    list_display = ["created_at", "once_key", "status", "channel", "attempts", "sent_at"]
    list_filter = ["status", "channel"]
    search_fields = ["once_key"]
    readonly_fields = [
        "resident",
        "once_key",
        "prompts",
        "status",
        "channel",
        "attempts",
        "error",
        "created_at",
        "sent_at",
    ]
    exclude = ["retry_key"]
    view_roles = frozenset({"admin"})
    edit_roles = frozenset()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
