"""What the index stores and how queries are read: terms only, sealed token lists,
quoted tokens, page numbers of hits, escaped snippets, the deploy check."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.checks import run_checks
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from qiyue.documents.actions import upload_document
from qiyue.search.analysis import (
    Tokens,
    analyse,
    fold,
    gram_tokens,
    regional_variants,
    stem,
)
from qiyue.search.backends.postgres import chunks, ts_term, tsvector_literal
from qiyue.search.backends.sqlite import fts_query
from qiyue.search.queries import search_for
from qiyue.search.query import MAX_TERMS, Kind, SearchError, parse
from tests.documents.doc_files import pdf_bytes


def test_text_is_folded_and_cut_into_words_bigrams_and_characters() -> None:
    assert fold("ＡＢＣ１２３") == "abc123"
    tokens = analyse("违约金 Renewals")
    assert "违约" in tokens.w and "违约金" in tokens.w and "renewal" in tokens.w
    assert tokens.g == ["违约", "约金", "renewals"]
    assert tokens.c == ["违", "约", "金"]
    assert gram_tokens("auto-renew 税") == ["auto", "renew", "税"]
    assert [stem(w) for w in ("renews", "renewed", "renewing", "parties", "process")] == [
        "renew",
        "renew",
        "renew",
        "party",
        "process",
    ]


def test_queries_become_terms_and_user_text_never_reaches_match_unquoted() -> None:
    q = parse('税 违约金 renew* "governing law" -"NEAR(x" -y')
    assert [(t.kind, t.negative) for t in q.terms] == [
        (Kind.CHAR, False),
        (Kind.GRAMS, False),
        (Kind.PREFIX, False),
        (Kind.PHRASE, False),
        (Kind.PHRASE, True),
        (Kind.WORD, True),
    ]
    match = fts_query(q)
    assert "NEAR(" not in match and '"near x"' in match
    assert ts_term(q.terms[1]) == "( 'g:违约' <-> 'g:约金' | 'w:违约金' )"
    assert parse("a*").terms[0].kind == Kind.WORD  # one-letter prefixes are plain words
    with pytest.raises(SearchError):
        parse(" ".join(f"w{i}" for i in range(MAX_TERMS + 1)))
    assert parse("!!! ，。 ^ - *").is_empty


def test_a_traditional_query_also_looks_for_the_mainland_words() -> None:
    assert regional_variants("软体授权合约") == ("软件授权合同",)
    assert regional_variants("资料库") == ("数据库",)
    assert regional_variants("违约金") == ()
    [term] = parse("軟體").terms
    assert [(t.kind, t.text, t.tokens) for t in term.forms] == [
        (Kind.GRAMS, "软体", ("软体",)),
        (Kind.GRAMS, "软件", ("软件",)),
    ]
    assert parse("软体").terms[0].variants == ()  # typed in simplified: as it is
    [negative] = parse("合同 -合約").negative
    assert [t.text for t in negative.forms] == ["合约", "合同"]
    match = fts_query(parse('"軟體授權"'))
    assert '"软体 体授 授权"' in match and '"软件 件授 授权"' in match and " OR " in match
    assert "软件" in ts_term(parse("軟體").terms[0]) and "软体" in ts_term(parse("軟體").terms[0])


def test_postgresql_vectors_are_written_as_tsvector_literals() -> None:
    tokens = Tokens(w=["a'b", "c\\d", "x"], g=["x", "x", "y"], c=["税"])
    assert tsvector_literal(tokens, "A") == (
        "'w:a''b':1A 'w:c\\\\d':2A 'w:x':3A 'g:x':1A,2A 'g:y':3A 'c:税':1A"
    )
    assert tsvector_literal(Tokens(g=["z"] * 300), "D").count(",") == 255  # 256 positions


def test_long_documents_are_chunked_with_overlaps_longer_than_any_query() -> None:
    text = "甲" * 10_000
    pieces = chunks(text)
    assert len(pieces) > 3 and all(len(p) <= 3000 for p in pieces)
    assert sum(len(p) for p in pieces) >= len(text)


def test_the_database_holds_no_readable_text_of_the_contracts(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's contentless FTS5; PostgreSQL stores terms (see 0003)")
    with connection.cursor() as cur:
        cur.execute("SELECT fw, dg FROM search_fts")
        assert all(row == (None, None) for row in cur.fetchall())  # contentless
        cur.execute("SELECT sealed FROM search_terms")
        blobs = b"".join(bytes(r[0]) for r in cur.fetchall())
    for text in ("违约金", "governing", "逾期付款"):
        assert text.encode("utf-8") not in blobs


def test_hits_in_a_pdf_say_the_page_and_snippets_are_escaped(
    org: SimpleNamespace, docs: Any, committed: Any
) -> None:
    from tests.factories import make_contract

    with committed():
        contract = make_contract(org.sales1, title="Supply agreement")
        upload_document(
            actor=org.sales1,
            contract=contract,
            fileobj=io.BytesIO(
                pdf_bytes(["Page one says nothing.", "Liquidated damages <script>x</script>"])
            ),
            name="supply.pdf",
        )
    [item] = search_for(org.sales1, "liquidated damages").items
    assert item.where is not None and item.where["page"] == 2
    assert "<mark>Liquidated</mark>" in item.snippet and "<mark>damages</mark>" in item.snippet
    assert "<script>" not in item.snippet and "&lt;script&gt;" in item.snippet


def test_the_deploy_check_asks_for_disk_encryption_on_postgresql(db: Any) -> None:
    ids = {m.id for m in run_checks(include_deployment_checks=True)}
    assert ("qiyue.search.W001" in ids) == (connection.vendor == "postgresql")


def _ids(user: Any, q: str, sort: str = "relevance") -> list[int]:
    return [i.contract_id for i in search_for(user, q, sort=sort, page_size=50).items]


@pytest.mark.django_db(transaction=True)
def test_sqlite_keeps_its_list_of_index_tables_until_the_schema_changes() -> None:
    """Every search needs the list of FTS5 tables: outside a transaction it is kept per
    connection and read again when SQLite's schema version changes; inside one (where a
    rollback takes a new table back) it is read every time."""
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite splits its index")
    from qiyue.search.backends import sqlite

    first = sqlite.shard_tables()
    with CaptureQueriesContext(connection) as ctx:
        assert sqlite.shard_tables() == first
    assert [q["sql"] for q in ctx.captured_queries] == ["PRAGMA schema_version"]
    with connection.cursor() as cur:
        sqlite._create_fts(cur, "search_fts_7")
    try:
        assert sqlite.shard_tables() == ["search_fts_7", *first]
    finally:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE search_fts_7")
    assert sqlite.shard_tables() == first
    with transaction.atomic():
        with connection.cursor() as cur:
            sqlite._create_fts(cur, "search_fts_8")
        with CaptureQueriesContext(connection) as ctx:
            assert sqlite.shard_tables() == ["search_fts_8", *first]
        assert any("sqlite_master" in q["sql"] for q in ctx.captured_queries)
        transaction.set_rollback(True)
    assert sqlite.shard_tables() == first


@pytest.mark.parametrize("index_tables", ["one-table"], indirect=True)
def test_an_index_from_before_the_split_is_moved_into_tables_by_contract_id(
    org: SimpleNamespace, corpus: SimpleNamespace, monkeypatch: Any
) -> None:
    """Migration 0002 (decision 0008): the entries an index built in one table holds are
    moved to the table of their contract id, from their sealed terms; searches, counts,
    edits and deletions answer as before."""
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite splits its index")
    from qiyue.search.backends import sqlite
    from qiyue.search.indexing import index_contract, remove_contract

    backend = sqlite.SqliteBackend()
    assert sqlite.shard_tables() == ["search_fts"]
    queries = ["合同", "违约", "governing law", "Acme", "星辰 -违约"]
    before = {q: (_ids(org.manager, q), search_for(org.manager, q).total) for q in queries}
    by_date = _ids(org.manager, "合同", sort="-expiry")
    ids = sorted(backend.indexed_ids())
    assert len(ids) > 4

    monkeypatch.setattr(sqlite, "SHARD_ROWS", 2)
    monkeypatch.setattr(sqlite, "TERMS_CHUNK", 2)  # several chunks
    assert backend.reshard() == sum(1 for i in ids if i > 2)
    tables = sqlite.shard_tables()
    assert len(tables) == len({sqlite.shard_of(i) for i in ids}) > 2
    assert tables[-1] == "search_fts"  # the first ids, newest table first
    for q in queries:
        assert (_ids(org.manager, q), search_for(org.manager, q).total) == before[q]
    assert _ids(org.manager, "合同", sort="-expiry") == by_date
    # Each entry is in its own table only: a term of the newest contract is not in the first.
    newest = max(ids)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH %s", ['"合同" OR "agreement"']
        )
        assert all(int(r[0]) <= 2 for r in cur.fetchall())
    # Moving twice moves nothing; edits and removals reach the right table.
    assert backend.reshard() == 0
    index_contract(newest)
    remove_contract(corpus.c1.pk)
    assert corpus.c1.pk not in _ids(org.manager, "违约金")
    assert backend.indexed_ids() == set(ids) - {corpus.c1.pk}


def test_contracts_indexed_together_are_found_as_when_indexed_one_by_one(
    org: SimpleNamespace, corpus: SimpleNamespace, monkeypatch: Any
) -> None:
    """Indexing writes its entries a chunk at a time, with a few statements whatever
    their number (on SQLite one data key per chunk; with the corpus's tables of two ids,
    a chunk spans tables); writing them again replaces them."""
    from qiyue.search import indexing
    from qiyue.search.backends import get_backend
    from qiyue.search.backends.sqlite import shard_of

    backend = get_backend()
    queries = ["合同", "违约", "governing law", "Acme", "星辰 -违约", "税"]

    def answers() -> dict[str, Any]:
        return {
            q: [(i.contract_id, i.score) for i in search_for(org.manager, q).items] for q in queries
        }

    before = answers()
    ids = sorted(backend.indexed_ids())
    assert len(ids) > 4
    with CaptureQueriesContext(connection) as together:
        indexing.index_contracts(ids)
    monkeypatch.setattr(indexing, "WRITE_CHUNK", 2)  # several chunks
    indexing.index_contracts([*ids, 10**9])  # again, and one that does not exist
    assert answers() == before
    assert backend.indexed_ids() == set(ids)
    # Statements per chunk, not per contract: reading (contracts, documents), the
    # entries there are, taking them out, writing them (per table on SQLite).
    tables = len({shard_of(i) for i in ids}) if connection.vendor == "sqlite" else 1
    assert len(together.captured_queries) <= 8 + 3 * tables, [
        q["sql"][:60] for q in together.captured_queries
    ]
    if connection.vendor == "sqlite":
        from qiyue.search.backends.sqlite import column_values, unseal

        docs, _missing = indexing.build_documents(ids)
        with connection.cursor() as cur:
            cur.execute("SELECT contract_id, wrapped_key, sealed FROM search_terms")
            stored = {int(r[0]): unseal(r[1], r[2]) for r in cur.fetchall()}
        assert stored == {doc.contract_id: column_values(doc) for doc in docs}
