"""Qiyue's search (``search_for`` as a real user) vs the raw backend query of the same
meaning, on generated data (goals, issue 5: p50 ≤ 1.5x raw, p95 ≤ 2x raw; 1M contracts
p50 ≤ 2x the 100k p50).

    .venv/bin/python bench/search.py [--contracts 100000] [--documents 20000] \
        [--repeat 15] [--data-dir var/bench-100k] [--scale 1000000]

The data folder (default ``var/bench-<N>``) is filled once by ``bench/generate.py``
through the bulk import path and reused when its ``bench-data.json`` says it holds the
requested sizes. A fixed query set (Chinese words, two-character and one-character
Chinese, English words, phrases, prefixes, exclusions, filters) runs as ``manager`` (all
data) and as ``sales1`` (own records only):

- **qiyue**: ``search_for(user, q, filters=…)`` — parsing, the permission subquery built
  from ``visible_to`` (its SQL kept per visibility key), the backend statement with its
  count, the rows of the page, tags and the highlighted snippets (document text
  decrypted for the hits of the page, or taken from the page-text cache); a "cold" line
  shows the same with both caches emptied before each run;
- **raw**: the statements a developer would write by hand against the same index, with
  the MATCH expression prepared beforehand and the permission and filters written as
  plain SQL, in the same meaning as Qiyue's (the newest ``CANDIDATES`` matches ranked,
  the total counted up to ``CANDIDATES``): SQLite ``SELECT rowid, bm25(…) … WHERE
  search_fts MATCH ? AND <allowed> ORDER BY rowid DESC LIMIT 1001`` on the newest
  index table, ranked in an outer query with a window ``count(*)`` (when that table
  holds no more than 1000 matches, the same from each table, newest first, ranked in
  Python: the index is split by contract id, decision 0008), where ``<allowed>`` is
  whichever of ``rowid IN
  (SELECT id FROM contracts …)`` and ``EXISTS (SELECT 1 FROM contracts c WHERE c.id =
  rowid AND …)`` was faster for that query in the warm-up; short CJK queries use the
  character and bigram columns of the same FTS5 index (``instr()`` cannot run on
  document text, which is stored encrypted). PostgreSQL (``DATABASE_URL`` set): the
  ``tsvector`` statement — each term's chunks from the GIN index, all terms required,
  the newest matches, ``ts_rank`` on the fields — with the ``tsquery`` literals prepared
  beforehand. No ORM, no snippets.

Both must return the same total and the same page of ids. Each query runs ``--repeat``
times per side, alternating; the p50 and p95 of all timings of a side are compared.
With ``--scale N`` the same run is made on an N-contract data folder (generated first if
missing: slow) and the p50 ratio N vs the base size is printed.
"""

# SQL here is built from constant table names and bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# (query, filters as ContractFilters keyword arguments; "type" is a contract type code)
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("违约金", {}),
    ("知识产权", {}),
    ("保密信息", {}),
    ("违约", {}),
    ("甲方", {}),
    ("税", {}),
    ("agreement", {}),
    ("termination", {}),
    ("indemnification", {}),
    ("arbitration", {}),
    ('"governing law"', {}),
    ('"intellectual property"', {}),
    ('"不可抗力"', {}),
    ("renew*", {}),
    ("违约 -解除", {}),
    ("confidential -terminate", {}),
    ("星河", {}),
    ("违约", {"state": ["active"]}),
    ('"governing law"', {"type": "FW"}),
    ("税", {"amount_min": "1000000"}),
    ("agreement", {"state": ["expired", "archived"], "signed_from": "2024-01-01"}),
]
USERS = ("manager", "sales1")


def setup(data_dir: Path) -> None:
    os.environ["QIYUE_DATA_DIR"] = str(data_dir)
    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    generate.setup()


def ensure_data(data_dir: Path, contracts: int, documents: int) -> None:
    marker = data_dir / "bench-data.json"
    if marker.exists():
        have = json.loads(marker.read_text())
        if have.get("contracts") == contracts and have.get("documents") == documents:
            return
        sys.exit(f"{data_dir} holds other sizes ({have}); choose another --data-dir")
    import generate

    print(f"generating {contracts} contracts and {documents} documents in {data_dir} …")
    generate.generate(contracts, documents)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from datetime import date
    from decimal import Decimal

    from django.db import connection

    from qiyue.accounts.models import User
    from qiyue.contracts.models import Contract, ContractShare, ContractType
    from qiyue.contracts.queries import ContractFilters
    from qiyue.search.backends.base import CANDIDATES
    from qiyue.search.backends.postgres import ts_term
    from qiyue.search.backends.sqlite import WEIGHTS, fts_query, shard_tables, table_ids
    from qiyue.search.queries import search_for
    from qiyue.search.query import parse

    pg = connection.vendor == "postgresql"
    if pg:  # as the backend does for its statement (the planner does not cost TOAST)
        with connection.cursor() as cur:
            cur.execute("SET enable_seqscan = off")
    types = {t.code: t.pk for t in ContractType.objects.all()}
    contract_table = Contract._meta.db_table
    share_table = ContractShare._meta.db_table
    tables = [] if pg else shard_tables()  # the FTS5 tables, newest contracts first

    def rank(fts: str) -> str:
        return f"-bm25({fts}, {', '.join(str(w) for w in WEIGHTS)})"

    def filters_of(spec: dict[str, Any]) -> ContractFilters:
        f = ContractFilters()
        for key, value in spec.items():
            if key == "type":
                f.contract_type = types[value]
            elif key == "amount_min":
                f.amount_min = Decimal(value)
            elif key == "signed_from":
                f.signed_from = date.fromisoformat(value)
            else:
                setattr(f, key, value)
        return f

    def raw_sql(user: Any, spec: dict[str, Any]) -> tuple[str, str, list[Any]]:
        """The allowed contracts as hand-written SQL (permission, then filters) in two
        forms, ``<id> IN (SELECT … AND c.id BETWEEN <first> AND <last>)`` (on SQLite
        the ids of one index table) and ``EXISTS (SELECT … WHERE c.id = <id>)``, with ``{id}``,
        ``{lo}`` and ``{hi}`` for the id column and the table's first and last id; ("",
        "", []) for every contract."""
        where: list[str] = []
        params: list[Any] = []
        if user.username != "manager":  # sales: own records, or shared with them
            where.append(
                f"(c.owner_id = %s OR c.id IN (SELECT contract_id FROM {share_table} "
                "WHERE user_id = %s OR department_id = %s))"
            )
            params += [user.pk, user.pk, user.department_id]
        for key, value in spec.items():
            if key == "state":
                where.append(f"c.state IN ({', '.join(['%s'] * len(value))})")
                params += value
            elif key == "type":
                where.append("c.contract_type_id = %s")
                params.append(types[value])
            elif key == "amount_min":
                where.append("c.amount >= %s")
                params.append(connection.ops.adapt_decimalfield_value(Decimal(value), 18, 2))
            elif key == "signed_from":
                where.append("c.signed_date >= %s")
                params.append(value)
        if not where:
            return "", "", []
        cond = " AND ".join(where)
        in_table = "" if pg else " AND c.id BETWEEN {lo} AND {hi}"
        in_set = f"{{id}} IN (SELECT c.id FROM {contract_table} c WHERE {cond}{in_table})"
        exists = f"EXISTS (SELECT 1 FROM {contract_table} c WHERE c.id = {{id}} AND {cond})"
        return in_set, exists, params

    def raw_search(match: Any, allowed: tuple[str, list[Any]]) -> tuple[list[int], int]:
        return (raw_search_pg if pg else raw_search_sqlite)(match, allowed)

    def raw_search_pg(match: Any, allowed: tuple[str, list[Any]]) -> tuple[list[int], int]:
        # The backend's statement written out for this query: each positive term's
        # chunks from the GIN index, every term required, negatives removed, the
        # permission and filters as plain SQL, the newest CANDIDATES + 1 matches, the
        # rank on the fields' chunk for the newest CANDIDATES.
        positives, negative = match
        cond, params = allowed
        ctes = [
            f"c{i} AS MATERIALIZED (SELECT contract_id, chunk FROM search_index "
            "WHERE vec @@ %s::tsquery)"
            for i in range(len(positives))
        ]
        cte_params: list[Any] = list(positives)
        where = [f"u.contract_id IN (SELECT contract_id FROM c{i})" for i in range(len(positives))]
        if len(positives) == 1:
            where = []
        if negative:
            ctes.append(
                "ex AS MATERIALIZED (SELECT contract_id FROM search_index WHERE vec @@ %s::tsquery)"
            )
            cte_params.append(negative)
            where.append("u.contract_id NOT IN (SELECT contract_id FROM ex)")
        if cond:
            where.append(cond.format(id="u.contract_id"))
        union = " UNION ALL ".join(
            f"SELECT contract_id, chunk FROM c{i}" for i in range(len(positives))
        )
        ctes.append(
            "m AS (SELECT u.contract_id, sum(CASE WHEN u.chunk = 0 THEN 1 ELSE 0.1 END) AS hits "
            f"FROM ({union}) u"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " GROUP BY u.contract_id)"
        )
        ctes.append(
            "n AS (SELECT m.contract_id, m.hits, count(*) OVER () AS n, "
            "row_number() OVER (ORDER BY m.contract_id DESC) AS k FROM "
            f"(SELECT * FROM m ORDER BY contract_id DESC LIMIT {CANDIDATES + 1}) m)"
        )
        any_q = " | ".join(f"( {p} )" for p in positives)
        with connection.cursor() as cur:
            cur.execute(
                f"WITH {', '.join(ctes)} SELECT n.contract_id, "
                "n.hits + coalesce(ts_rank(f.vec, %s::tsquery), 0) AS score, n.n "
                "FROM n LEFT JOIN search_index f ON f.contract_id = n.contract_id "
                f"AND f.chunk = 0 WHERE n.k <= {CANDIDATES} "
                "ORDER BY score DESC, n.contract_id DESC LIMIT 20",
                [*cte_params, *params, any_q],
            )
            rows = cur.fetchall()
            ids = [int(r[0]) for r in rows]
            if rows:
                return ids, min(int(rows[0][2]), CANDIDATES)
            cur.execute(f"WITH {', '.join(ctes)} SELECT count(*) FROM n", [*cte_params, *params])
            return ids, min(int(cur.fetchone()[0]), CANDIDATES)

    def raw_search_sqlite(match: Any, allowed: tuple[str, list[Any]]) -> tuple[list[int], int]:
        # One statement for the page and the total on the newest index table: FTS5
        # reads the matches newest first and stops after CANDIDATES + 1; the newest
        # CANDIDATES are ranked, a window count over them; a second count only when the
        # page is empty. When that table has no more than CANDIDATES matches and older
        # tables exist, each table's matches with their scores (the newest table's from
        # the first statement), newest first, ranked here.
        cond, params = allowed

        def where(fts: str) -> str:
            if not cond:
                return f"{fts} MATCH %s"
            lo, hi = table_ids(fts)
            return f"{fts} MATCH %s AND {cond.format(id=f'+{fts}.rowid', lo=lo, hi=hi)}"

        newest = tables[0]
        several = len(tables) > 1
        inner = (
            "SELECT m.id, m.score, count(*) OVER () AS n, "
            "row_number() OVER (ORDER BY m.id DESC) AS k FROM "
            f"(SELECT rowid AS id, {rank(newest)} AS score FROM {newest} "
            f"WHERE {where(newest)} ORDER BY rowid DESC LIMIT {CANDIDATES + 1}) m"
        )
        with connection.cursor() as cur:
            if several:  # every match of the newest table when it has no more than 1000
                cur.execute(
                    "SELECT id, n, score FROM (SELECT id, score, n, row_number() OVER "
                    f"(ORDER BY score DESC, id DESC) AS r FROM ({inner}) "
                    f"WHERE k <= {CANDIDATES}) WHERE n <= {CANDIDATES} OR r <= 20 ORDER BY r",
                    [match, *params],
                )
            else:
                cur.execute(
                    f"SELECT id, n FROM ({inner}) WHERE k <= {CANDIDATES} "
                    "ORDER BY score DESC, id DESC LIMIT 20",
                    [match, *params],
                )
            rows = cur.fetchall()
            n = int(rows[0][1]) if rows else None
            if n is None:
                cur.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM {newest} WHERE {where(newest)} "
                    f"LIMIT {CANDIDATES + 1})",
                    [match, *params],
                )
                n = int(cur.fetchone()[0])
            if n > CANDIDATES or not several:
                return [int(r[0]) for r in rows[:20]], min(n, CANDIDATES)
            found: list[tuple[int, float]] = [(r[0], r[2]) for r in rows]
            for fts in tables[1:]:
                need = CANDIDATES + 1 - len(found)
                if need <= 0:
                    break
                cur.execute(
                    f"SELECT rowid, {rank(fts)} FROM {fts} WHERE {where(fts)} "
                    f"ORDER BY rowid DESC LIMIT {need}",
                    [match, *params],
                )
                found += cur.fetchall()
        ranked = sorted(found[:CANDIDATES], key=lambda r: (-r[1], -r[0]))
        return [int(r[0]) for r in ranked[:20]], min(len(found), CANDIDATES)

    def fastest_form(match: Any, forms: tuple[str, str, list[Any]]) -> tuple[str, list[Any]]:
        """Of the two hand-written forms of the allowed set, the faster for this query
        (best of three each): the raw side gets the better statement."""
        in_set, exists, params = forms
        if not in_set:
            return "", []
        best: list[tuple[float, str]] = []
        for cond in (in_set, exists):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                raw_search(match, (cond, params))
                times.append(time.perf_counter() - start)
            best.append((min(times), cond))
        return min(best)[1], params

    def match_of(parsed: Any) -> Any:
        """The query as the raw side gets it, prepared beforehand: an FTS5 MATCH
        expression, or PostgreSQL tsquery literals (positive terms, negatives joined)."""
        if not pg:
            return fts_query(parsed)
        negative = " | ".join(f"( {ts_term(t)} )" for t in parsed.negative)
        return [ts_term(t) for t in parsed.positive], negative

    users = {u: User.objects.select_related("role", "department").get(username=u) for u in USERS}
    cases = []
    for username in USERS:
        for q, spec in QUERIES:
            user = users[username]
            match = match_of(parse(q))
            cases.append(
                (
                    username,
                    q,
                    spec,
                    user,
                    filters_of(spec),
                    match,
                    fastest_form(match, raw_sql(user, spec)),
                )
            )
    # Warm up (page cache, jieba, compiled patterns) and check the hit sets.
    mismatches = 0
    hits_per_case = {}
    for username, q, _spec, user, f, match, allowed in cases:
        mine = search_for(user, q, filters=f)
        ids, total = raw_search(match, allowed)
        hits_per_case[(username, q, str(_spec))] = total
        if mine.total != total or [i.contract_id for i in mine.items] != ids:
            mismatches += 1
            print(
                f"MISMATCH {username} {q!r} {_spec}: qiyue {mine.total} "
                f"{[i.contract_id for i in mine.items][:5]} raw {total} {ids[:5]}"
            )
    from qiyue.search import pagecache
    from qiyue.search import queries as search_queries

    qiyue_t: list[float] = []
    cold_t: list[float] = []
    raw_t: list[float] = []
    per_case: list[tuple[str, str, float, float, int]] = []
    for username, q, spec, user, f, match, allowed in cases:
        mine_t, theirs_t = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            raw_search(match, allowed)
            theirs_t.append(time.perf_counter() - start)
            start = time.perf_counter()
            search_for(user, q, filters=f)
            mine_t.append(time.perf_counter() - start)
        for _ in range(max(1, args.repeat // 3)):  # as the first search of a new process
            pagecache.clear()
            search_queries._ALLOWED_SQL.clear()
            start = time.perf_counter()
            search_for(user, q, filters=f)
            cold_t.append(time.perf_counter() - start)
        qiyue_t += mine_t
        raw_t += theirs_t
        per_case.append(
            (
                username,
                f"{q} {spec or ''}".strip(),
                statistics.median(mine_t),
                statistics.median(theirs_t),
                hits_per_case[(username, q, str(spec))],
            )
        )
    return {
        "contracts": Contract.objects.count(),
        "vendor": connection.vendor,
        "per_case": per_case,
        "qiyue_p50": percentile(qiyue_t, 0.5),
        "qiyue_p95": percentile(qiyue_t, 0.95),
        "cold_p50": percentile(cold_t, 0.5),
        "cold_p95": percentile(cold_t, 0.95),
        "raw_p50": percentile(raw_t, 0.5),
        "raw_p95": percentile(raw_t, 0.95),
        "mismatches": mismatches,
        "cases": len(cases),
        "repeat": args.repeat,
    }


def report(r: dict[str, Any], *, verbose: bool) -> None:
    if verbose:
        print(f"{'user':<8} {'query':<44} {'hits':>7} {'qiyue ms':>9} {'raw ms':>8} {'ratio':>6}")
        for username, q, mine, theirs, hits in r["per_case"]:
            print(
                f"{username:<8} {q[:44]:<44} {hits:>7} {mine * 1e3:9.2f} {theirs * 1e3:8.2f} "
                f"{mine / theirs:6.2f}"
            )
    print(
        f"{r['vendor']}; {r['contracts']} contracts; {r['cases']} queries x {r['repeat']} runs; "
        f"hit sets identical: {'yes' if not r['mismatches'] else 'NO (' + str(r['mismatches']) + ')'}"
    )
    print(f"qiyue  p50 {r['qiyue_p50'] * 1e3:7.2f} ms   p95 {r['qiyue_p95'] * 1e3:7.2f} ms")
    print(f"raw    p50 {r['raw_p50'] * 1e3:7.2f} ms   p95 {r['raw_p95'] * 1e3:7.2f} ms")
    print(
        f"cold   p50 {r['cold_p50'] * 1e3:7.2f} ms   p95 {r['cold_p95'] * 1e3:7.2f} ms   "
        f"(qiyue with its page-text and permission-SQL caches emptied before each run: "
        f"{r['cold_p50'] / r['raw_p50']:.2f}x / {r['cold_p95'] / r['raw_p95']:.2f}x raw)"
    )
    print(f"ratio  p50 {r['qiyue_p50'] / r['raw_p50']:7.2f}x (goal ≤ 1.5x)")
    print(f"ratio  p95 {r['qiyue_p95'] / r['raw_p95']:7.2f}x (goal ≤ 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--scale", type=int, default=None, help="also run on N contracts")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    suffix = "-pg" if os.environ.get("DATABASE_URL") else ""
    default_dir = ROOT / "var" / f"bench-{args.contracts // 1000}k{suffix}"
    data_dir = (args.data_dir or default_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    setup(data_dir)
    ensure_data(data_dir, args.contracts, args.documents)
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return
    report(result, verbose=True)
    if args.scale:
        scale_docs = args.documents * args.scale // args.contracts
        scale_dir = ROOT / "var" / f"bench-{args.scale // 1000}k{suffix}"
        cmd = [
            sys.executable, __file__, "--json", "--contracts", str(args.scale),
            "--documents", str(scale_docs), "--repeat", str(args.repeat),
            "--data-dir", str(scale_dir),
        ]  # fmt: skip
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        big = json.loads(out.strip().splitlines()[-1])
        print(f"--- {args.scale} contracts ---")
        report(big, verbose=False)
        print(
            f"scale  qiyue p50 {big['qiyue_p50'] / result['qiyue_p50']:5.2f}x the "
            f"{args.contracts} p50 (goal ≤ 2x); raw {big['raw_p50'] / result['raw_p50']:5.2f}x"
        )
        for username in USERS:  # the median query of each user, at both sizes

            def median_case(r: dict[str, Any], username: str = username) -> float:
                return statistics.median(c[2] for c in r["per_case"] if c[0] == username)

            print(
                f"       {username}: median query {median_case(result) * 1e3:.2f} ms → "
                f"{median_case(big) * 1e3:.2f} ms ({median_case(big) / median_case(result):.2f}x)"
            )


if __name__ == "__main__":
    main()
