"""Who sees what in the console: a matrix of roles over the admin pages of the core models."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from govtech.models import AuditLogEntry, Department
from govtech.services import audit_log
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_department(city):
    return DepartmentFactory(municipality=city, code="shimin", name="市民課")


@pytest.fixture
def city_audit_entry(city, admin_user):
    return audit_log(admin_user, "govtech.test.done", city)


# page → {fixture name of the viewer: expected status}
CHANGELISTS = {
    "admin:govtech_department_changelist": {
        "admin_user": 200,
        "designer": 200,
        "reviewer": 200,
        "broadcaster": 200,
        "outsider": 200,
    },
    "admin:govtech_user_changelist": {
        "admin_user": 200,
        "designer": 403,
        "reviewer": 403,
        "broadcaster": 403,
        "outsider": 200,
    },
    "admin:govtech_vendor_changelist": {
        "admin_user": 403,
        "designer": 403,
        "reviewer": 403,
        "broadcaster": 403,
        "outsider": 403,
    },
    "admin:govtech_auditlogentry_changelist": {
        "admin_user": 200,
        "designer": 403,
        "reviewer": 403,
        "broadcaster": 403,
        "outsider": 200,
    },
    "admin:govtech_municipality_changelist": {
        "admin_user": 200,
        "designer": 200,
        "reviewer": 200,
        "broadcaster": 200,
        "outsider": 200,
    },
}


@pytest.mark.parametrize("url_name", list(CHANGELISTS))
@pytest.mark.parametrize(
    "viewer", ["admin_user", "designer", "reviewer", "broadcaster", "outsider"]
)
def test_each_role_gets_the_expected_changelist_status(client, request, url_name, viewer):
    client.force_login(request.getfixturevalue(viewer))
    response = client.get(reverse(url_name))
    assert response.status_code == CHANGELISTS[url_name][viewer]


def test_outsider_lists_none_of_the_citys_rows(
    client, outsider, city, city_department, city_audit_entry, admin_user
):
    client.force_login(outsider)
    pages = [
        "admin:govtech_department_changelist",
        "admin:govtech_user_changelist",
        "admin:govtech_auditlogentry_changelist",
        "admin:govtech_municipality_changelist",
    ]
    for name in pages:
        body = client.get(reverse(name)).content.decode()
        assert "市民課" not in body
        assert "admin@demo-city.example" not in body
        assert "デモ市" not in body


@pytest.mark.parametrize(
    "target",
    ["city_department", "city_audit_entry", "city", "admin_user"],
)
def test_outsider_gets_404_for_the_citys_objects(client, request, outsider, target):
    obj = request.getfixturevalue(target)
    client.force_login(outsider)
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    assert client.get(url).status_code == 404


def test_missing_object_is_the_same_404_as_another_towns(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:govtech_department_change", args=[999999])
    assert client.get(url).status_code == 404


def test_staff_see_their_own_department(client, designer, city_department):
    client.force_login(designer)
    body = client.get(reverse("admin:govtech_department_changelist")).content.decode()
    assert "市民課" in body


def test_only_admins_change_departments(client, designer, admin_user, city_department):
    url = reverse("admin:govtech_department_change", args=[city_department.pk])
    client.force_login(designer)
    assert client.post(url, {"name": "改名", "code": "shimin"}).status_code == 403
    client.force_login(admin_user)
    response = client.post(url, {"name": "市民窓口課", "code": "shimin"})
    assert response.status_code == 302
    with scopes_disabled():
        assert Department.objects.get(pk=city_department.pk).name == "市民窓口課"


def test_admin_creates_department_in_own_municipality_only(client, admin_user, city, other_town):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:govtech_department_add"),
        # A forged municipality is ignored: the field is disabled for staff.
        {"name": "環境課", "code": "kankyo", "municipality": other_town.pk},
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert Department.objects.get(code="kankyo").municipality == city


def test_duplicate_department_code_is_a_form_error_not_a_crash(client, admin_user, city_department):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:govtech_department_add"), {"name": "別の課", "code": "shimin"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors


def test_operator_sees_every_municipality(client, operator, city, other_town):
    client.force_login(operator)
    body = client.get(reverse("admin:govtech_municipality_changelist")).content.decode()
    assert "デモ市" in body and "アザー町" in body


def test_audit_log_list_page_query_count_does_not_grow_with_rows(client, admin_user, city):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(admin_user)
    url = reverse("admin:govtech_auditlogentry_changelist")

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    for n in range(3):
        audit_log(admin_user, f"govtech.test.{n}", city)
    queries_for_page()  # warm: per-process caches (disaster mode's banner) fill up once
    few = queries_for_page()
    for n in range(40):
        audit_log(admin_user, f"govtech.test.more.{n}", city)
    assert queries_for_page() == few <= 15


def test_nobody_edits_the_audit_log(client, admin_user, city_audit_entry):
    client.force_login(admin_user)
    url = reverse("admin:govtech_auditlogentry_change", args=[city_audit_entry.pk])
    response = client.post(url, {"action": "forged"})
    assert response.status_code == 403
    with scopes_disabled():
        assert AuditLogEntry.objects.get(pk=city_audit_entry.pk).action == "govtech.test.done"


def test_console_speaks_japanese_by_default_and_english_on_request(client, admin_user):
    client.force_login(admin_user)
    body = client.get(reverse("admin:index")).content.decode()
    assert "govtech 管理コンソール" in body
    assert "担当課" in body
    english = client.get(reverse("admin:index"), headers={"accept-language": "en"}).content.decode()
    assert "govtech console" in english
