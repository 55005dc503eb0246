"""Reservation steps book a real, active resource of the procedure's own municipality.

A designer chooses it from a list in the builder; publishing and Try it refuse a step
whose key names none (a template made elsewhere keeps its publisher's keys, a key may be
mistyped in the JSON), while importing still succeeds as a draft that says what to fill.
"""

import io
import json

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_scopes import scopes_disabled

from govtech.models import Vendor
from govtech.tenancy import tenant_scope
from procedures.builder.state import editor_state
from procedures.catalog.selectors import reservations_to_choose, template_update_preview
from procedures.catalog.services import TemplateMetadata, template_import, template_publish
from procedures.format import validate_document
from procedures.models import Conversation, Procedure, ProcedureVersion
from procedures.reservations.binding import resource_problems
from procedures.reservations.models import Resource
from procedures.reservations.selectors import KnownResource, known_resources
from procedures.services import (
    DocumentRejected,
    procedure_create,
    procedure_import,
    procedure_publish,
    procedure_rollback,
    procedure_save_draft,
)
from tests.procedures.reservation_fixtures import NOW, hiroba_document, make_resource

pytestmark = pytest.mark.django_db


def codes(errors):
    return [(error.path, error.step_id, error.code) for error in errors]


@pytest.fixture
def draft(city, designer):
    """A draft whose reservation step books "kodomo-hiroba" (not created in city yet)."""
    return procedure_create(actor=designer, municipality=city, document=hiroba_document())


@pytest.fixture
def vendor():
    return Vendor.objects.create(name="govtech starter", slug="govtech-starter")


@pytest.fixture
def template_version(vendor):
    """A vendor's template made elsewhere: its step books the vendor's "kodomo-hiroba"."""
    metadata = TemplateMetadata(title="こどもひろば予約", category="子育て")
    return template_publish(
        actor=None, publisher=vendor, document=hiroba_document(), metadata=metadata
    )


# --- the reservation binding's check, given a municipality's resources (pure) ---------------


def checked(document, resources):
    """As publishing checks it: the format's errors plus the binding's."""
    return validate_document(document, extra=resource_problems(document, resources))


def test_a_key_the_municipality_does_not_have_is_an_error_at_the_steps_resource():
    errors = checked(hiroba_document("gym"), {})

    assert codes(errors) == [("steps[0].resource", "visit", "unknown_resource")]
    assert errors[0].located().startswith('steps[0] (id "visit"): ')
    assert "gym" in errors[0].message


def test_an_inactive_resource_is_an_error_naming_it():
    resources = {"gym": KnownResource(key="gym", name="市民体育館", active=False)}

    errors = checked(hiroba_document("gym"), resources)

    assert codes(errors) == [("steps[0].resource", "visit", "inactive_resource")]
    assert "市民体育館" in errors[0].message


def test_an_active_resource_of_the_municipality_is_accepted():
    resources = {"gym": KnownResource(key="gym", name="市民体育館", active=True)}

    assert checked(hiroba_document("gym"), resources) == []


def test_without_resources_a_document_is_checked_as_a_portable_one():
    assert validate_document(hiroba_document("gym")) == []


def test_a_broken_draft_is_checked_without_failing():
    broken = {"steps": [{"type": "reservation", "resource": "gym"}, "not a step", {"id": 3}]}

    errors = checked(broken, {})

    assert ("steps[0].resource", None, "unknown_resource") in codes(errors)


# --- publishing ------------------------------------------------------------------------------


def test_publish_refuses_a_step_booking_a_resource_the_municipality_does_not_have(
    draft, designer, city
):
    with pytest.raises(DocumentRejected) as refused:
        procedure_publish(actor=designer, procedure=draft)

    assert codes(refused.value.errors) == [("steps[0].resource", "visit", "unknown_resource")]
    assert 'steps[0] (id "visit")' in str(refused.value)
    with tenant_scope(city):
        assert not ProcedureVersion.objects.exists()


def test_publish_refuses_an_inactive_resource_until_it_is_active_again(draft, designer, city):
    resource = make_resource(city, is_active=False)

    with pytest.raises(DocumentRejected) as refused:
        procedure_publish(actor=designer, procedure=draft)
    assert codes(refused.value.errors) == [("steps[0].resource", "visit", "inactive_resource")]

    with tenant_scope(city):
        Resource.objects.filter(pk=resource.pk).update(is_active=True)
    assert procedure_publish(actor=designer, procedure=draft).number == 1


def test_rollback_refuses_a_version_whose_resource_was_made_inactive_since(
    draft, designer, city, client
):
    resource = make_resource(city)
    first = procedure_publish(actor=designer, procedure=draft)
    second = procedure_publish(actor=designer, procedure=draft)
    with tenant_scope(city):
        Resource.objects.filter(pk=resource.pk).update(is_active=False)

    with pytest.raises(DocumentRejected) as refused:
        procedure_rollback(actor=designer, procedure=draft, version=first)
    assert codes(refused.value.errors) == [("steps[0].resource", "visit", "inactive_resource")]

    client.force_login(designer)
    url = reverse("admin:procedures_procedure_version_rollback", args=[draft.pk, 1])
    page = client.post(url, follow=True)
    [message] = [str(m) for m in page.context["messages"]]
    assert 'steps[0] (id "visit")' in message
    with scopes_disabled():
        live = Procedure.objects.get(pk=draft.pk).live_version
    assert live.pk == second.pk  # nothing republished


def test_another_municipalitys_resource_with_the_same_key_does_not_count(
    draft, designer, other_town
):
    make_resource(other_town)  # "kodomo-hiroba", but of アザー町

    with tenant_scope(other_town), pytest.raises(DocumentRejected) as refused:
        procedure_publish(actor=designer, procedure=draft)

    assert codes(refused.value.errors) == [("steps[0].resource", "visit", "unknown_resource")]


def test_known_resources_are_the_municipalitys_own_whatever_scope_is_active(city, other_town):
    make_resource(city, key="gym", name="市民体育館")
    make_resource(other_town, key="pool", name="町民プール", is_active=False)

    with tenant_scope(other_town):
        mine = known_resources(municipality=city)

    assert mine == {"gym": KnownResource(key="gym", name="市民体育館", active=True)}


def test_import_with_publish_refuses_an_unknown_resource_and_creates_nothing(city):
    with pytest.raises(DocumentRejected):
        procedure_import(actor=None, municipality=city, document=hiroba_document(), publish=True)

    with tenant_scope(city):
        assert not Procedure.objects.exists()


def test_import_command_saves_the_draft_and_names_the_steps_to_fill_in(city, tmp_path):
    path = tmp_path / "hiroba.json"
    path.write_text(json.dumps(hiroba_document()), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()

    call_command("import_procedure", str(path), "--municipality", city.slug, stdout=out, stderr=err)

    assert "saved as draft" in out.getvalue()
    assert 'steps[0] (id "visit")' in err.getvalue() and "kodomo-hiroba" in err.getvalue()
    with pytest.raises(CommandError, match='id "visit"'):
        call_command("import_procedure", str(path), "--municipality", city.slug, "--publish")


# --- the catalog -----------------------------------------------------------------------------


def test_importing_a_template_made_elsewhere_keeps_a_draft_with_the_step_to_fill_in(
    city, designer, template_version
):
    procedure = template_import(actor=designer, municipality=city, version=template_version)

    assert procedure.draft["steps"][0]["resource"] == "kodomo-hiroba"
    to_choose = reservations_to_choose(document=procedure.draft, municipality=city)
    assert [(s.step_id, s.name, s.key) for s in to_choose] == [
        ("visit", "利用日時", "kodomo-hiroba")
    ]
    with pytest.raises(DocumentRejected):
        procedure_publish(actor=designer, procedure=procedure)


def test_import_page_lists_the_steps_to_fill_in_and_the_import_warns_after_saving(
    client, designer, city, template_version
):
    client.force_login(designer)
    url = reverse("admin:catalog_import", args=[template_version.template_id])

    page = client.get(url)
    response = client.post(url, {"version": 1}, follow=True)

    assert [s.step_id for s in page.context["to_choose"]] == ["visit"]
    assert 'data-testid="reservations-to-choose"' in page.content.decode()
    levels = {m.level_tag: str(m) for m in response.context["messages"]}
    assert "「利用日時」(visit)" in levels["warning"]
    with tenant_scope(city):
        assert Procedure.objects.get().source_template_version == template_version


def test_the_outsiders_own_resource_binds_their_import_and_not_ours(
    client, outsider, other_town, city, template_version
):
    make_resource(other_town)  # アザー町 has a "kodomo-hiroba"; demo-city has none
    client.force_login(outsider)
    url = reverse("admin:catalog_import", args=[template_version.template_id])

    page = client.get(url)
    response = client.post(url, {"version": 1}, follow=True)

    assert page.context["to_choose"] == []
    assert "warning" not in {m.level_tag for m in response.context["messages"]}
    with tenant_scope(city):
        assert not Procedure.objects.exists()
    with tenant_scope(other_town):
        assert procedure_publish(actor=outsider, procedure=Procedure.objects.get()).number == 1


def test_update_page_lists_reservation_steps_to_choose_like_unfilled_placeholders(
    client, designer, city, vendor, template_version
):
    procedure = template_import(actor=designer, municipality=city, version=template_version)
    newer = hiroba_document()
    newer["steps"][0]["prompt"]["ja"] = "ご利用の日時を選んでください"
    template_publish(
        actor=None,
        publisher=vendor,
        document=newer,
        metadata=TemplateMetadata(title="こどもひろば予約", category="子育て"),
    )
    client.force_login(designer)

    page = client.get(reverse("admin:catalog_update", args=[procedure.pk]))

    preview = page.context["preview"]
    assert [s.step_id for s in preview.reservations_to_choose] == ["visit"]
    assert preview.errors == []  # the portable document itself is fine
    assert "「利用日時」(visit)" in page.content.decode()


def test_update_preview_has_nothing_to_choose_once_the_facility_is_chosen(
    city, designer, vendor, template_version
):
    make_resource(city, key="hiroba-chuo", name="中央こどもひろば")
    procedure = template_import(actor=designer, municipality=city, version=template_version)
    chosen = json.loads(json.dumps(procedure.draft))
    chosen["steps"][0]["resource"] = "hiroba-chuo"
    procedure = procedure_save_draft(
        actor=designer, procedure=procedure, document=chosen, expected_revision=1
    )
    newer = hiroba_document()
    newer["completion"] = {"ja": "受け付けました（{reference}）"}
    version = template_publish(
        actor=None,
        publisher=vendor,
        document=newer,
        metadata=TemplateMetadata(title="こどもひろば予約", category="子育て"),
    )

    preview = template_update_preview(procedure=procedure, version=version)

    assert preview.merge.document["steps"][0]["resource"] == "hiroba-chuo"  # ours is kept
    assert preview.reservations_to_choose == []


def test_template_page_of_a_reservation_template_opens_without_a_resource_here(
    client, designer, template_version
):
    client.force_login(designer)

    response = client.get(
        reverse("admin:procedures_template_change", args=[template_version.template_id])
    )

    assert response.status_code == 200


# --- the builder -----------------------------------------------------------------------------


def builder_url(name, procedure):
    return reverse(f"admin:procedures_procedure_{name}", args=[procedure.pk])


def test_builder_offers_this_municipalitys_resources_by_name_and_key(
    client, designer, draft, city, other_town
):
    make_resource(city, key="hiroba-chuo", name="中央こどもひろば")
    make_resource(city, key="hiroba-kita", name="北こどもひろば", is_active=False)
    make_resource(other_town, key="pool", name="町民プール")
    client.force_login(designer)

    config = client.get(builder_url("builder", draft)).context["builder_config"]

    offered = config["bindings"]["reservation"]
    assert offered["field"] == "resource"
    assert offered["choices"] == [
        {"key": "hiroba-chuo", "name": "中央こどもひろば", "active": True},
        {"key": "hiroba-kita", "name": "北こどもひろば", "active": False},
    ]
    assert offered["url"] is None  # designers do not manage reservations
    assert offered["strings"]["none"]


def test_builder_links_administrators_to_the_reservation_resources(client, admin_user, draft):
    client.force_login(admin_user)

    config = client.get(builder_url("builder", draft)).context["builder_config"]

    offered = config["bindings"]["reservation"]
    assert offered["choices"] == []
    assert offered["url"] == reverse("admin:procedures_resource_changelist")


def test_an_outsider_cannot_see_the_builder_or_our_resources(client, outsider, draft, city):
    make_resource(city, key="hiroba-chuo", name="中央こどもひろば")
    client.force_login(outsider)

    response = client.get(builder_url("builder", draft))

    assert response.status_code == 404
    assert "中央こどもひろば" not in response.content.decode()


def test_builder_shows_the_problem_at_the_step_until_a_facility_is_chosen(
    client, designer, draft, city
):
    make_resource(city, key="hiroba-chuo", name="中央こどもひろば")
    client.force_login(designer)
    page = client.get(builder_url("builder", draft)).context["builder_config"]
    state = editor_state(draft.draft)
    state["steps"][0]["resource"] = "hiroba-chuo"

    saved = client.post(
        builder_url("builder_save", draft),
        json.dumps({"state": state, "expected_revision": draft.draft_revision}),
        content_type="application/json",
    )

    flagged = [p for p in page["problems"] if p["path"] == "steps[0].resource"]
    assert [(p["step_index"], p["severity"]) for p in flagged] == [(0, "error")]
    assert saved.status_code == 200 and saved.json()["problems"] == []


def test_publish_page_shows_the_error_at_the_reservation_step_and_publishes_nothing(
    client, designer, draft, city
):
    client.force_login(designer)

    response = client.post(builder_url("publish", draft), {"change_note": "初版"})

    assert response.status_code == 200
    assert response.context["error_count"] == 1
    step = next(group for group in response.context["grouped"] if group["step"])
    assert step["has_errors"] and "kodomo-hiroba" in step["problems"][0]["message"]
    with tenant_scope(city):
        assert not ProcedureVersion.objects.exists()


def test_preview_of_a_reservation_step_shows_the_days_of_the_chosen_facility(
    client, designer, draft, city
):
    make_resource(city)  # "kodomo-hiroba", open every day 10:00-12:00
    body = {"state": editor_state(draft.draft), "index": 0, "lang": "ja"}

    with time_machine.travel(NOW, tick=False):  # Tuesday 1 December 2026, 9:00
        client.force_login(designer)
        response = client.post(
            builder_url("builder_preview", draft),
            json.dumps(body),
            content_type="application/json",
        )

    last = response.json()["messages"][-1]
    labels = [item["action"]["label"] for item in last["quickReply"]["items"]]
    assert labels[:2] == ["12/1（火）", "12/2（水）"]


@pytest.mark.parametrize("resource", ["madoguchi", None])
def test_preview_of_a_reservation_step_booking_nothing_here_does_not_fail(
    client, designer, draft, resource
):
    state = editor_state(draft.draft)
    if resource is None:
        del state["steps"][0]["resource"]
    else:
        state["steps"][0]["resource"] = resource
    client.force_login(designer)

    response = client.post(
        builder_url("builder_preview", draft),
        json.dumps({"state": state, "index": 0, "lang": "ja"}),
        content_type="application/json",
    )

    assert response.status_code == 200 and response.json()["messages"]


def test_try_it_refuses_a_reservation_step_booking_nothing_here_and_says_where(
    client, designer, draft
):
    client.force_login(designer)

    response = client.post(builder_url("builder_try", draft), follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert any('steps[0] (id "visit")' in m and "kodomo-hiroba" in m for m in messages)
    with scopes_disabled():
        assert not Conversation.objects.exists()


def test_the_import_api_lists_the_reservation_steps_to_fill_in_for_the_caller(
    client, designer, outsider, other_town, template_version
):
    make_resource(other_town)  # only アザー町 has a "kodomo-hiroba"
    url = reverse("api-catalog-template-import", args=[template_version.template_id])

    client.force_login(designer)
    ours = client.post(url, {}, content_type="application/json").json()
    client.force_login(outsider)
    theirs = client.post(url, {}, content_type="application/json").json()

    assert [(s["path"], s["step_id"], s["code"]) for s in ours["to_fill_in"]] == [
        ("steps[0].resource", "visit", "unknown_resource")
    ]
    assert theirs["to_fill_in"] == []


def test_deactivating_a_resource_live_procedures_book_warns_and_names_them(
    client, admin_user, city, draft, designer, rf
):
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage

    from govtech.console import console
    from procedures.reservations.selectors import live_procedures_booking

    resource = make_resource(city)
    procedure_publish(actor=designer, procedure=draft)
    other = make_resource(city, key="gym")
    assert live_procedures_booking(resource=other) == []
    title = draft.draft["title"]["ja"]
    assert live_procedures_booking(resource=resource) == [title]

    client.force_login(admin_user)
    page = client.get(reverse("admin:procedures_resource_change", args=[resource.pk]))
    assert title in page.content.decode()

    request = rf.post("/")
    request.user, request.session = admin_user, {}
    request._messages = FallbackStorage(request)
    resource_admin = console._registry[Resource]
    with tenant_scope(city):
        resource.is_active = False
        resource_admin.save_model(request, resource, form=None, change=True)
        other.is_active = False
        resource_admin.save_model(request, other, form=None, change=True)
    [warning] = [str(message) for message in get_messages(request)]
    assert title in warning and resource.name in warning
