"""The "Proposed from the document" panel of the contract page and its decisions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qiyue.contracts.models import Contract
from qiyue.review.models import Proposal, ProposalStatus
from tests.factories import make_contract

from .conftest import CUAD, ZH, pending, upload

pytestmark = pytest.mark.skipif(not ZH.exists(), reason="shared contract texts not present")


def detail(contract: Contract) -> str:
    return reverse("web:contract_detail", args=[contract.pk])


def decide(proposal: Proposal) -> str:
    return reverse("web:proposal_decide", args=[proposal.pk])


def en(client: Any) -> Any:
    client.cookies["django_language"] = "en"
    return client


def test_owner_sees_proposals_with_marked_evidence(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    html = en(login(contract.owner)).get(detail(contract)).content.decode()
    assert 'data-testid="proposals"' in html and "Proposed from the document" in html
    assert html.count('data-testid="proposal"') == len(proposed)
    assert "<mark>人民币叁佰肆拾伍万陆仟元整（¥3,456,000.00）</mark>" in html
    assert "¥3,456,000.00" in html and "¥1.00" in html  # proposed vs the record
    assert 'data-testid="proposal-accept"' in html and 'data-testid="accept-high"' in html


def test_owner_accepts_amount_on_the_page(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = en(login(contract.owner))
    response = client.post(
        decide(proposed["amount"]), {"decision": "accept", "version": contract.version}
    )
    assert response.status_code == 302 and response["Location"].endswith("#proposals")
    assert Contract.objects.get(pk=contract.pk).amount == Decimal("3456000.00")
    html = client.get(detail(contract)).content.decode()
    assert "Accepted: Amount." in html
    assert 'data-field="amount"' not in html


def test_edit_then_accept_on_the_page(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = en(login(contract.owner))
    client.post(
        decide(proposed["signed_date"]),
        {"decision": "edit", "value": "2024-11-09", "version": contract.version},
    )
    assert str(Contract.objects.get(pk=contract.pk).signed_date) == "2024-11-09"
    assert Proposal.objects.get(pk=proposed["signed_date"].pk).status == ProposalStatus.EDITED


def test_invalid_edit_shows_a_clear_error_and_changes_nothing(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = en(login(contract.owner))
    response = client.post(
        decide(proposed["signed_date"]),
        {"decision": "edit", "value": "not a date", "version": contract.version},
        follow=True,
    )
    assert "Signed on: Enter a date as YYYY-MM-DD." in response.content.decode()
    fresh = Contract.objects.get(pk=contract.pk)
    assert fresh.signed_date is None and fresh.version == contract.version
    assert Proposal.objects.get(pk=proposed["signed_date"].pk).status == ProposalStatus.PENDING


def test_stale_accept_on_the_page_is_refused(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = en(login(contract.owner))
    client.post(decide(proposed["amount"]), {"decision": "accept", "version": contract.version})
    response = client.post(
        decide(proposed["signed_date"]),
        {"decision": "accept", "version": contract.version},  # the page before the first
        follow=True,
    )
    assert "Someone else changed this contract meanwhile" in response.content.decode()
    assert Contract.objects.get(pk=contract.pk).signed_date is None


def test_reject_on_the_page(login: Any, contract: Contract, proposed: dict[str, Proposal]) -> None:
    client = en(login(contract.owner))
    client.post(decide(proposed["title"]), {"decision": "reject"})
    assert Proposal.objects.get(pk=proposed["title"].pk).status == ProposalStatus.REJECTED
    assert Contract.objects.get(pk=contract.pk).title == contract.title


def test_accept_all_high_confidence_on_the_page(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = en(login(contract.owner))
    url = reverse("web:proposals_accept_high", args=[contract.pk])
    response = client.post(url, {"version": contract.version}, follow=True)
    assert "Accepted" in response.content.decode()
    assert Contract.objects.get(pk=contract.pk).signed_date is not None


def test_outsider_gets_404_for_every_review_page(
    login: Any, org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = login(org.sales2)
    p = proposed["amount"]
    assert client.get(reverse("web:proposal_detail", args=[p.pk])).status_code == 404
    assert client.post(decide(p), {"decision": "accept", "version": 1}).status_code == 404
    assert client.post(decide(p), {"decision": "reject"}).status_code == 404
    assert client.get(reverse("web:contract_proposals", args=[contract.pk])).status_code == 404
    url = reverse("web:proposals_accept_high", args=[contract.pk])
    assert client.post(url, {"version": 1}).status_code == 404
    assert Proposal.objects.get(pk=p.pk).status == ProposalStatus.PENDING


def test_head_who_may_view_sees_proposals_but_cannot_decide(
    login: Any, org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = en(login(org.head1))
    html = client.get(detail(contract)).content.decode()
    assert 'data-testid="proposals"' in html
    assert (
        'data-testid="proposal-accept"' not in html and 'data-testid="proposal-reject"' not in html
    )
    response = client.post(
        decide(proposed["amount"]), {"decision": "accept", "version": contract.version}, follow=True
    )
    assert "You may not edit this contract." in response.content.decode()
    assert Contract.objects.get(pk=contract.pk).amount == Decimal("1.00")
    assert Proposal.objects.get(pk=proposed["amount"].pk).status == ProposalStatus.PENDING


def test_locked_fields_offer_only_reject(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    Contract.objects.filter(pk=contract.pk).update(state="active")
    html = en(login(contract.owner)).get(detail(contract)).content.decode()
    assert 'data-testid="proposals-locked"' in html
    assert 'data-testid="proposal-accept"' not in html


def test_script_in_a_proposed_value_is_escaped(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    p = proposed["title"]
    evil = "<script>alert(1)</script>"
    Proposal.objects.filter(pk=p.pk).update(value=evil, excerpt=evil + p.excerpt)
    client = login(contract.owner)
    html = client.get(detail(contract)).content.decode()
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = client.get(reverse("web:proposal_detail", args=[p.pk])).content.decode()
    assert evil not in html


def test_context_page_marks_the_span_in_the_whole_text(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    p = proposed["tax_rate"]
    response = login(contract.owner).get(reverse("web:proposal_detail", args=[p.pk]))
    html = response.content.decode()
    assert '<mark id="span" data-testid="proposal-span">13</mark>' in html
    assert "工业设备买卖合同" in html  # the text around it, from the start


def test_customer_proposal_links_to_new_customer_when_none_matches(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    html = login(contract.owner).get(detail(contract)).content.decode()
    assert 'data-testid="proposal-create-party"' in html
    assert proposed["counterparty"].value["name"] in html


def test_panel_fragment_polls_while_the_text_is_read(
    login: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    client = login(contract.owner)
    html = client.get(reverse("web:contract_proposals", args=[contract.pk])).content.decode()
    assert 'data-testid="proposals"' in html
    other = make_contract(contract.owner)
    html = client.get(reverse("web:contract_proposals", args=[other.pk])).content.decode()
    assert 'data-testid="proposals-idle"' in html and "<article" not in html


def _panel_queries(client: Any, contract: Contract) -> int:
    """Queries the page spends on the proposals panel (its tables)."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(detail(contract)).status_code == 200
    return sum(
        1
        for q in ctx.captured_queries
        if '"review_proposal"' in q["sql"].split("WHERE")[0]
        or ('"parties_party"' in q["sql"] and "normalized_name" in q["sql"].split("FROM")[1])
    )


def test_panel_costs_one_query_and_two_with_a_customer_proposal_whatever_their_number(
    login: Any, org: Any, contract: Contract, django_capture_on_commit_callbacks: Any
) -> None:
    client = login(contract.owner)
    client.get(detail(contract))
    assert _panel_queries(client, contract) == 1  # no proposals
    upload(contract, ZH, django_capture_on_commit_callbacks)
    assert _panel_queries(client, contract) == 2
    few = make_contract(org.sales1)
    upload(few, CUAD, django_capture_on_commit_callbacks)  # no parties proposed
    assert "counterparty" not in pending(few)
    assert _panel_queries(client, few) == 1


def test_panel_waits_while_the_main_text_is_pending(login: Any, org: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from qiyue.documents.actions import upload_document

    contract = make_contract(org.sales1)
    # Not captured: the commit hooks (text extraction) never run in this test.
    upload_document(
        actor=org.sales1,
        contract=contract,
        fileobj=SimpleUploadedFile("c.txt", ZH.read_bytes()),
        name="c.txt",
    )
    client = login(org.sales1)
    assert 'data-testid="proposals-waiting"' in client.get(detail(contract)).content.decode()
    html = client.get(reverse("web:contract_proposals", args=[contract.pk])).content.decode()
    assert 'data-testid="proposals-waiting"' in html
