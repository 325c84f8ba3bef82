"""Search backends, chosen by the database vendor: SQLite FTS5 or PostgreSQL full text."""

from __future__ import annotations

from django.db import connection

from qiyue.search.backends.base import SearchBackend


def get_backend() -> SearchBackend:
    if connection.vendor == "postgresql":
        from qiyue.search.backends.postgres import PostgresBackend

        return PostgresBackend()
    from qiyue.search.backends.sqlite import SqliteBackend

    return SqliteBackend()
