"""The template catalog's services: publish, import, provenance, three-way updates, files."""

import json

import pytest
from django.utils.translation import override
from django_scopes import scopes_disabled

from govtech.models import AuditLogEntry, Role, Vendor
from govtech.services import ServiceError
from govtech.tenancy import no_tenant_scope, tenant_scope
from procedures.catalog.models import TemplateVersion, TemplateVisibility
from procedures.catalog.selectors import (
    available_update,
    catalog_search,
    catalog_viewer,
    template_for,
    template_update_preview,
)
from procedures.catalog.services import (
    TemplateMetadata,
    UnresolvedConflicts,
    procedure_upload,
    template_import,
    template_publish,
    template_publish_procedure,
    template_update_apply,
)
from procedures.engine import TextInput
from procedures.models import Procedure, Submission
from procedures.runtime import resident_input
from procedures.services import (
    DocumentRejected,
    DraftConflict,
    procedure_create,
    procedure_publish,
    procedure_save_draft,
)
from tests.factories import DepartmentFactory, UserFactory, staff_member
from tests.factories import resident as resident_of
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db

METADATA = TemplateMetadata(title="犬の登録事項変更届", category="ペット", tags=("犬",))


def city_document():
    return pet_registration(
        description={"ja": "デモ市環境課への届出です。", "en": "A notification to Demo City."},
    )


@pytest.fixture
def source(city, designer):
    """demo-city's own procedure, published, with a department whose name it mentions."""
    department = DepartmentFactory(municipality=city, code="kankyo", name="環境課")
    procedure = procedure_create(
        actor=designer, municipality=city, document=city_document(), department=department
    )
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


@pytest.fixture
def published(source, designer):
    return template_publish_procedure(actor=designer, procedure=source, metadata=METADATA)


@pytest.fixture
def town_designer(other_town):
    return staff_member(other_town, Role.DESIGNER, email="designer@other-town.example")


@pytest.fixture
def imported(published, other_town, town_designer):
    return template_import(actor=town_designer, municipality=other_town, version=published)


@pytest.fixture
def vendor():
    vendor = Vendor.objects.create(name="Acme", slug="acme")
    vendor.members.add(UserFactory(email="member@acme.example"))
    return vendor


def viewer_of(user, municipality=None):
    from govtech.access import staff_context_for

    return catalog_viewer(user=user, staff=staff_context_for(user))


def edit(procedure, change, actor=None):
    document = json.loads(json.dumps(procedure.draft))
    change(document)
    return procedure_save_draft(
        actor=actor,
        procedure=procedure,
        document=document,
        expected_revision=procedure.draft_revision,
    )


def step(document, step_id):
    return next(s for s in document["steps"] if s["id"] == step_id)


def publish_v2(source, designer, change):
    edit(source, change, designer)
    procedure_publish(actor=designer, procedure=source)
    return template_publish_procedure(actor=designer, procedure=source, metadata=METADATA)


# --- publishing ---------------------------------------------------------------------------


def test_publishing_replaces_the_city_and_department_by_placeholders(published):
    assert published.number == 1
    assert published.template.publisher_municipality.slug == "demo-city"
    description = published.document["description"]
    assert description["ja"] == "{municipality.name}{department.name}への届出です。"


def test_publishing_the_same_document_again_adds_no_version(source, designer, published):
    again = template_publish_procedure(actor=designer, procedure=source, metadata=METADATA)
    assert again == published
    assert TemplateVersion.objects.count() == 1


def test_publishing_refuses_a_step_asking_for_a_my_number(vendor):
    document = pet_registration()
    document["steps"][0] = {"id": "no", "type": "text", "prompt": {"ja": "マイナンバーを入力"}}
    with pytest.raises(DocumentRejected) as refused:
        template_publish(actor=None, publisher=vendor, document=document, metadata=METADATA)
    assert [error.code for error in refused.value.errors] == ["my_number"]


def test_only_members_publish_for_a_vendor_and_only_designers_for_a_city(vendor, city, reviewer):
    with pytest.raises(ServiceError):
        template_publish(
            actor=reviewer, publisher=vendor, document=pet_registration(), metadata=METADATA
        )
    with pytest.raises(ServiceError):
        template_publish(
            actor=reviewer, publisher=city, document=pet_registration(), metadata=METADATA
        )
    member = vendor.members.get()
    version = template_publish(
        actor=member, publisher=vendor, document=pet_registration(), metadata=METADATA
    )
    assert version.template.publisher_vendor == vendor
    with scopes_disabled():  # a vendor's entries belong to no municipality
        entry = AuditLogEntry.objects.get(action="procedures.template.published")
    assert entry.municipality is None and entry.actor == member


# --- import and provenance -------------------------------------------------------------


def test_import_fills_placeholders_and_records_provenance(imported, published, other_town):
    assert imported.municipality == other_town
    assert imported.live_version is None  # a draft until the town publishes it
    assert imported.source_template_version == published
    assert imported.draft["description"]["ja"].startswith("アザー町")
    assert imported.base_document == imported.draft
    with tenant_scope(other_town):
        entry = AuditLogEntry.objects.get(action="procedures.procedure.imported_from_template")
    assert entry.data == {"template": published.template_id, "version": 1, "key": "dog-change"}


def test_import_needs_a_new_key_when_the_key_is_taken(published, city, designer):
    with pytest.raises(ServiceError, match="dog-change"):
        template_import(actor=designer, municipality=city, version=published)
    copy = template_import(actor=designer, municipality=city, version=published, key="dog-2")
    assert copy.key == "dog-2" and copy.draft["key"] == "dog-2"


def test_a_new_template_version_never_changes_what_importers_have(
    imported, source, designer, other_town
):
    before = imported.draft
    publish_v2(source, designer, lambda d: d.update(fee=2000))
    with tenant_scope(other_town):
        assert Procedure.objects.get(pk=imported.pk).draft == before


# --- updates: three-way -------------------------------------------------------------------


def test_update_without_conflicts_keeps_local_edits_and_takes_the_template_changes(
    imported, source, designer, other_town, town_designer
):
    with tenant_scope(other_town):
        local = edit(imported, lambda d: step(d, "owner")["prompt"].update(ja="お名前は？"))
    v2 = publish_v2(source, designer, lambda d: d.update(fee=2000))
    with tenant_scope(other_town):
        procedure = Procedure.objects.get(pk=imported.pk)
        assert available_update(procedure=procedure) == v2
        preview = template_update_preview(procedure=procedure, version=v2)
        assert [c.where for c in preview.upstream] == ["fee"]
        assert [c.where for c in preview.local] == ["steps.owner.prompt"]
        updated = template_update_apply(
            actor=town_designer,
            procedure=procedure,
            version=v2,
            expected_revision=local.draft_revision,
        )
        assert available_update(procedure=updated) is None
    assert updated.draft["fee"] == 2000
    assert step(updated.draft, "owner")["prompt"]["ja"] == "お名前は？"
    assert updated.source_template_version == v2
    assert updated.draft_revision == local.draft_revision + 1
    with tenant_scope(other_town):
        entry = AuditLogEntry.objects.get(action="procedures.procedure.template_update_applied")
    assert entry.data["from_version"] == 1 and entry.data["to_version"] == 2


def test_update_with_a_conflict_is_refused_until_each_conflict_is_resolved(
    imported, source, designer, other_town, town_designer
):
    with tenant_scope(other_town):
        local = edit(imported, lambda d: d.update(fee=1000))
    v2 = publish_v2(source, designer, lambda d: d.update(fee=2000))
    with tenant_scope(other_town):
        procedure = Procedure.objects.get(pk=imported.pk)
        with pytest.raises(UnresolvedConflicts) as refused:
            template_update_apply(
                actor=town_designer,
                procedure=procedure,
                version=v2,
                expected_revision=local.draft_revision,
            )
        assert [c.where for c in refused.value.conflicts] == ["fee"]
        assert Procedure.objects.get(pk=imported.pk).draft["fee"] == 1000  # nothing changed
        kept = template_update_apply(
            actor=town_designer,
            procedure=procedure,
            version=v2,
            expected_revision=local.draft_revision,
            resolutions={"fee": "ours"},
        )
    assert kept.draft["fee"] == 1000 and kept.source_template_version == v2


def test_update_takes_theirs_where_chosen_and_checks_the_draft_revision(
    imported, source, designer, other_town, town_designer
):
    with tenant_scope(other_town):
        local = edit(imported, lambda d: d.update(fee=1000))
    v2 = publish_v2(source, designer, lambda d: d.update(fee=2000))
    with tenant_scope(other_town):
        procedure = Procedure.objects.get(pk=imported.pk)
        with pytest.raises(DraftConflict):
            template_update_apply(
                actor=town_designer,
                procedure=procedure,
                version=v2,
                expected_revision=local.draft_revision - 1,
                resolutions={"fee": "theirs"},
            )
        taken = template_update_apply(
            actor=town_designer,
            procedure=procedure,
            version=v2,
            expected_revision=local.draft_revision,
            resolutions={"fee": "theirs"},
        )
    assert taken.draft["fee"] == 2000


# --- visibility -----------------------------------------------------------------------------


def test_a_private_template_is_invisible_to_other_municipalities(
    source, designer, outsider, other_town
):
    private = TemplateMetadata(title="内部用", category="ペット", visibility="private")
    version = template_publish_procedure(actor=designer, procedure=source, metadata=private)
    assert template_for(viewer=viewer_of(designer), pk=version.template_id) is not None
    assert template_for(viewer=viewer_of(outsider), pk=version.template_id) is None
    assert not catalog_search(viewer=viewer_of(outsider)).exists()
    with pytest.raises(ServiceError):
        template_import(actor=outsider, municipality=other_town, version=version)


def test_selected_visibility_shows_the_template_to_the_chosen_municipalities_only(
    vendor, other_town, outsider, designer
):
    metadata = TemplateMetadata(
        title="限定公開", category="ペット", visibility="selected", visible_to=(other_town,)
    )
    version = template_publish(
        actor=None, publisher=vendor, document=pet_registration(), metadata=metadata
    )
    assert version.template.visibility == TemplateVisibility.SELECTED
    assert template_for(viewer=viewer_of(outsider), pk=version.template_id) is not None
    assert template_for(viewer=viewer_of(designer), pk=version.template_id) is None
    member = vendor.members.get()
    assert template_for(viewer=viewer_of(member), pk=version.template_id) is not None


def test_vendors_never_see_municipalities_submissions(city, source, published, vendor):
    for text in ["犬の届出", "山田太郎", "1", "スキップ", "送信"]:
        reply = resident_input(
            municipality=city, resident=resident_of(city, "line:t:U1"), inp=TextInput(text)
        )
    assert reply.submission is not None
    viewer = viewer_of(vendor.members.get())
    assert viewer.municipality is None and viewer.may_browse and not viewer.may_import
    with no_tenant_scope():  # where a vendor's requests run
        assert Submission.objects.count() == 0
        assert Procedure.objects.count() == 0
    with scopes_disabled():
        assert Submission.objects.count() == 1


# --- files ------------------------------------------------------------------------------------


def test_an_upload_with_broken_json_is_rejected_with_its_location(city, designer):
    with override("en"), pytest.raises(DocumentRejected) as refused:
        procedure_upload(actor=designer, municipality=city, text='{\n  "key": \n}')
    assert refused.value.errors[0].located().startswith("line 3, column 1")
    with tenant_scope(city):
        assert not Procedure.objects.exists()


def test_an_invalid_upload_creates_nothing(city, designer):
    document = pet_registration()
    document["steps"][1]["options"] = []
    with pytest.raises(DocumentRejected) as refused:
        procedure_upload(actor=designer, municipality=city, text=json.dumps(document))
    assert refused.value.errors[0].path.startswith("steps[1].options")
    with tenant_scope(city):
        assert not Procedure.objects.exists()
        assert not AuditLogEntry.objects.filter(action__startswith="procedures.").exists()


def test_a_valid_upload_becomes_a_draft(city, designer):
    text = json.dumps(pet_registration(), ensure_ascii=False)
    procedure = procedure_upload(actor=designer, municipality=city, text=text)
    assert procedure.key == "dog-change" and procedure.live_version is None
