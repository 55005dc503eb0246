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
    roles = frozenset(m.role for m in memberships if m.municipality_id == chosen.pk)
    return StaffContext(municipality=chosen, roles=roles)


def staff_context(request: HttpRequest) -> StaffContext:
    """The request's StaffContext (set by TenantScopeMiddleware)."""
    return getattr(request, "staff", ANONYMOUS)
