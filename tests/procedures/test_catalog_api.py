"""The catalog API: list with filters, detail with versions, import; outsiders see no private."""

import pytest
from django.urls import reverse

from govtech.models import Vendor
from govtech.tenancy import tenant_scope
from procedures.catalog.services import TemplateMetadata, template_publish
from procedures.models import Procedure
from tests.factories import DepartmentFactory, UserFactory
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor():
    vendor = Vendor.objects.create(name="Acme", slug="acme")
    vendor.members.add(UserFactory(email="member@acme.example"))
    return vendor


def publish(publisher, visibility="public", key="dog-change", category="ペット"):
    metadata = TemplateMetadata(title=f"{key} 届", category=category, visibility=visibility)
    document = pet_registration(key=key)
    return template_publish(actor=None, publisher=publisher, document=document, metadata=metadata)


@pytest.fixture
def public(vendor):
    return publish(vendor)


@pytest.fixture
def private(city):
    return publish(city, visibility="private", key="city-only")


def list_url():
    return reverse("api-catalog-template-list")


def test_listing_needs_a_session(client, public):
    assert client.get(list_url()).status_code == 403


def test_listing_filters_by_words_category_and_publisher(client, designer, public, vendor):
    publish(vendor, key="bulky", category="ごみ・リサイクル")
    client.force_login(designer)
    everything = client.get(list_url()).json()
    assert {t["key"] for t in everything} == {"dog-change", "bulky"}
    assert [t["key"] for t in client.get(list_url(), {"category": "ペット"}).json()] == [
        "dog-change"
    ]
    assert [t["key"] for t in client.get(list_url(), {"q": "bulky"}).json()] == ["bulky"]
    by_city = client.get(list_url(), {"publisher": "municipality:demo-city"}).json()
    assert by_city == []
    first = client.get(list_url(), {"publisher": "vendor:acme"}).json()[0]
    assert first["publisher"] == {"type": "vendor", "slug": "acme", "name": "Acme"}
    assert first["latest_version"] == 1 and first["usage"] == 0


def test_an_outsider_does_not_list_or_read_a_private_template(client, outsider, private, public):
    client.force_login(outsider)
    assert [t["key"] for t in client.get(list_url()).json()] == ["dog-change"]
    url = reverse("api-catalog-template-detail", args=[private.template_id])
    assert client.get(url).status_code == 404
    import_url = reverse("api-catalog-template-import", args=[private.template_id])
    assert client.post(import_url, {}, content_type="application/json").status_code == 404


def test_detail_has_versions_and_the_latest_document(client, designer, private):
    client.force_login(designer)
    url = reverse("api-catalog-template-detail", args=[private.template_id])
    body = client.get(url).json()
    assert body["visibility"] == "private"
    assert [v["number"] for v in body["versions"]] == [1]
    assert body["document"]["key"] == "city-only"


def test_import_creates_a_draft_with_provenance_in_the_callers_municipality(
    client, outsider, other_town, public
):
    DepartmentFactory(municipality=other_town, code="jumin", name="住民課")
    client.force_login(outsider)
    url = reverse("api-catalog-template-import", args=[public.template_id])
    response = client.post(url, {"department": "jumin"}, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["key"] == "dog-change" and body["department"] == "jumin"
    assert (body["template"], body["template_version"]) == (public.template_id, 1)
    with tenant_scope(other_town):
        assert Procedure.objects.get(pk=body["id"]).source_template_version == public


def test_import_reports_a_taken_key_and_a_bad_key(client, designer, public):
    client.force_login(designer)
    url = reverse("api-catalog-template-import", args=[public.template_id])
    assert client.post(url, {}, content_type="application/json").status_code == 201
    taken = client.post(url, {}, content_type="application/json")
    assert taken.status_code == 400 and "dog-change" in taken.json()["detail"]
    bad = client.post(url, {"key": "Bad Key"}, content_type="application/json")
    assert bad.status_code == 400


def test_reviewers_and_vendors_cannot_import(client, reviewer, vendor, public):
    url = reverse("api-catalog-template-import", args=[public.template_id])
    client.force_login(reviewer)
    assert client.post(url, {}, content_type="application/json").status_code == 403
    client.force_login(vendor.members.get())
    assert client.get(list_url()).status_code == 200
    assert client.post(url, {}, content_type="application/json").status_code == 403


def test_the_endpoints_are_in_the_openapi_schema(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/catalog/templates/" in paths
    assert "/api/v1/catalog/templates/{id}/import/" in paths
    operation = paths["/api/v1/catalog/templates/{id}/import/"]["post"]
    assert set(operation["responses"]) >= {"201", "400"}
