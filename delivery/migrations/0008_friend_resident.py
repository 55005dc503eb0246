"""A LINE friend is one identity of a Resident (procedures): link each friend to theirs.

The resident string procedures stored before (``line:<channel>:<user>``, now a
Resident's ``handle`` after procedures 0004) is matched to the friend; that resident is
linked and its handle cleared (LINE residents are known by their friend row). A friend
with no such resident gets a new one. The friend's attributes move to the resident.
"""

import django.db.models.deletion
from django.db import migrations, models


def friends_to_residents(apps, schema_editor):
    Friend = apps.get_model("delivery", "Friend")
    Resident = apps.get_model("procedures", "Resident")
    for friend in Friend.objects.select_related("channel").iterator():
        handle = f"line:{friend.channel.channel_id}:{friend.line_user_id}"
        resident = Resident.objects.filter(
            municipality_id=friend.municipality_id, handle=handle
        ).first() or Resident(municipality_id=friend.municipality_id)
        resident.handle = ""
        resident.language = "en" if friend.language.lower().startswith("en") else "ja"
        resident.attributes = {**resident.attributes, **(friend.attributes or {})}
        resident.is_test = friend.is_test
        resident.save()
        friend.resident = resident
        friend.save(update_fields=["resident"])


def residents_to_friends(apps, schema_editor):
    # Only the resident's columns this migration knows are read or written: when later
    # migrations of both apps are undone in one go, Django may describe the resident with
    # columns a later procedures migration added and has already dropped.
    Friend = apps.get_model("delivery", "Friend")
    Resident = apps.get_model("procedures", "Resident")
    for friend in Friend.objects.select_related("channel").iterator():
        residents = Resident.objects.filter(pk=friend.resident_id)
        friend.attributes = residents.values_list("attributes", flat=True).first() or {}
        friend.save(update_fields=["attributes"])
        residents.update(handle=f"line:{friend.channel.channel_id}:{friend.line_user_id}")


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0007_tenant_owned_base"),
        ("procedures", "0006_residents"),
    ]

    operations = [
        migrations.AddField(
            model_name="friend",
            name="resident",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="line_friends",
                to="procedures.resident",
                verbose_name="resident",
            ),
        ),
        migrations.RunPython(friends_to_residents, residents_to_friends),
        migrations.AlterField(
            model_name="friend",
            name="resident",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="line_friends",
                to="procedures.resident",
                verbose_name="resident",
            ),
        ),
        migrations.RunPython(
            migrations.RunPython.noop,
            # Reversed: the GIN index on the friends' attributes comes back (0003).
            lambda apps, schema_editor: schema_editor.connection.vendor == "postgresql"
            and schema_editor.execute(
                "CREATE INDEX IF NOT EXISTS friend_attributes_gin ON delivery_friend "
                "USING gin (attributes jsonb_path_ops)"
            ),
        ),
        migrations.RemoveField(model_name="friend", name="attributes"),
    ]
