"""The inbox's text search at scale: a trigram index on PostgreSQL (decision 0014).

The inbox filters with ``search_text__icontains``, which PostgreSQL runs as
``UPPER(search_text::text) LIKE UPPER('%word%')``: no B-tree helps a pattern with a
leading wildcard, so without this index every search reads the whole table. A GIN index
over the same expression with ``gin_trgm_ops`` answers it from the index. Not part of
the model state (an expression index with an operator class from an extension), and
nothing on SQLite, where the embedded default searches a city's worth of rows directly.
Built CONCURRENTLY, so an installation with many submissions keeps taking them meanwhile.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "submission_search_trgm"


class TrigramExtensionOnPostgres(TrigramExtension):
    """Django's operation skips other databases going forwards, not backwards."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON procedures_submission"
            " USING gin (UPPER(search_text) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("procedures", "0008_reply_window")]

    operations = [
        TrigramExtensionOnPostgres(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
