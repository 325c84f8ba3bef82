"""Writing audit events. Every domain action calls :func:`record` inside its own
transaction, so the event exists if and only if the change does; reads (a contract
viewed, a document downloaded, an export) call :func:`record_read`.

How an event joins the chain (one SELECT of the head, one INSERT; ``record_many`` appends
many events of one action with one SELECT and multi-row INSERTs):

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
from collections.abc import Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

from qiyue.audit import chain
from qiyue.audit.models import AuditEvent
from qiyue.lib.bulksql import insert_rows

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
    """Append one event; see the module's documentation."""
    conn = connections[DEFAULT_DB_ALIAS]
    known = actor is not None and actor.pk
    [fields] = _append(conn, actor, action, target._meta.model_name or "", [(target.pk, data)])
    _lock, _head, _insert, names = _sql(conn.vendor)
    event = AuditEvent.from_db(conn.alias, names, [fields[n] for n in names])
    if known:
        event.actor = actor  # saves a query for callers that read event.actor
    return event


def record_many(
    *,
    actor: Any,
    action: str,
    model: type[models.Model],
    items: Sequence[tuple[Any, dict[str, Any] | None]],
) -> None:
    """Append one event per ``(pk, data)`` of ``items``, in order, all by ``actor`` with
    ``action`` on rows of ``model`` (a bulk import's ``contract.created`` for each
    contract): the lock and the head read once, the links computed here, multi-row
    INSERTs (``lib.bulksql``), no model instances. The events are the same, link for link, as
    ``record()`` called once per item."""
    if items:
        _append(connections[DEFAULT_DB_ALIAS], actor, action, model._meta.model_name or "", items)


def _append(
    conn: Any,
    actor: Any,
    action: str,
    target_type: str,
    items: Sequence[tuple[Any, dict[str, Any] | None]],
) -> list[dict[str, Any]]:
    """Insert the events and return their fields (as the model holds them)."""
    if not conn.in_atomic_block:
        raise AuditOutsideTransaction(action)
    known = actor is not None and actor.pk
    actor_id = actor.pk if known else None
    actor_name = actor.get_username() if known else "system"
    at = timezone.now()
    at_db = conn.ops.adapt_datetimefield_value(at)
    # SQLite stores JSON as text; so does PostgreSQL's COPY (``insert_rows``, for more
    # than one event). One event goes in with a bound parameter, typed as JSON there.
    as_text = conn.vendor == "sqlite" or len(items) > 1
    _check_lock(conn)
    _lock, _head, insert_sql, names = _sql(conn.vendor)
    out: list[dict[str, Any]] = []
    params: list[list[Any]] = []
    with conn.cursor() as cursor:
        prev_id, prev_hash = _read_head(conn, cursor)
        for pk, raw in items:
            data, data_text, plain = chain.normalize_data(raw)
            fields: dict[str, Any] = {
                "id": prev_id + 1,
                "at": at,
                "actor_id": actor_id,
                "actor_name": actor_name,
                "action": action,
                "target_type": target_type,
                "target_id": str(pk),
                "data": data,
            }
            fields["hash"] = chain.event_hash(prev_hash, data_is_plain=plain, **fields)
            fields["prev_hash"] = prev_hash
            # The values as the model's fields would convert them; only two need it.
            values = dict(fields)
            values["at"] = at_db
            values["data"] = (
                data_text if as_text else conn.ops.adapt_json_value(data, DjangoJSONEncoder)
            )
            params.append([values[n] for n in names])
            out.append(fields)
            prev_id, prev_hash = fields["id"], fields["hash"]
        if len(params) == 1:
            cursor.execute(insert_sql, params[0])
    if len(params) > 1:
        meta = AuditEvent._meta
        insert_rows(conn, meta.db_table, [f.column for f in meta.concrete_fields], params)
    return out


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
