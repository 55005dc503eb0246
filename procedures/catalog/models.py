"""The template catalog: procedures shared across municipalities, versioned.

Templates are not tenant-owned: the catalog is shared by design, and who sees a template
is decided by its visibility (``procedures.catalog.selectors.visible_templates``), never
by a tenant scope. A template version is an immutable document with placeholders such
as ``{municipality.name}`` instead of one city's texts.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govtech.models import Municipality, Vendor


class TemplateVisibility(models.TextChoices):
    PUBLIC = "public", _("All municipalities")
    SELECTED = "selected", _("Selected municipalities")
    PRIVATE = "private", _("Only the publisher")


CATEGORIES = [
    "戸籍・住民票",
    "税",
    "子育て",
    "福祉・介護",
    "健康・医療",
    "ごみ・リサイクル",
    "ペット",
    "防災",
    "施設予約",
    "道路・公園",
    "通報",
    "市政・アンケート",
    "アンケート",
    "その他",
]


class Template(models.Model):
    """A catalog entry published by a vendor or by a municipality (exactly one of them)."""

    key = models.SlugField(
        _("key"),
        max_length=100,
        help_text=_("The procedure key importers get (unless it is taken)."),
    )
    publisher_vendor = models.ForeignKey(
        Vendor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="templates",
        verbose_name=_("publishing vendor"),
    )
    publisher_municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="published_templates",
        verbose_name=_("publishing municipality"),
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    category = models.CharField(_("category"), max_length=100, db_index=True)
    # Comma-separated, so that a plain text search finds Japanese tags on every database.
    tags = models.CharField(_("tags"), max_length=300, blank=True)
    licence = models.CharField(_("licence"), max_length=100, default="CC BY 4.0")
    visibility = models.CharField(
        _("visibility"),
        max_length=20,
        choices=TemplateVisibility.choices,
        default=TemplateVisibility.PUBLIC,
    )
    visible_to = models.ManyToManyField(
        Municipality,
        blank=True,
        related_name="+",
        verbose_name=_("visible to"),
        help_text=_("Municipalities that may see it (selected visibility)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("template")
        verbose_name_plural = _("template catalog")
        ordering = ["category", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(publisher_vendor__isnull=True) ^ Q(publisher_municipality__isnull=True),
                name="template_has_one_publisher",
            ),
            models.UniqueConstraint(
                fields=["publisher_vendor", "key"],
                condition=Q(publisher_vendor__isnull=False),
                name="template_key_unique_per_vendor",
            ),
            models.UniqueConstraint(
                fields=["publisher_municipality", "key"],
                condition=Q(publisher_municipality__isnull=False),
                name="template_key_unique_per_municipality",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    @property
    def publisher(self) -> Vendor | Municipality:
        publisher = self.publisher_vendor or self.publisher_municipality
        assert publisher is not None  # noqa: S101 - the check constraint guarantees one
        return publisher

    @property
    def publisher_name(self) -> str:
        return str(self.publisher)


class TemplateVersion(models.Model):
    """One published, immutable document of a template. Rows are only ever inserted."""

    template = models.ForeignKey(
        Template, on_delete=models.CASCADE, related_name="versions", verbose_name=_("template")
    )
    number = models.PositiveIntegerField(_("version"))
    document = models.JSONField(_("document"))
    notes = models.TextField(_("version notes"), blank=True)
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("template version")
        verbose_name_plural = _("template versions")
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="template_version_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template.title} v{self.number}"
