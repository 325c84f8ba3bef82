"""Search pages: the results page with filters and facets, the header box's instant
results, and the matches marked on a document version opened from a hit — as the owner,
a colleague, the department head and an outsider; hostile queries answer 400, never 500;
whatever a contract or document says is shown escaped."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from qiyue.contracts.models import Contract
from qiyue.contracts.queries import ContractFilters
from qiyue.documents.models import DocumentVersion
from qiyue.search.backends import base as search_base
from qiyue.search.backends import get_backend
from qiyue.search.queries import facets_for, mark_matches, query_matcher, search_for
from qiyue.search.query import parse
from tests.documents import conftest as document_fixtures
from tests.documents import test_documents
from tests.factories import make_contract
from tests.search import conftest as search_fixtures
from tests.search.conftest import Committed, upload_text

# The fixtures of the search tests: master key, blob storage, the corpus (in one index
# table and in several), commit hooks.
keyring = document_fixtures.keyring
docs = test_documents.docs
corpus = search_fixtures.corpus
index_tables = search_fixtures.index_tables
committed = search_fixtures.committed

SEARCH = reverse("web:search")
INSTANT = reverse("web:search_instant")
# Session, user, role, department, headed departments; the hits' rows with their tags
# (one statement); the facets' grouped count; the hits' contracts; the filter choices
# (types, departments, customers); the header's counts; the session save (in its
# savepoint). Plus the backend's search statements, once for the page and its facets,
# see ``search_statements``.
SEARCH_QUERIES = 16
DOCUMENT_QUERIES = 1  # the latest versions of the hits' documents (their snippets)


def search_statements(q: str) -> int:
    """How many statements one search with hits costs on this backend (on SQLite the
    list of index tables and the search; on PostgreSQL its savepoint and SET LOCAL time
    limit around it)."""
    backend = get_backend()
    allowed = backend.allowed(Contract.objects.all())  # kept per user between searches
    with CaptureQueriesContext(connection) as ctx:
        backend.search_in(parse(q), allowed, limit=1)
    return len(ctx.captured_queries)


def hit_ids(response: Any) -> set[int]:
    return {int(x) for x in re.findall(r'data-contract="(\d+)"', response.content.decode())}


def test_owner_sees_hits_with_marked_snippet_and_a_link_to_the_document(
    login: Any, org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    r = login(org.sales1).get(SEARCH, {"q": "违约金"})
    assert r.status_code == 200
    assert hit_ids(r) == {corpus.c1.pk}
    html = r.content.decode()
    assert corpus.c1.number in html
    assert "<mark>违约金</mark>" in html
    version = DocumentVersion.objects.get(document__contract=corpus.c1)
    link = reverse("web:version_detail", args=[version.pk]) + "?q=%E8%BF%9D%E7%BA%A6%E9%87%91"
    assert link + "#first-match" in html
    assert 'data-testid="hit-where"' in html
    # Facets: one draft contract of one type in 销售一部.
    assert 'data-facet="state" data-value="draft"' in html
    assert 'data-testid="facet-department"' in html


def test_a_word_typed_the_taiwan_way_says_which_mainland_word_was_looked_for_too(
    login: Any, org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    client = login(org.sales1)
    r = client.get(SEARCH, {"q": "合約"})
    assert hit_ids(r) == {corpus.c1.pk, corpus.c2.pk, corpus.c6.pk}
    html = r.content.decode()
    assert "<mark>合同</mark>" in html
    [also] = re.findall(r'data-testid="search-also">([^<]*)<', html)
    assert also == "同时搜索了大陆用词：合同"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = client.get(SEARCH, {"q": "合約"})
    [also] = re.findall(r'data-testid="search-also">([^<]*)<', r.content.decode())
    assert also == "Also looked for the mainland's words: 合同"
    r = client.get(SEARCH, {"q": "合同"})  # typed the mainland way: nothing more to say
    assert 'data-testid="search-also"' not in r.content.decode()


def test_colleague_and_outsider_see_none_of_the_owners_contracts_head_sees_them(
    login: Any, org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    for user in (org.colleague, org.sales2):
        r = login(user).get(SEARCH, {"q": "违约金"})
        assert r.status_code == 200
        ids = hit_ids(r)
        assert corpus.c1.pk not in ids
        html = r.content.decode()
        assert corpus.c1.number not in html
        assert "设备采购合同" not in html
    outsider = login(org.sales2).get(SEARCH, {"q": "违约金"})
    assert hit_ids(outsider) == {corpus.c5.pk}
    assert "1 contract found" in translated(login(org.sales2), {"q": "违约金"})
    head = login(org.head1).get(SEARCH, {"q": "违约金"})
    assert hit_ids(head) == {corpus.c1.pk}


def translated(client: Any, params: dict[str, str], url: str = SEARCH) -> str:
    with translation.override("en"):
        return str(client.get(url, params, HTTP_ACCEPT_LANGUAGE="en").content.decode())


def test_facets_never_count_what_the_user_may_not_see(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    # "违约金" is in sales1's c1 and in sales2's c5.
    outsider = facets_for(org.sales2, "违约金")
    assert outsider.total == 1
    assert outsider.states == {"draft": 1}
    assert sum(outsider.departments.values()) == 1
    assert list(outsider.departments) == [corpus.c5.department_id]
    everyone = facets_for(org.manager, "违约金")
    assert everyone.total == 2
    assert sum(everyone.types.values()) == 2
    assert facets_for(org.colleague, "违约金").total == 0
    # Filters narrow the facets too.
    assert facets_for(org.manager, "违约金", ContractFilters(state=["active"])).total == 0


def test_facet_links_filter_by_state_and_the_outsider_page_counts_only_its_own(
    login: Any, org: SimpleNamespace, corpus: SimpleNamespace, committed: Committed
) -> None:
    with committed():
        signed = make_contract(org.sales1, state="active", title="违约金条款补充协议")
    c = login(org.sales1)
    html = c.get(SEARCH, {"q": "违约金"}).content.decode()
    assert re.search(r'data-value="draft">[^<]*<span class="n">1</span>', html)
    assert re.search(r'data-value="active">[^<]*<span class="n">1</span>', html)
    narrowed = c.get(SEARCH, {"q": "违约金", "state": "active"})
    assert hit_ids(narrowed) == {signed.pk}
    assert 'class="facet on"' in narrowed.content.decode()
    outsider = login(org.sales2).get(SEARCH, {"q": "违约金"}).content.decode()
    assert 'data-value="active"' not in outsider
    assert re.search(r'data-value="draft">[^<]*<span class="n">1</span>', outsider)


def test_sort_by_date_and_pages(login: Any, org: SimpleNamespace, committed: Committed) -> None:
    with committed():
        made = [make_contract(org.sales1, title=f"框架协议 第{i}号") for i in range(5)]
    c = login(org.sales1)
    newest = c.get(SEARCH, {"q": "框架协议", "sort": "-created", "page_size": 10})
    order = [int(x) for x in re.findall(r'data-contract="(\d+)"', newest.content.decode())]
    assert order == [m.pk for m in reversed(made)]
    page2 = c.get(SEARCH, {"q": "框架协议", "sort": "-created", "page_size": 2, "page": 2})
    assert hit_ids(page2) == {made[2].pk, made[1].pk}
    assert 'rel="next"' in page2.content.decode()
    past = c.get(SEARCH, {"q": "框架协议", "page_size": 10, "page": 9})
    assert past.status_code == 200
    assert 'data-testid="search-empty"' in past.content.decode()


def test_the_sort_menu_offers_every_order_and_shows_the_one_used(
    login: Any, org: SimpleNamespace
) -> None:
    from qiyue.search.queries import SORTS
    from qiyue.web.views.search import SORT_CHOICES

    assert {value for value, _label in SORT_CHOICES} == SORTS
    c = login(org.sales1)
    for sort in SORTS:
        page = c.get(SEARCH, {"q": "违约", "sort": sort}).content.decode()
        selected = re.findall(r'<option value="([^"]+)" selected>', page)
        assert selected == [sort]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "违" * 10_000}, "at most 200 characters"),
        ({"q": " ".join(f"w{i}" for i in range(40))}, "at most 32 words"),
        ({"q": "-违约"}, "excluded words alone find nothing"),
        ({"q": "违约", "sort": "nonsense"}, "Unknown sort order"),
        ({"q": "违约", "page": "600"}, "Too far into the results"),
        ({"q": "违约", "state": "bogus"}, "Unknown state"),
        ({"q": "违约", "amount_min": "-5"}, "non-negative amount"),
        ({"q": "违约", "signed_from": "2026-13-45"}, "YYYY-MM-DD"),
    ],
)
def test_hostile_or_bad_input_answers_400_with_a_message(
    login: Any, org: SimpleNamespace, corpus: SimpleNamespace, params: dict[str, str], message: str
) -> None:
    c = login(org.sales1)
    with translation.override("en"):
        r = c.get(SEARCH, params, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400
    assert message in r.content.decode()
    if set(params) == {"q"}:
        with translation.override("en"):
            part = c.get(INSTANT, params, HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true")
        assert part.status_code == 400
        assert message in part.content.decode()
        assert 'data-testid="instant-error"' in part.content.decode()


@pytest.mark.parametrize(
    "q", ['"违约金', '违约" "金', "NEAR(违约 金)", "{fw}:违约", "*", "^违约", "%_\\", "\x00违约"]
)
def test_odd_queries_answer_without_error(
    login: Any, org: SimpleNamespace, corpus: SimpleNamespace, q: str
) -> None:
    c = login(org.sales1)
    assert c.get(SEARCH, {"q": q}).status_code == 200
    assert c.get(INSTANT, {"q": q}).status_code == 200


def test_script_in_titles_and_text_is_escaped_in_results_and_instant_results(
    login: Any,
    org: SimpleNamespace,
    docs: Any,
    committed: Committed,
) -> None:
    with committed():
        bad = make_contract(org.sales1, title="<script>alert(1)</script>违约协议")
        upload_text(org.sales1, bad, "合同正文：<img src=x onerror=alert(2)>违约责任</p>")
    c = login(org.sales1)
    for url in (SEARCH, INSTANT):
        html = c.get(url, {"q": "违约"}).content.decode()
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x" not in html
        assert "<mark>违约</mark>" in html
    document = c.get(SEARCH, {"q": "责任"}).content.decode()
    assert "&lt;img src=x onerror=alert(2)&gt;违约<mark>责任</mark>&lt;/p&gt;" in document


def test_instant_results_are_capped_and_link_to_the_results_page(
    login: Any, org: SimpleNamespace, committed: Committed
) -> None:
    with committed():
        for i in range(10):
            make_contract(org.sales1, title=f"采购订单 {i}")
    c = login(org.sales1)
    with translation.override("en"):
        r = c.get(INSTANT, {"q": "采购订单"}, HTTP_ACCEPT_LANGUAGE="en")
    html = r.content.decode()
    assert r.status_code == 200
    assert html.count('data-testid="instant-hit"') == 8
    assert "Show all 10 results" in html
    assert SEARCH + "?q=%E9%87%87%E8%B4%AD%E8%AE%A2%E5%8D%95" in html
    assert c.get(INSTANT, {"q": "  "}).content.decode().strip() == ""
    assert (
        login(org.sales2)
        .get(INSTANT, {"q": "采购订单"})
        .content.decode()
        .count('data-testid="instant-hit"')
        == 0
    )


def test_header_box_is_a_plain_form_with_htmx_instant_results(
    login: Any, org: SimpleNamespace
) -> None:
    html = login(org.sales1).get(reverse("web:home")).content.decode()
    form = re.search(r'<form method="get" action="([^"]+)" role="search"', html)
    assert form is not None and form.group(1) == SEARCH
    assert f'hx-get="{INSTANT}"' in html
    assert 'hx-trigger="input changed delay:250ms, search"' in html
    assert 'name="q"' in html


def test_empty_search_page_explains_what_it_searches(login: Any, org: SimpleNamespace) -> None:
    r = login(org.sales1).get(SEARCH)
    assert r.status_code == 200
    assert 'data-testid="search-empty"' in r.content.decode()
    assert login(org.sales1).get(SEARCH, {"q": "没有这个词"}).status_code == 200


def test_anonymous_users_are_sent_to_log_in(client: Any, db: Any) -> None:
    for url in (SEARCH, INSTANT):
        r = client.get(url, {"q": "违约"})
        assert r.status_code == 302
        assert "/login/" in r["Location"]


def test_search_page_query_count_does_not_grow_with_page_size_or_hits(
    login: Any,
    org: SimpleNamespace,
    docs: Any,
    committed: Committed,
    django_assert_num_queries: Any,
) -> None:
    with committed():
        for i in range(30):
            contract = make_contract(
                org.sales1, title=f"服务协议 {i}", tags="重点" if i % 2 else ""
            )
            if i % 3 == 0:
                upload_text(org.sales1, contract, f"第{i}条 服务期限与违约责任")
    c = login(org.sales1)
    c.get(SEARCH, {"q": "服务"})  # the first request warms caches (jieba, content types)
    expected = SEARCH_QUERIES + search_statements("服务")
    with django_assert_num_queries(expected):
        small = c.get(SEARCH, {"q": "服务", "page_size": 10})
    with django_assert_num_queries(expected):
        large = c.get(SEARCH, {"q": "服务", "page_size": 50})
    with django_assert_num_queries(expected + DOCUMENT_QUERIES):
        documents = c.get(SEARCH, {"q": "违约责任", "page_size": 50})
    assert len(hit_ids(small)) == 10
    assert len(hit_ids(large)) == 30
    assert len(hit_ids(documents)) == 10
    assert documents.content.decode().count('data-testid="hit-document"') == 10


def test_document_version_marks_the_query_escaped_with_the_first_match_anchored(
    login: Any,
    org: SimpleNamespace,
    docs: Any,
    committed: Committed,
) -> None:
    with committed():
        contract = make_contract(org.sales1, title="保密协议")
        version = upload_text(
            org.sales1,
            contract,
            # Past the first 64 KiB, where uploads refuse markup: a text file may say this.
            "保密协议正文。" * 10_000 + "<script>alert('x')</script> 第一条 违约金按日计算。\f"
            "第二条 This agreement renews automatically; renewals need notice. 违约",
        )
    url = reverse("web:version_detail", args=[version.pk])
    c = login(org.sales1)
    html = c.get(url, {"q": "违约"}).content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert '<mark id="first-match">违约</mark>金' in html
    assert html.count("<mark") == 2
    assert 'data-testid="highlight-bar" data-count="2"' in html
    english = c.get(url, {"q": "renew"}).content.decode()
    assert '<mark id="first-match">renews</mark>' in english
    assert "<mark>renewals</mark>" in english
    full_width = c.get(url, {"q": "ＲＥＮＥＷ 违约金"}).content.decode()
    assert (
        "<mark>违约金</mark>" in full_width or '<mark id="first-match">违约金</mark>' in full_width
    )
    # No query, a query the search refuses: the text as it is, no marks, no error.
    assert "<mark" not in c.get(url).content.decode()
    refused = c.get(url, {"q": "违" * 10_000})
    assert refused.status_code == 200
    assert "<mark" not in refused.content.decode()
    # The outsider still gets 404, query or not.
    assert login(org.sales2).get(url, {"q": "违约"}).status_code == 404


def test_mark_matches_escapes_everything_it_does_not_mark() -> None:
    pattern = query_matcher("甲方 law")
    assert pattern is not None
    html, n = mark_matches('<b>甲方</b> & "Law" laws', pattern, first_id="first-match")
    assert n == 3
    assert str(html) == (
        '&lt;b&gt;<mark id="first-match">甲方</mark>&lt;/b&gt; &amp; '
        "&quot;<mark>Law</mark>&quot; <mark>laws</mark>"
    )
    assert query_matcher("") is None
    assert query_matcher("x" * 500) is None


def test_instant_results_query_count_is_fixed(
    login: Any, org: SimpleNamespace, committed: Committed, django_assert_num_queries: Any
) -> None:
    with committed():
        for i in range(12):
            make_contract(org.sales1, title=f"租赁合同 {i}" if i < 3 else f"运输合同 {i}")
    c = login(org.sales1)
    c.get(INSTANT, {"q": "租赁"})
    # Session, user, role, department, headed departments; the hits' rows with their
    # tags (one statement); the session save (in its savepoint) — and the backend's
    # search statement. No header.
    expected = 9 + search_statements("合同")
    with django_assert_num_queries(expected):
        few = c.get(INSTANT, {"q": "租赁"})
    with django_assert_num_queries(expected):
        many = c.get(INSTANT, {"q": "运输"})
    assert few.content.decode().count('data-testid="instant-hit"') == 3
    assert many.content.decode().count('data-testid="instant-hit"') == 8


def test_mark_matches_maps_folded_text_back_to_the_original() -> None:
    pattern = query_matcher("renew 合同")
    assert pattern is not None
    # Full-width letters fold to one letter each; the ligature ﬁ to two (another path).
    same, n = mark_matches("ＲＥＮＥＷＡＬ of 合同", pattern)
    assert n == 2
    assert str(same) == "<mark>ＲＥＮＥＷＡＬ</mark> of <mark>合同</mark>"
    longer, n = mark_matches("ﬁnal <i>renewed</i> 合同", pattern)
    assert n == 2
    assert str(longer) == "ﬁnal &lt;i&gt;<mark>renewed</mark>&lt;/i&gt; <mark>合同</mark>"


def test_past_the_candidate_limit_search_ranks_and_counts_the_newest_matches(
    login: Any, org: SimpleNamespace, corpus: SimpleNamespace, monkeypatch: Any
) -> None:
    monkeypatch.setattr(search_base, "CANDIDATES", 2)
    facets = facets_for(org.sales1, "合同")  # c1, c2 and c6: the newest two are counted
    assert facets.total == 2
    assert facets.partial
    assert sum(facets.states.values()) == 2
    results = search_for(org.sales1, "合同")
    assert (results.total, results.exact) == (2, False)
    assert {i.contract_id for i in results.items} == {corpus.c2.pk, corpus.c6.pk}
    html = translated(login(org.sales1), {"q": "合同"})
    assert "Counts of the newest 2 results." in html
    assert "More than 2 contracts found; the newest 2 are ranked." in html
    pager = html.split('data-testid="pager"')[1].split("</nav>")[0]
    assert "more than 2 results" in pager
    # The page's facets come with its search: the same counts as facets_for, by
    # relevance and by a date (which sorts every match, so the newest are asked apart).
    for sort in ("relevance", "-expiry", "signed"):
        with_facets = search_for(org.sales1, "合同", sort=sort, facets=True)
        assert with_facets.facets == facets
        assert [i.contract_id for i in with_facets.items] == [
            i.contract_id for i in search_for(org.sales1, "合同", sort=sort).items
        ]
    monkeypatch.setattr(search_base, "CANDIDATES", 3)
    assert facets_for(org.sales1, "合同").partial is False
    exact = search_for(org.sales1, "合同")
    assert (exact.total, exact.exact) == (3, True)
