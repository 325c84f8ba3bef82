from typing import Any

import django.utils.timezone
from django.db import migrations, models


def create_index_tables(apps: Any, schema_editor: Any) -> None:
    """The live index tables of the database's backend (FTS5 on SQLite, tsvector rows
    on PostgreSQL); raw SQL, as neither is a Django model."""
    if schema_editor.connection.vendor == "postgresql":
        from qiyue.search.backends.postgres import PostgresBackend

        PostgresBackend().create_tables()
    else:
        from qiyue.search.backends.sqlite import SqliteBackend

        SqliteBackend().create_tables()


def drop_index_tables(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cur:
        if schema_editor.connection.vendor == "postgresql":
            cur.execute("DROP TABLE IF EXISTS search_index")
            cur.execute("DROP TABLE IF EXISTS search_index_next")
        else:
            for table in ("search_fts", "search_terms", "search_fts_next", "search_terms_next"):
                cur.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="IndexRebuild",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="started at")),
                ("last_contract_id", models.BigIntegerField(default=0, verbose_name="last contract indexed")),
                ("done", models.PositiveIntegerField(default=0, verbose_name="contracts indexed")),
            ],
            options={
                "verbose_name": "search index rebuild",
                "verbose_name_plural": "search index rebuilds",
            },
        ),
        migrations.RunPython(create_index_tables, drop_index_tables),
    ]
