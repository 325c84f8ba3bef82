"""Routing: contract records map to the workflow and the steps (with approvers) chosen."""

from __future__ import annotations

from typing import Any

import pytest

from qiyue.approvals.models import Workflow
from qiyue.approvals.routing import choose_workflow, plan
from tests.factories import make_contract

# (record fields, expected workflow, expected [(step, runs, approver usernames)])
ROUTES: list[tuple[dict[str, Any], str, list[tuple[str, bool, list[str]]]]] = [
    (
        {"amount": "800000"},
        "大额销售",
        [("管理层与财务会签", True, ["finance", "manager"]), ("法务审核", True, ["legal"])],
    ),
    (
        # matches the workflow (≥ 300,000) but the parallel step only runs above 500,000
        {"amount": "400000"},
        "大额销售",
        [("管理层与财务会签", False, []), ("法务审核", True, ["legal"])],
    ),
    (
        # 100,000 USD is about 710,000 CNY
        {"amount": "100000", "currency": "USD"},
        "大额销售",
        [("管理层与财务会签", True, ["finance", "manager"]), ("法务审核", True, ["legal"])],
    ),
    (
        {"amount": "100000"},
        "默认审批流程",
        [("部门负责人审批", True, ["head1"]), ("法务审核", True, ["legal"])],
    ),
    ({"amount": "900000", "type_code": "BM"}, "保密协议", [("法务审核", True, ["legal"])]),
    (
        {"amount": "1000", "confidentiality": "secret"},
        "绝密合同",
        [("部门负责人", True, ["head1"]), ("上级负责人", True, ["manager"])],
    ),
    (
        {"amount": "1000", "auto_renew": True, "renewal_term_months": 12, "notice_period_days": 10},
        "短通知期自动续约",
        [("财务", True, ["finance"])],
    ),
    (
        {"amount": "1000", "auto_renew": True, "renewal_term_months": 12, "notice_period_days": 60},
        "默认审批流程",
        [("部门负责人审批", True, ["head1"]), ("法务审核", True, ["legal"])],
    ),
    (
        # the first matching workflow by priority wins: a big secret sales contract
        {"amount": "600000", "confidentiality": "secret"},
        "大额销售",
        [("管理层与财务会签", True, ["finance", "manager"]), ("法务审核", True, ["legal"])],
    ),
]


@pytest.mark.parametrize(("fields", "workflow", "steps"), ROUTES)
def test_contract_routes_to_workflow_and_steps(
    org: Any, flows: Any, fields: dict[str, Any], workflow: str, steps: list[Any]
) -> None:
    contract = make_contract(org.sales1, **fields)
    chosen = choose_workflow(contract)
    assert chosen is not None and chosen.name == workflow
    planned = plan(contract, chosen.definition, org.sales1)
    assert [
        (s["name"], s["runs"], sorted(u.username for u, _r in s["approvers"])) for s in planned
    ] == steps


def test_inactive_workflow_is_not_chosen(org: Any, flows: Any) -> None:
    Workflow.objects.filter(pk=flows.big_sales.pk).update(is_active=False)
    contract = make_contract(org.sales1, amount="800000")
    assert choose_workflow(contract).name == "默认审批流程"  # type: ignore[union-attr]


def test_department_head_approving_own_contract_goes_to_the_head_above(org: Any) -> None:
    from qiyue.approvals.actions import ensure_default_workflow

    wf = ensure_default_workflow()
    contract = make_contract(org.head1, amount="1000")
    steps = plan(contract, wf.definition, org.head1)
    assert [u.username for u, _r in steps[0]["approvers"]] == ["manager"]


def test_owner_never_approves_own_contract_even_when_named(org: Any) -> None:
    from qiyue.approvals.actions import save_workflow

    wf = save_workflow(
        actor=org.admin,
        name="点名",
        priority=1,
        definition={
            "conditions": {},
            "steps": [
                {"name": "s", "approvers": [f"user:{org.sales1.pk}", "role:legal"], "quorum": "all"}
            ],
        },
    )
    contract = make_contract(org.sales1)
    assert [u.username for u, _r in plan(contract, wf.definition, org.sales1)[0]["approvers"]] == [
        "legal"
    ]
