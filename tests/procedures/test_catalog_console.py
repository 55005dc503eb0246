"""Console pages of the catalog: browse, preview, import, publish, files, updates."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from govtech.models import Vendor
from govtech.tenancy import tenant_scope
from procedures.catalog.services import (
    TemplateMetadata,
    template_import,
    template_publish,
)
from procedures.models import Procedure
from procedures.services import procedure_create, procedure_publish, procedure_save_draft
from tests.factories import DepartmentFactory, UserFactory
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor():
    vendor = Vendor.objects.create(name="govtech starter", slug="govtech-starter")
    vendor.members.add(UserFactory(email="vendor@starter.example"))
    return vendor


@pytest.fixture
def vendor_member(vendor):
    return vendor.members.get()


def publish(vendor, visibility="public", document=None, title="犬の登録事項変更届", **extra):
    metadata = TemplateMetadata(
        title=title, category="ペット", tags=("犬",), visibility=visibility, **extra
    )
    return template_publish(
        actor=None,
        publisher=vendor,
        document=document
        or pet_registration(completion={"ja": "{municipality.name}で受け付けました {reference}"}),
        metadata=metadata,
    )


@pytest.fixture
def version(vendor):
    return publish(vendor)


def changelist():
    return reverse("admin:procedures_template_changelist")


def test_designer_browses_and_filters_the_catalog(
    client, designer, version, vendor, django_assert_max_num_queries
):
    publish(vendor, document=pet_registration(key="other"), title="粗大ごみ")
    client.force_login(designer)
    with django_assert_max_num_queries(25):
        body = client.get(changelist(), {"q": "登録"}).content.decode()
    assert "犬の登録事項変更届" in body and "粗大ごみ" not in body
    body = client.get(changelist(), {"publisher": "vendor:govtech-starter"}).content.decode()
    assert "govtech starter" in body
    assert "粗大ごみ" in client.get(changelist(), {"category": "ペット"}).content.decode()


def test_a_private_template_is_a_404_for_an_outsider(client, outsider, designer, vendor):
    private = publish(vendor, visibility="private")
    url = reverse("admin:procedures_template_change", args=[private.template_id])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert "犬の登録" not in client.get(changelist()).content.decode()
    import_url = reverse("admin:catalog_import", args=[private.template_id])
    assert client.post(import_url, {"version": 1}).status_code == 404


def test_template_page_shows_steps_versions_usage_and_the_preview_hook(
    client, designer, version, outsider, other_town
):
    template_import(actor=None, municipality=other_town, version=version)
    client.force_login(designer)
    url = reverse("admin:procedures_template_change", args=[version.template_id])
    body = client.get(url).content.decode()
    assert "飼い主の氏名を入力してください" in body  # the step list
    assert 'id="line-preview"' in body and 'id="catalog-previews"' in body
    assert "v1" in body
    assert client.get(changelist()).context["cl"].result_list[0].usage == 1


def test_reviewers_do_not_use_the_catalog(client, reviewer, version):
    client.force_login(reviewer)
    assert client.get(changelist()).status_code == 403
    url = reverse("admin:catalog_import", args=[version.template_id])
    assert client.post(url, {"version": 1}).status_code == 403


def test_designer_imports_into_a_department_with_a_new_key(client, designer, city, version):
    department = DepartmentFactory(municipality=city, code="kankyo", name="環境課")
    procedure_create(actor=designer, municipality=city, document=pet_registration())
    client.force_login(designer)
    url = reverse("admin:catalog_import", args=[version.template_id])
    taken = client.post(url, {"version": 1, "department": department.pk})
    assert taken.status_code == 200 and "dog-change" in taken.content.decode()
    response = client.post(url, {"version": 1, "department": department.pk, "key": "dog-2"})
    assert response.status_code == 302
    with tenant_scope(city):
        procedure = Procedure.objects.get(key="dog-2")
    assert procedure.department == department
    assert procedure.source_template_version == version
    assert procedure.draft["completion"]["ja"].startswith("デモ市で受け付けました")


def test_vendor_member_publishes_a_file_and_never_sees_submissions(client, vendor_member, vendor):
    client.force_login(vendor_member)
    upload = SimpleUploadedFile(
        "dog.json", json.dumps(pet_registration()).encode(), content_type="application/json"
    )
    response = client.post(
        reverse("admin:catalog_publish"),
        {
            "vendor": vendor.pk,
            "file": upload,
            "title": "犬の届出",
            "category": "ペット",
            "licence": "CC BY 4.0",
            "visibility": "public",
        },
    )
    assert response.status_code == 302
    assert vendor.templates.get().versions.count() == 1
    assert client.get(reverse("admin:procedures_submission_changelist")).status_code == 403
    assert client.get(reverse("admin:catalog_upload")).status_code == 403


def test_designer_shares_a_published_procedure(client, designer, city):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    client.force_login(designer)
    assert procedure in client.get(reverse("admin:catalog_publish")).context["procedures"]
    response = client.post(
        reverse("admin:catalog_publish"),
        {
            "procedure": procedure.pk,
            "title": "犬の届出",
            "category": "ペット",
            "licence": "CC BY 4.0",
            "visibility": "private",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert city.published_templates.get().visibility == "private"


def test_upload_page_shows_located_errors_and_creates_nothing(client, designer, city):
    broken = pet_registration()
    broken["steps"][0]["type"] = "txt"
    client.force_login(designer)
    upload = SimpleUploadedFile("dog.json", json.dumps(broken).encode())
    response = client.post(reverse("admin:catalog_upload"), {"file": upload})
    assert response.status_code == 200
    assert response.context["errors"][0].startswith('steps[0] (id "owner")')
    with tenant_scope(city):
        assert not Procedure.objects.exists()


def test_procedure_download_is_the_live_document_and_a_404_for_an_outsider(
    client, designer, outsider, city
):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    url = reverse("admin:catalog_procedure_download", args=[procedure.pk])
    client.force_login(designer)
    response = client.get(url)
    assert response["Content-Disposition"] == 'attachment; filename="dog-change-v1.json"'
    assert json.loads(response.content)["format"] == "govtech.procedure.v1"
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_template_download_gives_the_version_document(client, outsider, version):
    client.force_login(outsider)
    url = reverse("admin:catalog_template_download", args=[version.template_id, 1])
    assert json.loads(client.get(url).content) == version.document


def test_update_page_lists_diffs_and_conflicts_and_applies_the_choices(
    client, designer, city, vendor, version, outsider
):
    procedure = template_import(actor=designer, municipality=city, version=version)
    local = json.loads(json.dumps(procedure.draft))
    local["fee"] = 1000
    procedure = procedure_save_draft(
        actor=designer, procedure=procedure, document=local, expected_revision=1
    )
    newer = pet_registration(
        completion={"ja": "{municipality.name}で受け付けました {reference}"}, fee=2000
    )
    newer["steps"][0]["prompt"]["ja"] = "お名前を入力してください"
    publish(vendor, document=newer)
    client.force_login(designer)
    assert client.get(changelist()).context["update_count"] == 1
    updates = client.get(reverse("admin:catalog_updates"))
    assert updates.context["pairs"] == [(procedure, updates.context["pairs"][0][1])]
    url = reverse("admin:catalog_update", args=[procedure.pk])
    page = client.get(url)
    assert [c["where"] for c in page.context["conflicts"]] == ["fee"]
    assert [c["where"] for c in page.context["upstream"]] == ["fee", "steps.owner.prompt"]
    refused = client.post(url, {"expected_revision": 2})
    assert refused.status_code == 200 and refused.context["form"].non_field_errors()
    applied = client.post(url, {"expected_revision": 2, "resolve:fee": "ours"})
    assert applied.status_code == 302
    procedure.refresh_from_db()
    assert procedure.draft["fee"] == 1000
    assert procedure.draft["steps"][0]["prompt"]["ja"] == "お名前を入力してください"
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_import_and_upload_forms_render_with_the_municipalitys_departments(
    client, designer, city, other_town, version
):
    DepartmentFactory(municipality=city, code="kankyo", name="環境課")
    DepartmentFactory(municipality=other_town, code="jumin", name="住民課")
    client.force_login(designer)
    for url in [
        reverse("admin:catalog_import", args=[version.template_id]),
        reverse("admin:catalog_upload"),
    ]:
        body = client.get(url).content.decode()
        assert "環境課" in body and "住民課" not in body


def test_template_page_previews_the_steps_as_line_shows_them(client, designer, city):
    from django.core.management import call_command

    from procedures.catalog.models import Template

    call_command("seed_demo", stdout=io.StringIO())
    template = Template.objects.get(key="bulky-waste")
    client.force_login(designer)
    response = client.get(reverse("admin:procedures_template_change", args=[template.pk]))
    previews = response.context["previews"]
    assert previews["steps"], "no step could be previewed"
    first = previews["steps"][0]["messages"][-1]
    assert first["type"] in {"text", "flex"}
    assert "quickReply" in first or first["type"] == "flex"
    assert 'id="catalog-previews"' in response.content.decode()


@pytest.mark.parametrize(
    "content",
    [
        b'{"k\\ud800": 1}',
        ('{"steps": [{"when": ' + '{"!": ' * 3000 + "true" + "}" * 3000 + "}]}").encode(),
        b"\xff\xfe not utf-8",
    ],
)
def test_upload_page_answers_a_located_error_for_unreadable_files(client, designer, city, content):
    client.force_login(designer)
    upload = SimpleUploadedFile("bad.json", content)
    response = client.post(reverse("admin:catalog_upload"), {"file": upload})
    assert response.status_code == 200
    assert response.context["errors"] or response.context["form"].errors
    with tenant_scope(city):
        assert not Procedure.objects.exists()
