"""Inserting many rows at once for the bulk paths (contract import, the audit events of
an import), at what the database costs rather than what the ORM does.

- SQLite: one ``INSERT … VALUES (…), (…), … RETURNING …`` per chunk of rows, under the
  library's limit on bound parameters.
- PostgreSQL: ``COPY … FROM STDIN`` (psycopg's binary-free text copy), then, when columns
  of the new rows are wanted, one ``SELECT … WHERE key = ANY(…)``. Django's PostgreSQL
  cursors bind parameters on the client, so a multi-row VALUES statement would be
  formatted in Python; COPY streams the rows instead.

Neither database promises the order of the rows given back, so callers ask for a unique
column (``returning[0]``) beside the ones they want and match on it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

# PostgreSQL's protocol counts parameters in 16 bits.
POSTGRESQL_MAX_PARAMS = 65535


def max_params(connection: Any) -> int:
    """How many parameters one statement may bind on ``connection``."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        # The compiled-in limit (32766 since SQLite 3.32); Django assumes 999.
        return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    if connection.vendor == "postgresql":
        return POSTGRESQL_MAX_PARAMS
    return int(connection.features.max_query_params or 999)  # pragma: no cover


def in_ids(connection: Any, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """A condition on a column for "one of ``ids``" and its parameters, to follow the
    column: ``IN (%s, %s, …)`` on SQLite; ``= ANY(%s)`` with one array on PostgreSQL,
    where psycopg would otherwise parse a statement of 500 marks anew each time (6 ms)."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [list(ids)]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def insert_rows(
    connection: Any,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (database values, in the order of ``columns``) into ``table``
    (names not yet quoted); returns the ``returning`` columns of the new rows, in no
    promised order (``[]`` without ``returning``). ``returning[0]`` must be a unique
    column among ``columns``."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy_rows(connection, table, columns, rows, returning)
    q = connection.ops.quote_name
    width = len(columns)
    head = f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES "  # noqa: S608
    # SQLite's own "?" marks: Django rewrites every "%s" of a statement into one with a
    # regular expression, 3.6 ms for a chunk of 900 contracts; a statement without any
    # goes through unchanged (the parameters are a list either way).
    one = "(" + ", ".join(["?"] * width) + ")"
    tail = f" RETURNING {', '.join(q(c) for c in returning)}" if returning else ""
    per_chunk = max(1, max_params(connection) // width)
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start : start + per_chunk]
            params = [value for row in chunk for value in row]
            cursor.execute(head + ", ".join([one] * len(chunk)) + tail, params)
            if returning:
                out += [tuple(r) for r in cursor.fetchall()]
    return out


def _copy_rows(
    connection: Any,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    q = connection.ops.quote_name
    copy_sql = f"COPY {q(table)} ({', '.join(q(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
        if not returning:
            return []
        key = returning[0]
        at = list(columns).index(key)
        cursor.execute(
            f"SELECT {', '.join(q(c) for c in returning)} FROM {q(table)} "  # noqa: S608
            f"WHERE {q(key)} = ANY(%s)",
            [[row[at] for row in rows]],
        )
        return [tuple(r) for r in cursor.fetchall()]
