"""The tenancy system check: every model of the project is tenant-owned or named global.

pytest-django runs no system checks, so the project's models are checked here; the
planted models (in an isolated app registry) prove that the check can fail. They are
never saved, so they need no ``__str__``.
"""
# ruff: noqa: DJ008

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import models
from django.test.utils import isolate_apps

from govtech import tenancy
from govtech.models import Municipality, TenantOwned
from govtech.tenancy import tenant_manager


def _tenancy_problems(registry) -> list[str]:
    found = checks.run_checks(app_configs=[registry.get_app_config("govtech")], tags=["tenancy"])
    return [f"{problem.id} {problem.msg}" for problem in found]


def test_every_model_of_the_project_is_tenant_owned_or_global():
    assert checks.run_checks(tags=["tenancy"]) == []


def test_manage_py_check_fails_when_a_global_model_loses_its_entry(monkeypatch):
    monkeypatch.delitem(tenancy.GLOBAL_MODELS, "govtech.Vendor")

    with pytest.raises(SystemCheckError, match=r"govtech\.Vendor is neither tenant-owned"):
        call_command("check", tags=["tenancy"])


def test_a_stale_global_entry_is_reported(monkeypatch):
    monkeypatch.setitem(tenancy.GLOBAL_MODELS, "govtech.Ghost", "removed long ago")

    warnings = checks.run_checks(tags=["tenancy"])

    assert [w.id for w in warnings] == ["govtech.W001"]
    assert "govtech.Ghost" in warnings[0].msg


def test_a_model_with_a_municipality_but_a_plain_manager_is_caught():
    with isolate_apps("govtech") as registry:

        class Leaky(models.Model):
            municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE)

            class Meta:
                app_label = "govtech"

        assert _tenancy_problems(registry) == [
            "govtech.E001 govtech.Leaky is neither tenant-owned nor a global model."
        ]


def test_a_child_row_without_a_scope_of_its_own_is_caught():
    """BroadcastChunk's case before it was scoped through its broadcast."""
    with isolate_apps("govtech") as registry:

        class Parent(TenantOwned):
            class Meta:
                app_label = "govtech"

        class Child(models.Model):
            parent = models.ForeignKey(Parent, on_delete=models.CASCADE)

            class Meta:
                app_label = "govtech"

        assert _tenancy_problems(registry) == [
            "govtech.E001 govtech.Child is neither tenant-owned nor a global model."
        ]


def test_tenant_owned_models_and_children_scoped_through_their_parent_pass():
    with isolate_apps("govtech") as registry:

        class Parent(TenantOwned):
            class Meta:
                app_label = "govtech"

        class Child(models.Model):
            parent = models.ForeignKey(Parent, on_delete=models.CASCADE)

            objects = tenant_manager("parent__municipality")

            class Meta:
                app_label = "govtech"

        assert _tenancy_problems(registry) == []


def test_an_extra_manager_that_sees_every_municipality_is_caught():
    with isolate_apps("govtech") as registry:

        class Owned(TenantOwned):
            everything = models.Manager()

            class Meta:
                app_label = "govtech"

        assert _tenancy_problems(registry) == [
            "govtech.E002 govtech.Owned.everything is a manager that does not refuse"
            " unscoped queries."
        ]


def test_a_scope_lookup_that_does_not_end_at_a_municipality_is_caught():
    with isolate_apps("govtech") as registry:

        class Parent(TenantOwned):
            class Meta:
                app_label = "govtech"

        class Child(models.Model):
            parent = models.ForeignKey(Parent, on_delete=models.CASCADE)

            objects = tenant_manager("parent")  # the parent itself, not its municipality

            class Meta:
                app_label = "govtech"

        assert _tenancy_problems(registry) == [
            "govtech.E003 govtech.Child: the tenant lookup 'parent' does not lead to"
            " govtech.Municipality."
        ]
