"""Proposals over REST: list, accept (as proposed or edited), reject; 404 for outsiders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract
from qiyue.review.models import Proposal, ProposalStatus

from .conftest import ZH

pytestmark = pytest.mark.skipif(not ZH.exists(), reason="shared contract texts not present")


def decision(p: Proposal) -> str:
    return f"/api/v1/proposals/{p.pk}/decision"


def test_owner_lists_proposals_with_values_spans_and_record_values(
    api: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    response = api(contract.owner).get(f"/api/v1/contracts/{contract.pk}/proposals?status=pending")
    assert response.status_code == 200
    body = response.json()
    items = {i["field"]: i for i in body["items"]}
    assert set(items) == set(proposed)
    amount = items["amount"]
    assert amount["value"] == {"amount": "3456000.00", "currency": "CNY"}
    assert amount["current"] == {"amount": "1.00", "currency": "CNY"}
    assert amount["end"] > amount["start"] and amount["editable"] is True
    assert body["next"] is None


def test_list_is_paginated(api: Any, contract: Contract, proposed: dict[str, Proposal]) -> None:
    client = api(contract.owner)
    first = client.get(f"/api/v1/contracts/{contract.pk}/proposals?page_size=2").json()
    assert len(first["items"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})


def test_accept_through_the_api_updates_the_record(
    api: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    response = api(contract.owner).post_json(
        decision(proposed["amount"]), {"decision": "accept"}, headers={"If-Match": contract.etag}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    fresh = Contract.objects.get(pk=contract.pk)
    assert fresh.amount == Decimal("3456000.00")
    assert response["ETag"] == fresh.etag
    assert AuditEvent.objects.filter(action="review.proposal_accepted").count() == 1


def test_edited_accept_and_invalid_edit(
    api: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = api(contract.owner)
    with translation.override("en"):
        bad = client.post_json(
            decision(proposed["signed_date"]), {"decision": "accept", "value": "soon"}
        )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"signed_date"}
    assert Contract.objects.get(pk=contract.pk).version == contract.version
    ok = client.post_json(
        decision(proposed["signed_date"]), {"decision": "accept", "value": "2024-11-01"}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "edited"
    assert str(Contract.objects.get(pk=contract.pk).signed_date) == "2024-11-01"


def test_stale_if_match_is_412_and_changes_nothing(
    api: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    response = api(contract.owner).post_json(
        decision(proposed["amount"]), {"decision": "accept"}, headers={"If-Match": '"1-999"'}
    )
    assert response.status_code == 412
    assert Proposal.objects.get(pk=proposed["amount"].pk).status == ProposalStatus.PENDING


def test_reject_and_second_decision_conflicts(
    api: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = api(contract.owner)
    assert (
        client.post_json(decision(proposed["title"]), {"decision": "reject"}).json()["status"]
        == "rejected"
    )
    again = client.post_json(decision(proposed["title"]), {"decision": "accept"})
    assert again.status_code == 409
    assert client.post_json(decision(proposed["amount"]), {"decision": "maybe"}).status_code == 400


def test_outsider_gets_404(
    api: Any, org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = api(org.sales2)
    assert client.get(f"/api/v1/contracts/{contract.pk}/proposals").status_code == 404
    response = client.post_json(decision(proposed["amount"]), {"decision": "accept"})
    assert response.status_code == 404
    assert client.post_json(decision(proposed["amount"]), {"decision": "reject"}).status_code == 404
    assert Proposal.objects.get(pk=proposed["amount"].pk).status == ProposalStatus.PENDING


def test_head_who_may_only_view_gets_403_on_decisions(
    api: Any, org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = api(org.head1)
    assert client.get(f"/api/v1/contracts/{contract.pk}/proposals").status_code == 200
    response = client.post_json(decision(proposed["amount"]), {"decision": "accept"})
    assert response.status_code == 403
    assert Contract.objects.get(pk=contract.pk).amount == Decimal("1.00")


LIST_QUERIES = 4  # token with user and departments, contract, tags, proposals (visibility subquery)


def test_list_costs_the_same_queries_whatever_its_size(
    api: Any, contract: Contract, proposed: dict[str, Proposal], django_assert_max_num_queries: Any
) -> None:
    client = api(contract.owner)
    client.get(f"/api/v1/contracts/{contract.pk}/proposals?page_size=1")
    with django_assert_max_num_queries(LIST_QUERIES) as small:
        client.get(f"/api/v1/contracts/{contract.pk}/proposals?page_size=1")
    with django_assert_max_num_queries(LIST_QUERIES) as large:
        client.get(f"/api/v1/contracts/{contract.pk}/proposals?page_size=50")
    assert len(small.captured_queries) == len(large.captured_queries)
