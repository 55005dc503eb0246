"""Residents: one row per person of a municipality, referenced by foreign key.

Until now a resident was a string (``line:<channel>:<user>``, ``terminal:<name>``) copied
into every row. Each distinct string becomes a Resident whose ``handle`` is that string;
delivery's next migration links LINE friends to theirs (and clears those handles).
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

MODELS = ["conversation", "submission", "residentupload", "booking", "waitlistentry"]


def strings_to_residents(apps, schema_editor):
    Resident = apps.get_model("procedures", "Resident")
    found = {}
    for name in MODELS:
        model = apps.get_model("procedures", name)
        pairs = model.objects.exclude(resident_legacy="").values_list(
            "municipality_id", "resident_legacy"
        )
        for municipality_id, handle in set(pairs):
            key = (municipality_id, handle)
            if key not in found:
                found[key] = Resident.objects.get_or_create(
                    municipality_id=municipality_id, handle=handle
                )[0]
            model.objects.filter(municipality_id=municipality_id, resident_legacy=handle).update(
                resident=found[key]
            )
    Conversation = apps.get_model("procedures", "Conversation")
    for resident in found.values():
        last = Conversation.objects.filter(resident=resident).order_by("-updated_at").first()
        if last is not None and last.language != resident.language:
            resident.language = last.language
            resident.save(update_fields=["language"])


def residents_to_strings(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("procedures", name)
        for row in model.objects.exclude(resident=None).select_related("resident"):
            row.resident_legacy = row.resident.handle or f"resident:{row.resident_id}"
            row.save(update_fields=["resident_legacy"])


def _create_gin_index(apps, schema_editor):
    # Segments (delivery.broadcasts.segments) filter residents by attribute containment.
    # SQLite has no GIN: segments there scan, which is fine at demo sizes.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS resident_attributes_gin ON procedures_resident "
            "USING gin (attributes jsonb_path_ops)"
        )


def _drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS resident_attributes_gin")


def _fk(related_name, null=False):
    return models.ForeignKey(
        null=null,
        blank=null,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="procedures.resident",
        verbose_name="resident",
    )


RELATED = {
    "conversation": "conversations",
    "submission": "submissions",
    "residentupload": "uploads",
    "booking": "bookings",
    "waitlistentry": "waitlist_entries",
}


class Migration(migrations.Migration):
    dependencies = [
        ("govtech", "0003_tenant_owned_base"),
        ("procedures", "0005_tenant_owned_base"),
    ]

    operations = [
        migrations.CreateModel(
            name="Resident",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("handle", models.CharField(blank=True, max_length=120, verbose_name="handle")),
                ("language", models.CharField(default="ja", max_length=8, verbose_name="language")),
                (
                    "attributes",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="Values of the municipality's attribute fields, set by the resident.",
                        verbose_name="attributes",
                    ),
                ),
                (
                    "consents",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="What the resident agreed to, and when (key: ISO time).",
                        verbose_name="consents",
                    ),
                ),
                (
                    "is_test",
                    models.BooleanField(
                        default=False,
                        help_text="A staff member's test account.",
                        verbose_name="test resident",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "municipality",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="govtech.municipality",
                        verbose_name="municipality",
                    ),
                ),
            ],
            options={
                "verbose_name": "resident",
                "verbose_name_plural": "residents",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Notice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("once_key", models.CharField(max_length=120, verbose_name="once key")),
                ("prompts", models.JSONField(verbose_name="prompts")),
                ("retry_key", models.UUIDField(default=uuid.uuid4, unique=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting to send"),
                            ("sent", "Sent"),
                            ("unreachable", "No channel reaches the resident"),
                            ("failed", "Failed"),
                        ],
                        db_index=True,
                        default="pending",
                        max_length=12,
                        verbose_name="status",
                    ),
                ),
                (
                    "channel",
                    models.CharField(blank=True, max_length=20, verbose_name="sent through"),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                ("error", models.TextField(blank=True, verbose_name="error")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                (
                    "municipality",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="govtech.municipality",
                        verbose_name="municipality",
                    ),
                ),
                (
                    "resident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notices",
                        to="procedures.resident",
                        verbose_name="resident",
                    ),
                ),
            ],
            options={
                "verbose_name": "notice",
                "verbose_name_plural": "notices",
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.AddConstraint(
            model_name="resident",
            constraint=models.UniqueConstraint(
                condition=models.Q(("handle", ""), _negated=True),
                fields=("municipality", "handle"),
                name="resident_handle_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="notice",
            constraint=models.UniqueConstraint(
                fields=("municipality", "once_key"), name="notice_once_per_key"
            ),
        ),
        migrations.RunPython(_create_gin_index, _drop_gin_index),
        migrations.RemoveConstraint(
            model_name="conversation", name="one_open_conversation_per_resident"
        ),
        migrations.RemoveConstraint(model_name="waitlistentry", name="waitlist_once_per_slot"),
        *[
            migrations.RenameField(model_name=name, old_name="resident", new_name="resident_legacy")
            for name in MODELS
        ],
        *[
            migrations.AddField(model_name=name, name="resident", field=_fk(related, null=True))
            for name, related in RELATED.items()
        ],
        migrations.RunPython(strings_to_residents, residents_to_strings),
        # A default first, so that reversing the removal can add the column back.
        *[
            migrations.AlterField(
                model_name=name,
                name="resident_legacy",
                field=models.CharField(blank=True, default="", max_length=120),
            )
            for name in MODELS
        ],
        *[migrations.RemoveField(model_name=name, name="resident_legacy") for name in MODELS],
        migrations.AlterField(
            model_name="booking",
            name="resident",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty for a phone caller booked by staff.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="bookings",
                to="procedures.resident",
                verbose_name="resident",
            ),
        ),
        migrations.AlterField(
            model_name="conversation",
            name="resident",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="conversations",
                to="procedures.resident",
                verbose_name="resident",
            ),
        ),
        migrations.AlterField(
            model_name="residentupload",
            name="resident",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="uploads",
                to="procedures.resident",
                verbose_name="resident",
            ),
        ),
        migrations.AlterField(
            model_name="submission",
            name="resident",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="submissions",
                to="procedures.resident",
                verbose_name="resident",
            ),
        ),
        migrations.AlterField(
            model_name="waitlistentry",
            name="resident",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="waitlist_entries",
                to="procedures.resident",
                verbose_name="resident",
            ),
        ),
        migrations.AddConstraint(
            model_name="conversation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["active", "confirming", "editing"])),
                fields=("municipality", "resident"),
                name="one_open_conversation_per_resident",
            ),
        ),
        migrations.AddConstraint(
            model_name="waitlistentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["waiting", "offered"])),
                fields=("slot", "resident"),
                name="waitlist_once_per_slot",
            ),
        ),
    ]
