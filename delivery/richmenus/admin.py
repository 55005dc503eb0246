"""Console pages of rich menus: the list of menu sets, a set's settings, and its designer
(tabs, areas, image, preview as on a phone, publishing). Municipality admins and
broadcasters; another municipality's set is a 404 like a missing one."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from delivery.broadcasts.models import Segment
from delivery.faq.models import FaqEntry
from delivery.models import LineChannel
from delivery.richmenus import services
from delivery.richmenus.images import MAX_BYTES, MenuImageRejected
from delivery.richmenus.layouts import ACTION_KINDS, LAYOUTS, SIZES, layout_bounds
from delivery.richmenus.models import RichMenuPublication, RichMenuSet, RichMenuTab
from delivery.spots.chat import LOOKING_FOR, looking_for_label
from govtech.console import TenantModelAdmin, console
from procedures.models import Procedure

MENU_ROLES = frozenset({"admin", "broadcaster"})
MAX_AREA_ROWS = 6


SET_FIELDS = ["name", "purpose", "is_default", "segment", "priority"]


class RichMenuSetForm(forms.ModelForm):
    """The admin adds Meta (fields come from the admin, at request time, inside the scope)."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("segment") and cleaned.get("is_default"):
            raise ValidationError(gettext("A menu for a segment cannot also be the default menu."))
        return cleaned


class TabForm(forms.Form):
    key = forms.SlugField(label=_("Key"), max_length=12, help_text=_("For example: life, kids."))
    title = forms.CharField(label=_("Tab title"), max_length=20)
    chat_bar_text = forms.CharField(label=_("Menu bar text"), max_length=14, initial="メニュー")
    layout = forms.ChoiceField(label=_("Layout"), choices=[(k, k) for k in LAYOUTS])


class ImageForm(forms.Form):
    image = forms.FileField(
        label=_("Image"),
        help_text=_("JPEG or PNG, at most 1 MB, exactly the menu's size."),
    )


@admin.register(RichMenuSet, site=console)
class RichMenuSetAdmin(TenantModelAdmin):
    form = RichMenuSetForm
    fields = SET_FIELDS
    list_display = ["name", "purpose", "is_default", "segment", "priority", "revision"]
    view_roles = MENU_ROLES
    edit_roles = MENU_ROLES
    change_form_template = "richmenus/set_change_form.html"

    def has_delete_permission(self, request, obj=None):
        # A live set's menus are at LINE and residents are linked to them: replace it
        # (another set as default, another set for the segment) rather than delete it.
        if obj is not None and obj.publications.filter(status="live").exists():
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        channel = LineChannel.objects.first()
        if channel is None:
            raise Http404
        saved = services.menu_set_save(
            actor=request.user,
            municipality=channel.municipality,
            channel=channel,
            menu_set=obj if change else None,
            **{k: form.cleaned_data[k] for k in SET_FIELDS},
        )
        obj.pk = saved.pk

    def response_add(self, request, obj, post_url_continue=None):
        return redirect("admin:delivery_richmenuset_designer", obj.pk)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "segment":
            kwargs["queryset"] = Segment.objects.all()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        def view(method):
            return self.admin_site.admin_view(method)

        return [
            path(
                "<int:pk>/designer/", view(self.designer_view), name="delivery_richmenuset_designer"
            ),
            path(
                "<int:pk>/tab/<int:tab_pk>/image.png",
                view(self.image_view),
                name="delivery_richmenuset_image",
            ),
            *super().get_urls(),
        ]

    def _menu_set(self, request, pk: int, *, change: bool) -> RichMenuSet:
        menu_set = get_object_or_404(RichMenuSet, pk=pk)  # the request's scope: ours only
        allowed = (
            self.has_change_permission(request, menu_set)
            if change
            else (self.has_view_permission(request, menu_set))
        )
        if not allowed:
            raise Http404
        return menu_set

    def image_view(self, request, pk, tab_pk):
        menu_set = self._menu_set(request, pk, change=False)
        tab = get_object_or_404(RichMenuTab, pk=tab_pk, menu_set=menu_set)
        if tab.image is None:
            raise Http404
        return HttpResponse(bytes(tab.image), content_type=tab.image_content_type)

    def designer_view(self, request, pk):
        menu_set = self._menu_set(request, pk, change=request.method == "POST")
        if request.method == "POST":
            return self._designer_post(request, menu_set)
        return self._designer_page(request, menu_set)

    def _designer_post(self, request, menu_set: RichMenuSet):
        action = request.POST.get("action", "")
        tab = None
        if request.POST.get("tab"):
            tab = get_object_or_404(RichMenuTab, pk=request.POST["tab"], menu_set=menu_set)
        try:
            done = _designer_action(request, menu_set, action, tab)
        except (ValidationError, MenuImageRejected) as error:
            text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            self.message_user(request, text, messages.ERROR)
            return self._designer_page(request, menu_set, status=400)
        self.message_user(request, done, messages.SUCCESS)
        return redirect("admin:delivery_richmenuset_designer", menu_set.pk)

    def _designer_page(self, request, menu_set: RichMenuSet, status: int = 200):
        tabs = list(menu_set.tabs.all())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": menu_set,
            "title": gettext("Rich menu designer: %(name)s") % {"name": menu_set.name},
            "tabs": [_tab_view(tab, menu_set) for tab in tabs],
            "layouts": _layouts(),
            "kinds": list(ACTION_KINDS.items()),
            "choices": _value_choices(),
            "area_rows": range(MAX_AREA_ROWS),
            "publication": menu_set.publications.order_by("-id").first(),
            "live": menu_set.publications.filter(status="live").first(),
            "max_image_kb": MAX_BYTES // 1024,
            "posted": request.POST if request.method == "POST" else {},
        }
        return TemplateResponse(request, "richmenus/designer.html", context, status=status)


def _designer_action(request, menu_set: RichMenuSet, action: str, tab: RichMenuTab | None) -> str:
    actor = request.user
    if action == "save-tab":
        _tab_save(request, menu_set, tab)
        return gettext("The tab was saved.")
    if action == "upload" and tab is not None:
        upload = request.FILES.get("image")
        if upload is None or upload.size > MAX_BYTES:
            raise MenuImageRejected(gettext("The image is larger than 1 MB."))
        services.menu_tab_image_upload(actor=actor, tab=tab, data=upload.read())
        return gettext("The image was uploaded.")
    if action == "generate" and tab is not None:
        services.menu_tab_image_generate(actor=actor, tab=tab)
        return gettext("The image was drawn from the labels.")
    if action == "delete-tab" and tab is not None:
        services.menu_tab_delete(actor=actor, tab=tab)
        return gettext("The tab was deleted.")
    if action == "publish":
        publication = services.menu_set_publish(actor=actor, menu_set=menu_set)
        return gettext("Publishing revision %(n)s to LINE.") % {"n": publication.revision}
    raise ValidationError(gettext("Unknown action."))


def _tab_save(request, menu_set: RichMenuSet, tab: RichMenuTab | None) -> None:
    form = TabForm(request.POST)
    if not form.is_valid():
        raise ValidationError([e for errors in form.errors.values() for e in errors])
    data = form.cleaned_data
    size, bounds = layout_bounds(data["layout"])
    areas = []
    for row in range(len(bounds)):
        kind = request.POST.get(f"area-{row}-kind", "")
        value = request.POST.get(f"area-{row}-value-{kind}", "")
        label = request.POST.get(f"area-{row}-label", "")
        areas.append({"kind": kind, "value": value.strip(), "label": label.strip()})
    services.menu_tab_save(
        actor=request.user,
        menu_set=menu_set,
        tab=tab,
        key=data["key"],
        title=data["title"],
        chat_bar_text=data["chat_bar_text"],
        size=size,
        layout=data["layout"],
        areas=areas,
    )


def _tab_view(tab: RichMenuTab, menu_set: RichMenuSet) -> dict:
    width, height = SIZES[tab.size]
    areas = [
        {
            **area,
            "kind_label": ACTION_KINDS.get(area.get("kind", ""), ""),
            "left": 100 * area["bounds"]["x"] / width,
            "top": 100 * area["bounds"]["y"] / height,
            "width": 100 * area["bounds"]["width"] / width,
            "height": 100 * area["bounds"]["height"] / height,
        }
        for area in tab.areas
    ]
    return {"tab": tab, "areas": areas, "ratio": 100 * height / width}


def _layouts() -> list[dict]:
    return [
        {"name": name, "size": size, "count": len(cells), "cells": _cells(size, cells)}
        for name, (size, cells) in LAYOUTS.items()
    ]


def _cells(size: str, cells) -> list[dict]:
    return [
        {"left": 100 * x, "top": 100 * y, "width": 100 * w, "height": 100 * h}
        for x, y, w, h in cells
    ]


def _value_choices() -> dict[str, list[tuple[str, str]]]:
    procedures = Procedure.objects.filter(live_version__isnull=False).order_by("key")
    return {
        "procedure": [(p.key, str(p)) for p in procedures],
        "faq": [(str(e.pk), e.question) for e in FaqEntry.objects.filter(is_active=True)[:200]],
        "spots": [("", gettext("Ask what to look for"))]
        + [(key, looking_for_label(key)) for key in LOOKING_FOR],
    }


@admin.register(RichMenuPublication, site=console)
class RichMenuPublicationAdmin(TenantModelAdmin):
    list_display = ["menu_set", "revision", "status", "created_at", "published_at", "error"]
    list_select_related = ["menu_set"]
    fields = ["menu_set", "revision", "status", "line_ids", "error", "created_at", "published_at"]
    readonly_fields = fields
    view_roles = MENU_ROLES

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
