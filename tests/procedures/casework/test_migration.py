"""Submissions made before casework become cases when procedures 0007 runs: revision 1,
the 'submitted' event, last activity and a search text; the migration can be reversed."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("procedures", "0006_residents")]
AFTER = [("procedures", "0007_casework")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_submissions_become_cases():
    apps = _migrate(BEFORE)
    city = apps.get_model("govtech", "Municipality").objects.create(
        slug="old-city", name="旧市", prefecture="東京都"
    )
    procedure = apps.get_model("procedures", "Procedure").objects.create(
        municipality=city, key="dog", draft={}
    )
    version = apps.get_model("procedures", "ProcedureVersion").objects.create(
        municipality=city, procedure=procedure, number=1, document={}
    )
    resident = apps.get_model("procedures", "Resident").objects.create(municipality=city)
    submission = apps.get_model("procedures", "Submission").objects.create(
        municipality=city,
        reference="OC-2026-000001",
        procedure=procedure,
        version=version,
        resident=resident,
        answers={"owner": "山田太郎", "count": 2, "photo": {"ref": "x"}},
    )

    apps = _migrate(AFTER)
    Submission = apps.get_model("procedures", "Submission")
    migrated = Submission._base_manager.get(pk=submission.pk)
    reference, *values = migrated.search_text.split("\n")
    assert (reference, sorted(values)) == ("OC-2026-000001", ["2", "山田太郎"])  # jsonb orders keys
    assert migrated.last_activity_at == migrated.submitted_at
    revision = apps.get_model("procedures", "SubmissionRevision")._base_manager.get()
    assert (revision.number, revision.answers["owner"]) == (1, "山田太郎")
    event = apps.get_model("procedures", "CaseEvent")._base_manager.get()
    assert (event.kind, event.created_at) == ("submitted", migrated.submitted_at)

    _migrate(BEFORE)  # and back, then forward to the latest for the other tests
    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())
