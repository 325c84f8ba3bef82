"""Decisions on approval tasks: quorum, skips, return, delegation, withdrawal,
re-approval after a change, definition versioning, the signing gate, audit."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.utils import translation

from qiyue.approvals import actions
from qiyue.approvals.models import ApprovalInstance, ApprovalTask, StepState
from qiyue.audit.models import AuditEvent
from qiyue.contracts.actions import ContractError, transition_contract, update_contract
from qiyue.contracts.models import Contract
from tests.approvals.conftest import definition, step
from tests.factories import make_contract


def open_tasks(contract: Contract) -> dict[str, ApprovalTask]:
    return {
        t.assignee.username: t
        for t in ApprovalTask.objects.filter(contract=contract, state="open").select_related(
            "assignee"
        )
    }


def state_of(contract: Contract) -> str:
    return Contract.objects.get(pk=contract.pk).state


def approve(user: Any, contract: Contract, comment: str = "") -> None:
    task = open_tasks(contract)[user.username]
    actions.decide(actor=user, task_id=task.pk, decision="approve", comment=comment)


def flow(org: Any, steps: list[dict[str, Any]], **conditions: Any) -> Any:
    return actions.save_workflow(
        actor=org.admin, name="测试流程", priority=1, definition=definition(steps, **conditions)
    )


def test_submission_starts_instance_and_opens_first_step(org: Any, flows: Any) -> None:
    contract = make_contract(org.sales1, state="in_review", amount="800000")
    instance = ApprovalInstance.objects.get(contract=contract)
    assert instance.workflow_version.name == "大额销售"
    assert set(open_tasks(contract)) == {"manager", "finance"}


def test_quorum_all_needs_every_approver(org: Any, flows: Any) -> None:
    contract = make_contract(org.sales1, state="in_review", amount="800000")
    approve(org.manager, contract)
    assert set(open_tasks(contract)) == {"finance"}
    approve(org.finance, contract)
    assert set(open_tasks(contract)) == {"legal"}
    approve(org.legal, contract)
    assert state_of(contract) == "approved"


def test_quorum_any_needs_one_and_closes_the_others(org: Any) -> None:
    flow(org, [step("任一", ["role:manager", "role:finance", "role:legal"], "any")])
    contract = make_contract(org.sales1, state="in_review")
    approve(org.finance, contract)
    assert state_of(contract) == "approved"
    states = dict(
        ApprovalTask.objects.filter(contract=contract).values_list("assignee__username", "state")
    )
    assert states == {"finance": "approved", "manager": "cancelled", "legal": "cancelled"}


def test_quorum_n_of_m(org: Any) -> None:
    flow(org, [step("二选", ["role:manager", "role:finance", "role:legal"], "n", n=2)])
    contract = make_contract(org.sales1, state="in_review")
    approve(org.legal, contract)
    assert state_of(contract) == "in_review"
    approve(org.manager, contract)
    assert state_of(contract) == "approved"
    assert open_tasks(contract) == {}


def test_skipped_step_is_recorded_and_not_asked(org: Any, flows: Any) -> None:
    contract = make_contract(org.sales1, state="in_review", amount="400000")
    assert set(open_tasks(contract)) == {"legal"}
    skipped = ApprovalInstance.objects.get(contract=contract).steps.get(index=0)
    assert skipped.state == StepState.SKIPPED


def test_reject_ends_instance_and_contract_back_to_draft_with_reason(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = open_tasks(contract)["head1"]
    with translation.override("en"), pytest.raises(actions.ApprovalError) as err:
        actions.decide(actor=org.head1, task_id=task.pk, decision="reject", comment="  ")
    assert err.value.errors == {"comment": "Please give a reason."}
    actions.decide(actor=org.head1, task_id=task.pk, decision="reject", comment="价格过低")
    assert state_of(contract) == "draft"
    instance = ApprovalInstance.objects.get(contract=contract)
    assert (instance.state, instance.outcome_comment) == ("rejected", "价格过低")
    event = AuditEvent.objects.filter(action="contract.reject").get()
    assert event.data["comment"] == "价格过低"


def test_return_to_submitter_then_resubmit_starts_new_round(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    approve(org.head1, contract)
    task = open_tasks(contract)["legal"]
    actions.decide(actor=org.legal, task_id=task.pk, decision="return", comment="补充条款")
    assert state_of(contract) == "returned"
    fresh = Contract.objects.get(pk=contract.pk)
    update_contract(
        actor=org.sales1, contract=fresh, data={"amount": "120000"}, version=fresh.version
    )
    transition_contract(actor=org.sales1, contract=contract, code="submit")
    rounds = list(ApprovalInstance.objects.filter(contract=contract).order_by("round"))
    assert [(r.round, r.state) for r in rounds] == [(1, "returned"), (2, "pending")]
    from qiyue.approvals.queries import diff_since_last_round

    with translation.override("en"):
        assert diff_since_last_round(rounds[1]) == [("Amount", "100000.00", "120000.00")]


def test_return_to_an_earlier_step_reopens_it(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    approve(org.head1, contract)
    task = open_tasks(contract)["legal"]
    with pytest.raises(actions.ApprovalError):
        actions.decide(actor=org.legal, task_id=task.pk, decision="return", comment="x", to_step=1)
    actions.decide(actor=org.legal, task_id=task.pk, decision="return", comment="再看", to_step=0)
    assert state_of(contract) == "in_review"
    assert set(open_tasks(contract)) == {"head1"}
    approve(org.head1, contract)
    approve(org.legal, contract)
    assert state_of(contract) == "approved"


def test_only_a_return_goes_to_the_step_given(org: Any) -> None:
    """``to_step`` sent with an approval or a rejection changes nothing about either."""
    contract = make_contract(org.sales1, state="in_review")
    approve(org.head1, contract)
    task = open_tasks(contract)["legal"]
    actions.decide(actor=org.legal, task_id=task.pk, decision="reject", comment="不", to_step=0)
    assert state_of(contract) == "draft"
    assert not open_tasks(contract)

    other = make_contract(org.sales1, state="in_review")
    first = open_tasks(other)["head1"]
    actions.decide(actor=org.head1, task_id=first.pk, decision="approve", to_step=0)
    assert set(open_tasks(other)) == {"legal"}


def test_delegation_hands_the_task_over_and_is_audited(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = open_tasks(contract)["head1"]
    with pytest.raises(actions.ApprovalError):
        actions.delegate(actor=org.head1, task_id=task.pk, to=org.sales1)  # the submitter
    new = actions.delegate(actor=org.head1, task_id=task.pk, to=org.colleague, comment="出差")
    assert set(open_tasks(contract)) == {"colleague"}
    assert new.delegated_from_id == task.pk
    with pytest.raises(actions.NotFound):
        actions.decide(actor=org.head1, task_id=new.pk, decision="approve")
    approve(org.colleague, contract)
    assert set(open_tasks(contract)) == {"legal"}
    assert AuditEvent.objects.filter(action="approval.delegate").count() == 1


def test_withdrawal_by_the_submitter_only_while_pending(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    with pytest.raises(actions.ApprovalError):
        actions.withdraw(actor=org.head1, contract=contract)
    actions.withdraw(actor=org.sales1, contract=contract, comment="改条款")
    assert state_of(contract) == "draft"
    assert open_tasks(contract) == {}
    with pytest.raises(actions.ApprovalError):
        actions.withdraw(actor=org.sales1, contract=contract)


def test_comment_by_an_approver_or_the_submitter_only(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    instance = ApprovalInstance.objects.get(contract=contract)
    actions.add_comment(actor=org.head1, instance=instance, text="<script>x</script>")
    actions.add_comment(actor=org.sales1, instance=instance, text="已补充")
    with pytest.raises(actions.NotFound):
        actions.add_comment(actor=org.sales2, instance=instance, text="路过")
    assert list(instance.comments.values_list("text", flat=True)) == [
        "<script>x</script>",
        "已补充",
    ]


def test_decided_task_cannot_be_decided_again(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = open_tasks(contract)["head1"]
    actions.decide(actor=org.head1, task_id=task.pk, decision="approve")
    with translation.override("en"), pytest.raises(actions.AlreadyDecided) as err:
        actions.decide(actor=org.head1, task_id=task.pk, decision="approve")
    assert "already been decided" in str(err.value.errors["__all__"])
    assert AuditEvent.objects.filter(action="approval.approve").count() == 1


def test_a_user_cannot_decide_someone_elses_task(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = open_tasks(contract)["head1"]
    for user in (org.legal, org.sales1, org.admin):
        with pytest.raises(actions.NotFound):
            actions.decide(actor=user, task_id=task.pk, decision="approve")
    with pytest.raises(actions.NotFound):
        actions.decide(actor=org.head1, task_id=10**9, decision="approve")
    with pytest.raises(actions.ApprovalError):
        actions.decide(actor=org.head1, task_id=task.pk, decision="maybe")


def test_approve_and_return_are_no_longer_manual_transitions(org: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    with translation.override("en"), pytest.raises(ContractError) as err:
        transition_contract(actor=org.manager, contract=contract, code="approve")
    assert err.value.code == "approval_workflow"
    with pytest.raises(ContractError):
        transition_contract(actor=org.manager, contract=contract, to="approved")
    assert state_of(contract) == "in_review"


def test_definition_change_never_alters_running_instances(org: Any) -> None:
    wf = flow(org, [step("法务", ["legal"])])
    running = make_contract(org.sales1, state="in_review")
    actions.save_workflow(
        actor=org.admin,
        workflow=wf,
        name="测试流程",
        priority=1,
        definition=definition([step("财务", ["role:finance"]), step("法务", ["legal"])]),
        version=wf.version,
    )
    later = make_contract(org.sales1, state="in_review")
    assert set(open_tasks(running)) == {"legal"}
    assert set(open_tasks(later)) == {"finance"}
    approve(org.legal, running)
    assert state_of(running) == "approved"
    assert ApprovalInstance.objects.get(contract=running).workflow_version.number == 1
    assert ApprovalInstance.objects.get(contract=later).workflow_version.number == 2


def test_stale_workflow_edit_is_refused(org: Any) -> None:
    wf = flow(org, [step("法务", ["legal"])])
    with pytest.raises(actions.ApprovalError) as err:
        actions.save_workflow(
            actor=org.admin,
            workflow=wf,
            name="x",
            priority=1,
            definition=definition([step("法务", ["legal"])]),
            version=wf.version - 1 if wf.version > 1 else 99,
        )
    assert err.value.code == "stale"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"steps": []}, "steps"),
        ({"steps": [step("", ["legal"])]}, "steps.0.name"),
        ({"steps": [step("s", ["role:nope"])]}, "steps.0.approvers"),
        ({"steps": [step("s", ["legal"], "n", n=0)]}, "steps.0.n"),
        ({"steps": [step("s", ["legal"], sla_days=-1)]}, "steps.0.sla_days"),
        ({"steps": [step("s", ["legal"], condition="__import__('os')")]}, "steps.0.condition"),
        ({"steps": [step("s", ["legal"], condition="amount >")]}, "steps.0.condition"),
        (
            {"steps": [step("s", ["legal"])], "conditions": {"amount_min": "-1"}},
            "conditions.amount_min",
        ),
        (
            {"steps": [step("s", ["legal"])], "conditions": {"expression": "open('/etc/passwd')"}},
            "conditions.expression",
        ),
    ],
)
def test_bad_definitions_are_refused_and_nothing_saved(org: Any, bad: Any, field: str) -> None:
    from qiyue.approvals.models import Workflow

    with pytest.raises(actions.ApprovalError) as err:
        actions.save_workflow(actor=org.admin, name="坏", definition=bad)
    assert field in err.value.errors
    assert not Workflow.objects.filter(name="坏").exists()


def test_only_admins_edit_workflows(org: Any) -> None:
    with pytest.raises(actions.ApprovalError):
        actions.save_workflow(
            actor=org.manager, name="x", definition=definition([step("s", ["legal"])])
        )


# The signing gate and re-approval -------------------------------------------------------


def test_signing_needs_a_completed_approval(org: Any) -> None:
    contract = make_contract(org.sales1, state="approved")
    assert transition_contract(actor=org.sales1, contract=contract, code="start_signing").state == (
        "signing"
    )


def test_main_document_after_approval_reopens_approval_and_blocks_signing(org: Any) -> None:
    from qiyue.documents.actions import upload_document

    contract = make_contract(org.sales1, state="approved")
    upload_document(
        actor=org.sales1,
        contract=contract,
        fileobj=io.BytesIO(b"new main text\n"),
        name="main.txt",
    )
    assert state_of(contract) == "in_review"
    instances = list(ApprovalInstance.objects.filter(contract=contract).order_by("round"))
    assert [i.state for i in instances] == ["reopened", "pending"]
    with pytest.raises(ContractError):
        transition_contract(actor=org.sales1, contract=contract, code="start_signing")
    actions.complete_for_tests_and_demo(contract)
    assert transition_contract(actor=org.sales1, contract=contract, code="mark_signed").state == (
        "active"
    )


def test_attachment_after_approval_does_not_reopen(org: Any) -> None:
    from qiyue.documents.actions import upload_document

    contract = make_contract(org.sales1, state="approved")
    upload_document(
        actor=org.sales1,
        contract=contract,
        fileobj=io.BytesIO(b"annex\n"),
        name="annex.txt",
        kind="attachment",
    )
    assert state_of(contract) == "approved"


def test_reopen_after_change_for_amendments(org: Any) -> None:
    contract = make_contract(org.sales1, state="signing")
    instance = actions.reopen_after_change(actor=org.sales1, contract=contract, reason="补充协议")
    assert instance is not None and instance.round == 2
    assert state_of(contract) == "in_review"
    draft = make_contract(org.sales1)
    assert actions.reopen_after_change(actor=org.sales1, contract=draft, reason="x") is None


def test_every_decision_is_an_audit_event(org: Any) -> None:
    contract = make_contract(org.sales1, state="approved")
    decisions = AuditEvent.objects.filter(action="approval.approve")
    assert decisions.count() == 2
    assert (
        AuditEvent.objects.filter(action="contract.approve", target_id=str(contract.pk)).count()
        == 1
    )


def test_new_tasks_and_decisions_notify(org: Any) -> None:
    from qiyue.notifications.models import Notification

    contract = make_contract(org.sales1, state="in_review")
    assert Notification.objects.filter(recipient=org.head1, kind="approval.task").count() == 1
    task = open_tasks(contract)["head1"]
    actions.decide(actor=org.head1, task_id=task.pk, decision="return", comment="改")
    assert Notification.objects.filter(recipient=org.sales1, kind="approval.decision").count() == 1
    assert Notification.objects.filter(recipient=org.sales1, kind="approval.finished").count() == 1


def test_roles_required_by_compliance_get_a_step_of_their_own(org: Any, monkeypatch: Any) -> None:
    import qiyue.compliance.queries as compliance

    monkeypatch.setattr(compliance, "required_approver_roles", lambda c: ["finance"])
    contract = make_contract(org.sales1, state="in_review")
    approve(org.head1, contract)
    approve(org.legal, contract)
    assert set(open_tasks(contract)) == {"finance"}
    approve(org.finance, contract)
    assert state_of(contract) == "approved"


def test_legal_required_by_compliance_gets_no_extra_step_when_the_workflow_has_legal(
    org: Any, monkeypatch: Any
) -> None:
    import qiyue.compliance.queries as compliance

    monkeypatch.setattr(compliance, "required_approver_roles", lambda c: ["legal"])
    contract = make_contract(org.sales1, state="in_review")  # the default flow: head, legal
    approve(org.head1, contract)
    approve(org.legal, contract)
    assert state_of(contract) == "approved"

    flow(org, [step("法务角色", ["role:legal"])])
    named = make_contract(org.sales1, state="in_review")
    approve(org.legal, named)
    assert state_of(named) == "approved"


def test_compliance_blockers_refuse_the_final_approval(org: Any, monkeypatch: Any) -> None:
    import qiyue.compliance.queries as compliance

    contract = make_contract(org.sales1, state="in_review")
    approve(org.head1, contract)
    monkeypatch.setattr(compliance, "approval_blockers", lambda c: ["高风险条款未经法务确认"])
    task = open_tasks(contract)["legal"]
    with pytest.raises(actions.ApprovalError) as err:
        actions.decide(actor=org.legal, task_id=task.pk, decision="approve")
    assert err.value.code == "blocked"
    assert "高风险条款未经法务确认" in err.value.errors["__all__"]
    assert state_of(contract) == "in_review"
    assert ApprovalTask.objects.get(pk=task.pk).state == "open"
