"""Proposals of key terms: made by the job after text extraction, decided by people."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from qiyue.audit.models import AuditEvent
from qiyue.contracts.actions import ContractError, StaleEdit
from qiyue.contracts.models import Contract
from qiyue.documents.models import DocumentKind
from qiyue.review import actions
from qiyue.review.mapping import from_extraction
from qiyue.review.models import ExtractionRun, Proposal, ProposalStatus
from tests.factories import make_contract, make_party

from .conftest import CUAD, ZH, pending, upload

pytestmark = pytest.mark.skipif(not ZH.exists(), reason="shared contract texts not present")


# -- the job ---------------------------------------------------------------------------


def test_upload_of_chinese_contract_creates_proposals_with_spans(
    contract: Contract, proposed: dict[str, Proposal]
) -> None:
    text = ZH.read_text(encoding="utf-8")
    assert proposed["amount"].value == {"amount": "3456000.00", "currency": "CNY"}
    assert proposed["signed_date"].value == "2024-11-08"
    assert proposed["title"].value == "工业设备买卖合同"
    assert proposed["tax_rate"].value == "13.00"
    span = proposed["amount"]
    assert "3,456,000.00" in text[span.start : span.end]
    assert text[span.start : span.end] in span.excerpt
    _before, evidence, _after = span.excerpt_parts()
    assert evidence == text[span.start : span.end]
    assert "counterparty" in proposed
    assert ExtractionRun.objects.get(contract=contract).proposals == len(proposed)
    assert AuditEvent.objects.filter(action="review.proposed").count() == 1


def test_upload_of_cuad_contract_creates_english_proposals(
    contract: Contract, django_capture_on_commit_callbacks: Any
) -> None:
    upload(contract, CUAD, django_capture_on_commit_callbacks)
    found = pending(contract)
    assert found["signed_date"].value == "2019-10-01"
    assert found["expiry_date"].value == "2020-12-31"
    assert ExtractionRun.objects.get(contract=contract).language == "en"


def test_the_job_runs_once_per_version(contract: Contract, proposed: dict[str, Proposal]) -> None:
    version_id = next(iter(proposed.values())).version_id
    assert actions.propose_for_version(version_id) is None
    assert Proposal.objects.filter(contract=contract).count() == len(proposed)


def test_attachments_get_no_proposals(
    contract: Contract, django_capture_on_commit_callbacks: Any
) -> None:
    upload(contract, ZH, django_capture_on_commit_callbacks, kind=DocumentKind.ATTACHMENT)
    assert not Proposal.objects.filter(contract=contract).exists()


def test_values_the_record_holds_are_not_proposed(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = make_contract(org.sales1, amount="3456000.00", title="工业设备买卖合同")
    upload(c, ZH, django_capture_on_commit_callbacks)
    found = pending(c)
    assert "amount" not in found and "title" not in found and "signed_date" in found


def test_a_newer_version_supersedes_older_pending_proposals(
    contract: Contract, proposed: dict[str, Proposal], django_capture_on_commit_callbacks: Any
) -> None:
    old = proposed["amount"]
    newer = upload(contract, ZH, django_capture_on_commit_callbacks, document=old.version.document)
    old.refresh_from_db()
    assert old.status == ProposalStatus.SUPERSEDED
    assert {p.version_id for p in pending(contract).values()} == {newer.pk}


def test_mapping_skips_values_without_evidence() -> None:
    from qiyue.review.extraction import extract

    text = "本合同不自动续期。"
    drafts = from_extraction(extract(text), text)
    assert all(d.end > d.start for d in drafts)


# -- decisions --------------------------------------------------------------------------


def test_accept_updates_the_record_and_audits(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    p = proposed["amount"]
    updated = actions.accept_proposal(actor=org.sales1, proposal=p, version=contract.version)
    assert updated.amount == Decimal("3456000.00")
    assert updated.version == contract.version + 1
    p.refresh_from_db()
    assert p.status == ProposalStatus.ACCEPTED and p.decided_by == org.sales1
    assert p.final_value == {"amount": "3456000.00", "currency": "CNY"}
    event = AuditEvent.objects.get(action="review.proposal_accepted")
    assert event.data["contract"] == contract.pk and event.data["field"] == "amount"
    assert event.data["edited"] is False
    changed = AuditEvent.objects.filter(action="contract.changed", target_id=str(contract.pk))
    assert changed.get().data["after"]["amount"] == "3456000.00"


def test_accept_of_dates(org: Any, contract: Contract, proposed: dict[str, Proposal]) -> None:
    c = actions.accept_proposal(
        actor=org.sales1, proposal=proposed["signed_date"], version=contract.version
    )
    c = actions.accept_proposal(
        actor=org.sales1, proposal=proposed["effective_date"], version=c.version
    )
    assert (c.signed_date, c.effective_date) == (date(2024, 11, 8), date(2024, 11, 8))


def test_edit_then_accept_stores_the_edited_value(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    p = proposed["amount"]
    c = actions.accept_proposal(
        actor=org.sales1,
        proposal=p,
        version=contract.version,
        value={"amount": "3000000", "currency": "USD"},
    )
    assert (c.amount, c.currency) == (Decimal("3000000.00"), "USD")
    p.refresh_from_db()
    assert p.status == ProposalStatus.EDITED
    assert AuditEvent.objects.get(action="review.proposal_accepted").data["edited"] is True


def test_edit_with_invalid_value_is_refused_and_changes_nothing(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    p = proposed["amount"]
    with translation.override("en"), pytest.raises(ContractError) as exc:
        actions.accept_proposal(
            actor=org.sales1, proposal=p, version=contract.version, value={"amount": "abc"}
        )
    assert "non-negative amount" in exc.value.errors["amount"]
    p.refresh_from_db()
    assert p.status == ProposalStatus.PENDING
    fresh = Contract.objects.get(pk=contract.pk)
    assert (fresh.amount, fresh.version) == (Decimal("1.00"), contract.version)
    assert not AuditEvent.objects.filter(action__startswith="review.proposal_").exists()


def test_stale_accept_is_refused(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    with pytest.raises(StaleEdit):
        actions.accept_proposal(
            actor=org.sales1, proposal=proposed["amount"], version=contract.version - 1
        )
    assert proposed["amount"].__class__.objects.get(pk=proposed["amount"].pk).status == "pending"


def test_a_decided_proposal_cannot_be_decided_again(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    p = proposed["title"]
    actions.reject_proposal(actor=org.sales1, proposal=p)
    with pytest.raises(actions.ReviewError) as exc:
        actions.accept_proposal(actor=org.sales1, proposal=p, version=contract.version)
    assert exc.value.code == "state"
    assert Contract.objects.get(pk=contract.pk).title == contract.title


def test_reject_keeps_the_record_and_audits(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    p = proposed["title"]
    actions.reject_proposal(actor=org.sales1, proposal=p)
    p.refresh_from_db()
    assert p.status == ProposalStatus.REJECTED
    assert Contract.objects.get(pk=contract.pk).version == contract.version
    assert AuditEvent.objects.get(action="review.proposal_rejected").data["field"] == "title"


def test_department_head_who_may_only_view_cannot_accept_or_reject(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    assert Contract.objects.visible_to(org.head1, "view").filter(pk=contract.pk).exists()
    for decide in (
        lambda: actions.accept_proposal(
            actor=org.head1, proposal=proposed["amount"], version=contract.version
        ),
        lambda: actions.reject_proposal(actor=org.head1, proposal=proposed["amount"]),
    ):
        with pytest.raises(ContractError) as exc:
            decide()
        assert exc.value.code == "forbidden"
    assert pending(contract)["amount"].status == ProposalStatus.PENDING


def test_fields_locked_by_the_state_cannot_be_accepted(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    Contract.objects.filter(pk=contract.pk).update(state="active")
    with pytest.raises(actions.ReviewError) as exc:
        actions.accept_proposal(
            actor=org.sales1, proposal=proposed["amount"], version=contract.version
        )
    assert exc.value.code == "state"


def test_customer_is_accepted_by_choosing_a_visible_customer(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    p = proposed["counterparty"]
    with pytest.raises(actions.ReviewError):
        actions.accept_proposal(actor=org.sales1, proposal=p, version=contract.version)
    party = make_party(org.sales1, name=p.value["name"])
    c = actions.accept_proposal(
        actor=org.sales1, proposal=p, version=contract.version, value=party.pk
    )
    assert c.counterparty_id == party.pk
    p.refresh_from_db()
    assert p.status == ProposalStatus.ACCEPTED


def test_known_customer_is_proposed_before_the_other_party(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_party(org.sales1, name="东莞市恒力自动化设备有限公司")
    c = make_contract(org.sales1)
    upload(c, ZH, django_capture_on_commit_callbacks)
    value = pending(c)["counterparty"].value
    assert value == {
        "name": "东莞市恒力自动化设备有限公司",
        "alternatives": ["苏州明岳电子科技有限公司"],
    }


def test_accept_all_high_confidence_in_one_edit(
    org: Any, contract: Contract, proposed: dict[str, Proposal]
) -> None:
    n = actions.accept_high_confidence(
        actor=org.sales1, contract=contract, version=contract.version
    )
    high = {f for f, p in proposed.items() if p.confidence >= 0.8 and f != "counterparty"}
    assert n == len(high) > 0
    c = Contract.objects.get(pk=contract.pk)
    assert c.version == contract.version + 1
    assert c.signed_date == date(2024, 11, 8)  # 0.85
    assert c.amount == Decimal("1.00")  # the amount was only 0.6 sure
    assert set(pending(contract)) == set(proposed) - high
    assert AuditEvent.objects.filter(action="review.proposal_accepted").count() == n


def test_an_older_version_read_last_does_not_supersede_the_newer_ones_proposals(
    contract: Contract, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    older = upload(contract, ZH, django_capture_on_commit_callbacks)
    Proposal.objects.filter(version=older).delete()
    ExtractionRun.objects.filter(version=older).delete()
    newer: list[Any] = []
    refine = actions.llm.refine

    def slow_refine(text: str, drafts: Any) -> Any:
        # While the older version is still being read, a newer one arrives and is read.
        if not newer:
            newer.append(None)
            newer[0] = upload(
                contract, ZH, django_capture_on_commit_callbacks, document=older.document
            )
        return refine(text, drafts)

    monkeypatch.setattr(actions.llm, "refine", slow_refine)
    actions.propose_for_version(older.pk)
    rows = pending(contract)
    assert rows and {p.version_id for p in rows.values()} == {newer[0].pk}
