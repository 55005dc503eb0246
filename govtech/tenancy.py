"""Tenant scoping: every query on a tenant-owned model runs inside a municipality scope.

A tenant-owned model inherits ``govtech.models.TenantOwned`` (the ``municipality`` foreign
key and the scoped manager in one place); a child row without a ``municipality`` of its
own is scoped through its parent with ``objects = tenant_manager("broadcast__municipality")``.
A query outside a scope raises ``ScopeError``. The middleware, the webhook and the task
base class (``govtech.tasks.TenantTask``) enter the scope. Unscoped access is spelled
``scopes_disabled()`` so it can be found with grep.

Every other model of the project is global and named in ``GLOBAL_MODELS`` with the reason;
the system check in ``govtech.checks`` fails for a model that is neither.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import models
from django_scopes import ScopedManager, scope, scopes_disabled

if TYPE_CHECKING:
    from govtech.models import Municipality

__all__ = [
    "GLOBAL_MODELS",
    "OPTIONAL_APP_LABELS",
    "no_tenant_scope",
    "scopes_disabled",
    "tenant_manager",
    "tenant_path_of",
    "tenant_scope",
]

# Models of the project's own apps that belong to no municipality, and why. Anything
# else must be tenant-owned (govtech.checks). Keys are "app_label.ModelName".
GLOBAL_MODELS: dict[str, str] = {
    "govtech.Municipality": "the tenants themselves",
    "govtech.User": "a staff login; its roles per municipality are StaffMembership rows",
    "govtech.Vendor": "publishes catalog templates for every municipality; sees no resident",
    "procedures.Template": "the shared catalog; who sees a template is its visibility",
    "procedures.TemplateVersion": "an immutable document of a catalog template",
    # The LINE simulator emulates LINE's servers, which know nothing of municipalities.
    # An optional app (installed where SIMULATOR_ENABLED): the check skips what is absent.
    "simulator.SimulatorChannel": "LINE simulator state",
    "simulator.SimulatorUser": "LINE simulator state",
    "simulator.SimulatorFriendship": "LINE simulator state",
    "simulator.SimulatorTranscriptEntry": "LINE simulator state",
    "simulator.SimulatorReplyToken": "LINE simulator state",
    "simulator.SimulatorRetryKey": "LINE simulator state",
    "simulator.SimulatorMessageContent": "LINE simulator state",
    "simulator.SimulatorRichMenu": "LINE simulator state",
    "simulator.SimulatorRichMenuAlias": "LINE simulator state",
    "simulator.SimulatorRichMenuLink": "LINE simulator state",
    "simulator.SimulatorNarrowcast": "LINE simulator state",
    "simulator.SimulatorRateCounter": "LINE simulator state",
    "simulator.SimulatorApiCall": "LINE simulator state",
}

# Apps installed only in some deployments (the simulator: never in production). Their
# GLOBAL_MODELS entries are checked where they are installed, as in every test run.
OPTIONAL_APP_LABELS = frozenset({"simulator"})


def tenant_manager(path: str = "municipality") -> models.Manager:
    """A manager whose queries are filtered to the current municipality through ``path``
    (a lookup ending at ``govtech.Municipality``), and raise outside any scope.

    The path is kept on the manager so that the system check can follow it.
    """
    manager = ScopedManager(municipality=path)
    manager.tenant_path = path
    return manager


def tenant_path_of(manager: models.Manager) -> str | None:
    """The lookup a manager made by ``tenant_manager`` scopes through; None for any other."""
    return getattr(manager, "tenant_path", None)


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
