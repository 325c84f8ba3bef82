"""Keyset pagination, filters kept across pages, and query counts pinned."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from qiyue.contracts import actions as contract_actions
from tests.factories import make_contract, make_party


def _walk(client: Any, url: str) -> tuple[list[int], list[str]]:
    ids: list[int] = []
    links: list[str] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        data = response.json()
        ids.extend(item["id"] for item in data["items"])
        url = data["next"]
        if url:
            links.append(url)
    return ids, links


def test_keyset_pagination_walks_all_pages_without_duplicates(org, api):
    party = make_party(org.sales1)
    made = [make_contract(org.sales1, party=party).pk for _ in range(12)]
    ids, links = _walk(api(org.sales1), "/api/v1/contracts?page_size=5")
    assert ids == sorted(made, reverse=True)
    assert len(links) == 2
    assert all(link.startswith("/api/v1/contracts?") for link in links)


def test_next_link_keeps_the_filters(org, api):
    party = make_party(org.sales1)
    drafts = [make_contract(org.sales1, party=party).pk for _ in range(7)]
    for _ in range(3):
        make_contract(org.sales1, party=party, state="in_review")
    ids, links = _walk(
        api(org.sales1), f"/api/v1/contracts?state=draft&customer={party.pk}&page_size=3"
    )
    assert ids == sorted(drafts, reverse=True)
    for link in links:
        query = parse_qs(urlsplit(link).query)
        assert query["state"] == ["draft"]
        assert query["customer"] == [str(party.pk)]
        assert query["page_size"] == ["3"]


def test_filters_narrow_the_contract_list(org, api):
    party = make_party(org.sales1)
    tagged = make_contract(org.sales1, party=party, tags=["战略客户"], amount="500")
    big = make_contract(org.sales1, party=party, amount="5000000", expiry_date="2030-01-01")
    active = make_contract(org.sales1, state="active")
    client = api(org.sales1)

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/contracts?{query}")
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids("tag=战略客户") == {tagged.pk}
    assert ids("amount_min=1000000") == {big.pk}
    assert ids("expiry_from=2029-12-31") == {big.pk}
    assert ids("state=active") == {active.pk}
    assert ids("state=draft,active") == {tagged.pk, big.pk, active.pk}
    assert ids("type=XS") == {tagged.pk, big.pk, active.pk}
    assert ids("type=FW") == set()
    assert ids("owner=me") == {tagged.pk, big.pk, active.pk}
    assert ids(f"owner={org.sales2.pk}") == set()
    assert ids(f"q={active.number}") == {active.pk}


def test_party_list_pages_and_filters(org, api):
    made = [make_party(org.sales1).pk for _ in range(7)]
    blocked = make_party(org.sales1, status="blocked")
    client = api(org.sales1)
    ids, links = _walk(client, "/api/v1/parties?page_size=3&status=active")
    assert ids == sorted(made, reverse=True)
    assert all("status=active" in link for link in links)
    items = client.get("/api/v1/parties?status=blocked").json()["items"]
    assert [p["id"] for p in items] == [blocked.pk]
    assert client.get("/api/v1/parties?status=nonsense").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "page_size=0",
        "page_size=201",
        "page_size=99999999999999999999999999",
        "page_size=abc",
        "cursor=garbage!",
        "cursor=aWQ6YWJj",  # "id:abc"
        "cursor=" + "A" * 500,
        "state=flying",
        "type=nope",
        "customer=abc",
        "customer=99999999999999999999999",
        "owner=²",
        "owner=someone",
        "department=-1",
        "expiry_from=2025-02-30",
        "signed_to=yesterday",
        "amount_min=1e100",
        "amount_max=-1",
        "q=%00",
    ],
)
def test_bad_list_parameters_are_400_never_500(org, api, query):
    response = api(org.sales1).get(f"/api/v1/contracts?{query}")
    assert response.status_code == 400, (query, response.content)
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("query", ["page_size=0", "cursor=%%%", "q=a%00b", "page_size=1000"])
def test_bad_party_list_parameters_are_400(org, api, query):
    assert api(org.sales1).get(f"/api/v1/parties?{query}").status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/contracts/abc",
        "/api/v1/contracts/0",
        "/api/v1/contracts/-1",
        "/api/v1/contracts/99999999999999999999999999",
        "/api/v1/contracts/1.5",
        "/api/v1/parties/abc",
        "/api/v1/parties/99999999999999999999999999",
        "/api/v1/nothing-here",
    ],
)
def test_bad_ids_and_unknown_paths_are_json_404(org, api, path):
    response = api(org.sales1).get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.fixture
def many_contracts(org: Any) -> None:
    party = make_party(org.sales1)
    for n in range(55):
        contract = make_contract(org.sales1, party=party)
        if n % 5 == 0:
            contract_actions.update_contract(
                actor=org.sales1, contract=contract, data={"tags": ["a", "b"]}, version=1
            )


def _pinned(client: Client, url: str, size: int, django_assert_num_queries: Any, n: int) -> None:
    with django_assert_num_queries(n):
        response = client.get(f"{url}?page_size={size}")
    assert response.status_code == 200
    assert len(response.json()["items"]) == size


# token + user with role, department and headed departments (one statement), the page
# with its tags
CONTRACT_LIST_QUERIES = 2
# token + user (one statement), the page
PARTY_LIST_QUERIES = 2


@pytest.mark.parametrize("size", [5, 50])
def test_contract_list_query_count_does_not_grow_with_page_size(
    org, api, many_contracts, django_assert_num_queries, size
):
    client = api(org.sales1)
    client.get("/api/v1/me")  # the token's first use is recorded once
    _pinned(client, "/api/v1/contracts", size, django_assert_num_queries, CONTRACT_LIST_QUERIES)


@pytest.mark.parametrize("size", [5, 50])
def test_party_list_query_count_does_not_grow_with_page_size(
    org, api, django_assert_num_queries, size
):
    for _ in range(55):
        make_party(org.sales1)
    client = api(org.sales1)
    client.get("/api/v1/me")
    _pinned(client, "/api/v1/parties", size, django_assert_num_queries, PARTY_LIST_QUERIES)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_list_items_are_the_same_json_as_the_detail(org, api, language):
    from qiyue.accounts.actions import set_language

    set_language(actor=org.sales1, language=language)
    parent = make_contract(org.sales1, title="框架")
    child = make_contract(
        org.sales1,
        title="订单",
        tags=["续约", "a"],
        tax_rate="13",
        notice_period_days=30,
        effective_date="2026-01-01",
        expiry_date="2026-12-31",
        parent=parent.pk,
        relation="order",
    )
    client = api(org.sales1)
    items = {i["id"]: i for i in client.get("/api/v1/contracts").json()["items"]}
    for contract in (parent, child):
        detail = client.get(f"/api/v1/contracts/{contract.pk}").json()
        detail.pop("transitions")
        assert items[contract.pk] == detail
