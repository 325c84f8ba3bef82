"""Search: recall and precision on a fixed corpus, permissions, index consistency after
every kind of change, rebuild crash-resume and hostile queries — on SQLite and PostgreSQL
alike (the same tests; run with DATABASE_URL for PostgreSQL)."""

from __future__ import annotations

import itertools
import json
import re
import time
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from qiyue.contracts import actions as contract_actions
from qiyue.contracts.queries import parse_filters
from qiyue.parties import actions as party_actions
from qiyue.search import analysis, indexing
from qiyue.search.backends import base as search_base
from qiyue.search.backends import get_backend
from qiyue.search.backends.base import NEXT
from qiyue.search.models import IndexRebuild
from qiyue.search.queries import SORTS, search_for
from qiyue.search.query import SearchError, parse
from tests.factories import make_contract

from .conftest import upload_text


def found(user: Any, q: str, **kw: Any) -> set[int]:
    return {item.contract_id for item in search_for(user, q, page_size=200, **kw).items}


EXPECTED = {
    "违约金": {"c1"},
    "违约": {"c1"},
    "约金": {"c1"},
    "甲方": {"c1", "c2"},
    "税": {"c2"},
    "合同": {"c1", "c2", "c6"},
    "中华人民共和国": {"c1"},
    "人民": {"c1"},
    "违约金 中华人民共和国": {"c1"},
    "合同 -甲方": {"c6"},
    "星辰": {"c1"},
    "北京星辰": {"c1"},
    "acme": {"c3"},
    "ACME": {"c3"},
    "governing law": {"c3", "c4"},
    '"governing law"': {"c3"},
    "renew": {"c3"},
    "renews": {"c3"},
    "renew*": {"c3", "c6"},
    "ＲＥＮＥＷ*": {"c3", "c6"},
    "renewal": {"c6"},
    "agreement -confidential": {"c3"},
    "agreement": {"c3", "c4"},
    "abc": {"c6"},
    "ａｂｃ 服务": {"c6"},
    '"one-year terms"': {"c3"},
    "one-year": {"c3"},
    "termination": {"c4"},
    "违约金 england": set(),
    "保密协议": set(),  # sales2's contract: invisible to sales1
    "外部秘密": set(),
    # Traditional characters fold to simplified ones, in queries as in texts.
    "違約金": {"c1"},
    "稅": {"c2"},
    "設備採購合同": {"c1"},
    '"中華人民共和國"': {"c1"},
    # Typed in traditional characters, a Taiwan/Hong Kong word finds the mainland's too.
    "合約": {"c1", "c2", "c6"},
    "軟體許可": {"c2"},
    '"軟體許可協議"': {"c2"},
    "合同 -合約": set(),
    "合约": set(),  # typed in simplified: the mainland word 合约, not 合同
    # Quotes and minus signs as input methods and word processors type them.
    "\u201cgoverning law\u201d": {"c3"},  # “…”
    "\uff02governing law\uff02": {"c3"},  # ＂…＂
    "「中华人民共和国」": {"c1"},
    "合同 \uff0d甲方": {"c6"},  # －
    "合同 \u2212甲方": {"c6"},  # −
}


@pytest.mark.parametrize("q", list(EXPECTED))
@pytest.mark.usefixtures("allowed_form")
def test_each_query_finds_exactly_its_expected_contracts(
    org: SimpleNamespace, corpus: SimpleNamespace, q: str
) -> None:
    expected = {getattr(corpus, name).pk for name in EXPECTED[q]}
    assert found(org.sales1, q) == expected


def test_a_contract_number_finds_its_contract(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    assert found(org.sales1, corpus.c1.number) == {corpus.c1.pk}


def test_one_and_two_character_chinese_queries_find_every_contract_that_has_them(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    texts = {
        corpus.c1.pk: "设备采购合同 北京星辰科技有限公司 星辰 第一条 违约责任 "
        "甲方逾期付款的，应按日支付违约金。第二条 本合同适用中华人民共和国法律。",
        corpus.c2.pk: "软件许可协议 乙方应按期缴纳税款。甲方有权解除合同。",
        corpus.c6.pk: "ABC公司服务合同",
    }
    chars = {ch for text in texts.values() for ch in text if "\u4e00" <= ch <= "\u9fff"}
    pairs = {
        text[i : i + 2]
        for text in texts.values()
        for i in range(len(text) - 1)
        if all("\u4e00" <= ch <= "\u9fff" for ch in text[i : i + 2])
    }
    for q in sorted(chars | pairs):
        expected = {pk for pk, text in texts.items() if q in text}
        got = found(org.sales1, q)
        # make_party adds test customers (测试客户…有限公司) to c2 and c6: only check they
        # contain every contract whose known text has it, and nothing that lacks it.
        assert expected <= got, q
        assert got <= {corpus.c1.pk, corpus.c2.pk, corpus.c3.pk, corpus.c4.pk, corpus.c6.pk}


def test_hits_come_with_escaped_highlighted_snippets_and_where(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    [item] = search_for(org.sales1, "违约金").items
    assert "<mark>违约金</mark>" in item.snippet
    assert item.where is not None and item.where["document"] and item.where["version"] == 1
    assert item.where["page"] >= 1
    [item] = search_for(org.sales1, "renewal").items
    assert item.where == {"field": "notes"}
    assert "<mark>ＲＥＮＥＷＡＬ</mark>" in item.snippet
    assert "&lt;b&gt;" in item.snippet and "<b>" not in item.snippet
    [item] = search_for(org.sales1, '"governing law"').items
    assert "<mark>governing law</mark>" in item.snippet


def test_traditional_and_simplified_chinese_find_each_other_with_highlights(
    org: SimpleNamespace, corpus: SimpleNamespace, committed: Any
) -> None:
    with committed():
        hk = make_contract(org.sales1, title="香港分銷協議")
        upload_text(org.sales1, hk, "第八條 違約責任：乙方應向甲方支付違約金。本協議適用香港法律。")
    assert found(org.sales1, "违约金") == {corpus.c1.pk, hk.pk}
    assert found(org.sales1, "違約金") == {corpus.c1.pk, hk.pk}
    assert found(org.sales1, "分销协议") == {hk.pk}
    assert found(org.sales1, "香港法律") == {hk.pk}
    [item] = [i for i in search_for(org.sales1, "违约责任").items if i.contract_id == hk.pk]
    assert "<mark>違約責任</mark>" in item.snippet  # the text as written, marked
    assert item.where is not None and item.where["page"] == 1
    # A Taiwan/Hong Kong word marks the mainland's word it found.
    [item] = [i for i in search_for(org.sales1, "合約").items if i.contract_id == corpus.c1.pk]
    assert "<mark>合同</mark>" in item.snippet
    # Characters simplified text also uses stay as they are (乾 is not 干).
    assert found(org.sales1, "乾") == set()
    assert analysis.fold("乾隆於是著作權") == "乾隆於是著作权"


def test_relevance_puts_title_matches_first_and_date_sort_works(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    items = search_for(org.sales1, "合同").items
    assert items[0].contract_id in {corpus.c1.pk, corpus.c6.pk}
    assert all(a.score >= b.score for a, b in itertools.pairwise(items))
    by_date = [i.contract_id for i in search_for(org.sales1, "合同", sort="-created").items]
    assert by_date == sorted(by_date, reverse=True)


@pytest.mark.usefixtures("allowed_form")
def test_filters_and_paging_apply_inside_the_search(
    org: SimpleNamespace, corpus: SimpleNamespace, committed: Any
) -> None:
    with committed():
        contract_actions.transition_contract(actor=org.sales1, contract=corpus.c2, code="submit")
    f = parse_filters({"state": "in_review"}, user=org.sales1)
    assert found(org.sales1, "甲方", filters=f) == {corpus.c2.pk}
    first = search_for(org.sales1, "合同", page_size=2)
    second = search_for(org.sales1, "合同", page=2, page_size=2)
    assert first.total == second.total == 3 and first.has_next and not second.has_next
    assert len({i.contract_id for i in first.items + second.items}) == 3


@pytest.mark.usefixtures("allowed_form")
def test_past_the_candidate_limit_the_newest_matches_are_ranked_and_the_total_is_a_bound(
    org: SimpleNamespace, corpus: SimpleNamespace, monkeypatch: Any, api: Any
) -> None:
    # sales1 sees c1, c2 and c6 for 合同; with room for two, the newest two are ranked.
    monkeypatch.setattr(search_base, "CANDIDATES", 2)
    capped = search_for(org.sales1, "合同", page_size=1)
    assert (capped.total, capped.exact, capped.has_next) == (2, False, True)
    second = search_for(org.sales1, "合同", page=2, page_size=1)
    ranked = {capped.items[0].contract_id, second.items[0].contract_id}
    assert ranked == {corpus.c2.pk, corpus.c6.pk}
    assert not search_for(org.sales1, "合同", page=2, page_size=1).has_next
    # Past the ranked matches: nothing, with the same bounded total.
    beyond = get_backend().search_in(parse("合同"), get_backend().allowed(None), offset=5)
    assert beyond.hits == [] and not beyond.exact
    # A date order sorts every match; its count is bounded the same way.
    by_date = search_for(org.sales1, "合同", sort="expiry")
    assert (by_date.total, by_date.exact) == (2, False)
    body = api(org.sales1).get("/api/v1/search", {"q": "合同"}).json()
    assert (body["total"], body["total_exact"]) == (2, False)
    out = StringIO()
    call_command("search", "合同", "--as", org.sales1.username, stdout=out, stderr=out)
    assert "more than 2 contracts found" in out.getvalue()
    monkeypatch.setattr(search_base, "CANDIDATES", 3)
    exact = search_for(org.sales1, "合同")
    assert (exact.total, exact.exact) == (3, True)
    assert api(org.sales1).get("/api/v1/search", {"q": "合同"}).json()["total_exact"] is True


# -- permissions -------------------------------------------------------------------------


@pytest.mark.usefixtures("allowed_form")
def test_an_outsider_never_sees_other_contracts_in_hits_counts_or_snippets(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    results = search_for(org.sales2, "违约金")
    assert [i.contract_id for i in results.items] == [corpus.c5.pk]
    assert results.total == 1
    assert "逾期付款" not in json.dumps([i.as_dict() for i in results.items], ensure_ascii=False)
    for q in ("甲方", "governing law", "acme", "合同", "税", "renew*"):
        results = search_for(org.sales2, q, page_size=1)
        assert {i.contract_id for i in results.items} <= {corpus.c5.pk}, q
        assert results.total <= 1, q


@pytest.mark.usefixtures("allowed_form")
def test_colleagues_see_what_their_scope_allows(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    assert found(org.head1, "甲方") == {corpus.c1.pk, corpus.c2.pk}  # department
    assert found(org.manager, "甲方") == {corpus.c1.pk, corpus.c2.pk, corpus.c5.pk}  # all


@pytest.mark.usefixtures("allowed_form")
def test_the_api_answers_only_visible_hits_with_next_links(
    org: SimpleNamespace, corpus: SimpleNamespace, api: Any
) -> None:
    r = api(org.sales2).get("/api/v1/search", {"q": "违约金"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert [i["contract_id"] for i in body["items"]] == [corpus.c5.pk]
    assert body["total"] == 1 and body["next"] is None
    r = api(org.sales1).get("/api/v1/search", {"q": "合同", "page_size": 2, "state": "draft"})
    body = r.json()
    assert body["total"] == 3 and body["next"].endswith("page=2")
    assert "\\u003cmark\\u003e" in r.content.decode()
    r = api(org.sales1).get(body["next"])
    assert len(r.json()["items"]) == 1 and r.json()["next"] is None
    assert r.json()["also"] == []
    body = api(org.sales1).get("/api/v1/search", {"q": "合約"}).json()
    assert body["also"] == ["合同"] and body["total"] == 3
    assert api(None).get("/api/v1/search", {"q": "合同"}).status_code == 401
    assert api(org.sales1).get("/api/v1/search", {"q": "x", "state": "nope"}).status_code == 400


def test_the_api_takes_every_search_order_it_documents_and_names_a_bad_one(
    org: SimpleNamespace, corpus: SimpleNamespace, api: Any
) -> None:
    # What the docs page's "Try it out" sends: every parameter at its default.
    defaults = {"q": "合同", "sort": "relevance", "page": 1, "page_size": 20}
    r = api(org.sales1).get("/api/v1/search", defaults)
    assert r.status_code == 200, r.content
    assert r.json()["total"] == 3
    # Every order the API page offers in its menu is taken.
    schema = api(org.sales1).get("/api/v1/openapi.json").json()
    params = schema["paths"]["/api/v1/search"]["get"]["parameters"]
    offered = next(p["schema"]["enum"] for p in params if p["name"] == "sort")
    assert set(offered) == SORTS
    for sort in offered:
        r = api(org.sales1).get("/api/v1/search", {**defaults, "sort": sort})
        assert r.status_code == 200 and r.json()["total"] == 3, (sort, r.content)
    for params, field in (({"sort": "title"}, "sort"), ({"page": 51}, "page")):
        r = api(org.sales1).get("/api/v1/search", {**defaults, **params})
        assert r.status_code == 400 and list(r.json()["errors"]) == [field], r.content


# -- keeping the index in step -----------------------------------------------------------


def test_an_uploaded_document_and_a_new_version_are_searchable_at_once(
    org: SimpleNamespace, corpus: SimpleNamespace, committed: Any
) -> None:
    with committed():
        upload_text(org.sales1, corpus.c4, "独家代理条款")
    assert found(org.sales1, "独家代理") == {corpus.c4.pk}
    with committed():
        upload_text(org.sales1, corpus.c2, "仅限内部使用。", document=corpus.d2)
    assert found(org.sales1, "内部使用") == {corpus.c2.pk}
    assert found(org.sales1, "税") == set()  # the old version's text is no longer searched
    assert found(org.sales1, "软件许可") == {corpus.c2.pk}


def test_a_contract_edit_and_a_customer_rename_are_searchable_at_once(
    org: SimpleNamespace, corpus: SimpleNamespace, committed: Any
) -> None:
    c1 = corpus.c1
    c1.refresh_from_db()
    with committed():
        contract_actions.update_contract(
            actor=org.sales1, contract=c1, data={"title": "设备租赁合同"}, version=c1.version
        )
    assert found(org.sales1, "采购") == set()
    assert found(org.sales1, "租赁") == {c1.pk}
    acme = corpus.acme
    acme.refresh_from_db()
    with committed():
        party_actions.update_party(
            actor=org.sales1,
            party=acme,
            data={"name": "Globex Corporation", "short_name": "Globex"},
            version=acme.version,
        )
    assert found(org.sales1, "globex") == {corpus.c3.pk}
    assert found(org.sales1, "acme") == set()


def test_a_rolled_back_change_leaves_the_index_alone(
    org: SimpleNamespace, corpus: SimpleNamespace, committed: Any
) -> None:
    c1 = corpus.c1
    c1.refresh_from_db()
    with committed(), pytest.raises(contract_actions.StaleEdit):
        contract_actions.update_contract(
            actor=org.sales1, contract=c1, data={"title": "无效"}, version=c1.version + 5
        )
    assert found(org.sales1, "采购") == {c1.pk}


def test_indexing_twice_and_removing_are_idempotent(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    indexing.index_contract(corpus.c1.pk)
    indexing.index_contract(corpus.c1.pk)
    assert found(org.sales1, "违约金") == {corpus.c1.pk}
    indexing.remove_contract(corpus.c1.pk)
    indexing.remove_contract(corpus.c1.pk)
    assert found(org.sales1, "违约金") == set()
    indexing.index_contracts([corpus.c1.pk, 10**12])
    assert found(org.sales1, "违约金") == {corpus.c1.pk}


def test_a_rebuild_resumes_after_a_crash_and_the_old_index_serves_meanwhile(
    org: SimpleNamespace, corpus: SimpleNamespace, committed: Any, monkeypatch: Any
) -> None:
    backend = get_backend()
    all_ids = backend.indexed_ids()
    assert len(all_ids) == 6
    real_build = indexing.build_documents
    calls = {"n": 0}

    def crashing(ids: list[int]) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the machine lost power")
        return real_build(ids)

    monkeypatch.setattr(indexing, "build_documents", crashing)
    with pytest.raises(RuntimeError):
        indexing.rebuild(chunk=2)
    progress = IndexRebuild.objects.get()
    assert progress.done == 2 and progress.last_contract_id > 0
    assert len(backend.indexed_ids(generation=NEXT)) == 2
    # Meanwhile the old index still answers, and changes reach both indexes.
    assert found(org.sales1, "甲方") == {corpus.c1.pk, corpus.c2.pk}
    c4 = corpus.c4
    c4.refresh_from_db()
    with committed():
        contract_actions.update_contract(
            actor=org.sales1, contract=c4, data={"title": "Mutual NDA"}, version=c4.version
        )
    monkeypatch.setattr(indexing, "build_documents", real_build)
    written: list[int] = []
    original_write = backend.write

    def write(self: Any, docs: Any, generation: str = "live") -> None:
        written.extend(doc.contract_id for doc in docs)
        original_write(docs, generation=generation)

    monkeypatch.setattr(type(backend), "write", write)
    assert indexing.rebuild(chunk=2) is True
    assert min(written) > progress.last_contract_id  # nothing before the crash point redone
    assert len(written) == 4  # resumed: only the contracts after the crash point
    assert not IndexRebuild.objects.exists()
    assert backend.indexed_ids() == all_ids
    assert found(org.sales1, "mutual") == {c4.pk}
    for q, names in EXPECTED.items():
        assert found(org.sales1, q) == {getattr(corpus, n).pk for n in names}, q


def test_optimize_merges_the_index_pieces_and_searches_answer_the_same(
    org: SimpleNamespace, corpus: SimpleNamespace, committed: Any, monkeypatch: Any
) -> None:
    """``qiyue search optimize`` (and the end of a rebuild) merges the pieces each write
    left in the index; every query finds what it found before."""
    from qiyue.search import indexing
    from qiyue.search.backends import get_backend, sqlite

    backend = get_backend()
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:  # no merging as they are written
            for fts in sqlite.shard_tables():
                cur.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('automerge', 0)")  # noqa: S608
    for i in range(6):
        with committed():
            make_contract(org.sales1, title=f"违约金条款 {i}")
        with transaction.atomic():  # FTS5 writes what it holds as a piece at a savepoint
            pass
    before = {q: found(org.sales1, q) for q in EXPECTED}

    def segments() -> int:
        """The pieces of every FTS5 table: the second number of each table's structure
        record (row 10 of its ``_data``: a 4-byte cookie, then the number of levels and
        of segments as varints, both under 128 here; fts5_index.c)."""
        total = 0
        with connection.cursor() as cur:
            for fts in sqlite.shard_tables():
                cur.execute(f"SELECT block FROM {fts}_data WHERE id = 10")  # noqa: S608
                block = bytes(cur.fetchone()[0])
                at = 8 if block[4:8] == b"\xff\x00\x00\x01" else 4  # the newer layout's mark
                total += block[at + 1]
        return total

    if connection.vendor == "sqlite":
        assert segments() > len(sqlite.shard_tables())
        out = StringIO()
        call_command("search", "optimize", stdout=out)
        assert out.getvalue().startswith("ok search index merged")
        assert segments() == len(sqlite.shard_tables())  # one piece each
    else:
        assert backend.optimize() == 0  # PostgreSQL: autovacuum keeps the GIN index
    assert {q: found(org.sales1, q) for q in EXPECTED} == before
    assert len(found(org.sales1, "违约金条款")) == 6

    merged: list[str] = []
    original = type(backend).optimize

    def spy(self: Any, *, generation: str = "live") -> int:
        merged.append(generation)
        return original(self, generation=generation)

    monkeypatch.setattr(type(backend), "optimize", spy)
    indexing.rebuild()
    assert merged == [indexing.NEXT]  # the new index is merged before it is swapped in
    assert {q: found(org.sales1, q) for q in EXPECTED} == before


def test_the_reindex_command_rebuilds_and_the_search_command_prints_json(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    out = StringIO()
    call_command("search", "reindex", "--chunk", "3", stdout=out, stderr=StringIO())
    assert out.getvalue().startswith("ok search index rebuilt")
    out = StringIO()
    call_command("search", "违约金", "--as", "sales1", "--json", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["contract_id"] for r in rows] == [corpus.c1.pk]
    assert set(rows[0]) >= {"contract_id", "number", "title", "score", "snippet"}
    err = StringIO()
    call_command("search", "违约金", "--as", "sales1", stdout=StringIO(), stderr=err)
    assert err.getvalue() == "1 contract found\n"
    out = StringIO()
    call_command("search", "违约金", "--as", "sales2", stdout=out, stderr=StringIO())
    assert corpus.c1.number not in out.getvalue()


# -- hostile queries ---------------------------------------------------------------------

BAD = [
    "x" * 10_000,
    "违" * 201,
    '"unbalanced phrase',
    '"',
    '"*"',
    "*",
    "NEAR(",
    "NEAR(a b)",
    "^",
    "-",
    "--",
    "- -",
    '-"',
    "!!!,,,。。。",
    "AND OR NOT",
    "fc : 税",
    "{fc dc}: 税",
    "a" * 199 + "*",
    "a*",
    "'; DROP TABLE search_fts; --",
    "\x00",
    " ".join(["甲方"] * 40),
    " ".join(f"w{i}" for i in range(33)),
    "-甲方",
    "(甲方",
    "甲方)",
    "税 OR 甲方",
]


@pytest.mark.parametrize("q", BAD)
def test_bad_queries_answer_fast_with_results_or_a_clear_400(
    org: SimpleNamespace, corpus: SimpleNamespace, api: Any, q: str
) -> None:
    client = api(org.sales1)
    client.get("/api/v1/search", {"q": "甲方"})  # a process's first search loads jieba
    started = time.monotonic()
    r = client.get("/api/v1/search", {"q": q})
    assert time.monotonic() - started < 1.0
    assert r.status_code in (200, 400), r.content
    if r.status_code == 400:
        assert r.json()["message"]


def test_search_errors_say_what_is_wrong(org: SimpleNamespace, corpus: SimpleNamespace) -> None:
    with pytest.raises(SearchError, match="200"):
        search_for(org.sales1, "x" * 10_000)
    with pytest.raises(SearchError):
        search_for(org.sales1, "-甲方")
    with pytest.raises(SearchError):
        search_for(org.sales1, "甲方", sort="nonsense")
    assert search_for(org.sales1, "!!!").total == 0
    assert found(org.sales1, '"甲方') == {corpus.c1.pk, corpus.c2.pk}


def test_a_search_that_runs_too_long_is_stopped_with_a_400(
    org: SimpleNamespace, corpus: SimpleNamespace, api: Any, monkeypatch: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite progress handler; PostgreSQL uses statement_timeout")
    from qiyue.search.backends import base, sqlite

    monkeypatch.setattr(base, "TIME_LIMIT_SECONDS", 0.0)
    monkeypatch.setattr(sqlite, "PROGRESS_STEPS", 1)
    r = api(org.sales1).get("/api/v1/search", {"q": "合同"})
    assert r.status_code == 400
    assert r.json()["message"] in {
        "This search took too long; make it more specific.",
        "搜索耗时过长，请缩小搜索范围。",
    }
    monkeypatch.setattr(base, "TIME_LIMIT_SECONDS", 3.0)
    assert found(org.sales1, "合同")  # the connection is usable afterwards


@pytest.mark.django_db
def test_sqlite_reads_allowed_contracts_as_a_set_only_when_that_is_quick(
    org: SimpleNamespace, monkeypatch: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's choice between two forms of the allowed contracts")
    from qiyue.contracts.models import Contract
    from qiyue.search.backends import sqlite

    backend = sqlite.SqliteBackend()
    assert backend.allowed(Contract.objects.filter(owner=org.sales1)).condition.startswith("+")
    # Ten million rows are not read in milliseconds: the count is cut off.
    ten_million = (
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000000) "
        "SELECT x FROM n"
    )
    assert sqlite._set_size(ten_million, []) is None
    assert sqlite._set_size("SELECT 1 UNION ALL SELECT 2", []) == 2
    # Counted, not timed: a row cap and a budget of virtual-machine steps.
    five = "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5"
    monkeypatch.setattr(sqlite, "MAX_SET_ROWS", 4)
    assert sqlite._set_size(five, []) is None
    monkeypatch.setattr(sqlite, "MAX_SET_ROWS", 5)
    assert sqlite._set_size(five, []) == 5
    thousands = ten_million.replace("10000000", "5000")
    assert sqlite._set_size(thousands, []) is None  # more rows than 5
    monkeypatch.setattr(sqlite, "MAX_SET_ROWS", 10_000)
    assert sqlite._set_size(thousands, []) == 5000
    monkeypatch.setattr(sqlite, "SET_READ_STEPS", 1_000)
    assert sqlite._set_size(thousands, []) is None  # more steps than 1,000
    monkeypatch.setattr(sqlite, "_set_size", lambda sql, params: None)
    per_match = backend.allowed(Contract.objects.filter(owner=org.sales1))
    assert per_match.condition.startswith("EXISTS (")
    assert found(org.sales1, "合同") == set()  # the connection is usable afterwards


@pytest.mark.django_db
def test_sqlite_asks_per_match_below_a_share_of_the_allowed_set(
    org: SimpleNamespace, corpus: SimpleNamespace, monkeypatch: Any
) -> None:
    """Reading the set costs per allowed contract, asking per match costs per match: a
    query is asked per match while it has fewer matches than ``MATCHES_PER_SET_ROW``
    times the allowed contracts of a table, and counts that far only when it can be."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's choice between two forms of the allowed contracts")
    from django.test.utils import CaptureQueriesContext

    from qiyue.contracts.models import Contract
    from qiyue.search import queries
    from qiyue.search.backends import sqlite

    mine = Contract.objects.filter(owner=org.sales1)
    backend = sqlite.SqliteBackend()
    monkeypatch.setattr(sqlite, "MATCHES_PER_SET_ROW", 2.0)
    few = backend.allowed(mine).few  # of the contracts of one full table
    assert 0 < few <= 2 * mine.count() and few % 2 == 0
    expected = {corpus.c1.pk, corpus.c2.pk, corpus.c6.pk}

    def statements(ratio: float) -> list[str]:
        monkeypatch.setattr(sqlite, "MATCHES_PER_SET_ROW", ratio)
        queries._ALLOWED_SQL.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert found(org.sales1, "合同") == expected
        return [q["sql"] for q in ctx.captured_queries if "MATCH" in q["sql"]]

    in_set = re.compile(r"\+search_fts(_\d+)?\.rowid IN \(SELECT")
    few_matches = statements(1000.0)  # "few" is more than 合同's matches: asked per match
    assert "SELECT 1 FROM search_fts" in few_matches[0]  # counted first
    assert "EXISTS (" in few_matches[-1] and not in_set.search(few_matches[-1])
    as_set = statements(0.0)  # nothing is few: the set, without counting
    assert not any("SELECT 1 FROM search_fts" in sql for sql in as_set)
    assert all(in_set.search(sql) for sql in as_set)
    queries._ALLOWED_SQL.clear()


@pytest.mark.django_db
def test_sqlite_chooses_the_allowed_form_for_older_index_tables_once(
    org: SimpleNamespace, corpus: SimpleNamespace, monkeypatch: Any
) -> None:
    """Counting a table's matches to choose between the two forms reads its lists once
    more; the older tables, all full, share one choice (decision 0010)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's index tables")
    from django.test.utils import CaptureQueriesContext

    from qiyue.search import queries
    from qiyue.search.backends import sqlite

    monkeypatch.setattr(sqlite, "SHARD_ROWS", 2)
    call_command("search", "reindex", stdout=StringIO())
    tables = sqlite.shard_tables()
    assert len(tables) >= 3
    queries._ALLOWED_SQL.clear()
    monkeypatch.setattr(sqlite, "_set_size", lambda sql, params: 10**6)  # a set, counted
    for sort in ("relevance", "-expiry"):
        with CaptureQueriesContext(connection) as ctx:
            results = search_for(org.sales1, "合同", sort=sort)
        counts = [q["sql"] for q in ctx.captured_queries if "SELECT 1 FROM search_fts" in q["sql"]]
        assert len(counts) == 2, counts  # the newest table and the first older one
        assert {i.contract_id for i in results.items} == {corpus.c1.pk, corpus.c2.pk, corpus.c6.pk}
    queries._ALLOWED_SQL.clear()


def test_entries_written_before_traditional_folding_are_indexed_anew(
    org: SimpleNamespace, corpus: SimpleNamespace, committed: Any, monkeypatch: Any
) -> None:
    """Migration ``search 0003``: an entry written when 違約 was kept as it is holds terms
    no query reaches once queries fold it to 违约; those contracts are indexed again."""
    from qiyue.search import snippets

    chars = frozenset(chr(code) for code in analysis.T2S)
    with monkeypatch.context() as old_fold:  # the analysis before traditional folding
        old_fold.setattr(analysis, "_TRADITIONAL", frozenset())
        analysis._fold_char.cache_clear()
        with committed():
            hk = make_contract(org.sales1, title="香港合約")
            upload_text(org.sales1, hk, "乙方應支付違約金。")
    analysis._fold_char.cache_clear()
    snippets._FOLD.clear()
    assert hk.pk not in found(org.sales1, "违约金")
    assert hk.pk not in found(org.sales1, "違約金")
    assert list(get_backend().ids_with_any(chars)) == [hk.pk]
    assert indexing.reindex_folded(chars) == 1  # only that one
    assert found(org.sales1, "违约金") == {corpus.c1.pk, hk.pk}
    assert found(org.sales1, "違約金") == {corpus.c1.pk, hk.pk}
    assert found(org.sales1, "合约") == {hk.pk}
    assert list(get_backend().ids_with_any(chars)) == []
