"""Every action writes exactly one audit event, in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from qiyue.accounts import actions as account_actions
from qiyue.approvals import actions as approval_actions
from qiyue.approvals.models import ApprovalTask
from qiyue.audit.actions import AuditOutsideTransaction, record
from qiyue.audit.models import AuditEvent
from qiyue.audit.queries import history_of
from qiyue.contracts import actions as contract_actions
from qiyue.parties import actions as party_actions
from tests.factories import make_contract, make_party


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused(org: Any) -> None:
    with pytest.raises(AuditOutsideTransaction):
        record(actor=org.sales1, action="contract.viewed", target=org.sales1)
    assert not AuditEvent.objects.filter(action="contract.viewed").exists()


@pytest.mark.django_db(transaction=True)
def test_record_inside_a_transaction_writes_the_event(org: Any) -> None:
    with transaction.atomic():
        event = record(actor=org.sales1, action="user.seen", target=org.sales2, data={"a": 1})
    event.refresh_from_db()
    assert (event.actor, event.actor_name, event.action) == (org.sales1, "sales1", "user.seen")
    assert (event.target_type, event.target_id, event.data) == (
        "user",
        str(org.sales2.pk),
        {"a": 1},
    )


@pytest.mark.django_db
def test_an_event_without_actor_is_recorded_as_system(org: Any) -> None:
    event = record(actor=None, action="user.seen", target=org.sales1)
    assert (event.actor, event.actor_name) == (None, "system")


@pytest.mark.django_db(transaction=True)
def test_an_event_rolls_back_with_its_change(org: Any) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_party(org.sales1)
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == before


def _fixture_data(org: Any) -> dict[str, Any]:
    contract = make_contract(org.sales1)
    share = contract_actions.share_contract(actor=org.sales1, contract=contract, user=org.sales2)
    token, _raw = account_actions.create_api_token(actor=org.sales1, user=org.sales1, name="crm")
    return {"contract": contract, "party": contract.counterparty, "share": share, "token": token}


ACTIONS: dict[str, tuple[str, Callable[[Any, dict[str, Any]], Any]]] = {
    "contract.created": (
        "sales1",
        lambda org, d: contract_actions.create_contract(
            actor=org.sales1,
            data={
                "title": "新合同",
                "contract_type": org.types["FW"].pk,
                "counterparty": d["party"].pk,
            },
        ),
    ),
    "contract.changed": (
        "sales1",
        lambda org, d: contract_actions.update_contract(
            actor=org.sales1, contract=d["contract"], data={"title": "改"}, version=1
        ),
    ),
    "contract.submit": (
        "sales1",
        lambda org, d: contract_actions.transition_contract(
            actor=org.sales1, contract=d["contract"], code="submit"
        ),
    ),
    # Approving is a decision on an approval task (the department head's, first step).
    "approval.approve": (
        "head1",
        lambda org, d: approval_actions.decide(
            actor=org.head1,
            task_id=ApprovalTask.objects.get(contract=d["contract"], assignee=org.head1).pk,
            decision="approve",
        ),
    ),
    "contract.shared": (
        "sales1",
        lambda org, d: contract_actions.share_contract(
            actor=org.sales1, contract=d["contract"], user=org.colleague
        ),
    ),
    "contract.unshared": (
        "sales1",
        lambda org, d: contract_actions.unshare_contract(actor=org.sales1, share=d["share"]),
    ),
    "party.created": ("sales2", lambda org, d: make_party(org.sales2)),
    "party.changed": (
        "sales1",
        lambda org, d: party_actions.update_party(
            actor=org.sales1, party=d["party"], data={"industry": "制造业"}, version=1
        ),
    ),
    "party.contact_added": (
        "sales1",
        lambda org, d: party_actions.add_contact(
            actor=org.sales1, party=d["party"], data={"name": "刘洋"}
        ),
    ),
    "department.created": (
        "admin",
        lambda org, d: account_actions.create_department(
            actor=org.admin, name="新部门", parent=org.departments["管理层"]
        ),
    ),
    "department.head_changed": (
        "admin",
        lambda org, d: account_actions.set_department_head(
            actor=org.admin, department=org.departments["销售二部"], head=org.sales2
        ),
    ),
    "user.created": (
        "admin",
        lambda org, d: account_actions.create_user(actor=org.admin, username="new", password="pw"),
    ),
    "user.password_changed": (
        "sales1",
        lambda org, d: account_actions.change_password(
            actor=org.sales1, user=org.sales1, new_password="new-pass-123"
        ),
    ),
    "user.language_changed": (
        "sales1",
        lambda org, d: account_actions.set_language(actor=org.sales1, language="en"),
    ),
    "role.changed": (
        "admin",
        lambda org, d: account_actions.save_role(
            actor=org.admin,
            code="viewer",
            name="只读",
            permissions=["contract.view"],
            data_scope="own",
        ),
    ),
    "api_token.created": (
        "sales1",
        lambda org, d: account_actions.create_api_token(
            actor=org.sales1, user=org.sales1, name="erp"
        ),
    ),
    "api_token.revoked": (
        "sales1",
        lambda org, d: account_actions.revoke_api_token(actor=org.sales1, token=d["token"]),
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("code", list(ACTIONS))
def test_every_action_writes_exactly_one_event(org: Any, code: str) -> None:
    persona, run = ACTIONS[code]
    data = _fixture_data(org)
    if code == "approval.approve":
        contract_actions.transition_contract(
            actor=org.sales1, contract=data["contract"], code="submit"
        )
    approval_actions.ensure_default_workflow()  # made on first use, with its own event
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    run(org, data)
    new = list(AuditEvent.objects.filter(id__gt=last))
    # Submitting also starts the approval instance, an event of its own.
    also = ["approval.started"] if code == "contract.submit" else []
    assert [e.action for e in new] == [code, *also]
    assert new[0].actor == getattr(org, persona)
    assert new[0].actor_name == persona


@pytest.mark.django_db
def test_refused_actions_write_no_event(org: Any) -> None:
    contract = make_contract(org.sales1)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    for attempt in (
        lambda: contract_actions.transition_contract(
            actor=org.sales1, contract=contract, code="approve"
        ),
        lambda: contract_actions.update_contract(
            actor=org.sales1, contract=contract, data={"title": ""}, version=1
        ),
        lambda: contract_actions.update_contract(
            actor=org.sales2, contract=contract, data={"title": "x"}, version=1
        ),
        lambda: contract_actions.share_contract(
            actor=org.sales2, contract=contract, user=org.sales2
        ),
        lambda: party_actions.create_party(actor=org.legal, data={"name": "x"}),
    ):
        with pytest.raises(ValueError):
            attempt()
    assert not AuditEvent.objects.filter(id__gt=last).exists()


@pytest.mark.django_db
def test_history_of_a_contract_lists_its_events_in_order(org: Any) -> None:
    contract = make_contract(org.sales1, state="approved")
    actions = [e.action for e in history_of("contract", contract.pk)]
    assert actions == ["contract.created", "contract.submit", "contract.approve"]
