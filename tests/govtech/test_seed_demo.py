"""seed_demo builds the demo installation and can run again without changing anything."""

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from govtech.models import Municipality, StaffMembership, User
from procedures.models import Procedure, ProcedureVersion

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_complete(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert set(Municipality.objects.values_list("slug", flat=True)) == {"demo-city", "other-town"}
    with scopes_disabled():
        roles = set(
            StaffMembership.objects.filter(municipality__slug="demo-city").values_list(
                "role", flat=True
            )
        )
        live = Procedure.objects.filter(municipality__slug="demo-city", live_version__isnull=False)
        assert live.count() >= 4
        assert ProcedureVersion.objects.count() == live.count()  # the second run published nothing
    assert roles == {"admin", "designer", "reviewer", "broadcaster"}
    assert User.objects.get(email="operator@govtech.example").is_superuser
    assert "designer@demo-city.example" in capsys.readouterr().out


def test_printed_demo_login_works(client):
    call_command("seed_demo")
    response = client.post(
        "/accounts/login/", {"login": "designer@demo-city.example", "password": "demo-pass-2026!"}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_seed_demo_says_nothing_at_verbosity_zero(capsys):
    call_command("seed_demo", verbosity=0)

    assert capsys.readouterr().out == ""
    assert User.objects.filter(email="designer@demo-city.example").exists()
