"""Reading contracts: filters, sorting, the dashboard, all within what the user may see."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from qiyue.contracts.queries import (
    ContractFilters,
    FilterError,
    contract_values_page_after,
    contracts_for,
    dashboard_for,
    parse_filters,
    related_for,
)
from tests.factories import make_contract, make_party

pytestmark = pytest.mark.django_db


def test_empty_parameters_give_default_filters() -> None:
    f = parse_filters({})
    assert f == ContractFilters()
    assert f.as_query() == {}


def test_parse_filters_reads_every_filter(org: Any) -> None:
    f = parse_filters(
        {
            "q": " 软件 ",
            "state": "draft,active",
            "type": "XS",
            "customer": "12",
            "owner": "me",
            "department": "3",
            "tag": "续约",
            "expiry_from": "2026-01-01",
            "expiry_to": "2026-12-31",
            "amount_min": "1,000",
            "amount_max": "2000.5",
            "sort": "-amount",
        },
        user=org.sales1,
    )
    assert f.q == "软件"
    assert f.state == ["draft", "active"]
    assert f.contract_type == org.types["XS"].pk
    assert (f.customer, f.owner, f.department) == (12, org.sales1.pk, 3)
    assert (f.amount_min, f.amount_max) == (Decimal("1000.00"), Decimal("2000.50"))
    assert f.sort == "-amount"
    assert f.as_query()["state"] == "draft,active"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "draft,deleted"}, "state"),
        ({"type": "NOPE"}, "contract_type"),
        ({"customer": "abc"}, "customer"),
        ({"customer": "²"}, "customer"),
        ({"owner": "someone"}, "owner"),
        ({"expiry_from": "2026-02-30"}, "expiry_from"),
        ({"signed_to": "yesterday"}, "signed_to"),
        ({"amount_min": "-5"}, "amount_min"),
        ({"amount_max": "NaN"}, "amount_max"),
        ({"sort": "password"}, "sort"),
    ],
)
def test_bad_filters_are_named(org: Any, params: dict[str, str], field: str) -> None:
    with pytest.raises(FilterError) as exc:
        parse_filters(params, user=org.sales1)
    assert field in exc.value.errors


def test_filters_narrow_the_visible_list(org: Any) -> None:
    today = timezone.localdate()
    party = make_party(org.sales1, name="星河科技有限公司")
    soon = make_contract(
        org.sales1,
        party=party,
        title="星河软件许可",
        amount="5000",
        expiry_date=today + timedelta(days=20),
        tags=["续约"],
    )
    later = make_contract(org.sales1, amount="90000", expiry_date=today + timedelta(days=200))
    active = make_contract(org.sales1, state="active")
    make_contract(org.sales2, title="星河软件许可 (别人的)")

    def ids(**params: str) -> set[int]:
        return {c.pk for c in contracts_for(org.sales1, parse_filters(params, user=org.sales1))}

    assert ids() == {soon.pk, later.pk, active.pk}
    assert ids(q="星河") == {soon.pk}
    assert ids(state="active") == {active.pk}
    assert ids(customer=str(party.pk)) == {soon.pk}
    assert ids(tag="续约") == {soon.pk}
    assert ids(amount_min="10000") == {later.pk, active.pk}
    assert ids(amount_max="10000") == {soon.pk}
    assert ids(expiry_to=str(today + timedelta(days=30))) == {soon.pk}
    assert ids(owner=str(org.sales2.pk)) == set()


def test_sorting_breaks_ties_by_id(org: Any) -> None:
    made = [make_contract(org.sales1, amount="100") for _ in range(3)]
    rows = list(contracts_for(org.sales1, parse_filters({"sort": "amount"})))
    assert [c.pk for c in rows] == [c.pk for c in made]
    rows = list(contracts_for(org.sales1, parse_filters({"sort": "-amount"})))
    assert [c.pk for c in rows] == [c.pk for c in reversed(made)]


def test_keyset_pages_cover_the_list_once(org: Any) -> None:
    made = {make_contract(org.sales1).pk for _ in range(5)}
    make_contract(org.sales2)
    seen: list[int] = []
    after = None
    while True:
        names, rows, more = contract_values_page_after(
            org.sales1, ContractFilters(), after_id=after, size=2
        )
        ids = [row[names.index("id")] for row in rows]
        seen += ids
        if not more:
            break
        after = ids[-1]
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


def test_related_contracts_are_filtered_by_visibility(org: Any) -> None:
    main = make_contract(org.sales1, state="active")
    mine = make_contract(org.sales1, party=main.counterparty, parent=main.pk, relation="amendment")
    assert list(related_for(org.sales1, main)) == [mine]
    assert list(related_for(org.sales2, main)) == []


def test_dashboard_expiry_windows_include_both_ends(org: Any) -> None:
    today = timezone.localdate()
    for days in (0, 30, 31, 60, 90, 91):
        make_contract(
            org.sales1,
            state="active",
            effective_date=today - timedelta(days=400),
            expiry_date=today + timedelta(days=days),
        )
    make_contract(org.sales1, state="signing", expiry_date=today + timedelta(days=5))
    assert dashboard_for(org.sales1)["expiring"] == {30: 2, 60: 4, 90: 5}


def test_dashboard_counts_only_what_the_user_sees(org: Any) -> None:
    today = timezone.localdate()
    make_contract(org.sales1)
    in_review = make_contract(org.sales1, state="in_review")
    make_contract(
        org.sales1,
        state="active",
        amount="1000",
        effective_date=today - timedelta(days=300),
        expiry_date=today + timedelta(days=45),
    )
    make_contract(org.sales2, state="active", amount="5000")

    mine = dashboard_for(org.sales1)
    assert mine["total"] == 3
    assert dict(mine["by_state"])["draft"] == 1
    assert mine["expiring"] == {30: 0, 60: 1, 90: 1}
    assert mine["active_value_cny"] == Decimal("1000.00")
    assert len(mine["my_drafts"]) == 1
    assert mine["awaiting_me"] == []

    legal = dashboard_for(org.legal)
    assert legal["total"] == 4
    assert legal["active_value_cny"] == Decimal("6000.00")
    # "awaiting me" is the approval tasks waiting for the user, linked to the task
    from qiyue.approvals.models import ApprovalTask

    task = ApprovalTask.objects.get(contract=in_review, state="open")
    awaiting = dashboard_for(task.assignee)["awaiting_me"]
    assert [c.pk for c in awaiting] == [in_review.pk]
    assert awaiting[0].task_url == f"/approvals/tasks/{task.pk}/"

    outsider = dashboard_for(org.colleague)
    assert outsider["total"] == 0
    assert outsider["expiring"] == {30: 0, 60: 0, 90: 0}
