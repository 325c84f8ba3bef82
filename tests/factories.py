"""Test data made through the actions, never by hand-written SQL."""

from __future__ import annotations

import itertools
from typing import Any

from qiyue.accounts.models import User
from qiyue.approvals import actions as approval_actions
from qiyue.contracts import actions as contract_actions
from qiyue.contracts.models import Contract, ContractType
from qiyue.lib.uscc import check_char
from qiyue.parties import actions as party_actions
from qiyue.parties.models import Party

_seq = itertools.count(1)


def valid_credit_code(n: int | None = None) -> str:
    """A syntactically valid unified social credit code, distinct per n."""
    n = next(_seq) if n is None else n
    body = f"91110105{n:09d}"
    return body + check_char(body)


def make_party(owner: User, **data: Any) -> Party:
    n = next(_seq)
    data.setdefault("name", f"测试客户{n}有限公司")
    return party_actions.create_party(actor=owner, data=data)


def make_contract(owner: User, *, party: Party | None = None, **data: Any) -> Contract:
    """A draft contract owned by ``owner``; pass ``state=`` to move it along the way a
    person would (submit, approve by ``approver``, sign…)."""
    state = data.pop("state", "draft")
    approver = data.pop("approver", None)
    party = party or make_party(owner)
    data.setdefault("title", f"测试合同 {next(_seq)}")
    data.setdefault("contract_type", ContractType.objects.get(code=data.pop("type_code", "XS")).pk)
    data.setdefault("counterparty", party.pk)
    data.setdefault("amount", "100000.00")
    contract = contract_actions.create_contract(actor=owner, data=data)
    return advance(contract, state, owner=owner, approver=approver)


PATH_TO = {
    "draft": [],
    "in_review": ["submit"],
    "returned": ["submit", "return"],
    "approved": ["submit", "approve"],
    "signing": ["submit", "approve", "start_signing"],
    "active": ["submit", "approve", "mark_signed"],
    "expired": ["submit", "approve", "mark_signed", "expire"],
    "terminated": ["submit", "approve", "mark_signed", "terminate"],
    "renewed": ["submit", "approve", "mark_signed", "renew"],
    "archived": ["submit", "approve", "mark_signed", "expire", "archive"],
}


def advance(contract: Contract, state: str, *, owner: User, approver: User | None) -> Contract:
    """Walk the contract to ``state``. Approval ("approve", "return") is the workflow's:
    each open task's approver decides until the instance is approved (or the first one
    returns it)."""
    if state == "draft":
        return contract
    if approver is None:
        approver = User.objects.get(username="manager")
    for step in PATH_TO[state]:
        if step in {"approve", "return"}:
            contract = approval_actions.complete_for_tests_and_demo(
                contract, outcome="approved" if step == "approve" else "returned"
            )
            continue
        actor = owner if step in {"submit", "start_signing", "mark_signed"} else approver
        contract = contract_actions.transition_contract(
            actor=actor, contract=contract, code=step, comment="test"
        )
    return contract
