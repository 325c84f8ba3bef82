"""SQLite: a contentless FTS5 index (terms and positions, no text) per contract.

Columns ``fw fg fc`` hold the tokens of the contract's fields and ``dw dg dc`` those of
its documents (see :mod:`qiyue.search.analysis`); the rowid is the contract id. The
tokens are pre-segmented and space-separated, so ``unicode61`` only splits on spaces.

The index is split by contract id into tables of :data:`SHARD_ROWS` ids each (decision
0008): a search reads the newest table first and stops as soon as it has the
``CANDIDATES + 1`` newest matches, so ``bm25()`` — which reads each term's whole list of
rows in its table to weigh it — reads a hundred thousand contracts' lists, not a
million's.

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

import itertools
import json
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.lib.bulksql import in_ids
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
# Allowed contracts that SQLite reads in at most this many steps of its virtual machine
# (counted, not timed: the choice must not depend on how busy the machine was when it
# was made) are a set in the search statement, unless they are more than MAX_SET_ROWS
# or the query has few matches; otherwise they are asked per match
# (SqliteBackend.allowed). About the 3 ms this was timed at before, on a quiet machine.
# Counted as _set_size counts them (bench data, 2026-12-06): a sales person's 9,100
# contracts of a table take ~155,000 steps, so they are asked per match, which was
# within 1 ms of the set for every bench query (faster for half). Filtered by an amount
# (188,000 steps) they cost 3.5-5 ms more as a set than per match; by a type (219,000),
# 8 ms more for one query and 4 ms less for another; by a state, 496,000 steps. A
# manager's filtered contracts stop at MAX_SET_ROWS.
SET_READ_STEPS = 125_000
# "Few" is this many matches per allowed contract of a table: reading the set costs per
# contract, asking per match costs per match, and the two met at 0.46 matches a contract
# on 100k contracts and at 0.25 on a million, where a match's row is further away
# (bench/search.py, decision 0012).
MATCHES_PER_SET_ROW = 0.3


# Contract ids per FTS5 table: ids 1 to SHARD_ROWS in the first table (``search_fts``),
# the next SHARD_ROWS in ``search_fts_1``, and so on.
SHARD_ROWS = 100_000
# Past this many allowed contracts in a table, asking per match never costs more: a
# search stops after CANDIDATES + 1 allowed matches, so with n allowed contracts it asks
# about CANDIDATES × SHARD_ROWS / n matches, fewer than "few" (MATCHES_PER_SET_ROW × n).
MAX_SET_ROWS = int((base.CANDIDATES * SHARD_ROWS / MATCHES_PER_SET_ROW) ** 0.5)
TERMS_CHUNK = 2_000  # sealed-terms rows read at a time (_sealed_chunks)
MERGE_PAGES = 2_000  # index pages (4 KB) written per step of SqliteBackend.optimize


def _names(generation: str) -> tuple[str, str]:
    """The first FTS5 table and the sealed-terms table of a generation."""
    suffix = "" if generation == LIVE else f"_{generation}"
    return f"search_fts{suffix}", f"search_terms{suffix}"


# Stand for the first and last contract id of an FTS5 table in an Allowed set, so the
# allowed contracts are read for that table's ids only (SqliteBackend.allowed).
FIRST_ID = "__qiyue_first_id__"
LAST_ID = "__qiyue_last_id__"


def shard_of(contract_id: int) -> int:
    return max(contract_id - 1, 0) // SHARD_ROWS


def _shard_table(generation: str, shard: int) -> str:
    fts, _terms = _names(generation)
    return fts if shard == 0 else f"{fts}_{shard}"


def _shard_number(table: str) -> int:
    """The inverse of :func:`_shard_table`, for either generation: ``search_fts`` and
    ``search_fts_next`` are 0, ``search_fts_3`` and ``search_fts_next_3`` are 3."""
    suffix = table.rsplit("_", 1)[-1]
    return int(suffix) if suffix.isdigit() else 0


def table_ids(table: str) -> tuple[int, int]:
    """The first and last contract id the FTS5 table ``table`` may hold."""
    shard = _shard_number(table)
    return shard * SHARD_ROWS + 1, (shard + 1) * SHARD_ROWS


def _in_table_range(sql: str, fts: str) -> str:
    """``sql`` with :data:`FIRST_ID` and :data:`LAST_ID` replaced by the first and last
    contract id the FTS5 table ``fts`` holds (integers)."""
    if FIRST_ID not in sql:
        return sql
    first, last = table_ids(fts)
    return sql.replace(FIRST_ID, str(first)).replace(LAST_ID, str(last))


def shard_tables(generation: str = LIVE) -> list[str]:
    """The FTS5 tables of a generation that exist, newest contracts first.

    Every search needs them; reading the schema cost 0.13 ms a search, its version
    number a tenth of that. So outside a transaction they are kept on the database
    connection (one per thread) with the schema's version when they were read, and read
    again when it has changed: creating or dropping a table (a new table of contract
    ids, the swap after a rebuild) changes it, whichever connection or process does it.
    Inside a transaction the schema may hold tables that a rollback takes back (and its
    version with them), so it is read every time."""
    fts, _terms = _names(generation)
    with connection.cursor() as cur:
        kept: dict[str, tuple[int, list[str]]] | None = None
        if not connection.in_atomic_block:
            cur.execute("PRAGMA schema_version")
            version = int(cur.fetchone()[0])
            raw = connection.connection
            on_raw: tuple[Any, dict[str, tuple[int, list[str]]]] | None
            on_raw = getattr(connection, "_qiyue_fts_tables", None)
            if on_raw is None or on_raw[0] is not raw:  # a new connection: nothing kept yet
                on_raw = (raw, {})
                connection._qiyue_fts_tables = on_raw  # type: ignore[attr-defined]
            kept = on_raw[1]
            found = kept.get(generation)
            if found is not None and found[0] == version:
                return list(found[1])
        cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND sql LIKE 'CREATE VIRTUAL TABLE%%' AND (name = %s OR name GLOB %s)",
            [fts, f"{fts}_[0-9]*"],
        )
        names = sorted((str(r[0]) for r in cur.fetchall()), key=_shard_number, reverse=True)
    if kept is not None:
        kept[generation] = (version, names)
    return list(names)


def _create_fts(cur: Any, table: str) -> None:
    cur.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
        f"{', '.join(COLUMNS)}, content='', tokenize='unicode61 remove_diacritics 0')"
    )


def _index_sql(fts: str) -> str:
    """The insert of an entry into the FTS5 table ``fts``: its contract id, then its
    column values (:data:`COLUMNS`)."""
    return (
        f"INSERT INTO {fts} (rowid, {', '.join(COLUMNS)}) "
        f"VALUES (%s, {', '.join(['%s'] * len(COLUMNS))})"
    )


def _unindex_sql(fts: str) -> str:
    """FTS5's ``'delete'`` of an entry of the contentless table ``fts``: its contract
    id, then the very values it was indexed with."""
    return (
        f"INSERT INTO {fts} ({fts}, rowid, {', '.join(COLUMNS)}) "
        f"VALUES ('delete', %s, {', '.join(['%s'] * len(COLUMNS))})"
    )


def _phrase(tokens: tuple[str, ...] | list[str]) -> str:
    return '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'


def _fts_term(term: Term) -> str:
    if term.variants:
        return " OR ".join(f"({_fts_form(t)})" for t in term.forms)
    return _fts_form(term)


def _fts_form(term: Term) -> str:
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
def _interrupt_when(stop: Callable[[], bool], steps: int) -> Iterator[None]:
    """Interrupt the statements run inside as soon as ``stop()`` says so (SQLite asks it
    every ``steps`` VM instructions); they raise OperationalError "interrupted"."""
    connection.ensure_connection()
    raw = connection.connection
    raw.set_progress_handler(lambda: int(stop()), steps)
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
        deadline = time.monotonic() + base.TIME_LIMIT_SECONDS
        with _interrupt_when(lambda: time.monotonic() > deadline, PROGRESS_STEPS):
            yield
    except OperationalError as exc:
        if not _interrupted(exc):
            raise
        raise SearchError(_("This search took too long; make it more specific.")) from None


def _fewer_matches(cur: Any, fts: str, match: str, n: int) -> bool:
    """Whether ``match`` has fewer than ``n`` matches in ``fts`` (reads at most ``n``)."""
    cur.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH %s LIMIT %s)", [match, n]
    )
    return int(cur.fetchone()[0]) < n


def _one_form(cur: Any, fts: str, match: str, allowed: Allowed) -> Allowed:
    """``allowed`` in the one form to use on the FTS5 table ``fts``: asked per match
    when the table has fewer than ``allowed.few`` matches, else the set (see
    SqliteBackend.allowed)."""
    if not allowed.per_match:
        return allowed
    if allowed.few > 0 and _fewer_matches(cur, fts, match, allowed.few):
        return Allowed(allowed.per_match, allowed.per_match_params)
    return Allowed(allowed.condition, allowed.params)


def _matches(cur: Any, fts: str, match: str, allowed: Allowed) -> tuple[str, list[Any]]:
    """The allowed matches of one FTS5 table with their scores (``id``, ``score``): a
    SELECT and its parameters, with ``allowed`` in the form :func:`_one_form` chooses
    for the table."""
    allowed = _one_form(cur, fts, match, allowed)
    rank = f"bm25({fts}, {', '.join(str(w) for w in WEIGHTS)})"
    sql = (
        f"SELECT {fts}.rowid AS id, -{rank} AS score FROM {fts} "
        f"WHERE {fts} MATCH %s{_in_table_range(allowed.on(f'{fts}.rowid'), fts)}"
    )
    return sql, [match, *allowed.params]


def _older_form(cur: Any, tables: list[str], match: str, allowed: Allowed) -> Allowed:
    """The form of ``allowed`` for every table but the newest (``tables[1:]``), chosen
    once on the first of them. Those tables are full (SHARD_ROWS ids each), so a query
    has about as many matches in one as in another; counting each table's would read
    its list once more (0.6 ms for "违约金" per table at a million contracts). The
    newest table, which may hold few contracts, is counted on its own."""
    return _one_form(cur, tables[1], match, allowed) if len(tables) > 1 else allowed


def _page_and_count(
    cur: Any, sql: str, args: list[Any], matches: str, params: list[Any]
) -> tuple[list[Hit], int]:
    """The hits of a page statement (``id``, ``score``, the count up to CANDIDATES + 1)
    and that count; when the page is empty, the count of ``matches`` (a SELECT of
    :func:`_matches`) is taken apart."""
    cur.execute(sql, args)
    rows = cur.fetchall()
    if rows:
        return [Hit(int(r[0]), float(r[1])) for r in rows], int(rows[0][2])
    cur.execute(f"SELECT count(*) FROM ({matches} LIMIT {base.CANDIDATES + 1})", params)
    return [], int(cur.fetchone()[0])


def _set_size(sql: str, params: Any) -> int | None:
    """How many rows ``sql`` gives, if they are at most :data:`MAX_SET_ROWS` and SQLite
    reads them within :data:`SET_READ_STEPS` steps (else None)."""
    thousands = itertools.count(1)  # SQLite asks every 1,000 steps
    try:
        with (
            _interrupt_when(lambda: next(thousands) * 1_000 > SET_READ_STEPS, 1_000),
            connection.cursor() as cur,
        ):
            cur.execute(f"SELECT count(*) FROM ({sql} LIMIT {MAX_SET_ROWS + 1})", params)
            size = int(cur.fetchone()[0])
    except OperationalError as exc:
        if not _interrupted(exc):
            raise
        return None
    return size if size <= MAX_SET_ROWS else None


def _keyring() -> Any:
    return settings.MASTER_KEYRING


def _sealed_chunks(
    terms: str, *, after: int = 0, within: str = ""
) -> Iterator[list[tuple[int, bytes, bytes]]]:
    """The rows (contract id, wrapped key, sealed terms) of the sealed-terms table
    ``terms`` past contract ``after``, in id order, :data:`TERMS_CHUNK` at a time, so a
    million contracts' terms are never in memory together; with ``within``, only the
    contracts that FTS5 table holds. Each chunk is read before it is given, so the
    caller may write between chunks."""
    narrow = f" AND t.contract_id IN (SELECT rowid FROM {within} WHERE rowid > %s)"
    with connection.cursor() as cur:
        while True:
            cur.execute(
                f"SELECT t.contract_id, t.wrapped_key, t.sealed FROM {terms} t "
                f"WHERE t.contract_id > %s{narrow if within else ''} "
                "ORDER BY t.contract_id LIMIT %s",
                [after, after, TERMS_CHUNK] if within else [after, TERMS_CHUNK],
            )
            rows = cur.fetchall()
            if not rows:
                return
            yield rows
            after = int(rows[-1][0])


def seal_many(entries: list[list[str]]) -> tuple[bytes, list[bytes]]:
    """The column values of several entries, each sealed on its own under one new data
    key (given wrapped): the entries written together share their key, as the pages of
    a document do."""
    keyring = _keyring()
    data_key = new_data_key()
    wrapped = wrap_key(keyring.current_key, keyring.current, data_key)
    sealed = [
        encrypt_bytes(zlib.compress(json.dumps(v, ensure_ascii=False).encode("utf-8")), data_key)
        for v in entries
    ]
    return wrapped, sealed


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
        _fts, terms = _names(generation)
        with connection.cursor() as cur:
            _create_fts(cur, _shard_table(generation, 0))
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {terms} ("
                "contract_id INTEGER PRIMARY KEY, wrapped_key BLOB NOT NULL, sealed BLOB NOT NULL)"
            )

    def drop_tables(self, generation: str) -> None:
        _fts, terms = _names(generation)
        tables = shard_tables(generation)
        with connection.cursor() as cur:
            for table in tables:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"DROP TABLE IF EXISTS {terms}")

    def swap(self) -> None:
        from qiyue.search.backends.base import NEXT

        _fts, terms = _names(LIVE)
        _next_fts, next_terms = _names(NEXT)
        self.drop_tables(LIVE)
        next_tables = shard_tables(NEXT)
        with connection.cursor() as cur:
            for table in next_tables:
                live = _shard_table(LIVE, _shard_number(table))
                cur.execute(f"ALTER TABLE {table} RENAME TO {live}")
            cur.execute(f"ALTER TABLE {next_terms} RENAME TO {terms}")

    def optimize(self, *, generation: str = LIVE) -> int:
        """FTS5 writes each transaction's entries as a new piece (segment) of the table
        and merges them a few at a time; after a bulk write a term's list is spread over
        a dozen pieces and every search reads each one (8% of a search on 100,000
        generated contracts). ``'merge'`` with a negative budget merges every piece of a
        table into one, ``MERGE_PAGES`` pages per step, each step in its own transaction
        so that other writers wait for one step, not for the whole table; a table
        already in one piece costs one step that writes nothing."""
        tables = shard_tables(generation)
        for fts in tables:
            while True:
                with transaction.atomic(), connection.cursor() as cur:
                    before = connection.connection.total_changes
                    cur.execute(
                        f"INSERT INTO {fts} ({fts}, rank) VALUES ('merge', %s)", [-MERGE_PAGES]
                    )
                    # Fewer than two changes: nothing was left to merge (FTS5's manual).
                    if connection.connection.total_changes - before < 2:
                        break
        return len(tables)

    def _delete(self, cur: Any, contract_ids: list[int], generation: str) -> None:
        """Take these contracts' entries out of the index, where they have one."""
        _fts, terms = _names(generation)
        one_of, params = in_ids(connection, contract_ids)
        cur.execute(
            f"SELECT contract_id, wrapped_key, sealed FROM {terms} WHERE contract_id {one_of}",
            params,
        )
        found = cur.fetchall()
        by_table: dict[str, list[list[Any]]] = {}
        for contract_id, wrapped, sealed in found:
            fts = _shard_table(generation, shard_of(contract_id))
            by_table.setdefault(fts, []).append([contract_id, *unseal(wrapped, sealed)])
        for fts, rows in by_table.items():
            cur.executemany(_unindex_sql(fts), rows)
        if found:
            cur.execute(f"DELETE FROM {terms} WHERE contract_id {one_of}", params)

    @staticmethod
    def _unindex(cur: Any, fts: str, contract_id: int, sealed_row: Any) -> list[str]:
        """Take the contract's terms (its sealed ``search_terms`` row) out of ``fts``;
        returns them."""
        values = unseal(sealed_row[0], sealed_row[1])
        cur.execute(_unindex_sql(fts), [contract_id, *values])
        return values

    @staticmethod
    def _index(cur: Any, fts: str, contract_id: int, values: list[str]) -> None:
        _create_fts(cur, fts)
        cur.execute(_index_sql(fts), [contract_id, *values])

    def write(self, docs: Sequence[IndexDocument], *, generation: str = LIVE) -> None:
        if not docs:
            return
        _fts, terms = _names(generation)
        ids = [doc.contract_id for doc in docs]
        values = [column_values(doc) for doc in docs]
        wrapped, sealed = seal_many(values)
        by_table: dict[str, list[list[Any]]] = {}
        for contract_id, row in zip(ids, values, strict=True):
            by_table.setdefault(_shard_table(generation, shard_of(contract_id)), []).append(
                [contract_id, *row]
            )
        with connection.cursor() as cur:
            self._delete(cur, ids, generation)
            for fts, rows in by_table.items():
                _create_fts(cur, fts)
                cur.executemany(_index_sql(fts), rows)
            cur.executemany(
                f"INSERT INTO {terms} (contract_id, wrapped_key, sealed) VALUES (%s, %s, %s)",
                [(contract_id, wrapped, one) for contract_id, one in zip(ids, sealed, strict=True)],
            )

    def reshard(self, generation: str = LIVE) -> int:
        """Move the entries that the first table holds past its ids (an index from
        before decision 0008 holds every contract there) into the table of their
        contract id; returns how many moved. Their terms come from ``search_terms``, so
        nothing is analysed again."""
        first, terms = _names(generation)
        if first not in shard_tables(generation):
            return 0
        moved = 0
        with connection.cursor() as cur:
            for rows in _sealed_chunks(terms, after=SHARD_ROWS, within=first):
                for contract_id, wrapped, sealed in rows:
                    values = self._unindex(cur, first, contract_id, (wrapped, sealed))
                    table = _shard_table(generation, shard_of(contract_id))
                    self._index(cur, table, contract_id, values)
                moved += len(rows)
            if moved:
                # Merge the first table's segments, which hold a deletion mark for every
                # entry moved out: until merged, reading its lists skips over them
                # (3x slower at a million contracts).
                cur.execute(f"INSERT INTO {first} ({first}) VALUES ('optimize')")
        return moved

    def remove(self, contract_id: int, *, generation: str = LIVE) -> None:
        with connection.cursor() as cur:
            self._delete(cur, [contract_id], generation)

    def indexed_ids(self, *, generation: str = LIVE) -> set[int]:
        _fts, terms = _names(generation)
        with connection.cursor() as cur:
            cur.execute(f"SELECT contract_id FROM {terms}")
            return {int(r[0]) for r in cur.fetchall()}

    def ids_with_any(self, chars: frozenset[str], *, generation: str = LIVE) -> Iterator[int]:
        _fts, terms = _names(generation)
        for rows in _sealed_chunks(terms):
            for contract_id, wrapped, sealed in rows:
                if any(not chars.isdisjoint(v) for v in unseal(wrapped, sealed)):
                    yield int(contract_id)

    def allowed(self, allowed: QuerySet[Any] | None) -> Allowed:
        """As the base class, in one of two forms by what reading the allowed contracts
        costs.

        A search reads the index newest first and stops after ``CANDIDATES + 1``
        allowed matches, so it only ever asks "is this match allowed?". A set built once
        (``+rowid IN (…)``) answers that cheaply per match, but first reads every
        allowed contract of the table: cheap through an index that narrows to them (a
        customer, "mine or shared with me"), most of the search when it does not (a
        state, a type: bench/search.py). Asked per match (``EXISTS (… WHERE id =
        rowid)``) it costs more per match and nothing up front. So the allowed
        contracts of a full table are counted once, cut off after
        :data:`SET_READ_STEPS` steps or :data:`MAX_SET_ROWS` rows: past either they are
        asked per match. If not, they are a set, except for a query with fewer matches
        in a table than :data:`MATCHES_PER_SET_ROW` times that count (``few``), where
        asking costs less than building (``_search`` counts that far first). The caller
        keeps the result with the SQL. Both forms are the same queryset, so they allow
        the same contracts, and the choice is counted, not timed, so it is the same
        however busy the machine is."""
        if allowed is None:
            return Allowed()
        ids = allowed.order_by().values("pk")
        # ID is a constant placeholder, replaced by the statement's rowid column.
        correlated = ids.filter(pk=RawSQL(ID, ()))  # noqa: S611
        exists_sql, exists_params = correlated.query.sql_with_params()
        per_match = f"EXISTS ({exists_sql})"
        # The set is read for one FTS5 table's ids at a time (constant placeholders,
        # replaced by integers): through the indexes on a column and the id, the
        # contracts of one table cost the same on a million contracts as on a hundred
        # thousand. Timed on a full table's ids (the newest may hold only a few).
        in_table = ids.filter(pk__gte=RawSQL(FIRST_ID, ()), pk__lte=RawSQL(LAST_ID, ()))  # noqa: S611
        sql, params = in_table.query.sql_with_params()
        tables = shard_tables(LIVE)
        sample = tables[1] if len(tables) > 1 else _names(LIVE)[0]
        size = _set_size(_in_table_range(sql, sample), params)
        if size is None:
            return Allowed(per_match, tuple(exists_params))
        # "+": a filter on the matches, not a list of rowids for FTS5 to look up one by
        # one (which costs a full MATCH per visible contract).
        return Allowed(
            f"+{ID} IN ({sql})",
            tuple(params),
            per_match,
            tuple(exists_params),
            few=int(size * MATCHES_PER_SET_ROW),
        )

    def _search(
        self,
        query: ParsedQuery,
        allowed: Allowed,
        sort: str,
        limit: int,
        offset: int,
    ) -> tuple[list[Hit], int]:
        tables = shard_tables(LIVE)
        if not tables:
            return [], 0
        match = fts_query(query)
        key = sort.lstrip("-")
        with time_limit(), connection.cursor() as cur:
            if key in SORT_COLUMNS:
                return self._by_column(cur, tables, match, allowed, sort, limit, offset)
            # The newest table alone, ranked in SQL, is the whole answer when it holds
            # more than CANDIDATES matches (or is the only table).
            several = len(tables) > 1
            hits, n = self._ranked_page(cur, tables[0], match, allowed, limit, offset, several)
            if n > base.CANDIDATES or not several:
                return hits, n
            # Otherwise the newest CANDIDATES + 1 matches come from several tables: the
            # newest gave all of its matches with their scores, the older ones give
            # theirs table by table, newest first; they are ranked here.
            found = [(h.contract_id, h.score) for h in hits]
            older = _older_form(cur, tables, match, allowed)
            for fts in tables[1:]:
                need = base.CANDIDATES + 1 - len(found)
                if need <= 0:
                    break
                matches, params = _matches(cur, fts, match, older)
                cur.execute(f"{matches} ORDER BY {fts}.rowid DESC LIMIT {need}", params)
                found += [(int(r[0]), float(r[1])) for r in cur.fetchall()]
        ranked = sorted(found[: base.CANDIDATES], key=lambda r: (-r[1], -r[0]))
        return [Hit(i, score) for i, score in ranked[offset : offset + limit]], len(found)

    def _ranked_page(
        self,
        cur: Any,
        fts: str,
        match: str,
        allowed: Allowed,
        limit: int,
        offset: int,
        every: bool = False,
    ) -> tuple[list[Hit], int]:
        """A page of the newest CANDIDATES matches of one table by relevance, and the
        number of matches up to CANDIDATES + 1. With ``every``, all the matches instead
        of the page when there are no more than CANDIDATES (best first)."""
        # bm25() only works in the statement that does the MATCH, and not next to a window
        # function: the matches and their scores are a subquery, the window count is
        # taken over it. FTS5 reads the matches newest first and stops after
        # CANDIDATES + 1 of them; the newest CANDIDATES are ranked, the one more only
        # says "there are more".
        matches, params = _matches(cur, fts, match, allowed)
        newest = (
            "SELECT m.id, m.score, count(*) OVER () AS n, "
            "row_number() OVER (ORDER BY m.id DESC) AS k "
            f"FROM ({matches} ORDER BY {fts}.rowid DESC LIMIT {base.CANDIDATES + 1}) m"
        )
        if not every:
            sql = (
                f"SELECT id, score, n FROM ({newest}) WHERE k <= {base.CANDIDATES} "
                "ORDER BY score DESC, id DESC LIMIT %s OFFSET %s"
            )
            args = [*params, limit, offset]
        else:
            sql = (
                "SELECT id, score, n FROM (SELECT id, score, n, "
                "row_number() OVER (ORDER BY score DESC, id DESC) AS r "
                f"FROM ({newest}) WHERE k <= {base.CANDIDATES}) "
                f"WHERE n <= {base.CANDIDATES} OR (r > %s AND r <= %s) ORDER BY r"
            )
            args = [*params, offset, offset + limit]
        return _page_and_count(cur, sql, args, matches, params)

    def _by_column(
        self,
        cur: Any,
        tables: list[str],
        match: str,
        allowed: Allowed,
        sort: str,
        limit: int,
        offset: int,
    ) -> tuple[list[Hit], int]:
        """A page of every match in a contract column's order, and the number of
        matches up to CANDIDATES + 1."""
        parts, params = [], []
        older = _older_form(cur, tables, match, allowed)
        for i, fts in enumerate(tables):
            sql, table_params = _matches(cur, fts, match, allowed if i == 0 else older)
            parts.append(sql)
            params += table_params
        matches = " UNION ALL ".join(parts)
        table = Contract._meta.db_table
        column = SORT_COLUMNS[sort.lstrip("-")]
        direction = "DESC" if sort.startswith("-") else "ASC"
        sql = (
            f"SELECT m.id, m.score, min(count(*) OVER (), {base.CANDIDATES + 1}) "
            f"FROM ({matches}) m JOIN {table} c ON c.id = m.id "
            f"ORDER BY c.{column} IS NULL, c.{column} {direction}, m.id {direction} "
            "LIMIT %s OFFSET %s"
        )
        return _page_and_count(cur, sql, [*params, limit, offset], matches, params)
