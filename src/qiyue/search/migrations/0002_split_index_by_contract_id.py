"""SQLite: the FTS5 index is split into tables of ``SHARD_ROWS`` contract ids (decision
0008). An index built before holds every contract in its first table; this moves the
entries of later ids to their tables, from their sealed terms (nothing is analysed
again). PostgreSQL's index is unchanged."""

from typing import Any

from django.db import migrations


def split_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    from qiyue.search.backends.base import LIVE, NEXT
    from qiyue.search.backends.sqlite import SqliteBackend

    backend = SqliteBackend()
    for generation in (LIVE, NEXT):
        backend.reshard(generation)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(split_index, migrations.RunPython.noop)]
