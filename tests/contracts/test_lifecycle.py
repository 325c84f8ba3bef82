"""The lifecycle state machine: every state × every transition, who may, what it needs."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from qiyue.approvals import actions as approval_actions
from qiyue.approvals.models import ApprovalTask
from qiyue.audit.models import AuditEvent
from qiyue.contracts import lifecycle
from qiyue.contracts.actions import (
    ContractError,
    NotAllowed,
    StaleEdit,
    transition_contract,
    update_contract,
)
from qiyue.contracts.lifecycle import BY_TARGET, TRANSITIONS
from qiyue.contracts.models import Contract, ContractState
from qiyue.parties import actions as party_actions
from tests.contracts._workers import approve_now
from tests.factories import make_contract

pytestmark = pytest.mark.django_db

STATES = [s.value for s in ContractState]


def _events(contract: Contract, action: str | None = None) -> Any:
    qs = AuditEvent.objects.filter(target_type="contract", target_id=str(contract.pk))
    return qs.filter(action=action) if action else qs


# Every state × every transition -------------------------------------------------------


@pytest.mark.parametrize("code", list(TRANSITIONS))
@pytest.mark.parametrize("state", STATES)
def test_transition_is_allowed_exactly_from_its_sources(org: Any, state: str, code: str) -> None:
    t = TRANSITIONS[code]
    contract = make_contract(org.sales1, state=state)
    assert contract.state == state
    version, events = contract.version, _events(contract).count()
    if t.workflow:
        # Approve, return, reject, withdraw and reapprove are the approval workflow's
        # results (tests/approvals), never a step a person takes on the contract.
        with pytest.raises(ContractError) as exc:
            transition_contract(actor=org.admin, contract=contract, code=code, comment="理由")
        assert exc.value.code == "approval_workflow"
        contract.refresh_from_db()
        assert (contract.state, contract.version) == (state, version)
        assert _events(contract).count() == events
    elif state in t.sources:
        after = transition_contract(actor=org.admin, contract=contract, code=code, comment="理由")
        assert after.state == t.target
        assert after.version == version + 1
        event = _events(contract).last()
        assert event.action == f"contract.{code}"
        assert event.actor == org.admin
        assert event.data["before"] == {"state": state}
        assert event.data["after"]["state"] == t.target
        assert event.data["comment"] == "理由"
        assert _events(contract).count() == events + 1
    else:
        with pytest.raises(ContractError) as exc:
            transition_contract(actor=org.admin, contract=contract, code=code, comment="理由")
        assert exc.value.code == "invalid_transition"
        contract.refresh_from_db()
        assert (contract.state, contract.version) == (state, version)
        assert _events(contract).count() == events


@pytest.mark.parametrize("code", ["delete", "", "APPROVE", "approve;drop"])
def test_unknown_transition_code_is_refused(org: Any, code: str) -> None:
    contract = make_contract(org.sales1)
    with pytest.raises(ContractError) as exc:
        transition_contract(actor=org.admin, contract=contract, code=code)
    assert exc.value.code == "invalid_transition"


def test_lifecycle_tables_are_consistent() -> None:
    for t in TRANSITIONS.values():
        assert t.target in STATES
        assert t.sources <= set(STATES)
        assert t.target not in t.sources
        for src in t.sources:
            if not t.workflow:
                assert BY_TARGET[(str(src), str(t.target))] is t
    assert len(BY_TARGET) == sum(len(t.sources) for t in TRANSITIONS.values() if not t.workflow)
    # Every state but the last is left by some step, and every state is reached
    # (draft again by reopening a returned contract).
    assert {s for t in TRANSITIONS.values() for s in t.sources} == set(STATES) - {"archived"}
    assert {t.target for t in TRANSITIONS.values()} == set(STATES)
    assert lifecycle.transitions_from("archived") == []


# The `to=` form --------------------------------------------------------------------------


@pytest.mark.parametrize("target", STATES)
def test_to_form_follows_by_target_from_active(org: Any, target: str) -> None:
    contract = make_contract(org.sales1, state="active")
    if ("active", target) in BY_TARGET:
        after = transition_contract(actor=org.admin, contract=contract, to=target, comment="x")
        assert after.state == target
        assert _events(contract).last().action == f"contract.{BY_TARGET[('active', target)].code}"
    else:
        with pytest.raises(ContractError) as exc:
            transition_contract(actor=org.admin, contract=contract, to=target, comment="x")
        assert exc.value.code == "invalid_transition"
        contract.refresh_from_db()
        assert contract.state == "active"


def test_to_form_submits_and_approves(org: Any) -> None:
    contract = make_contract(org.sales1)
    contract = transition_contract(actor=org.sales1, contract=contract, to="in_review")
    assert contract.state == ContractState.IN_REVIEW
    # Approval is the workflow's: the to= form cannot approve, the approvers' tasks do.
    with pytest.raises(ContractError) as exc:
        transition_contract(actor=org.legal, contract=contract, to="approved")
    assert exc.value.code == "approval_workflow"
    contract = approval_actions.complete_for_tests_and_demo(contract)
    assert contract.state == ContractState.APPROVED
    assert _events(contract, "contract.approve").get().actor == org.legal


@pytest.mark.parametrize("to", ["deleted", "", "Draft", None, "x" * 500])
def test_to_form_refuses_unknown_states(org: Any, to: Any) -> None:
    contract = make_contract(org.sales1)
    with pytest.raises(ContractError) as exc:
        transition_contract(actor=org.sales1, contract=contract, to=to)
    assert exc.value.code == "unknown_state"
    assert "to" in exc.value.errors
    assert len(exc.value.errors["to"]) < 100


@pytest.mark.parametrize(
    ("state", "to"),
    [
        ("draft", "active"),
        ("draft", "draft"),
        ("archived", "draft"),
        ("active", "approved"),
        ("in_review", "signing"),
    ],
)
def test_to_form_refuses_impossible_pairs(org: Any, state: str, to: str) -> None:
    contract = make_contract(org.sales1, state=state)
    with pytest.raises(ContractError) as exc:
        transition_contract(actor=org.admin, contract=contract, to=to, comment="x")
    assert exc.value.code == "invalid_transition"


# Who may ---------------------------------------------------------------------------------


def test_owner_cannot_approve_own_contract_even_with_the_approve_permission(org: Any) -> None:
    from qiyue.accounts import actions as account_actions

    lead_role = account_actions.save_role(
        actor=org.admin,
        code="sales_lead",
        name="销售主管",
        permissions=[
            "contract.view",
            "contract.create",
            "contract.change",
            "contract.approve",
            "party.view",
            "party.create",
        ],
        data_scope="department",
    )
    lead = account_actions.create_user(
        actor=org.admin,
        username="lead",
        password="pw",
        department=org.departments["销售一部"],
        role=lead_role,
    )
    approval_actions.save_workflow(
        actor=org.admin,
        name="主管审批",
        priority=1,
        definition={
            "conditions": {},
            "steps": [{"name": "主管", "approvers": [f"user:{lead.pk}"]}],
        },
    )
    contract = make_contract(lead, state="in_review")
    # Named as the approver, the lead still gets no task on their own contract.
    assert not ApprovalTask.objects.filter(contract=contract, assignee=lead).exists()
    with pytest.raises(ContractError):
        transition_contract(actor=lead, contract=contract, code="approve")
    contract.refresh_from_db()
    assert contract.state == "in_review"
    # The same lead approves a colleague's contract in the department.
    other = make_contract(org.sales1, state="in_review")
    task = ApprovalTask.objects.get(contract=other, assignee=lead)
    approval_actions.decide(actor=lead, task_id=task.pk, decision="approve")
    other.refresh_from_db()
    assert other.state == "approved"


@pytest.mark.parametrize("persona", ["sales1", "colleague", "viewer"])
def test_sales_and_viewers_cannot_approve(org: Any, persona: str) -> None:
    contract = make_contract(org.sales1, state="in_review")
    # The department head (head1) holds the task; nobody else can decide it.
    task = ApprovalTask.objects.get(contract=contract, assignee=org.head1)
    with pytest.raises(approval_actions.NotFound):
        approval_actions.decide(actor=getattr(org, persona), task_id=task.pk, decision="approve")
    with pytest.raises(ContractError):
        transition_contract(actor=getattr(org, persona), contract=contract, code="approve")
    contract.refresh_from_db()
    assert contract.state == "in_review"
    assert not _events(contract, "contract.approve").exists()


@pytest.mark.parametrize("persona", ["legal", "finance", "manager"])
def test_approvers_approve(org: Any, persona: str) -> None:
    approval_actions.save_workflow(
        actor=org.admin,
        name="任一审批",
        priority=1,
        definition={
            "conditions": {},
            "steps": [
                {
                    "name": "审批",
                    "approvers": ["role:legal", "role:finance", "role:manager"],
                    "quorum": "any",
                }
            ],
        },
    )
    contract = make_contract(org.sales1, state="in_review")
    user = getattr(org, persona)
    task = ApprovalTask.objects.get(contract=contract, assignee=user)
    approval_actions.decide(actor=user, task_id=task.pk, decision="approve")
    contract.refresh_from_db()
    assert contract.state == "approved"


@pytest.mark.parametrize("persona", ["legal", "finance", "sales1"])
def test_legal_finance_and_sales_cannot_terminate(org: Any, persona: str) -> None:
    contract = make_contract(org.sales1, state="active")
    with pytest.raises(NotAllowed):
        transition_contract(
            actor=getattr(org, persona), contract=contract, code="terminate", comment="违约"
        )
    contract.refresh_from_db()
    assert contract.state == "active"


def test_manager_terminates_with_a_reason(org: Any) -> None:
    contract = make_contract(org.sales1, state="active")
    after = transition_contract(
        actor=org.manager, contract=contract, code="terminate", comment="违约"
    )
    assert after.state == "terminated"
    assert _events(contract, "contract.terminate").get().data["comment"] == "违约"


def test_outsider_cannot_transition_and_is_told_not_found(org: Any) -> None:
    contract = make_contract(org.sales1)
    with pytest.raises(NotAllowed) as exc:
        transition_contract(actor=org.sales2, contract=contract, code="submit")
    assert exc.value.code == "not_found"


def test_viewer_cannot_submit(org: Any) -> None:
    contract = make_contract(org.sales1)
    with pytest.raises(NotAllowed):
        transition_contract(actor=org.viewer, contract=contract, code="submit")


def test_owner_marks_signed_but_cannot_archive(org: Any) -> None:
    contract = make_contract(org.sales1, state="approved")
    contract = transition_contract(actor=org.sales1, contract=contract, code="mark_signed")
    assert contract.state == "active"
    contract = transition_contract(actor=org.manager, contract=contract, code="expire")
    with pytest.raises(NotAllowed):
        transition_contract(actor=org.sales1, contract=contract, code="archive")


@pytest.mark.parametrize(("state", "code"), [("in_review", "return"), ("active", "terminate")])
@pytest.mark.parametrize("comment", ["", "   "])
def test_a_reason_is_required_to_return_or_terminate(
    org: Any, state: str, code: str, comment: str
) -> None:
    contract = make_contract(org.sales1, state=state)
    version = contract.version
    with pytest.raises((ContractError, approval_actions.ApprovalError)) as exc:
        if code == "return":  # a decision on the approver's task
            task = ApprovalTask.objects.get(contract=contract, state="open")
            approval_actions.decide(
                actor=task.assignee, task_id=task.pk, decision="return", comment=comment
            )
        else:
            transition_contract(actor=org.manager, contract=contract, code=code, comment=comment)
    assert exc.value.code == "comment_required"
    assert "comment" in exc.value.errors
    contract.refresh_from_db()
    assert (contract.state, contract.version) == (state, version)


def test_an_overlong_comment_is_refused(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    with pytest.raises(ContractError) as exc:
        transition_contract(
            actor=org.manager, contract=contract, code="terminate", comment="x" * 2001
        )
    assert "comment" in exc.value.errors
    task = ApprovalTask.objects.get(contract=contract, state="open")
    with pytest.raises(approval_actions.ApprovalError) as refused:
        approval_actions.decide(
            actor=task.assignee, task_id=task.pk, decision="return", comment="x" * 2001
        )
    assert "comment" in refused.value.errors


# What it needs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "code", "actor"),
    [
        ("draft", "submit", "sales1"),
        ("returned", "submit", "sales1"),
    ],
)
def test_submit_and_approve_refuse_a_contract_without_amount(
    org: Any, state: str, code: str, actor: str
) -> None:
    contract = make_contract(org.sales1, amount="", state="draft")
    if state == "returned":
        # Returned contracts need an amount to get there; clear it after the return.
        contract = update_contract(
            actor=org.sales1, contract=contract, data={"amount": "1"}, version=contract.version
        )
        contract = transition_contract(actor=org.sales1, contract=contract, code="submit")
        contract = approval_actions.complete_for_tests_and_demo(contract, outcome="returned")
        contract = update_contract(
            actor=org.sales1, contract=contract, data={"amount": None}, version=contract.version
        )
    assert contract.amount is None
    with pytest.raises(ContractError) as exc:
        transition_contract(actor=getattr(org, actor), contract=contract, code=code)
    assert exc.value.code == "incomplete"
    assert "amount" in exc.value.errors
    contract.refresh_from_db()
    assert contract.state == state


@pytest.mark.parametrize(
    ("state", "code", "actor"), [("draft", "submit", "sales1"), ("in_review", "approve", "legal")]
)
def test_submit_and_approve_refuse_a_blocked_customer(
    org: Any, state: str, code: str, actor: str
) -> None:
    contract = make_contract(org.sales1, state=state)
    if code == "approve":  # the department head approved; legal's is the final decision
        task = ApprovalTask.objects.get(contract=contract, state="open")
        approval_actions.decide(actor=task.assignee, task_id=task.pk, decision="approve")
    party = contract.counterparty
    party_actions.update_party(
        actor=org.sales1, party=party, data={"status": "blocked"}, version=party.version
    )
    with pytest.raises((ContractError, approval_actions.ApprovalError)) as exc:
        if code == "approve":
            task = ApprovalTask.objects.get(contract=contract, state="open")
            assert task.assignee == getattr(org, actor)
            approval_actions.decide(actor=task.assignee, task_id=task.pk, decision="approve")
        else:
            transition_contract(actor=getattr(org, actor), contract=contract, code=code)
    assert exc.value.code == "incomplete"
    assert "counterparty" in exc.value.errors
    contract.refresh_from_db()
    assert contract.state == state


def test_a_blocked_customer_does_not_stop_signing_an_approved_contract(org: Any) -> None:
    contract = make_contract(org.sales1, state="approved")
    party = contract.counterparty
    party_actions.update_party(
        actor=org.sales1, party=party, data={"status": "blocked"}, version=party.version
    )
    assert transition_contract(actor=org.sales1, contract=contract, code="mark_signed").state == (
        "active"
    )


def test_mark_signed_records_the_signing_date_and_the_effective_date(org: Any) -> None:
    contract = make_contract(org.sales1, state="signing")
    assert contract.effective_date is None
    after = transition_contract(
        actor=org.sales1, contract=contract, code="mark_signed", signed_date="2026-03-01"
    )
    assert after.signed_date == date(2026, 3, 1)
    assert after.effective_date == date(2026, 3, 1)
    event = _events(contract, "contract.mark_signed").get()
    assert event.data["after"] == {
        "state": "active",
        "signed_date": "2026-03-01",
        "effective_date": "2026-03-01",
    }


def test_mark_signed_keeps_an_existing_effective_date(org: Any) -> None:
    contract = make_contract(
        org.sales1, state="approved", effective_date="2026-04-01", expiry_date="2027-03-31"
    )
    after = transition_contract(
        actor=org.sales1, contract=contract, code="mark_signed", signed_date=date(2026, 3, 15)
    )
    assert (after.signed_date, after.effective_date) == (date(2026, 3, 15), date(2026, 4, 1))


def test_mark_signed_defaults_to_today(org: Any) -> None:
    contract = make_contract(org.sales1, state="approved")
    after = transition_contract(actor=org.sales1, contract=contract, code="mark_signed")
    assert after.signed_date == timezone.localdate()


def test_mark_signed_refuses_a_signing_date_after_expiry(org: Any) -> None:
    expiry = timezone.localdate() + timedelta(days=10)
    contract = make_contract(org.sales1, state="approved", expiry_date=expiry)
    with pytest.raises(ContractError) as exc:
        transition_contract(
            actor=org.sales1,
            contract=contract,
            code="mark_signed",
            signed_date=expiry + timedelta(days=1),
        )
    assert "signed_date" in exc.value.errors
    contract.refresh_from_db()
    assert (contract.state, contract.signed_date) == ("approved", None)


@pytest.mark.parametrize("signed", ["2026-13-01", "yesterday", "2026/03/01"])
def test_mark_signed_refuses_a_malformed_date(org: Any, signed: str) -> None:
    contract = make_contract(org.sales1, state="approved")
    with pytest.raises(ContractError) as exc:
        transition_contract(
            actor=org.sales1, contract=contract, code="mark_signed", signed_date=signed
        )
    assert "signed_date" in exc.value.errors
    contract.refresh_from_db()
    assert contract.state == "approved"


def test_a_transition_with_a_stale_version_is_refused(org: Any) -> None:
    contract = make_contract(org.sales1)
    old = contract.version
    contract = update_contract(
        actor=org.sales1, contract=contract, data={"notes": "n"}, version=old
    )
    with pytest.raises(StaleEdit):
        transition_contract(actor=org.sales1, contract=contract, code="submit", version=old)
    contract.refresh_from_db()
    assert contract.state == "draft"
    assert (
        transition_contract(
            actor=org.sales1, contract=contract, code="submit", version=contract.version
        ).state
        == "in_review"
    )


def test_a_transition_on_a_stale_object_uses_the_current_state(org: Any) -> None:
    contract = make_contract(org.sales1, state="approved")
    stale_copy = Contract.objects.get(pk=contract.pk)
    transition_contract(actor=org.sales1, contract=contract, code="start_signing")
    with pytest.raises(ContractError):
        transition_contract(actor=org.sales1, contract=stale_copy, code="start_signing")
    assert _events(contract, "contract.start_signing").count() == 1


# Concurrency -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_produce_exactly_one(org: Any) -> None:
    approval_actions.save_workflow(
        actor=org.admin,
        name="任一审批",
        priority=1,
        definition={
            "conditions": {},
            "steps": [
                {"name": "审批", "approvers": ["role:legal", "role:finance"], "quorum": "any"}
            ],
        },
    )
    contract = make_contract(org.sales1, state="in_review")
    results: list[str] = []
    barrier = threading.Barrier(2)

    def run(user_pk: int) -> None:
        barrier.wait()
        results.append(approve_now(user_pk, contract.pk))

    threads = [threading.Thread(target=run, args=(u.pk,)) for u in (org.legal, org.finance)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["AlreadyDecided", "ok"]
    contract.refresh_from_db()
    assert contract.state == "approved"
    assert contract.version == 3  # created 1, submitted 2, approved 3
    assert _events(contract, "contract.approve").count() == 1
