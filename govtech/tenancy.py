"""Tenant scoping: every query on a tenant-owned model runs inside a municipality scope.

Tenant-owned models use ``django_scopes.ScopedManager(municipality="municipality")``; a
query outside a scope raises ``ScopeError``. The middleware, the webhook and the task base
class enter the scope. Unscoped access is spelled ``scopes_disabled()`` so it can be found
with grep.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django_scopes import scope, scopes_disabled

from govtech.models import Municipality

__all__ = ["no_tenant_scope", "scopes_disabled", "tenant_scope"]


@contextmanager
def tenant_scope(municipality: Municipality) -> Iterator[None]:
    """Run the block with queries restricted to one municipality."""
    if municipality is None:
        # django-scopes treats None as "no filter"; never let that happen by accident.
        raise ValueError("tenant_scope needs a municipality; use no_tenant_scope() for none")
    with scope(municipality=municipality):
        yield


@contextmanager
def no_tenant_scope() -> Iterator[None]:
    """Run the block as someone who belongs to no municipality: tenant queries are empty."""
    with scope(municipality=[]):
        yield
