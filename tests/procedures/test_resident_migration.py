"""The migrations that turned resident strings into Residents convert existing rows, and
can be reversed (procedures 0006, delivery 0008)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("procedures", "0005_tenant_owned_base"),
    ("delivery", "0007_tenant_owned_base"),
]
AFTER = [("procedures", "0006_residents"), ("delivery", "0008_friend_resident")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _old_world(apps):
    """Rows as they were: a LINE resident with a friend, a terminal resident, a phone caller."""
    city = apps.get_model("govtech", "Municipality").objects.create(
        slug="old-city", name="旧市", prefecture="東京都"
    )
    channel = apps.get_model("delivery", "LineChannel").objects.create(
        municipality=city,
        name="旧市",
        channel_id="2000000777",
        channel_secret="s",
        access_token="t",
    )
    apps.get_model("delivery", "Friend").objects.create(
        municipality=city,
        channel=channel,
        line_user_id="U1",
        language="en",
        attributes={"area": "north"},
    )
    procedure = apps.get_model("procedures", "Procedure").objects.create(
        municipality=city, key="dog", draft={}
    )
    version = apps.get_model("procedures", "ProcedureVersion").objects.create(
        municipality=city, procedure=procedure, number=1, document={}
    )
    Conversation = apps.get_model("procedures", "Conversation")
    Submission = apps.get_model("procedures", "Submission")
    for resident in ["line:2000000777:U1", "terminal:taro"]:
        conversation = Conversation.objects.create(
            municipality=city,
            resident=resident,
            procedure=procedure,
            version=version,
            status="submitted",
            state={},
            language="en" if resident.startswith("line") else "ja",
            updated_at="2026-01-01T00:00Z",
        )
        Submission.objects.create(
            municipality=city,
            reference=f"R-{conversation.pk}",
            procedure=procedure,
            version=version,
            conversation=conversation,
            resident=resident,
            answers={},
        )
    return city


def test_each_resident_string_becomes_one_resident_and_friends_are_linked_to_theirs():
    apps = _migrate(BEFORE)
    city = _old_world(apps)

    apps = _migrate(AFTER)
    Resident = apps.get_model("procedures", "Resident")
    friend = apps.get_model("delivery", "Friend").objects.get()
    line, terminal = friend.resident, Resident.objects.get(handle="terminal:taro")
    assert Resident.objects.filter(municipality_id=city.pk).count() == 2
    assert (line.handle, line.language, line.attributes) == ("", "en", {"area": "north"})
    submissions = apps.get_model("procedures", "Submission").objects.order_by("pk")
    assert [s.resident_id for s in submissions] == [line.pk, terminal.pk]
    conversations = apps.get_model("procedures", "Conversation").objects.order_by("pk")
    assert [c.resident_id for c in conversations] == [line.pk, terminal.pk]

    apps = _migrate(BEFORE)  # and back: the strings return
    submissions = apps.get_model("procedures", "Submission").objects.order_by("pk")
    assert [s.resident for s in submissions] == ["line:2000000777:U1", "terminal:taro"]
    assert apps.get_model("delivery", "Friend").objects.get().attributes == {"area": "north"}
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # the schema as it was
