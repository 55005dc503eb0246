"""Municipality admins manage their staff; every change lands in the audit log."""

import pytest
from django.urls import reverse
from django_scopes import ScopeError, scopes_disabled

from govtech.models import AuditLogEntry, Department, Role, StaffMembership, User
from govtech.services import ServiceError, staff_create, staff_set_roles
from govtech.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


def test_admin_adds_a_staff_member_with_roles(client, admin_user, city):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:govtech_user_add"),
        {
            "email": "new.clerk@demo-city.example",
            "display_name": "新人 職員",
            "is_active": "on",
            "roles": [Role.REVIEWER, Role.DESIGNER],
            "password": "a-long-enough-password-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.clerk@demo-city.example")
    assert user.check_password("a-long-enough-password-2026")
    with tenant_scope(city):
        assert set(StaffMembership.objects.filter(user=user).values_list("role", flat=True)) == {
            Role.REVIEWER,
            Role.DESIGNER,
        }
        actions = set(AuditLogEntry.objects.values_list("action", flat=True))
    assert {"govtech.staff.created", "govtech.staff.roles_changed"} <= actions


def test_admin_changes_roles_and_the_change_is_audited(client, admin_user, designer, city):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:govtech_user_change", args=[designer.pk]),
        {"display_name": "設計 担当", "is_active": "on", "roles": [Role.BROADCASTER]},
    )
    assert response.status_code == 302
    with tenant_scope(city):
        assert list(
            StaffMembership.objects.filter(user=designer).values_list("role", flat=True)
        ) == [Role.BROADCASTER]
        entry = AuditLogEntry.objects.filter(action="govtech.staff.roles_changed").latest("at")
    assert entry.actor == admin_user
    assert entry.data["roles"] == [Role.BROADCASTER]


def test_admin_cannot_edit_staff_of_another_town(client, outsider, designer):
    client.force_login(outsider)
    response = client.post(
        reverse("admin:govtech_user_change", args=[designer.pk]),
        {"display_name": "hijacked", "is_active": "on", "roles": [Role.ADMIN]},
    )
    assert response.status_code == 404
    designer.refresh_from_db()
    assert designer.display_name != "hijacked"


def test_weak_initial_password_is_refused(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:govtech_user_add"),
        {
            "email": "weak@demo-city.example",
            "is_active": "on",
            "roles": [Role.REVIEWER],
            "password": "1234",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="weak@demo-city.example").exists()


def test_staff_create_refuses_an_email_in_use_without_saying_where(city, other_town, designer):
    with pytest.raises(ServiceError) as excinfo:
        staff_create(
            actor=None,
            municipality=other_town,
            email=designer.email.upper(),
            password="another-long-password",
            roles=[Role.ADMIN],
        )
    assert "デモ市" not in str(excinfo.value)


def test_staff_set_roles_refuses_unknown_roles(city, designer):
    with pytest.raises(ServiceError):
        staff_set_roles(actor=None, municipality=city, user=designer, roles=["superhero"])


def test_reviewer_departments_are_stored(city, reviewer):
    with scopes_disabled():
        department = Department.objects.create(municipality=city, name="環境課", code="kankyo")
    staff_set_roles(
        actor=None,
        municipality=city,
        user=reviewer,
        roles=[Role.REVIEWER],
        departments=[department],
    )
    with tenant_scope(city):
        membership = StaffMembership.objects.get(user=reviewer)
        assert list(membership.departments.all()) == [department]


def test_department_change_in_console_is_audited(client, admin_user, city):
    client.force_login(admin_user)
    client.post(reverse("admin:govtech_department_add"), {"name": "税務課", "code": "zeimu"})
    with tenant_scope(city):
        entry = AuditLogEntry.objects.get(action="govtech.department.created")
    assert entry.actor == admin_user
    assert entry.target_label == "税務課"


def test_unscoped_query_on_tenant_model_fails_loudly(city):
    with pytest.raises(ScopeError):
        list(Department.objects.all())


def test_scope_shows_only_own_rows(city, other_town):
    with scopes_disabled():
        Department.objects.create(municipality=city, name="市民課", code="shimin")
        Department.objects.create(municipality=other_town, name="住民課", code="jumin")
    with tenant_scope(city):
        assert list(Department.objects.values_list("code", flat=True)) == ["shimin"]


def test_tenant_scope_refuses_none(db):
    with pytest.raises(ValueError), tenant_scope(None):
        pass
