"""Report categories, areas and settings in the console: admins edit, designers read,
reviewers and outsiders see nothing; the standard categories are set up once; an area's
GeoJSON is checked whether pasted or uploaded."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from govtech.tenancy import tenant_scope
from procedures.incidents.models import ReportArea, ReportCategory, ReportSettings
from procedures.models import Procedure
from procedures.services import procedure_create
from tests.procedures.docs import pet_registration
from tests.procedures.incidents.test_routing import (  # noqa: F401 - roads is a fixture
    SQUARE,
    report_document,
    roads,
)

pytestmark = pytest.mark.django_db

CATEGORIES = reverse("admin:procedures_reportcategory_changelist")
STANDARD = reverse("admin:procedures_reportcategory_standard")
NEW_AREA = reverse("admin:procedures_reportarea_add")


def test_designers_read_reviewers_and_outsiders_do_not(client, designer, reviewer, outsider):
    client.force_login(designer)
    body = client.get(CATEGORIES).content.decode()
    assert "標準の種類を作成" not in body
    assert client.post(STANDARD).status_code == 403
    client.force_login(reviewer)
    assert client.get(CATEGORIES).status_code == 403


def test_the_standard_categories_are_made_once_with_published_procedures(
    client, city, admin_user, outsider
):
    client.force_login(admin_user)
    assert "標準の種類を作成" in client.get(CATEGORIES).content.decode()
    client.post(STANDARD)
    client.post(STANDARD)
    with tenant_scope(city):
        categories = list(ReportCategory.objects.select_related("procedure__live_version"))
        assert [c.name for c in categories] == [
            "道路",
            "公園",
            "河川",
            "不法投棄",
            "街路灯",
            "その他",
        ]
        assert all(c.procedure.live_version and c.procedure.kind == "report" for c in categories)
        assert Procedure.objects.count() == 6
    stranger = Client()
    stranger.force_login(outsider)
    assert "道路" not in stranger.get(CATEGORIES).content.decode()


def test_an_area_is_checked_pasted_or_uploaded(client, city, admin_user, roads):  # noqa: F811
    client.force_login(admin_user)
    data = {"municipality": city.pk, "name": "県道", "department": roads.pk, "priority": 10}
    crossing = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    refused = client.post(NEW_AREA, {**data, "geometry": json.dumps(crossing)})
    assert (refused.status_code == 200 and "交差" in refused.content.decode()) or (
        "crosses" in refused.content.decode()
    )
    upload = SimpleUploadedFile(
        "area.geojson", json.dumps({"type": "Feature", "geometry": SQUARE}).encode()
    )
    saved = client.post(NEW_AREA, {**data, "geometry": "", "geojson_file": upload})
    assert saved.status_code == 302
    with tenant_scope(city):
        assert ReportArea.objects.get().geometry == SQUARE


def test_a_category_is_given_one_of_the_municipalitys_report_procedures(
    client, city, admin_user, designer
):
    procedure_create(actor=designer, municipality=city, document=report_document())
    procedure_create(actor=designer, municipality=city, document=pet_registration())
    client.force_login(admin_user)
    body = client.get(reverse("admin:procedures_reportcategory_add")).content.decode()
    assert "道路の通報" in body and "犬の" not in body


def test_a_municipality_has_one_report_settings_row(client, city, admin_user, roads):  # noqa: F811
    client.force_login(admin_user)
    url = reverse("admin:procedures_reportsettings_add")
    data = {
        "municipality": city.pk,
        "default_department": roads.pk,
        "duplicate_radius_m": 50,
        "duplicate_days": 30,
        "public_precision_m": 100,
    }
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 200 and "errorlist" in again.content.decode()
    with tenant_scope(city):
        assert ReportSettings.objects.get().default_department == roads
