"""Rich menu sets, their tabs, their publications at LINE, which menu each friend
should have, and the bulk link requests that bring LINE in step.

Written only by ``delivery.richmenus.services`` (the designer), ``publishing`` and
``linking`` (the tasks' side).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from delivery.broadcasts.models import Segment
from govtech.models import TenantOwned

__all__ = [
    "FriendRichMenu",
    "LinkChunkStatus",
    "MenuPurpose",
    "MenuSize",
    "PublicationStatus",
    "RichMenuChannelState",
    "RichMenuLinkChunk",
    "RichMenuPublication",
    "RichMenuSet",
    "RichMenuTab",
]


class MenuPurpose(models.TextChoices):
    NORMAL = "normal", _("Everyday")
    DISASTER = "disaster", _("Disaster mode")


class MenuSize(models.TextChoices):
    LARGE = "large", _("Large (2500 × 1686)")
    COMPACT = "compact", _("Compact (2500 × 843)")


class RichMenuSet(TenantOwned):
    """Menus shown together: one tab each, switched by rich menu aliases.

    Everyday sets are the channel's default (``is_default``) or one segment's per-user
    menu (``segment``, the highest ``priority`` wins when a resident is in several). A
    disaster set replaces every resident's menu while disaster mode is on.
    ``revision`` grows with every edit; publishing freezes the set as it is.
    """

    channel = models.ForeignKey(
        "delivery.LineChannel",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("LINE channel"),
    )
    name = models.CharField(_("name"), max_length=100)
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=MenuPurpose.choices, default=MenuPurpose.NORMAL
    )
    is_default = models.BooleanField(
        _("default menu"),
        default=False,
        help_text=_("Shown to every friend who has no menu of their own."),
    )
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("segment"),
        help_text=_("Residents in this segment get this menu instead of the default."),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=0,
        help_text=_("When a resident is in several segments, the higher wins."),
    )
    revision = models.PositiveIntegerField(_("revision"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("rich menu")
        verbose_name_plural = _("rich menus")
        ordering = ["-priority", "name"]

    def __str__(self) -> str:
        return self.name


class RichMenuTab(TenantOwned):
    """One tab of a set: one LINE rich menu. ``areas`` is a list of
    ``{"bounds": {"x", "y", "width", "height"}, "kind", "value", "label"}`` (``layouts``)."""

    menu_set = models.ForeignKey(RichMenuSet, on_delete=models.CASCADE, related_name="tabs")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    key = models.SlugField(_("key"), max_length=12)
    title = models.CharField(_("tab title"), max_length=20)
    chat_bar_text = models.CharField(_("menu bar text"), max_length=14, default="メニュー")
    size = models.CharField(_("size"), max_length=10, choices=MenuSize.choices)
    layout = models.CharField(_("layout"), max_length=20, blank=True)
    areas = models.JSONField(_("tap areas"), default=list)
    image = models.BinaryField(_("image"), null=True, blank=True)
    image_content_type = models.CharField(max_length=20, blank=True)
    image_generated = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("rich menu tab")
        verbose_name_plural = _("rich menu tabs")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["menu_set", "key"], name="richmenu_tab_key_unique")
        ]

    def __str__(self) -> str:
        return self.title


class PublicationStatus(models.TextChoices):
    PENDING = "pending", _("Publishing")
    LIVE = "live", _("Live")
    FAILED = "failed", _("Failed")
    RETIRED = "retired", _("Replaced")


class RichMenuPublication(TenantOwned):
    """One revision of a set at LINE. ``document`` is the frozen set (tabs, LINE bodies,
    image digests); ``line_ids`` fills in as the task creates menus ({tab key: richMenuId})
    and ``images_done`` as it uploads, so a task that runs again resumes where it stopped.
    ``fingerprint`` identifies the content: publishing the same content again does nothing."""

    menu_set = models.ForeignKey(RichMenuSet, on_delete=models.CASCADE, related_name="publications")
    revision = models.PositiveIntegerField()
    fingerprint = models.CharField(max_length=64)
    document = models.JSONField()
    status = models.CharField(
        max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.PENDING
    )
    line_ids = models.JSONField(default=dict)
    images = models.JSONField(default=dict, help_text="{tab key: [content type, base64]}")
    images_done = models.JSONField(default=list)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When its menus were deleted at LINE (once replaced)."
    )
    created_by = models.ForeignKey(
        "govtech.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rich menu publication")
        verbose_name_plural = _("rich menu publications")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.menu_set_id} r{self.revision} {self.status}"

    @property
    def first_line_id(self) -> str:
        tabs = self.document.get("tabs") or []
        return self.line_ids.get(tabs[0]["key"], "") if tabs else ""


class RichMenuChannelState(TenantOwned):
    """What this channel's residents should see: disaster mode on or off (told by
    ``disaster_mode_changed``) and the default menu last set at LINE."""

    channel = models.OneToOneField(
        "delivery.LineChannel", on_delete=models.CASCADE, related_name="+"
    )
    disaster_active = models.BooleanField(default=False)
    default_line_id = models.CharField(max_length=60, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.channel_id} disaster={self.disaster_active}"


class FriendRichMenu(TenantOwned):
    """Which everyday menu set a friend should have (their segment's; none: the default),
    kept while disaster mode covers it so that switching off restores it exactly.
    ``planned_line_id`` is what a link request was written for, ``linked_line_id`` what
    LINE confirmed ("": no per-user menu, the default shows)."""

    friend = models.OneToOneField("delivery.Friend", on_delete=models.CASCADE, related_name="+")
    menu_set = models.ForeignKey(
        RichMenuSet, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    planned_line_id = models.CharField(max_length=60, blank=True)
    linked_line_id = models.CharField(max_length=60, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["menu_set"], name="friend_richmenu_set")]

    def __str__(self) -> str:
        return f"{self.friend_id} → {self.menu_set_id}"


class LinkChunkStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RichMenuLinkChunk(TenantOwned):
    """One bulk link (or, with an empty ``line_id``, bulk unlink) request of ≤ 500 users:
    the intent row, claimed by one sender with a conditional UPDATE."""

    channel = models.ForeignKey("delivery.LineChannel", on_delete=models.CASCADE, related_name="+")
    line_id = models.CharField(max_length=60, blank=True)
    friend_ids = models.JSONField()
    status = models.CharField(
        max_length=10, choices=LinkChunkStatus.choices, default=LinkChunkStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "status"], name="richmenu_chunk_pending")]

    def __str__(self) -> str:
        return f"{self.line_id or 'unlink'} × {len(self.friend_ids)} {self.status}"
