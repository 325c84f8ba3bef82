"""Database triggers that make ``audit_auditevent`` append-only.

Installed by migration ``audit.0002``. SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE``
triggers that abort. PostgreSQL: one plpgsql function raising ``integrity_constraint_
violation`` (so both databases surface it as ``IntegrityError``), fired ``BEFORE UPDATE
OR DELETE`` on each row and ``BEFORE TRUNCATE``.

The triggers keep mistakes and casual edits out; they do not stop someone who owns the
database (who can drop them). That is what the hash chain and ``qiyue audit verify`` with
an external checkpoint are for.

:func:`purge_allowed` drops the triggers for the length of a ``with`` block. Only the
test suite uses it, to let Django's flush between ``transaction=True`` tests empty the
table; nothing in the application calls it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MESSAGE = "audit log is append-only"
TABLE = "audit_auditevent"

SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
]

POSTGRESQL_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END
        $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()""",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only()""",
]
POSTGRESQL_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
]

_SQL = {
    "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE),
    "postgresql": (POSTGRESQL_INSTALL, POSTGRESQL_REMOVE),
}


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor not in _SQL:
        raise NotImplementedError(f"no append-only triggers for {vendor}")
    return _SQL[vendor][0 if install else 1]


def install(execute: Any, vendor: str) -> None:
    """``execute`` is ``schema_editor.execute`` or a cursor's ``execute``."""
    for sql in _statements(vendor, install=True):
        execute(sql)


def remove(execute: Any, vendor: str) -> None:
    for sql in _statements(vendor, install=False):
        execute(sql)


@contextmanager
def purge_allowed(connection: Any) -> Iterator[None]:
    """Without the triggers inside the block, with them again after it (even on error)."""
    with connection.cursor() as cursor:
        remove(cursor.execute, connection.vendor)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            install(cursor.execute, connection.vendor)
