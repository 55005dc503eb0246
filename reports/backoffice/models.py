"""Back-office API tokens: a municipality's systems (kintone, 基幹系) read and change its
submissions through ``/api/v1/`` with one of these, never with a staff login."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govtech.models import Department, TenantOwned


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class ApiToken(TenantOwned):
    """A bearer token of one municipality for its back-office systems.

    Only the SHA-256 of the token is stored; the token is shown once, when created.
    ``key_prefix`` (the first 12 characters) finds the row and tells tokens apart.
    ``departments`` limit what it reaches (none: every department); ``scope`` says
    whether it may change statuses. It expires at ``expires_at`` (always set) and is
    refused from ``revoked_at`` on.
    """

    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(
        _("token starts with"),
        max_length=12,
        unique=True,
        editable=False,
        help_text=_("The first characters of the token, to tell tokens apart."),
    )
    key_hash = models.CharField(max_length=64, editable=False)
    scope = models.CharField(
        _("access"), max_length=10, choices=TokenScope.choices, default=TokenScope.READ
    )
    departments = models.ManyToManyField(
        Department,
        blank=True,
        related_name="+",
        verbose_name=_("departments"),
        help_text=_("Only these departments' submissions, bookings and reports; none: all."),
    )
    expires_at = models.DateTimeField(_("expires at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    # The departments' ids, loaded once per request by ``api_token_authenticate``.
    department_ids: frozenset[int] = frozenset()

    class Meta:
        verbose_name = _("back-office API token")
        verbose_name_plural = _("back-office API tokens")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def may_write(self) -> bool:
        return self.scope == TokenScope.WRITE

    def is_expired(self, now=None) -> bool:
        return self.expires_at <= (now or timezone.now())

    @property
    def audit_label(self) -> str:
        """Who acted, in the audit log: there is no staff member behind a token."""
        return f"api-token:{self.key_prefix} {self.name}"[:254]


class ApiIdempotencyKey(TenantOwned):
    """A write made with a client's ``Idempotency-Key``: the same key sent again by the
    same token gets the stored response instead of doing it twice."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.token_id}:{self.key}"
