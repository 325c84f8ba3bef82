"""Audit append (hash chain, lock, head read) vs a plain INSERT of the same row.

Goal (DESIGN.md): appending an audit event costs at most 1.2x a plain INSERT. Each side
runs N transactions of one write, as an action would: the plain sides insert the same
fields into a table shaped like the audit log (same columns and indexes, no triggers,
no chain), once through ``Model.objects.create`` and once as one prepared SQL INSERT
(the way ``record()`` writes); the audit side calls ``record()``. The goal is measured
against the SQL INSERT, the stricter of the two.

    .venv/bin/python bench/audit_append.py [--events 2000] [--rounds 3]

SQLite in a fresh temporary data folder by default; set ``DATABASE_URL`` (to a scratch
database: the bench migrates it and appends to its audit log) for PostgreSQL.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import generate  # bench/generate.py: the shared setup (migrated)

    generate.setup(temp_prefix="qy-bench-audit-")
    from django.db import connection, models, transaction
    from django.utils import timezone

    from qiyue.accounts.models import User
    from qiyue.audit.actions import record
    from qiyue.audit.models import AuditEvent

    user, _ = User.objects.get_or_create(username="bench")

    class PlainEvent(models.Model):  # noqa: DJ008
        at = models.DateTimeField(db_index=True)
        actor = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
        actor_name = models.CharField(max_length=150)
        action = models.CharField(max_length=64, db_index=True)
        target_type = models.CharField(max_length=64)
        target_id = models.CharField(max_length=64)
        data = models.JSONField(default=dict)
        prev_hash = models.CharField(max_length=64)
        hash = models.CharField(max_length=64)

        class Meta:
            app_label = "audit"
            db_table = "bench_plain_event"
            indexes = [models.Index(fields=["target_type", "target_id", "id"])]

    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE IF EXISTS {PlainEvent._meta.db_table}")
        editor.create_model(PlainEvent)

    data = {"before": {"title": "旧标题"}, "after": {"title": "新标题", "amount": "100000.00"}}

    def plain() -> None:
        with transaction.atomic():
            PlainEvent.objects.create(
                at=timezone.now(),
                actor=user,
                actor_name=user.username,
                action="contract.changed",
                target_type="contract",
                target_id="1",
                data=data,
                prev_hash="0" * 64,
                hash="0" * 64,
            )

    q = connection.ops.quote_name
    names = ["at", "actor_id", "actor_name", "action", "target_type", "target_id", "data"]
    names += ["prev_hash", "hash"]
    table = q(PlainEvent._meta.db_table)
    cols = ", ".join(q(PlainEvent._meta.get_field(n).column) for n in names)
    marks = ", ".join(["%s"] * len(names))
    insert_sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608

    def plain_sql() -> None:
        values = {
            "at": timezone.now(),
            "actor_id": user.pk,
            "actor_name": user.username,
            "action": "contract.changed",
            "target_type": "contract",
            "target_id": "1",
            "data": data,
            "prev_hash": "0" * 64,
            "hash": "0" * 64,
        }
        values["at"] = connection.ops.adapt_datetimefield_value(values["at"])
        values["data"] = connection.ops.adapt_json_value(values["data"], None)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert_sql, [values[n] for n in names])

    def audited() -> None:
        with transaction.atomic():
            record(actor=user, action="contract.changed", target=user, data=data)

    def timed(fn: Any) -> float:
        start = time.perf_counter()
        for _ in range(args.events):
            fn()
        return (time.perf_counter() - start) / args.events

    timed(plain), timed(plain_sql), timed(audited)  # warm up every path
    orm_t, sql_t, audit_t = [], [], []
    for _ in range(args.rounds):
        orm_t.append(timed(plain))
        sql_t.append(timed(plain_sql))
        audit_t.append(timed(audited))
    o, p, a = (statistics.median(t) for t in (orm_t, sql_t, audit_t))
    print(f"database: {connection.vendor}; {args.events} transactions x {args.rounds} rounds")
    print(f"plain INSERT, ORM create   {o * 1e6:8.1f} µs per transaction")
    print(f"plain INSERT, SQL          {p * 1e6:8.1f} µs per transaction")
    print(f"audit append (record)      {a * 1e6:8.1f} µs per transaction")
    print(f"ratio vs ORM create        {a / o:8.2f}x")
    print(f"ratio vs SQL INSERT        {a / p:8.2f}x   (goal ≤ 1.2x)")
    print(f"audit log now  {AuditEvent.objects.count()} events")
    with connection.schema_editor() as editor:
        editor.delete_model(PlainEvent)


if __name__ == "__main__":
    main()
