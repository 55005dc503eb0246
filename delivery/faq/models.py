"""FAQ answers: the garbage-sorting list (ゴミの品目 of the standard open data) and general
questions, and what residents asked that nothing answered. Written only by
``delivery.faq.services``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from govtech.models import TenantOwned

__all__ = ["FaqDay", "FaqEntry", "FaqKind", "UnansweredQuestion"]


class FaqKind(models.TextChoices):
    GARBAGE = "garbage", _("Garbage sorting")
    GENERAL = "general", _("General question")


class FaqEntry(TenantOwned):
    """One thing residents ask about: an item to throw away (its sorting category, notes,
    the bulky-waste fee) or a question with its answer. ``search_keys`` are the
    question, its reading and its synonyms normalized for matching."""

    kind = models.CharField(_("kind"), max_length=10, choices=FaqKind.choices)
    question = models.CharField(_("question or item"), max_length=200)
    reading = models.CharField(_("reading (kana)"), max_length=200, blank=True)
    question_en = models.CharField(_("in English"), max_length=200, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    sorting = models.CharField(
        _("sorting category"), max_length=100, blank=True, help_text=_("分別区分, e.g. 燃やすごみ.")
    )
    notes = models.TextField(_("notes"), blank=True, help_text=_("注意点."))
    remarks = models.TextField(_("remarks"), blank=True)
    fee = models.CharField(_("bulky waste fee"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    synonyms = models.JSONField(_("other words for it"), default=list, blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    procedure_key = models.CharField(
        _("procedure to start"),
        max_length=80,
        blank=True,
        help_text=_("The key of a procedure the answer offers to start (e.g. bulky-waste)."),
    )
    search_keys = models.JSONField(_("search keys"), default=list, blank=True)
    is_active = models.BooleanField(_("answering"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["kind", "question"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "kind", "question"], name="faq_entry_question_unique"
            )
        ]

    def __str__(self) -> str:
        return self.question


class UnansweredQuestion(TenantOwned):
    """What residents typed that no keyword, FAQ entry or suggestion matched, counted by
    its normalized form, for staff to add to the FAQ."""

    normalized = models.CharField(_("normalized"), max_length=200)
    text = models.CharField(_("as typed"), max_length=200)
    count = models.PositiveIntegerField(_("times asked"), default=1)
    first_asked_at = models.DateTimeField(_("first asked"))
    last_asked_at = models.DateTimeField(_("last asked"))
    answered_by = models.ForeignKey(
        FaqEntry,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added to the FAQ as"),
    )

    class Meta:
        verbose_name = _("unanswered question")
        verbose_name_plural = _("unanswered questions")
        ordering = ["-count", "-last_asked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "normalized"], name="unanswered_question_unique"
            )
        ]

    def __str__(self) -> str:
        return self.text


class FaqDay(TenantOwned):
    """How the FAQ did on one day (Asia/Tokyo): answered directly, offered 「もしかして」,
    not answered. The hit rate is answered ÷ all."""

    day = models.DateField(_("day"))
    answered = models.PositiveIntegerField(_("answered"), default=0)
    suggested = models.PositiveIntegerField(_("suggested"), default=0)
    unanswered = models.PositiveIntegerField(_("not answered"), default=0)

    class Meta:
        verbose_name = _("FAQ day")
        verbose_name_plural = _("FAQ days")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "day"], name="faq_day_unique")
        ]
