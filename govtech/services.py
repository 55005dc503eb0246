"""Writes of the core: the audit log, municipalities, departments and staff."""

from collections.abc import Iterable
from typing import Any

from allauth.account.adapter import get_adapter as get_account_adapter
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from govtech.models import AuditLogEntry, Department, Municipality, Role, StaffMembership, User
from govtech.tenancy import tenant_scope


class ServiceError(Exception):
    """A business rule refused the operation; the message is safe to show to staff."""


def _client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the login rate limits see it (trusted proxies resolved)."""
    if request is None:
        return None
    try:
        return get_account_adapter().get_client_ip(request)
    except PermissionDenied:
        return None


def audit_log(
    actor: User | None,
    action: str,
    target: Model | None = None,
    data: dict[str, Any] | None = None,
    *,
    municipality: Municipality | None = None,
    request: HttpRequest | None = None,
    actor_label: str = "",
) -> AuditLogEntry:
    """Append one entry to the audit log.

    ``action`` is ``app.model.verb`` (``procedures.procedure.published``). The entry's
    municipality is the given one, else the target's (or the target itself when it is a
    Municipality). Entries are never changed or deleted by the application.
    ``actor_label`` names who acted when no staff member did (a back-office API token).
    """
    if municipality is None and target is not None:
        municipality = (
            target if isinstance(target, Municipality) else getattr(target, "municipality", None)
        )
    entry = AuditLogEntry(
        municipality=municipality,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=(actor.email if actor is not None and actor.pk else actor_label or "system"),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        data=data or {},
        ip_address=_client_ip(request),
    )
    with scopes_disabled():  # writing an entry for any tenant is the point of this function
        entry.save(force_insert=True)
    return entry


def municipality_create(
    *, actor: User | None, name: str, slug: str, prefecture: str, population: int = 0, **extra: Any
) -> Municipality:
    """Create a tenant. Operators only (the caller checks)."""
    municipality = Municipality.objects.create(
        name=name, slug=slug, prefecture=prefecture, population=population, **extra
    )
    audit_log(actor, "govtech.municipality.created", municipality, {"slug": slug})
    return municipality


def department_create(
    *, actor: User | None, municipality: Municipality, name: str, code: str, **extra: Any
) -> Department:
    with tenant_scope(municipality):
        department = Department.objects.create(
            municipality=municipality, name=name, code=code, **extra
        )
    audit_log(actor, "govtech.department.created", department, {"code": code})
    return department


@transaction.atomic
def staff_create(
    *,
    actor: User | None,
    municipality: Municipality,
    email: str,
    password: str | None,
    roles: Iterable[str],
    display_name: str = "",
    departments: Iterable[Department] = (),
) -> User:
    """Create a staff account with roles in one municipality.

    Raises ServiceError when the email is taken (by anyone: accounts are global, and
    which municipality holds it is not revealed).
    """
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ServiceError(_("A staff account with this email address already exists."))
    user = User.objects.create_user(email=email, password=password, display_name=display_name)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    staff_set_roles(
        actor=actor, municipality=municipality, user=user, roles=roles, departments=departments
    )
    audit_log(actor, "govtech.staff.created", user, {"email": email}, municipality=municipality)
    return user


@transaction.atomic
def staff_set_roles(
    *,
    actor: User | None,
    municipality: Municipality,
    user: User,
    roles: Iterable[str],
    departments: Iterable[Department] = (),
) -> list[StaffMembership]:
    """Make ``roles`` exactly the user's roles in this municipality; audited with the diff."""
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ServiceError(_("Unknown role: %(role)s") % {"role": ", ".join(sorted(unknown))})
    departments = list(departments)
    with tenant_scope(municipality):
        existing = {m.role: m for m in StaffMembership.objects.filter(user=user)}
        for role in set(existing) - wanted:
            existing.pop(role).delete()
        for role in wanted - set(existing):
            try:
                with transaction.atomic():
                    existing[role] = StaffMembership.objects.create(
                        municipality=municipality, user=user, role=role
                    )
            except IntegrityError:  # a concurrent request added it: same end state
                existing[role] = StaffMembership.objects.get(user=user, role=role)
        for membership in existing.values():
            membership.departments.set(departments)
    audit_log(
        actor,
        "govtech.staff.roles_changed",
        user,
        {"roles": sorted(wanted), "departments": [d.code for d in departments]},
        municipality=municipality,
    )
    return list(existing.values())
