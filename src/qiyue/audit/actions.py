"""Writing audit events. Every domain action calls :func:`record` inside its own
transaction, so the event exists if and only if the change does; reads (a contract
viewed, a document downloaded, an export) call :func:`record_read`.

How an event joins the chain (one SELECT of the head, one INSERT):

1. Take the chain lock for the rest of the transaction. PostgreSQL:
   ``pg_advisory_xact_lock(CHAIN_LOCK)``, taken before the head is read, so under READ
   COMMITTED the head read afterwards is the one the previous holder committed. SQLite:
   the connection runs with ``transaction_mode=IMMEDIATE``, so the transaction has held
   the database's only write lock since its ``BEGIN``; nothing to take.
2. Read the head (the event with the highest id).
3. Insert the new event with the explicit id ``head.id + 1`` and its hash, computed over
   that id (``audit.chain``). Ids are the chain order and have no gaps, so a deleted
   row shows as a gap as well as a broken link, and the id is covered by the hash. The
   row is never updated afterwards (the database refuses UPDATE), which is why the id
   is chosen before the INSERT rather than taken from the database's sequence (on
   PostgreSQL the identity sequence is not used by the audit log at all).

Both statements are plain SQL written once: through the ORM's query compiler they cost
more than the database does (``bench/audit_append.py``).

Even without the lock the chain cannot fork: two writers that read the same head would
insert the same id, and the primary key lets only one of them commit. The lock makes
them queue instead of fail. The cost is that writers are serialized from their
``record()`` call until they commit, which on SQLite they already are.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

from qiyue.audit import chain
from qiyue.audit.models import AuditEvent

# The key of the PostgreSQL advisory lock that serializes appends: b"qiyueaud".
CHAIN_LOCK = int.from_bytes(b"qiyueaud", "big")


class AuditOutsideTransaction(RuntimeError):
    """An audit event was written outside the transaction of the change it records."""


def _check_lock(conn: Any) -> None:
    """PostgreSQL takes the lock in :func:`_read_head`; SQLite must already hold it."""
    if conn.vendor == "sqlite":
        # BEGIN IMMEDIATE took the write lock; a DEFERRED transaction could read a head
        # that another writer is about to replace (it would then fail, not fork).
        mode = conn.settings_dict.get("OPTIONS", {}).get("transaction_mode")
        assert mode == "IMMEDIATE", "SQLite must run with transaction_mode=IMMEDIATE"
    elif conn.vendor != "postgresql":  # pragma: no cover - the two supported databases
        raise NotImplementedError(conn.vendor)


@functools.cache
def _sql(vendor: str) -> tuple[str, str, str, tuple[str, ...]]:
    """The lock ("" on SQLite), the head query, the INSERT and the attribute names of its
    columns in order, written once: through the ORM's query compiler they cost more than
    the database does (``bench/audit_append.py``)."""
    meta = AuditEvent._meta
    q = connection.ops.quote_name
    table = q(meta.db_table)
    lock = f"SELECT pg_advisory_xact_lock({CHAIN_LOCK:d})" if vendor == "postgresql" else ""
    head = f"SELECT {q('id')}, {q('hash')} FROM {table} ORDER BY {q('id')} DESC LIMIT 1"  # noqa: S608
    columns = ", ".join(q(f.column) for f in meta.concrete_fields)
    params = ", ".join(["%s"] * len(meta.concrete_fields))
    insert = f"INSERT INTO {table} ({columns}) VALUES ({params})"  # noqa: S608
    return lock, head, insert, tuple(f.attname for f in meta.concrete_fields)


def _read_head(conn: Any, cursor: Any) -> tuple[int, str]:
    """Take the chain lock (PostgreSQL) and read the head: (id, hash), or (0, GENESIS).

    With Django's default client-side binding the lock and the head query go to
    PostgreSQL as two statements in one message (one round trip). Each still takes its
    own snapshot under READ COMMITTED, so the head is read after the lock is granted."""
    lock, head_sql, _insert, _names = _sql(conn.vendor)
    if lock and not conn.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        cursor.execute(f"{lock}; {head_sql}")
        cursor.nextset()
    else:
        if lock:
            cursor.execute(lock)
        cursor.execute(head_sql)
    head = cursor.fetchone()
    return (int(head[0]), str(head[1])) if head else (0, chain.GENESIS)


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    conn = connections[DEFAULT_DB_ALIAS]
    if not conn.in_atomic_block:
        raise AuditOutsideTransaction(action)
    known = actor is not None and actor.pk
    data, data_text = chain.normalize_data(data)
    fields: dict[str, Any] = {
        "at": timezone.now(),
        "actor_id": actor.pk if known else None,
        "actor_name": actor.get_username() if known else "system",
        "action": action,
        "target_type": target._meta.model_name or "",
        "target_id": str(target.pk),
        "data": data,
    }
    _check_lock(conn)
    with conn.cursor() as cursor:
        prev_id, prev_hash = _read_head(conn, cursor)
        fields["id"] = prev_id + 1
        fields["hash"] = chain.event_hash(prev_hash, **fields)
        fields["prev_hash"] = prev_hash
        # The values as the model's fields would convert them; only two need it.
        values = dict(fields)
        values["at"] = conn.ops.adapt_datetimefield_value(fields["at"])
        values["data"] = (
            data_text  # SQLite stores JSON as text; this text is what the field would write
            if conn.vendor == "sqlite"
            else conn.ops.adapt_json_value(data, DjangoJSONEncoder)
        )
        _lock, _head, insert_sql, names = _sql(conn.vendor)
        cursor.execute(insert_sql, [values[n] for n in names])
    event = AuditEvent.from_db(conn.alias, names, [fields[n] for n in names])
    if known:
        event.actor = actor  # saves a query for callers that read event.actor
    return event


def record_read(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that ``actor`` read something (``contract.viewed``, ``document.downloaded``,
    ``audit.exported``…), in a small transaction of its own."""
    with transaction.atomic():
        return record(actor=actor, action=action, target=target, data=data)
