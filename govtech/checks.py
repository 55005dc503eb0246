"""System check: every model of the project's own apps is tenant-owned or named global.

Tenant-owned means every manager of the model is a ``tenant_manager`` (``TenantOwned``
gives one) whose lookup leads, through forward relations, to ``govtech.Municipality``.
Third-party apps (auth, sessions, allauth, django_celery_beat…) are not checked: the
project does not decide their tenancy. ``make test`` runs this check through
tests/govtech/test_tenancy_check.py (pytest-django runs no system checks itself).
"""

import sysconfig
from collections.abc import Iterable
from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models.constants import LOOKUP_SEP

from govtech.crypto import fernet
from govtech.tenancy import GLOBAL_MODELS, OPTIONAL_APP_LABELS, tenant_path_of

TAG = "tenancy"
MUNICIPALITY = "govtech.Municipality"
HINT = (
    "Inherit govtech.models.TenantOwned; or scope it through its parent with "
    'objects = tenant_manager("parent__municipality"); or, if it truly belongs to no '
    "municipality, name it in govtech.tenancy.GLOBAL_MODELS with the reason."
)


@checks.register(TAG)
def tenancy_check(app_configs: Iterable[AppConfig] | None = None, **kwargs) -> list:
    """Errors for the project's models that are neither tenant-owned nor global."""
    configs = list(app_configs) if app_configs is not None else list(apps.get_app_configs())
    problems = [
        problem
        for config in configs
        if _is_project_app(config)
        for model in config.get_models()
        for problem in _model_problems(model)
    ]
    if app_configs is None:
        problems += _stale_global_entries()
    return problems


def _is_project_app(config: AppConfig) -> bool:
    """An app whose code is in this repository, not an installed package."""
    path = Path(config.path).resolve()
    packages = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    inside = path.is_relative_to(Path(settings.BASE_DIR).resolve())
    return inside and not any(path.is_relative_to(folder) for folder in packages)


def _model_problems(model: type[models.Model]) -> list[checks.CheckMessage]:
    label = model._meta.label
    if label in GLOBAL_MODELS:
        return []
    managers = model._meta.managers
    unscoped = [manager.name for manager in managers if tenant_path_of(manager) is None]
    if len(unscoped) == len(managers):
        message = f"{label} is neither tenant-owned nor a global model."
        return [checks.Error(message, hint=HINT, obj=model, id="govtech.E001")]
    if unscoped:
        message = f"{label}.{unscoped[0]} is a manager that does not refuse unscoped queries."
        hint = "Every manager of a tenant-owned model must be a tenant_manager()."
        return [checks.Error(message, hint=hint, obj=model, id="govtech.E002")]
    return [
        checks.Error(
            f"{label}: the tenant lookup {path!r} does not lead to {MUNICIPALITY}.",
            hint="Follow foreign keys or one-to-one fields, ending at a municipality.",
            obj=model,
            id="govtech.E003",
        )
        for path in {tenant_path_of(manager) for manager in managers}
        if not _leads_to_municipality(model, path)
    ]


def _leads_to_municipality(model: type[models.Model], path: str | None) -> bool:
    current: type[models.Model] | None = model
    for name in (path or "").split(LOOKUP_SEP):
        try:
            field = current._meta.get_field(name) if current else None
        except FieldDoesNotExist:
            return False
        if not (field and field.concrete and (field.many_to_one or field.one_to_one)):
            return False
        current = field.related_model
    return current is not None and current._meta.label == MUNICIPALITY


def _stale_global_entries() -> list[checks.CheckMessage]:
    """A global entry naming no model would silently exempt a future model of that name."""
    stale = []
    for label in GLOBAL_MODELS:
        app_label = label.partition(".")[0]
        if app_label in OPTIONAL_APP_LABELS and app_label not in apps.app_configs:
            continue  # an optional app this deployment does not install
        try:
            apps.get_model(label)
        except LookupError:
            stale.append(label)
    return [
        checks.Warning(
            f"govtech.tenancy.GLOBAL_MODELS names {label}, which is not a model.",
            hint="Remove the entry, or correct the app label or model name.",
            id="govtech.W001",
        )
        for label in stale
    ]


@checks.register(checks.Tags.security)
def encryption_key_check(app_configs: Iterable[AppConfig] | None = None, **kwargs) -> list:
    """An error when FIELD_ENCRYPTION_KEY holds something that is not a Fernet key: found
    by ``check`` (and ``check --deploy``, ``migrate``) before the first secret is
    encrypted, instead of at the first channel saved in production."""
    try:
        fernet()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="govtech.E010")]
    return []
