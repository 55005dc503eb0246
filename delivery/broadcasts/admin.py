"""Console pages: resident attributes, segments (rule builder, live count), broadcasts
(approval, cancel, test send, progress bar), broadcast policy and calendar reminders."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from delivery.broadcasts import preview, rule_builder, selectors, services
from delivery.broadcasts.attributes import (
    LIST_KINDS,
    OptionRow,
    attribute_field_save,
    attribute_value_counts,
    options_validate,
)
from delivery.broadcasts.composer import composer_config
from delivery.broadcasts.images import broadcast_image_store
from delivery.broadcasts.messages import validate_items, validate_procedures
from delivery.broadcasts.models import (
    AttributeField,
    Broadcast,
    BroadcastPolicy,
    BroadcastStatus,
    ReminderRule,
    Segment,
    StaffTestResident,
)
from delivery.broadcasts.reminders import (
    MAX_CSV_BYTES,
    ReminderCsvRejected,
    reminder_dates_import,
)
from delivery.broadcasts.segments import validate_rules
from delivery.broadcasts.testers import (
    TESTER_CODE_MINUTES,
    staff_test_friends,
    staff_test_resident_link,
    staff_test_resident_simulate,
    staff_test_resident_unlink,
    tester_code_issue,
)
from delivery.images import MAX_BYTES as MAX_IMAGE_BYTES
from delivery.images import ImageRejected
from delivery.line_api import LineApiError, LineClient
from delivery.models import LineChannel, OutboundStatus
from delivery.simulator_adapter import simulator_chat_url, simulator_serves
from govtech.access import staff_context
from govtech.console import PersonalDataAdminMixin, TenantModelAdmin, console
from govtech.jsonlimits import JsonRefused, loads_bounded
from govtech.models import User
from govtech.services import ServiceError

CONSOLE_JSON_DEPTH = 32  # segment rules and message cards nest a few levels

BROADCAST_ROLES = frozenset({"admin", "broadcaster"})


class OptionRowForm(forms.Form):
    """One option of an attribute field: the stored value and the label people read."""

    value = forms.CharField(label=_("Value"), max_length=40, required=False)
    label = forms.CharField(label=_("Label"), max_length=100, required=False)
    original = forms.CharField(widget=forms.HiddenInput, required=False)


OptionFormSet = forms.formset_factory(
    OptionRowForm, extra=2, can_order=True, can_delete=True, max_num=100, validate_max=True
)


class AttributeFieldForm(forms.ModelForm):
    """The field, and its options as rows (a formset: works without JavaScript).

    The admin adds Meta. ``option_rows`` holds the cleaned rows, in the order chosen.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        initial = [
            {"value": o.get("value", ""), "label": o.get("label", ""), "original": o.get("value")}
            for o in (self.instance.options if self.instance.pk else [])
            if isinstance(o, dict)
        ]
        self.options_formset = OptionFormSet(
            self.data or None, prefix="options", initial=initial or None
        )
        self.option_rows: list[OptionRow] = []

    def clean(self):
        cleaned = super().clean()
        if not self.options_formset.is_valid():
            raise ValidationError(_("Correct the options below."))
        kind = cleaned.get("kind") or self.instance.kind
        self.option_rows = _option_rows(self.options_formset)
        options_validate(kind=kind, rows=self.option_rows if kind in LIST_KINDS else [])
        return cleaned


def _option_rows(formset) -> list[OptionRow]:
    """The rows kept (not deleted, not left blank), in the order of their ORDER numbers."""
    kept = []
    for position, form in enumerate(formset.forms):
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        value, label = data.get("value", "").strip(), data.get("label", "").strip()
        if not value and not label:
            continue  # a blank row, or one emptied on purpose: removed
        order = data.get("ORDER")
        kept.append(
            (order if order is not None else 10_000 + position, position, value, label, data)
        )
    kept.sort(key=lambda row: (row[0], row[1]))
    return [OptionRow(value, label, data.get("original") or "") for *_, value, label, data in kept]


@admin.register(AttributeField, site=console)
class AttributeFieldAdmin(TenantModelAdmin):
    """Attribute fields with an options editor (rows of value + label); a changed value
    moves the residents holding it (``attributes.attribute_field_save``)."""

    form = AttributeFieldForm
    fields = ["municipality", "key", "label", "kind"]
    list_display = ["key", "label", "kind", "option_count"]
    view_roles = BROADCAST_ROLES
    change_form_template = "broadcasts/attributefield_change_form.html"

    def get_readonly_fields(self, request, obj=None):
        # Residents' values and segments name the key, and hold values of the kind.
        return ["key", "kind"] if obj is not None else []

    @admin.display(description=_("options"))
    def option_count(self, obj: AttributeField) -> int | str:
        return len(obj.options) if obj.kind in LIST_KINDS else "—"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        held = attribute_value_counts(field=obj) if obj is not None else {}
        context["options_formset"] = form.options_formset
        context["option_rows"] = [
            (row, held.get(row["original"].value() or "", 0)) for row in form.options_formset
        ]
        context["list_kinds"] = sorted(LIST_KINDS)
        context["option_strings"] = {
            "up": gettext("Move up"),
            "down": gettext("Move down"),
            "remove": gettext("Remove option"),
            "moves": gettext("%(count)s residents move to this value when you save."),
            "clears": gettext("%(count)s residents lose this answer when you save."),
        }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        field, moved = attribute_field_save(
            actor=request.user,
            municipality=obj.municipality,
            key=obj.key,
            label=obj.label,
            kind=obj.kind,
            rows=form.option_rows,
            field=obj if change else None,
        )
        obj.pk, obj.options = field.pk, field.options
        if moved:
            text = gettext("%(count)s residents' answers were moved to follow the options.")
            self.message_user(request, text % {"count": moved}, messages.INFO)


@admin.register(BroadcastPolicy, site=console)
class BroadcastPolicyAdmin(TenantModelAdmin):
    list_display = ["municipality", "approval_required", "quota_ceiling", "requests_per_second"]
    view_roles = BROADCAST_ROLES


class ReminderCsvForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 or Shift_JIS (as Excel saves it), up to %(size)s KB.")
        % {"size": MAX_CSV_BYTES // 1024},
    )


@admin.register(ReminderRule, site=console)
class ReminderRuleAdmin(TenantModelAdmin):
    list_display = ["name", "attribute_key", "attribute_value", "send_time", "is_active"]
    view_roles = BROADCAST_ROLES
    edit_roles = BROADCAST_ROLES
    change_form_template = "broadcasts/reminderrule_change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_dates_view)
        return [
            path("<int:pk>/import-dates/", view, name="delivery_reminderrule_import_dates"),
            *super().get_urls(),
        ]

    def import_dates_view(self, request, pk):
        """Upload irregular dates from a CSV: all rows are imported, or none (with the lines)."""
        rule = get_object_or_404(ReminderRule, pk=pk)
        if not self.has_change_permission(request, rule):
            raise PermissionDenied
        form = ReminderCsvForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data["file"].read(MAX_CSV_BYTES + 1)
            try:
                dates = reminder_dates_import(actor=request.user, rule=rule, data=data)
            except ReminderCsvRejected as rejected:
                problems = [str(problem) for problem in rejected.problems]
            else:
                self.message_user(request, _imported_message(dates), messages.SUCCESS)
                return redirect("admin:delivery_reminderrule_change", rule.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": rule,
            "title": gettext("Import dates from CSV: %(name)s") % {"name": rule.name},
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "broadcasts/reminderrule_import_dates.html", context)


def _imported_message(dates) -> str:
    text = gettext("Imported: %(added)s dates added, %(skipped)s dates skipped.") % {
        "added": len(dates.add),
        "skipped": len(dates.skip),
    }
    if dates.other_areas:
        text += " " + gettext("%(count)s rows of other areas were left out.") % {
            "count": dates.other_areas
        }
    return text


class StaffTestResidentForm(forms.ModelForm):
    """The admin adds Meta; the staff list is limited to the municipality in the admin."""


@admin.register(StaffTestResident, site=console)
class StaffTestResidentAdmin(PersonalDataAdminMixin, TenantModelAdmin):
    """Which friend is which staff member's own test resident (their LINE account)."""

    viewed_action = "delivery.stafftestresident.viewed"
    form = StaffTestResidentForm
    fields = ["municipality", "staff", "friend"]
    list_display = ["staff", "friend", "created_at"]
    list_select_related = ["staff", "friend"]
    autocomplete_fields = ["friend"]
    view_roles = BROADCAST_ROLES
    edit_roles = frozenset({"admin"})

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def get_urls(self):
        view = self.admin_site.admin_view(self.mine_view)
        return [path("mine/", view, name="delivery_stafftestresident_mine"), *super().get_urls()]

    def mine_view(self, request):
        """Any staff member: register their own LINE account as a tester with a one-time
        code sent from LINE, see their tester accounts, and stop using one."""
        municipality = staff_context(request).municipality
        if municipality is None:
            raise PermissionDenied  # operators work across municipalities, not inside one
        code = None
        if request.method == "POST" and request.POST.get("action") == "issue":
            code = tester_code_issue(actor=request.user, municipality=municipality)
        elif request.method == "POST" and request.POST.get("action") == "unlink":
            link = get_object_or_404(
                StaffTestResident, pk=request.POST.get("link") or 0, staff=request.user
            )
            staff_test_resident_unlink(actor=request.user, link=link)
            self.message_user(request, gettext("That LINE account is no longer your tester."))
            return redirect("admin:delivery_stafftestresident_mine")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("My LINE tester account"),
            "code": code,
            "minutes": TESTER_CODE_MINUTES,
            "links": StaffTestResident.objects.filter(staff=request.user).select_related(
                "friend__channel"
            ),
            "channels": LineChannel.objects.order_by("pk"),
        }
        return TemplateResponse(request, "broadcasts/my_tester.html", context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "staff":
            municipality = staff_context(request).municipality
            kwargs["queryset"] = User.objects.filter(
                memberships__municipality=municipality
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        link = staff_test_resident_link(actor=request.user, staff=obj.staff, friend=obj.friend)
        obj.pk = link.pk


class SegmentForm(forms.ModelForm):
    """The admin adds Meta (fields come from the admin, at request time, inside the scope)."""

    def clean_rules(self):
        rules = self.cleaned_data["rules"]
        validate_rules(rules)
        return rules


def _channel(request) -> LineChannel:
    channel = LineChannel.objects.first()  # the request's tenant scope limits this
    if channel is None:
        raise Http404
    return channel


@admin.register(Segment, site=console)
class SegmentAdmin(TenantModelAdmin):
    form = SegmentForm
    fields = ["municipality", "name", "rules"]
    list_display = ["name", "created_at"]
    view_roles = BROADCAST_ROLES
    edit_roles = BROADCAST_ROLES
    change_form_template = "broadcasts/segment_change_form.html"

    def get_urls(self):
        count = self.admin_site.admin_view(require_POST(self.count_view))
        return [path("count/", count, name="delivery_segment_count"), *super().get_urls()]

    def count_view(self, request):
        """The live count for the rule builder: rules in, one COUNT(*) out."""
        if not self.has_view_permission(request):
            raise Http404
        try:
            rules = loads_bounded(request.body or b"{}", max_depth=CONSOLE_JSON_DEPTH)
            count = selectors.segment_count(channel=_channel(request), rules=rules)
        except (ValueError, ValidationError) as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return JsonResponse({"count": count})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "rule_builder": rule_builder.builder_config()}
        return super().changeform_view(request, object_id, form_url, extra_context)


MESSAGES_HELP = _(
    '1 to 5 messages, as JSON. Text: {"type": "text", "text": "{display_name}さん、…"};'
    ' image: {"type": "image", "url": "https://…"}; a button that starts a'
    ' procedure: {"type": "button", "text": "…", "label": "申し込む",'
    ' "procedure": "bulky-waste"}; a notice card: {"type": "flex", "template":'
    ' "notice", "title": "…", "body": "…"}. The composer above writes this for you.'
)


class BroadcastForm(forms.ModelForm):
    def clean_messages(self):
        items = self.cleaned_data["messages"]
        validate_items(items)
        channel = self.cleaned_data.get("channel")  # cleaned before messages (field order)
        if channel is not None:
            keys = preview.live_procedure_keys(municipality=channel.municipality)
            validate_procedures(items, live_keys=keys)
        return items


@admin.register(Broadcast, site=console)
class BroadcastAdmin(TenantModelAdmin):
    form = BroadcastForm
    fields = ["municipality", "channel", "title", "segment", "messages", "scheduled_at"]
    list_display = ["title", "status", "scheduled_at", "recipients", "sent_count"]
    list_filter = ["status"]
    view_roles = BROADCAST_ROLES
    edit_roles = BROADCAST_ROLES
    actions = ["submit", "approve", "cancel", "test_send"]
    change_form_template = "broadcasts/broadcast_change_form.html"
    readonly_fields = [
        "status",
        "approved_by",
        "approved_at",
        "started_at",
        "frozen_at",
        "finished_at",
        "recipients_count",
        "sent_count",
        "failed_count",
        "skipped_count",
        "error",
    ]

    def has_change_permission(self, request, obj=None):
        editable = obj is None or obj.status == BroadcastStatus.DRAFT
        return editable and super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        if obj is None or self.has_change_permission(request, obj):
            return list(self.fields)
        # Read-only: the preview shows the messages as LINE draws them (no raw JSON), and
        # the sending counters appear once sending has started (before, they are all 0).
        shown = [name for name in self.fields if name != "messages"]
        shown += ["status", "approved_by", "approved_at"]
        if obj.started_at is not None:
            shown += [name for name in self.readonly_fields if name in SENDING_FIELDS]
        return shown

    @admin.display(description=_("recipients"), ordering="recipients_count")
    def recipients(self, obj: Broadcast) -> object:
        return obj.recipients_count if obj.frozen_at else "—"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "messages" and field is not None:
            field.help_text = MESSAGES_HELP
        return field

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        def view(method):
            return self.admin_site.admin_view(method)

        return [
            path(
                "<int:pk>/progress/", view(self.progress_view), name="delivery_broadcast_progress"
            ),
            path("<int:pk>/preview/", view(self.preview_view), name="delivery_broadcast_preview"),
            path(
                "<int:pk>/decide/",
                view(require_POST(self.decide_view)),
                name="delivery_broadcast_decide",
            ),
            path(
                "preview/",
                view(require_POST(self.draft_preview_view)),
                name="delivery_broadcast_draft_preview",
            ),
            path(
                "images/",
                view(require_POST(self.image_upload_view)),
                name="delivery_broadcast_image_upload",
            ),
            path(
                "test-resident/",
                view(require_POST(self.test_resident_view)),
                name="delivery_broadcast_test_resident",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request, pk):
        """Polled by the progress bar: sent / failed / skipped / remaining."""
        if not self.has_view_permission(request):
            raise Http404
        broadcast = get_object_or_404(Broadcast, pk=pk)
        return JsonResponse(selectors.broadcast_progress(broadcast=broadcast))

    def preview_view(self, request, pk):
        """The LINE messages the sender will send, for the preview (sample name filled in)."""
        if not self.has_view_permission(request):
            raise Http404
        broadcast = get_object_or_404(Broadcast, pk=pk)
        return JsonResponse(preview.broadcast_preview(broadcast=broadcast))

    def decide_view(self, request, pk):
        """Request approval, approve, send back or cancel, from the broadcast's own page."""
        broadcast = get_object_or_404(Broadcast, pk=pk)
        decision = request.POST.get("decision", "")
        allowed = self._decisions(request, broadcast)
        if decision not in allowed:
            raise PermissionDenied
        service, done = DECISIONS[decision]
        kwargs = {"reason": request.POST.get("reason", "")} if decision == "send_back" else {}
        try:
            service(actor=request.user, broadcast=broadcast, **kwargs)
        except (ServiceError, LineApiError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, done % {"title": broadcast.title}, messages.SUCCESS)
        return redirect("admin:delivery_broadcast_change", broadcast.pk)

    def _decisions(self, request, broadcast: Broadcast) -> list[str]:
        """What this staff member may do to the broadcast now, in the order shown."""
        staff = staff_context(request)
        is_admin = staff.is_operator or staff.is_admin
        editor = staff.has_any(self.edit_roles)
        status = broadcast.status
        allowed = []
        if status == BroadcastStatus.DRAFT and editor:
            allowed.append("submit")
        if status == BroadcastStatus.AWAITING_APPROVAL and is_admin:
            if broadcast.created_by_id != request.user.pk:
                allowed.append("approve")
            allowed.append("send_back")
        if status in services.CANCELLABLE and editor:
            allowed.append("cancel")
        return allowed

    def _approval_panel(self, request, broadcast: Broadcast) -> dict:
        policy = selectors.broadcast_policy(municipality=broadcast.municipality)
        return {
            "decisions": self._decisions(request, broadcast),
            "audience_count": selectors.audience(broadcast=broadcast).count(),
            "approval_required": policy.approval_required,
            "sent_back_reason": selectors.broadcast_sent_back_reason(broadcast=broadcast),
            "is_author": broadcast.created_by_id == request.user.pk,
        }

    def draft_preview_view(self, request):
        """The preview of messages as they are being typed (before or without saving)."""
        if not self.has_view_permission(request):
            raise Http404
        try:
            items = loads_bounded(request.body or b"null", max_depth=CONSOLE_JSON_DEPTH)
            data = preview.items_preview(municipality=_municipality(request), items=items)
        except JsonRefused as refused:
            return JsonResponse({"error": str(refused)}, status=400)
        except ValueError:
            return JsonResponse({"error": gettext("The messages are not valid JSON.")}, status=400)
        except ValidationError as exc:
            return JsonResponse({"error": " ".join(exc.messages)}, status=400)
        return JsonResponse(data)

    def image_upload_view(self, request):
        """Store an image for an image message; answers its public addresses as JSON.

        The municipality is the chosen channel's (looked up in the request's scope, so
        another municipality's channel is a 404), else the staff member's own.
        """
        if not self.has_add_permission(request):
            raise Http404
        # Refused by its declared length, before the view reads the file. (The CSRF check
        # may have parsed the body already: the proxy in front caps request bodies, see
        # README "Running in production".) The margin is the multipart envelope.
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_IMAGE_BYTES + 64 * 1024:
            text = gettext("This image is larger than 10 MB. Make it smaller and try again.")
            return JsonResponse({"error": text}, status=413)
        municipality = _upload_municipality(request)
        upload = request.FILES.get("file")
        if upload is None:
            return JsonResponse({"error": gettext("Choose an image to upload.")}, status=400)
        if municipality is None:  # an operator, before choosing the channel
            return JsonResponse({"error": gettext("Choose the LINE account first.")}, status=400)
        if upload.size > MAX_IMAGE_BYTES:
            text = gettext("This image is larger than 10 MB. Make it smaller and try again.")
            return JsonResponse({"error": text}, status=400)
        try:
            image = broadcast_image_store(
                actor=request.user, municipality=municipality, data=upload.read()
            )
        except ImageRejected as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return JsonResponse(
            {
                "url": image.url,
                "preview_url": image.preview_url,
                "width": image.width,
                "height": image.height,
            }
        )

    def test_resident_view(self, request):
        """Create the staff member's own test resident in the LINE simulator."""
        if not self.has_add_permission(request):
            raise Http404
        channel = get_object_or_404(LineChannel, pk=request.POST.get("channel") or 0)
        try:
            friend = staff_test_resident_simulate(actor=request.user, channel=channel)
        except ServiceError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            text = gettext("Your test resident “%(name)s” is ready in the LINE simulator.")
            self.message_user(request, text % {"name": friend.display_name}, messages.SUCCESS)
        back = request.POST.get("next", "")
        if not back.startswith("/") or back.startswith("//"):
            back = reverse("admin:delivery_broadcast_changelist")
        return HttpResponseRedirect(back)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        testers = self._test_residents(request)
        extra_context = {
            **(extra_context or {}),
            "test_residents": testers,
            # The preview's header shows the account's name as LINE does (no channel ID).
            "channel_names": {str(row["channel"].pk): row["channel"].name for row in testers},
            "composer": composer_config(
                municipality=staff_context(request).municipality,
                upload_url=reverse("admin:delivery_broadcast_image_upload"),
            ),
        }
        response = super().changeform_view(request, object_id, form_url, extra_context)
        saved = getattr(request, "_broadcast_to_test", None)
        if saved is not None:  # after the admin's transaction: LINE is called after commit
            self._test_send_one(request, saved)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            if obj.started_at is not None:  # before, every figure would read 0
                extra_context["progress"] = selectors.broadcast_progress(broadcast=obj)
            extra_context["quota"] = self._quota(obj)
            extra_context["approval"] = self._approval_panel(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        if "_test_send" in request.POST:
            request._broadcast_to_test = obj
            return redirect("admin:delivery_broadcast_change", obj.pk)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_test_send" in request.POST:
            request._broadcast_to_test = obj
            return redirect("admin:delivery_broadcast_change", obj.pk)
        return super().response_change(request, obj)

    def _test_residents(self, request) -> list[dict]:
        """Per channel of the municipality: the staff member's own test residents there."""
        return [
            {
                "channel": channel,
                "friends": staff_test_friends(user=request.user, channel=channel),
                "simulated": simulator_serves(channel_id=channel.channel_id),
            }
            for channel in LineChannel.objects.order_by("pk")
        ]

    def _test_send_one(self, request, broadcast) -> None:
        try:
            sent = services.broadcast_test_send(actor=request.user, broadcast=broadcast)
        except services.NoTestResident as exc:
            self.message_user(
                request, f"{exc} {gettext(HOW_TO_GET_A_TEST_RESIDENT)}", messages.ERROR
            )
            return
        except (ServiceError, LineApiError) as exc:
            self.message_user(request, f"{broadcast.title}: {exc}", messages.ERROR)
            return
        for message in sent:
            self._report_test_message(request, message)

    def _report_test_message(self, request, message) -> None:
        name = message.friend.display_name or message.friend.line_user_id
        if message.status != OutboundStatus.SENT:
            text = gettext("The test to %(name)s was not sent: %(error)s")
            self.message_user(
                request, text % {"name": name, "error": message.error}, messages.ERROR
            )
            return
        text = gettext("Test sent to your test resident %(name)s.") % {"name": name}
        url = simulator_chat_url(
            channel_id=message.channel.channel_id, user_id=message.friend.line_user_id
        )
        if url is not None:
            link = gettext("Open it in the LINE simulator")
            text = format_html('{} <a href="{}">{}</a>', text, url, link)
        self.message_user(request, text, messages.SUCCESS)

    def _quota(self, broadcast):
        try:
            with LineClient(broadcast.channel.access_token) as client:
                quota, used = client.quota(retries=0), client.quota_consumption(retries=0)
        except LineApiError:
            return None
        projected = selectors.audience(broadcast=broadcast).count()
        return {"quota": quota, "used": used, "projected": projected}

    def _each(self, request, queryset, service, done):
        for broadcast in queryset:
            try:
                service(actor=request.user, broadcast=broadcast)
                self.message_user(request, done % {"title": broadcast.title}, messages.SUCCESS)
            except (ServiceError, LineApiError) as exc:
                self.message_user(request, f"{broadcast.title}: {exc}", messages.ERROR)

    @admin.action(description=_("Submit (for approval when required)"))
    def submit(self, request, queryset):
        self._each(request, queryset, services.broadcast_submit, _("Submitted: %(title)s"))

    @admin.action(description=_("Approve"))
    def approve(self, request, queryset):
        if not staff_context(request).has_any({"admin"}):
            self.message_user(request, _("Only a municipality admin can approve."), messages.ERROR)
            return
        self._each(request, queryset, services.broadcast_approve, _("Approved: %(title)s"))

    @admin.action(description=_("Cancel before sending"))
    def cancel(self, request, queryset):
        self._each(request, queryset, services.broadcast_cancel, _("Cancelled: %(title)s"))

    @admin.action(description=_("Send a test to my test resident"))
    def test_send(self, request, queryset):
        for broadcast in queryset:
            self._test_send_one(request, broadcast)


SENDING_FIELDS = frozenset(
    {
        "started_at",
        "frozen_at",
        "finished_at",
        "recipients_count",
        "sent_count",
        "failed_count",
        "skipped_count",
        "error",
    }
)

# decision posted from the broadcast's page → (service, success message)
DECISIONS = {
    "submit": (services.broadcast_submit, _("Submitted: %(title)s")),
    "approve": (services.broadcast_approve, _("Approved: %(title)s")),
    "send_back": (services.broadcast_send_back, _("Sent back to the author: %(title)s")),
    "cancel": (services.broadcast_cancel, _("Cancelled: %(title)s")),
}

HOW_TO_GET_A_TEST_RESIDENT = _(
    "To get one, press “Create my test resident in the LINE simulator” on a broadcast's page"
    " (where the simulator runs), or add the city's LINE account as a friend on your own"
    " phone and ask a municipality admin to link it to you under “Staff test residents”."
)


def _municipality(request):
    """The tenant of the request: the staff member's municipality (operators: the channel's)."""
    municipality = staff_context(request).municipality
    if municipality is None:
        municipality = _channel(request).municipality
    return municipality


def _upload_municipality(request):
    """Whose image it is: the posted channel's municipality (in scope), else the staff's."""
    channel = request.POST.get("channel", "")
    if channel:
        if not channel.isdigit():
            raise Http404
        return get_object_or_404(LineChannel, pk=channel).municipality
    return staff_context(request).municipality
