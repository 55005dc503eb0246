"""Drafts, publishing, rollback, diff, import and export of procedures."""

import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_scopes import scopes_disabled

from govtech.models import AuditLogEntry
from govtech.services import ServiceError
from govtech.tenancy import tenant_scope
from procedures.models import Procedure, ProcedureVersion
from procedures.reservations.seed import demo_resources_ensure
from procedures.selectors import procedure_diff, procedure_for_keyword
from procedures.services import (
    DocumentRejected,
    DraftConflict,
    procedure_create,
    procedure_import,
    procedure_publish,
    procedure_rollback,
    procedure_save_draft,
    procedure_unpublish,
)
from tests.procedures.conftest import CORPUS_DIR
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def procedure(city, designer):
    return procedure_create(actor=designer, municipality=city, document=pet_registration())


def test_publish_freezes_the_draft_as_version_one(procedure, designer, city):
    version = procedure_publish(actor=designer, procedure=procedure, change_note="初版")
    assert version.number == 1
    assert version.document == procedure.draft
    assert procedure.live_version == version
    with tenant_scope(city):
        assert AuditLogEntry.objects.filter(action="procedures.procedure.published").count() == 1


def test_later_draft_edits_never_change_a_published_version(procedure, designer, city):
    version = procedure_publish(actor=designer, procedure=procedure)
    edited = pet_registration(title={"ja": "犬の届出（改）"})
    procedure_save_draft(
        actor=designer,
        procedure=procedure,
        document=edited,
        expected_revision=procedure.draft_revision,
    )
    with tenant_scope(city):
        assert (
            ProcedureVersion.objects.get(pk=version.pk).document["title"]["ja"]
            == "犬の登録事項変更届"
        )


def test_concurrent_draft_saves_are_detected(procedure, designer):
    loaded = procedure.draft_revision
    procedure_save_draft(
        actor=designer, procedure=procedure, document=pet_registration(), expected_revision=loaded
    )
    with pytest.raises(DraftConflict):
        procedure_save_draft(
            actor=designer,
            procedure=procedure,
            document=pet_registration(),
            expected_revision=loaded,
        )


def test_draft_key_cannot_drift_from_the_procedure(procedure, designer):
    with pytest.raises(ServiceError):
        procedure_save_draft(
            actor=designer,
            procedure=procedure,
            document=pet_registration(key="other"),
            expected_revision=procedure.draft_revision,
        )


def test_publish_refuses_step_asking_for_my_number(procedure, designer):
    document = pet_registration()
    document["steps"].insert(
        0,
        {
            "id": "kojin",
            "type": "text",
            "prompt": {"ja": "マイナンバー（個人番号）を入力してください"},
            "validation": {"pattern": "^[0-9]{12}$"},
        },
    )
    procedure_save_draft(
        actor=designer,
        procedure=procedure,
        document=document,
        expected_revision=procedure.draft_revision,
    )
    with pytest.raises(DocumentRejected) as excinfo:
        procedure_publish(actor=designer, procedure=procedure)
    assert any(error.step_id == "kojin" for error in excinfo.value.errors)
    assert procedure.live_version is None


def test_rollback_republishes_an_old_snapshot_as_a_new_version(procedure, designer):
    first = procedure_publish(actor=designer, procedure=procedure)
    procedure_save_draft(
        actor=designer,
        procedure=procedure,
        document=pet_registration(fee=5000),
        expected_revision=procedure.draft_revision,
    )
    second = procedure_publish(actor=designer, procedure=procedure)
    third = procedure_rollback(actor=designer, procedure=procedure, version=first)
    assert (first.number, second.number, third.number) == (1, 2, 3)
    assert third.document == first.document
    assert third.restored_from == first
    assert procedure.live_version == third


def test_diff_lists_changes_step_by_step(procedure, designer):
    first = procedure_publish(actor=designer, procedure=procedure)
    document = pet_registration(fee=5000)
    document["steps"][0]["prompt"]["ja"] = "お名前を入力してください"
    del document["steps"][2]
    document["steps"].insert(1, {"id": "note", "type": "message", "message": {"ja": "お知らせ"}})
    procedure_save_draft(
        actor=designer,
        procedure=procedure,
        document=document,
        expected_revision=procedure.draft_revision,
    )
    second = procedure_publish(actor=designer, procedure=procedure)
    changes = {(c.kind, c.where) for c in procedure_diff(old=first, new=second)}
    assert ("changed", "fee") in changes
    assert ("changed", "steps.owner.prompt") in changes
    assert ("removed", "steps.photo") in changes
    assert ("added", "steps.note") in changes


def test_unpublished_procedure_no_longer_answers_its_keyword(procedure, designer, city):
    procedure_publish(actor=designer, procedure=procedure)
    with tenant_scope(city):
        assert procedure_for_keyword(text=" 犬の届出 ") == procedure
    procedure_unpublish(actor=designer, procedure=procedure)
    with tenant_scope(city):
        assert procedure_for_keyword(text="犬の届出") is None


def test_a_republished_keyword_is_matched_and_the_old_one_no_longer(procedure, designer, city):
    first = procedure_publish(actor=designer, procedure=procedure)
    with tenant_scope(city):
        assert procedure_for_keyword(text="犬の届出") == procedure  # the index is built
    renamed = pet_registration(triggers={"keywords": ["犬の変更"]})
    procedure_save_draft(
        actor=designer,
        procedure=procedure,
        document=renamed,
        expected_revision=procedure.draft_revision,
    )
    procedure_publish(actor=designer, procedure=procedure)
    with tenant_scope(city):
        assert procedure_for_keyword(text="犬の届出") is None
        assert procedure_for_keyword(text="犬の変更") == procedure
    procedure_rollback(actor=designer, procedure=procedure, version=first)
    with tenant_scope(city):
        assert procedure_for_keyword(text="犬の届出") == procedure
        assert procedure_for_keyword(text="犬の変更") is None


def test_a_text_that_is_no_keyword_reads_no_procedure_document(
    procedure, designer, city, django_assert_num_queries
):
    procedure_publish(actor=designer, procedure=procedure)
    with tenant_scope(city):
        procedure_for_keyword(text="こんにちは")  # the first text builds the index
        with django_assert_num_queries(1):  # the live versions' ids, nothing else
            assert procedure_for_keyword(text="こんにちは") is None
        with django_assert_num_queries(2):  # … and the procedure typed, with its version
            found = procedure_for_keyword(text="犬の届出")
            assert found == procedure and found.live_version.document["key"] == "dog-change"


def test_keywords_of_another_town_are_not_matched(procedure, designer, other_town):
    procedure_publish(actor=designer, procedure=procedure)
    with tenant_scope(other_town):
        assert procedure_for_keyword(text="犬の届出") is None


def test_import_is_all_or_nothing(city):
    broken = pet_registration()
    broken["steps"][1]["when"] = {"==": [{"var": "ownerz"}, "x"]}
    with pytest.raises(DocumentRejected) as excinfo:
        procedure_import(actor=None, municipality=city, document=broken, publish=True)
    assert "ownerz" in str(excinfo.value)
    with scopes_disabled():
        assert not Procedure.objects.exists()


def test_import_command_rejects_broken_json_with_a_location(city, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "govtech.procedure.v1",\n "key": }', encoding="utf-8")
    with pytest.raises(CommandError, match=r"2 行 9 列|line 2, column 9"):
        call_command("import_procedure", str(path), "--municipality", city.slug)


def test_import_command_lists_every_located_error(city, tmp_path):
    document = pet_registration()
    document["steps"][1]["options"].append({"value": "address", "label": {"ja": "重複"}})
    document["steps"][2]["when"] = {"in": ["x", {"var": "nothere"}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("import_procedure", str(path), "--municipality", city.slug)
    message = str(excinfo.value)
    assert 'steps[1] (id "change")' in message
    assert 'steps[2] (id "photo")' in message


def test_import_command_refuses_an_unknown_municipality(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(pet_registration()), encoding="utf-8")
    with pytest.raises(CommandError, match="nowhere"):
        call_command("import_procedure", str(path), "--municipality", "nowhere")


@pytest.mark.parametrize("path", sorted(CORPUS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_import_export_import_gives_the_same_snapshot(city, path, capsys, tmp_path):
    demo_resources_ensure(municipality=city)  # what the reservation starters book
    call_command("import_procedure", str(path), "--municipality", city.slug, "--publish")
    key = json.loads(path.read_text(encoding="utf-8"))["key"]
    capsys.readouterr()
    call_command("export_procedure", key, "--municipality", city.slug)
    exported = capsys.readouterr().out
    assert json.loads(exported) == json.loads(path.read_text(encoding="utf-8"))
    again = tmp_path / "exported.json"
    again.write_text(exported, encoding="utf-8")
    call_command("import_procedure", str(again), "--municipality", city.slug, "--publish")
    with tenant_scope(city):
        versions = list(ProcedureVersion.objects.filter(procedure__key=key).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].document == versions[1].document


def test_export_of_unpublished_procedure_needs_draft_flag(procedure, city, capsys):
    with pytest.raises(CommandError, match="--draft"):
        call_command("export_procedure", procedure.key, "--municipality", city.slug)
    call_command("export_procedure", procedure.key, "--municipality", city.slug, "--draft")
    assert json.loads(capsys.readouterr().out)["key"] == procedure.key


def test_schema_is_served(client):
    response = client.get("/schemas/procedure.v1.json")
    assert response.status_code == 200
    assert response.json()["$schema"].startswith("https://json-schema.org/")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_publishes_get_distinct_version_numbers(city, designer):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    numbers, errors = [], []

    def publish():
        try:
            numbers.append(procedure_publish(actor=designer, procedure=procedure).number)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(numbers) == [1, 2, 3, 4]
