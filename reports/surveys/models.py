"""Whether a survey's results are public, and how small a published cell may be."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from govtech.models import TenantOwned

DEFAULT_MINIMUM_COUNT = 5


class SurveyPublication(TenantOwned):
    """The public results page of one survey procedure: off until staff turn it on.

    ``minimum_count``: a published cell counting fewer answers is shown as 「-」 (and so
    is whatever would let it be recomputed, ``reports.surveys.suppression``). Written
    only by ``reports.surveys.services.survey_publication_set`` (audited).
    """

    procedure = models.OneToOneField(
        "procedures.Procedure",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("procedure"),
    )
    is_public = models.BooleanField(_("results published"), default=False)
    minimum_count = models.PositiveSmallIntegerField(
        _("smallest count shown"),
        default=DEFAULT_MINIMUM_COUNT,
        validators=[MinValueValidator(2), MaxValueValidator(100)],
        help_text=_("Public cells with fewer answers are hidden as 「-」."),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey result")
        verbose_name_plural = _("survey results")
        ordering = ["procedure"]

    def __str__(self) -> str:
        return str(self.procedure)
