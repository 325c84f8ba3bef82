"""PostgreSQL: ``tsvector`` rows built from the same pre-segmented tokens as SQLite.

The vectors are written as ``tsvector`` literals and queried with ``tsquery`` literals,
so no text search configuration or parser touches them (``simple`` semantics, nothing
depends on the database's locale). Lexemes carry the column kind as a prefix (``w:``,
``g:``, ``c:``); field lexemes have weight A, document lexemes weight D, for ``ts_rank``.

A ``tsvector`` keeps at most 256 positions per lexeme, positions up to 16383 and 1 MB in
all, so a contract is stored as several rows (*chunks*): its fields, then its documents
in windows of :data:`CHUNK_CHARS` characters that overlap by :data:`OVERLAP_CHARS` (longer
than any query), so phrases stay exact however long the document. A query is evaluated
per contract: each positive term must match some chunk, no chunk may match a negative.

The index holds terms and positions, not the text, but in plain form: see
``docs/decisions/0003-search-index.md`` (disk encryption is required; a deploy check warns).
"""

# SQL here is assembled from constant identifiers (table and column names of this module)
# and the compiled SQL of a Django queryset; every value, the query text included, is a
# bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import OperationalError, connection, transaction
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.lib.bulksql import insert_rows
from qiyue.search.analysis import Tokens, analyse
from qiyue.search.backends import base
from qiyue.search.backends.base import (
    LIVE,
    NEXT,
    SORT_COLUMNS,
    Allowed,
    Hit,
    IndexDocument,
    SearchBackend,
)
from qiyue.search.query import Kind, ParsedQuery, SearchError, Term

CHUNK_CHARS = 3000
OVERLAP_CHARS = 250
MAX_POSITIONS = 256
MAX_POSITION = 16383
MAX_VECTOR_BYTES = 900_000
REFOLD_CHUNK = 500  # contracts whose lexemes are read together (ids_with_any)


def _name(generation: str) -> str:
    return "search_index" if generation == LIVE else f"search_index_{generation}"


def _quote(lexeme: str) -> str:
    if "\\" in lexeme or "'" in lexeme:  # never from the analysis, which keeps letters and digits
        lexeme = lexeme.replace("\\", "\\\\").replace("'", "''")
    return "'" + lexeme + "'"


def tsvector_literal(tokens: Tokens, weight: str) -> str:
    """A ``tsvector`` of the tokens, positions counted per kind (phrases are g only).
    Written for speed (it is most of indexing a contract on PostgreSQL): one dict of
    position lists, each lexeme's text made once."""
    positions: dict[str, list[int]] = {}
    size = 0
    for kind, values in (("w:", tokens.w), ("g:", tokens.g), ("c:", tokens.c)):
        for i, value in enumerate(values, start=1):
            lexeme = kind + value
            seen = positions.get(lexeme)
            if seen is None:
                size += len(lexeme.encode("utf-8")) + 8
                if size > MAX_VECTOR_BYTES:
                    continue
                positions[lexeme] = seen = []
            if len(seen) < MAX_POSITIONS:
                seen.append(i if i < MAX_POSITION else MAX_POSITION)
                size += 2
    parts = []
    for lexeme, found in positions.items():
        if len(found) == 1:
            parts.append(f"{_quote(lexeme)}:{found[0]}{weight}")
        else:
            parts.append(f"{_quote(lexeme)}:" + ",".join([f"{p}{weight}" for p in found]))
    return " ".join(parts)


def chunks(text: str) -> list[str]:
    if len(text) <= CHUNK_CHARS:
        return [text]
    step = CHUNK_CHARS - OVERLAP_CHARS
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text) - OVERLAP_CHARS, step)]


def _lexemes(kind: str, tokens: tuple[str, ...] | list[str]) -> str:
    return " <-> ".join(_quote(f"{kind}:{t}") for t in tokens)


def ts_term(term: Term) -> str:
    if term.variants:
        return "( " + " | ".join(_ts_form(t) for t in term.forms) + " )"
    return _ts_form(term)


def _ts_form(term: Term) -> str:
    if term.kind == Kind.CHAR:
        return _lexemes("c", term.tokens)
    if term.kind == Kind.GRAMS:
        return f"( {_lexemes('g', term.tokens)} | {_lexemes('w', [term.text])} )"
    if term.kind == Kind.WORD:
        return _lexemes("w", term.tokens)
    if term.kind == Kind.PREFIX:
        return _lexemes("g", term.tokens) + ":*"
    return f"( {_lexemes('g', term.tokens)} )"


class PostgresBackend(SearchBackend):
    vendor = "postgresql"

    def create_tables(self, generation: str = LIVE) -> None:
        table = _name(generation)
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                "contract_id bigint NOT NULL, chunk integer NOT NULL, vec tsvector NOT NULL, "
                f"CONSTRAINT {table}_pkey PRIMARY KEY (contract_id, chunk))"
            )
            cur.execute(f"CREATE INDEX IF NOT EXISTS {table}_vec ON {table} USING gin (vec)")

    def drop_tables(self, generation: str) -> None:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {_name(generation)}")

    def swap(self) -> None:
        live, shadow = _name(LIVE), _name(NEXT)
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {live}")
            cur.execute(f"ALTER TABLE {shadow} RENAME TO {live}")
            cur.execute(f"ALTER TABLE {live} RENAME CONSTRAINT {shadow}_pkey TO {live}_pkey")
            cur.execute(f"ALTER INDEX {shadow}_vec RENAME TO {live}_vec")

    def write(self, docs: Sequence[IndexDocument], *, generation: str = LIVE) -> None:
        if not docs:
            return
        table = _name(generation)
        rows: list[tuple[int, int, str]] = []
        for doc in docs:
            first = len(rows)
            rows.append((doc.contract_id, 0, tsvector_literal(analyse(doc.fields), "A")))
            for text in doc.documents:
                for piece in chunks(text):
                    tokens = analyse(piece)
                    if tokens.w or tokens.g or tokens.c:
                        rows.append(
                            (doc.contract_id, len(rows) - first, tsvector_literal(tokens, "D"))
                        )
        with connection.cursor() as cur:
            cur.execute(
                f"DELETE FROM {table} WHERE contract_id = ANY(%s)", [[d.contract_id for d in docs]]
            )
        # COPY parses each vector with tsvector's own input, as the cast would.
        insert_rows(connection, table, ["contract_id", "chunk", "vec"], rows)

    def remove(self, contract_id: int, *, generation: str = LIVE) -> None:
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {_name(generation)} WHERE contract_id = %s", [contract_id])

    def indexed_ids(self, *, generation: str = LIVE) -> set[int]:
        with connection.cursor() as cur:
            cur.execute(f"SELECT DISTINCT contract_id FROM {_name(generation)}")
            return {int(r[0]) for r in cur.fetchall()}

    def ids_with_any(self, chars: frozenset[str], *, generation: str = LIVE) -> Iterator[int]:
        table, after = _name(generation), 0
        with connection.cursor() as cur:
            while True:  # the lexemes of a chunk of contracts at a time
                cur.execute(
                    f"SELECT contract_id, string_agg(vec::text, ' ') FROM {table} "
                    "WHERE contract_id IN (SELECT DISTINCT contract_id FROM "
                    f"{table} WHERE contract_id > %s ORDER BY contract_id LIMIT %s) "
                    "GROUP BY contract_id ORDER BY contract_id",
                    [after, REFOLD_CHUNK],
                )
                rows = cur.fetchall()
                if not rows:
                    return
                for contract_id, text in rows:
                    if not chars.isdisjoint(text):
                        yield int(contract_id)
                after = int(rows[-1][0])

    def _search(
        self,
        query: ParsedQuery,
        allowed: Allowed,
        sort: str,
        limit: int,
        offset: int,
    ) -> tuple[list[Hit], int]:
        table = _name(LIVE)
        positives = [ts_term(t) for t in query.positive]
        any_q = " | ".join(f"( {p} )" for p in positives)
        # Each term's matching chunks come from the GIN index alone, in a materialized
        # CTE: plain lexemes need no recheck, so the large (TOASTed) vectors are read
        # only to check phrases. A contract matches when every term matches one of its
        # chunks. Rank: one per matching term in the fields plus a tenth per matching
        # document chunk, plus ts_rank on the fields (chunk 0, a small vector); ts_rank
        # on large document vectors would cost ~0.5 ms per matching chunk.
        ctes = [
            f"c{i} AS MATERIALIZED (SELECT contract_id, chunk FROM {table} "
            "WHERE vec @@ %s::tsquery)"
            for i in range(len(positives))
        ]
        params: list[Any] = list(positives)
        where = [
            f"u.contract_id IN (SELECT contract_id FROM c{i})"
            for i in range(len(positives))
            if len(positives) > 1
        ]
        if query.negative:
            ctes.append(
                f"ex AS MATERIALIZED (SELECT contract_id FROM {table} WHERE vec @@ %s::tsquery)"
            )
            params.append(" | ".join(f"( {ts_term(t)} )" for t in query.negative))
            where.append("u.contract_id NOT IN (SELECT contract_id FROM ex)")
        if allowed.condition:
            where.append(allowed.where("u.contract_id"))
        union = " UNION ALL ".join(
            f"SELECT contract_id, chunk FROM c{i}" for i in range(len(positives))
        )
        ctes.append(
            "m AS (SELECT u.contract_id, sum(CASE WHEN u.chunk = 0 THEN 1 ELSE 0.1 END) AS hits "
            f"FROM ({union}) u"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " GROUP BY u.contract_id)"
        )
        params += allowed.params
        cte = "WITH " + ", ".join(ctes)
        key = sort.lstrip("-")
        if key in SORT_COLUMNS:
            # Every match, in the column's order; the count stops past CANDIDATES.
            column = SORT_COLUMNS[key]
            direction = "DESC" if sort.startswith("-") else "ASC"
            sql = (
                f"{cte} SELECT m.contract_id, m.hits, "
                f"LEAST(count(*) OVER (), {base.CANDIDATES + 1}) "
                f"FROM m JOIN {Contract._meta.db_table} c ON c.id = m.contract_id "
                f"ORDER BY c.{column} IS NULL, c.{column} {direction}, m.contract_id {direction} "
                "LIMIT %s OFFSET %s"
            )
            sql_params = [*params, limit, offset]
        else:
            # The newest CANDIDATES + 1 matches; the newest CANDIDATES are ranked, the one
            # more only says "there are more" (as the SQLite backend).
            sql = (
                f"{cte}, n AS (SELECT m.contract_id, m.hits, count(*) OVER () AS n, "
                "row_number() OVER (ORDER BY m.contract_id DESC) AS k FROM "
                f"(SELECT * FROM m ORDER BY contract_id DESC LIMIT {base.CANDIDATES + 1}) m) "
                "SELECT n.contract_id, n.hits + coalesce(ts_rank(f.vec, %s::tsquery), 0) "
                f"AS score, n.n FROM n LEFT JOIN {table} f "
                f"ON f.contract_id = n.contract_id AND f.chunk = 0 WHERE n.k <= {base.CANDIDATES} "
                "ORDER BY score DESC, n.contract_id DESC LIMIT %s OFFSET %s"
            )
            sql_params = [*params, any_q, limit, offset]
        try:
            with transaction.atomic(), connection.cursor() as cur:
                limit_ms = max(1, int(base.TIME_LIMIT_SECONDS * 1000))
                # The vectors live out of line (TOAST), which the planner does not cost:
                # on small tables it picks a sequential scan that detoasts every vector
                # instead of the GIN index. Only for this statement; both settings in
                # one round trip (no parameters, so one simple-protocol message).
                cur.execute(
                    f"SET LOCAL statement_timeout = {limit_ms:d}; SET LOCAL enable_seqscan = off"
                )
                cur.execute(sql, sql_params)
                rows = cur.fetchall()
                hits = [Hit(int(r[0]), float(r[1])) for r in rows]
                if rows:  # the window count, in the same statement
                    total = int(rows[0][2])
                else:
                    cur.execute(
                        f"{cte} SELECT count(*) FROM "
                        f"(SELECT 1 FROM m LIMIT {base.CANDIDATES + 1}) x",
                        params,
                    )
                    total = int(cur.fetchone()[0])
                # Inside a caller's transaction this block is a savepoint, and SET LOCAL
                # lasts until the outer transaction ends: put both back.
                cur.execute(
                    "SET LOCAL statement_timeout TO DEFAULT; SET LOCAL enable_seqscan TO DEFAULT"
                )
        except OperationalError as exc:
            if "statement timeout" not in str(exc):
                raise
            raise SearchError(_("This search took too long; make it more specific.")) from None
        return hits, total
