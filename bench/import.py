"""Bulk import (``qiyue import contracts``) vs a raw ``executemany`` of the same rows.

    .venv/bin/python bench/import.py [--rows 5000] [--rounds 3] [--batch 2000]

Goal (issue 5): the bulk import path reaches at least 0.5x the throughput of a raw
``executemany`` INSERT of the same contract rows in one transaction. The raw side gets
the rows already converted to column values (type, customer and owner ids resolved,
numbers made up) and does nothing but insert them into the contracts table. The import
side is :func:`qiyue.contracts.bulk.import_contracts` as the administrator, from the
rows a file would give (names, text cells): checking every row as ``create_contract``
does, resolving names, allocating numbers, inserting, one audit event per contract, and
— in the last variant — indexing the contracts for search after each commit. A second raw
baseline inserts, beside each contract row, an audit row with its data and hashes made
before the clock starts: the floor of an import that writes one event per contract. The same
import with the audit call replaced by a no-op shows what the audit events cost.
Customers exist before the timed runs (made by a warm-up import), so both sides insert
contract rows only. Rounds alternate; the median of each is compared.

SQLite in a fresh temporary data folder by default; set ``DATABASE_URL`` (to a scratch
database: the bench migrates it and adds contracts and audit events) for PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--batch", type=int, default=0, help="rows a transaction (default: the product's)"
    )
    args = parser.parse_args()

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    import generate  # bench/generate.py: the same realistic rows

    generate.setup(temp_prefix="qy-bench-import-")
    from django.db import connection, transaction
    from django.utils import timezone

    from qiyue.accounts.models import User
    from qiyue.audit.models import AuditEvent
    from qiyue.contracts import bulk
    from qiyue.contracts.models import Contract, ContractType
    from qiyue.lib.text import normalize_company_name
    from qiyue.parties.models import Party
    from qiyue.search.backends import get_backend

    args.batch = args.batch or bulk.DEFAULT_BATCH
    get_backend().create_tables()
    generate.generate(0, 0)  # the organisation and the extra sales people
    admin = User.objects.get(username="admin")
    owners = ["sales1", "sales2", *generate.EXTRA_SALES, "manager"]
    rng = random.Random(7)
    parties = generate.party_names(rng, max(10, args.rows // 20))

    def make_rows() -> list[dict[str, Any]]:
        return list(generate.rows(rng, args.rows, 0, owners, parties, [], []))

    # Warm-up: creates every customer, loads jieba, fills caches.
    warm = [
        {"title": "warm-up", "type": "XS", "customer": name, "customer_short_name": short}
        for name, short in parties
    ]
    result = bulk.import_contracts(admin, warm, batch_size=args.batch)
    assert not result.errors, result.errors[:3]

    types = {t.code: t.pk for t in ContractType.objects.all()}
    party_ids = {p.normalized_name: p.pk for p in Party.objects.all()}
    users = {u.username: (u.pk, u.department_id) for u in User.objects.all()}
    columns = [
        "number", "title", "contract_type_id", "counterparty_id", "owner_id", "department_id",
        "amount", "currency", "tax_rate", "signed_date", "effective_date", "expiry_date",
        "auto_renew", "notice_period_days", "payment_terms", "confidentiality", "relation",
        "notes", "state", "version", "created_by_id", "created_at", "updated_at",
    ]  # fmt: skip
    table = Contract._meta.db_table
    q = connection.ops.quote_name
    insert_sql = (
        f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    raw_round = [0]
    run_id = f"{time.time():.0f}"  # a scratch database may hold the rows of earlier runs

    def raw_values(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        raw_round[0] += 1
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        out = []
        for i, r in enumerate(rows):
            owner_id, dept_id = users[r["owner"]]
            amount = connection.ops.adapt_decimalfield_value(Decimal(r["amount"]), 18, 2)
            tax = Decimal(r["tax_rate"]) if r["tax_rate"] else None
            out.append(
                (
                    f"RAW-{run_id}-{raw_round[0]}-{i}",
                    r["title"],
                    types[r["type"]],
                    party_ids[normalize_company_name(r["customer"])],
                    owner_id,
                    dept_id,
                    amount,
                    r["currency"],
                    connection.ops.adapt_decimalfield_value(tax, 5, 2) if tax else None,
                    r["signed_date"] or None,
                    r["effective_date"],
                    r["expiry_date"],
                    r["auto_renew"] == "true",
                    int(r["notice_period_days"]) if r["notice_period_days"] else None,
                    "",
                    "internal",
                    "",
                    r.get("notes", ""),
                    r["state"],
                    1,
                    admin.pk,
                    now,
                    now,
                )
            )
        return out

    def timed_raw() -> float:
        values = raw_values(make_rows())
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(insert_sql, values)
        return (time.perf_counter() - start) / args.rows

    # The product writes an audit event beside every contract. This second raw baseline
    # inserts those rows too, with their data (the imported row as JSON, about the size of
    # the product's snapshot) and hashes made before the clock starts: what the rows alone
    # cost, the floor of an import that keeps one event per contract.
    audit_columns = ["id", "at", "actor_id", "actor_name", "action", "target_type", "target_id",
                     "data", "prev_hash", "hash"]  # fmt: skip
    audit_sql = (
        f"INSERT INTO {q(AuditEvent._meta.db_table)} "  # noqa: S608
        f"({', '.join(q(c) for c in audit_columns)}) "
        f"VALUES ({', '.join(['%s'] * len(audit_columns))})"
    )

    def timed_raw_with_audit() -> float:
        rows = make_rows()
        values = raw_values(rows)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        # Ids given, as the product gives them (from the chain's head), not taken from a
        # sequence the product never advances.
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        events = [
            (last + 1 + i, now, admin.pk, admin.username, "contract.created", "contract", v[0],
             json.dumps(r, ensure_ascii=False, default=str), "0" * 64, "f" * 64)
            for i, (r, v) in enumerate(zip(rows, values, strict=True))
        ]  # fmt: skip
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(insert_sql, values)
            cur.executemany(audit_sql, events)
        return (time.perf_counter() - start) / args.rows

    def timed_import(*, index: bool, audit: bool = True) -> float:
        rows = make_rows()
        original = bulk.record_many
        if not audit:
            bulk.record_many = lambda **kw: []  # type: ignore[assignment]
        try:
            start = time.perf_counter()
            result = bulk.import_contracts(admin, rows, batch_size=args.batch, index=index)
            elapsed = time.perf_counter() - start
        finally:
            bulk.record_many = original
        assert not result.errors and len(result.created) == args.rows, result.errors[:3]
        return elapsed / args.rows

    raw_t: list[float] = []
    raw_audit_t: list[float] = []
    plain_t: list[float] = []
    noaudit_t: list[float] = []
    full_t: list[float] = []
    for _ in range(args.rounds):
        raw_t.append(timed_raw())
        raw_audit_t.append(timed_raw_with_audit())
        noaudit_t.append(timed_import(index=False, audit=False))
        plain_t.append(timed_import(index=False))
        full_t.append(timed_import(index=True))
    raw, noaudit, plain, full = (statistics.median(t) for t in (raw_t, noaudit_t, plain_t, full_t))
    raw_audit = statistics.median(raw_audit_t)

    def line(label: str, t: float) -> str:
        return f"{label:<38}{t * 1e6:9.1f} µs/row {1 / t:9.0f} rows/s   {raw / t:5.2f}x raw"

    print(
        f"database: {connection.vendor}; {args.rows} rows x {args.rounds} rounds, "
        f"batch {args.batch}; contracts now {Contract.objects.count()}"
    )
    print(line("raw executemany INSERT", raw))
    print(line("raw INSERT + an audit row each", raw_audit))
    print(line("bulk import without audit, no index", noaudit))
    print(line("bulk import, no search index", plain))
    print(line("bulk import + search index", full))
    print(f"audit events cost                     {(plain - noaudit) * 1e6:9.1f} µs/row")
    print(f"search indexing costs                 {(full - plain) * 1e6:9.1f} µs/row")
    print(
        f"ratio bulk import (no index) / raw with audit rows  {raw_audit / plain:5.2f}x   "
        "(the rows the import writes)"
    )
    print(f"ratio bulk import (no index) / raw     {raw / plain:5.2f}x   (goal ≥ 0.5x)")
    print(f"ratio bulk import + index / raw        {raw / full:5.2f}x   (goal ≥ 0.5x)")


if __name__ == "__main__":
    main()
