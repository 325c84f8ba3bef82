"""SQLite: a contentless FTS5 index (terms and positions, no text) per contract.

Columns ``fw fg fc`` hold the tokens of the contract's fields and ``dw dg dc`` those of
its documents (see :mod:`qiyue.search.analysis`); the rowid is the contract id. The
tokens are pre-segmented and space-separated, so ``unicode61`` only splits on spaces.

A contentless table cannot delete a row by itself before SQLite 3.43
(``contentless_delete``): FTS5's ``'delete'`` command needs the very tokens that were
indexed. Those are kept in ``search_terms``, sealed with AES-256-GCM under a data key
wrapped by the master keyring, like documents — so the database holds no readable text.
"""

# SQL here is assembled from constant identifiers (table and column names of this module)
# and the compiled SQL of a Django queryset; every value, the query text included, is a
# bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.lib.crypto import (
    decrypt_bytes,
    encrypt_bytes,
    new_data_key,
    unwrap_key,
    wrap_key,
)
from qiyue.search.analysis import Tokens
from qiyue.search.backends import base
from qiyue.search.backends.base import (
    ID,
    LIVE,
    SORT_COLUMNS,
    Allowed,
    Hit,
    IndexDocument,
    SearchBackend,
)
from qiyue.search.query import Kind, ParsedQuery, SearchError, Term

COLUMNS = ("fw", "fg", "fc", "dw", "dg", "dc")
# bm25 weights per column: fields count five times document text; characters least.
WEIGHTS = (5.0, 5.0, 2.5, 1.0, 1.0, 0.5)
PROGRESS_STEPS = 10_000  # SQLite VM instructions between two looks at the clock
# Allowed contracts that can all be read in this time are a set in the search statement,
# unless the query has fewer matches than FEW_MATCHES; otherwise they are asked per
# match (SqliteBackend.allowed).
SET_READ_SECONDS = 0.003
FEW_MATCHES = 2_000


def _names(generation: str) -> tuple[str, str]:
    suffix = "" if generation == LIVE else f"_{generation}"
    return f"search_fts{suffix}", f"search_terms{suffix}"


def _phrase(tokens: tuple[str, ...] | list[str]) -> str:
    return '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'


def _fts_term(term: Term) -> str:
    if term.kind == Kind.CHAR:
        return f"{{fc dc}} : {_phrase(term.tokens)}"
    if term.kind == Kind.GRAMS:
        return f"({{fg dg}} : {_phrase(term.tokens)} OR {{fw dw}} : {_phrase([term.text])})"
    if term.kind == Kind.WORD:
        return f"{{fw dw}} : {_phrase(term.tokens)}"
    if term.kind == Kind.PREFIX:
        return f"{{fg dg}} : {_phrase(term.tokens)} *"
    return f"{{fg dg}} : {_phrase(term.tokens)}"


def fts_query(query: ParsedQuery) -> str:
    """The FTS5 MATCH expression of a parsed query (every token quoted)."""
    positive = " AND ".join(f"({_fts_term(t)})" for t in query.positive)
    if not query.negative:
        return positive
    negative = " OR ".join(f"({_fts_term(t)})" for t in query.negative)
    return f"({positive}) NOT ({negative})"


@contextmanager
def _deadline(seconds: float, steps: int) -> Iterator[None]:
    """Interrupt the statements run inside after ``seconds`` (SQLite looks at the clock
    every ``steps`` VM instructions); they raise OperationalError "interrupted"."""
    connection.ensure_connection()
    raw = connection.connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), steps)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


def _interrupted(exc: OperationalError) -> bool:
    return "interrupted" in str(exc)


@contextmanager
def time_limit() -> Iterator[None]:
    """Interrupt the statements run inside after ``base.TIME_LIMIT_SECONDS``."""
    try:
        with _deadline(base.TIME_LIMIT_SECONDS, PROGRESS_STEPS):
            yield
    except OperationalError as exc:
        if not _interrupted(exc):
            raise
        raise SearchError(_("This search took too long; make it more specific.")) from None


def _fewer_matches(fts: str, match: str, n: int) -> bool:
    """Whether ``match`` has fewer than ``n`` matches in ``fts`` (reads at most ``n``)."""
    with time_limit(), connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH %s LIMIT %s)", [match, n]
        )
        return int(cur.fetchone()[0]) < n


def _reads_quickly(sql: str, params: Any) -> bool:
    """Whether SQLite reads every row of ``sql`` within :data:`SET_READ_SECONDS`."""
    try:
        with _deadline(SET_READ_SECONDS, 1_000), connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM ({sql})", params)
            cur.fetchone()
    except OperationalError as exc:
        if not _interrupted(exc):
            raise
        return False
    return True


def _keyring() -> Any:
    return settings.MASTER_KEYRING


def seal(values: list[str]) -> tuple[bytes, bytes]:
    keyring = _keyring()
    data_key = new_data_key()
    plain = zlib.compress(json.dumps(values, ensure_ascii=False).encode("utf-8"))
    wrapped = wrap_key(keyring.current_key, keyring.current, data_key)
    return wrapped, encrypt_bytes(plain, data_key)


def unseal(wrapped: bytes, sealed: bytes) -> list[str]:
    data_key = unwrap_key(_keyring(), bytes(wrapped), label="search terms")
    values = json.loads(zlib.decompress(decrypt_bytes(bytes(sealed), data_key)))
    return [str(v) for v in values]


def column_values(doc: IndexDocument) -> list[str]:
    f: Tokens = doc.field_tokens()
    d: Tokens = doc.document_tokens()
    return [" ".join(x) for x in (f.w, f.g, f.c, d.w, d.g, d.c)]


class SqliteBackend(SearchBackend):
    vendor = "sqlite"

    def create_tables(self, generation: str = LIVE) -> None:
        fts, terms = _names(generation)
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
                f"{', '.join(COLUMNS)}, content='', "
                "tokenize='unicode61 remove_diacritics 0')"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {terms} ("
                "contract_id INTEGER PRIMARY KEY, wrapped_key BLOB NOT NULL, sealed BLOB NOT NULL)"
            )

    def drop_tables(self, generation: str) -> None:
        fts, terms = _names(generation)
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {fts}")
            cur.execute(f"DROP TABLE IF EXISTS {terms}")

    def swap(self) -> None:
        from qiyue.search.backends.base import NEXT

        fts, terms = _names(LIVE)
        next_fts, next_terms = _names(NEXT)
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {fts}")
            cur.execute(f"DROP TABLE IF EXISTS {terms}")
            cur.execute(f"ALTER TABLE {next_fts} RENAME TO {fts}")
            cur.execute(f"ALTER TABLE {next_terms} RENAME TO {terms}")

    def _delete(self, cur: Any, contract_id: int, generation: str) -> None:
        fts, terms = _names(generation)
        cur.execute(
            f"SELECT wrapped_key, sealed FROM {terms} WHERE contract_id = %s", [contract_id]
        )
        row = cur.fetchone()
        if row is None:
            return
        values = unseal(row[0], row[1])
        cur.execute(
            f"INSERT INTO {fts} ({fts}, rowid, {', '.join(COLUMNS)}) "
            f"VALUES ('delete', %s, {', '.join(['%s'] * len(COLUMNS))})",
            [contract_id, *values],
        )
        cur.execute(f"DELETE FROM {terms} WHERE contract_id = %s", [contract_id])

    def write(self, doc: IndexDocument, *, generation: str = LIVE) -> None:
        fts, terms = _names(generation)
        values = column_values(doc)
        wrapped, sealed = seal(values)
        with connection.cursor() as cur:
            self._delete(cur, doc.contract_id, generation)
            cur.execute(
                f"INSERT INTO {fts} (rowid, {', '.join(COLUMNS)}) "
                f"VALUES (%s, {', '.join(['%s'] * len(COLUMNS))})",
                [doc.contract_id, *values],
            )
            cur.execute(
                f"INSERT INTO {terms} (contract_id, wrapped_key, sealed) VALUES (%s, %s, %s)",
                [doc.contract_id, wrapped, sealed],
            )

    def remove(self, contract_id: int, *, generation: str = LIVE) -> None:
        with connection.cursor() as cur:
            self._delete(cur, contract_id, generation)

    def indexed_ids(self, *, generation: str = LIVE) -> set[int]:
        _fts, terms = _names(generation)
        with connection.cursor() as cur:
            cur.execute(f"SELECT contract_id FROM {terms}")
            return {int(r[0]) for r in cur.fetchall()}

    def allowed(self, allowed: QuerySet[Any] | None) -> Allowed:
        """As the base class, in one of two forms by what reading the allowed contracts
        costs.

        A search reads the index newest first and stops after ``CANDIDATES + 1``
        allowed matches, so it only ever asks "is this match allowed?". A set built once
        (``+rowid IN (…)``) answers that for ~0.5 µs a match, but first reads every
        allowed contract: cheap through an index that narrows to them (a customer, "mine
        or shared with me" on a hundred thousand contracts), most of the search when it
        does not (a state, a type: bench/search.py). Asked per match (``EXISTS (… WHERE
        id = rowid)``) it costs ~2 µs a match and nothing up front. So the allowed
        contracts are read once, cut off after :data:`SET_READ_SECONDS`: if that was not
        enough they are asked per match. If it was, they are a set, except for a query
        with fewer than :data:`FEW_MATCHES` matches, where asking costs less than
        building (``_search`` counts that far first). The caller keeps the result with
        the SQL. Both forms are the same queryset, so they allow the same contracts."""
        if allowed is None:
            return Allowed()
        ids = allowed.order_by().values("pk")
        # ID is a constant placeholder, replaced by the statement's rowid column.
        correlated = ids.filter(pk=RawSQL(ID, ()))  # noqa: S611
        exists_sql, exists_params = correlated.query.sql_with_params()
        per_match = f"EXISTS ({exists_sql})"
        sql, params = ids.query.sql_with_params()
        if not _reads_quickly(sql, params):
            return Allowed(per_match, tuple(exists_params))
        # "+": a filter on the matches, not a list of rowids for FTS5 to look up one by
        # one (which costs a full MATCH per visible contract).
        return Allowed(f"+{ID} IN ({sql})", tuple(params), per_match, tuple(exists_params))

    def _search(
        self,
        query: ParsedQuery,
        allowed: Allowed,
        sort: str,
        limit: int,
        offset: int,
    ) -> tuple[list[Hit], int]:
        fts, _terms = _names(LIVE)
        match = fts_query(query)
        if allowed.per_match and _fewer_matches(fts, match, FEW_MATCHES):
            allowed = Allowed(allowed.per_match, allowed.per_match_params)
        where = f"{fts} MATCH %s{allowed.on(f'{fts}.rowid')}"
        params: list[Any] = [match, *allowed.params]
        rank = f"bm25({fts}, {', '.join(str(w) for w in WEIGHTS)})"
        # bm25() only works in the statement that does the MATCH, and not next to a window
        # function: the matches and their scores are a subquery, the window count is
        # taken over it.
        matches = f"SELECT {fts}.rowid AS id, -{rank} AS score FROM {fts} WHERE {where}"
        key = sort.lstrip("-")
        if key in SORT_COLUMNS:
            # Every match, in the column's order; the count stops past CANDIDATES.
            table = Contract._meta.db_table
            column = SORT_COLUMNS[key]
            direction = "DESC" if sort.startswith("-") else "ASC"
            sql = (
                f"SELECT m.id, m.score, min(count(*) OVER (), {base.CANDIDATES + 1}) "
                f"FROM ({matches}) m JOIN {table} c ON c.id = m.id "
                f"ORDER BY c.{column} IS NULL, c.{column} {direction}, m.id {direction} "
                "LIMIT %s OFFSET %s"
            )
        else:
            # FTS5 reads the matches newest first and stops after CANDIDATES + 1 of them;
            # the newest CANDIDATES are ranked, the one more only says "there are more".
            sql = (
                "SELECT id, score, n FROM (SELECT m.id, m.score, count(*) OVER () AS n, "
                "row_number() OVER (ORDER BY m.id DESC) AS k "
                f"FROM ({matches} ORDER BY {fts}.rowid DESC LIMIT {base.CANDIDATES + 1}) m) "
                f"WHERE k <= {base.CANDIDATES} ORDER BY score DESC, id DESC LIMIT %s OFFSET %s"
            )
        with time_limit(), connection.cursor() as cur:
            cur.execute(sql, [*params, limit, offset])
            rows = cur.fetchall()
            hits = [Hit(int(r[0]), float(r[1])) for r in rows]
            if rows:
                total = int(rows[0][2])
            else:
                cur.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {where} "
                    f"LIMIT {base.CANDIDATES + 1})",
                    params,
                )
                total = int(cur.fetchone()[0])
        return hits, total
