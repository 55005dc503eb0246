"""Who may do what: roles of the signed-in staff member in their current municipality."""

from dataclasses import dataclass, field

from django.http import HttpRequest
from django_scopes import scopes_disabled

from govtech.models import Municipality, Role, StaffMembership, User


@dataclass(frozen=True)
class StaffContext:
    """What the console needs to know about the person behind a request."""

    municipality: Municipality | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    is_operator: bool = False
    is_vendor: bool = False
    # Departments a reviewer is limited to; empty means all of the municipality's.
    reviewer_department_ids: frozenset[int] = field(default_factory=frozenset)

    def has_any(self, roles: set[str] | frozenset[str]) -> bool:
        return self.is_operator or bool(self.roles & roles)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


ANONYMOUS = StaffContext()


def staff_context_for(user: User, *, municipality_id: int | None = None) -> StaffContext:
    """Resolve a user's municipality and roles.

    A user with roles in several municipalities works in one at a time: the one chosen
    in the session (``municipality_id``) when it is theirs, otherwise the first.
    """
    if not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    if user.is_superuser:
        return StaffContext(is_operator=True)
    # Unscoped on purpose: this is how the scope is found in the first place.
    with scopes_disabled():
        memberships = list(StaffMembership.objects.filter(user=user).select_related("municipality"))
    if municipality_id is not None and any(
        m.municipality_id == municipality_id for m in memberships
    ):
        chosen = next(m.municipality for m in memberships if m.municipality_id == municipality_id)
    elif memberships:
        chosen = memberships[0].municipality
    else:
        return StaffContext(is_vendor=user.vendors.exists())
    mine = [m for m in memberships if m.municipality_id == chosen.pk]
    return StaffContext(
        municipality=chosen,
        roles=frozenset(m.role for m in mine),
        reviewer_department_ids=_reviewer_departments(mine),
    )


def _reviewer_departments(memberships: list[StaffMembership]) -> frozenset[int]:
    reviewing = [m.pk for m in memberships if m.role == Role.REVIEWER]
    if not reviewing:
        return frozenset()
    links = StaffMembership.departments.through.objects.filter(staffmembership_id__in=reviewing)
    return frozenset(links.values_list("department_id", flat=True))


def staff_context(request: HttpRequest) -> StaffContext:
    """The request's StaffContext (set by TenantScopeMiddleware)."""
    return getattr(request, "staff", ANONYMOUS)
