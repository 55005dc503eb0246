"""The core: municipalities (tenants), departments, staff roles, vendors and the audit log."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from govtech.tenancy import tenant_manager

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", _("Use lowercase letters, digits and hyphens.")
)


class StaffUserManager(UserManager):
    """Users log in by email; the username is kept equal to it for Django's admin."""

    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email or username)
        return super()._create_user(email, email, password, **extra_fields)

    def create_user(self, email=None, password=None, **extra_fields):
        return super().create_user(email, email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        return super().create_superuser(email, email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in to the console: municipal staff, vendor staff or an operator.

    Residents are not users; they are LINE friends (delivery.Friend).
    """

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    objects = StaffUserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")

    def __str__(self) -> str:
        return self.display_name or self.email


class Municipality(models.Model):
    """A tenant: one city, town or village and everything it owns."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), unique=True, validators=[slug_validator])
    prefecture = models.CharField(_("prefecture"), max_length=20)
    population = models.PositiveIntegerField(
        _("population"), default=0, help_text=_("Used for the friends / population coverage ratio.")
    )
    reference_prefix = models.CharField(
        _("reference number prefix"),
        max_length=8,
        blank=True,
        help_text=_("Submission numbers look like DC-2026-000123; empty: initials of the slug."),
    )
    mfa_required_for_all = models.BooleanField(
        _("require MFA for all staff"),
        default=False,
        help_text=_("Admins always need MFA; this extends the rule to every role."),
    )
    # A database default too: migration tests build rows with models of before this field.
    resident_languages = models.CharField(
        _("residents' languages"),
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "The languages residents can choose in LINE, as codes separated by spaces: ja, "
            "ja-x-easy, en, zh-Hans, zh-Hant, ko, vi, pt, es, ne, id, tl. Empty: all of them."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def submission_prefix(self) -> str:
        return self.reference_prefix or "".join(part[0] for part in self.slug.split("-")).upper()


class TenantOwned(models.Model):
    """Base of every model whose rows belong to one municipality.

    The non-null ``municipality`` and a manager that refuses queries outside a tenant
    scope (``govtech.tenancy``). A subclass may redeclare ``municipality`` (another
    related name, a one-to-one) but keeps the manager; the system check verifies both.
    """

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )

    objects = tenant_manager()

    class Meta:
        abstract = True


class Department(TenantOwned):
    """A department (課) of a municipality; submissions are routed to one."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=50, validators=[slug_validator])
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["municipality", "code"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "code"], name="department_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Municipality admin")
    DESIGNER = "designer", _("Procedure designer")
    REVIEWER = "reviewer", _("Reviewer")
    BROADCASTER = "broadcaster", _("Broadcaster")


class StaffMembership(TenantOwned):
    """One role of one staff user in one municipality. A user may hold several roles."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    departments = models.ManyToManyField(
        Department,
        blank=True,
        verbose_name=_("departments"),
        help_text=_("Reviewers handle the submissions of these departments (all when empty)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        ordering = ["user__email", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "user", "role"], name="membership_role_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Vendor(models.Model):
    """An organisation that publishes templates. It never sees residents or submissions."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True, validators=[slug_validator])
    website = models.URLField(_("website"), blank=True)
    members = models.ManyToManyField(
        User, blank=True, related_name="vendors", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class AuditLogEntry(TenantOwned):
    """An append-only record of a staff action or a view of resident personal data.

    ``municipality`` is null only for platform-level actions (an operator's login, a
    vendor's action); those entries are visible to platform operators alone.
    """

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.CharField(_("target type"), max_length=100, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["municipality", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


__all__ = [
    "AuditLogEntry",
    "Department",
    "Municipality",
    "Role",
    "StaffMembership",
    "User",
    "Vendor",
]
