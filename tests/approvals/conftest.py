"""Workflows shared by the approval tests, made through the actions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from qiyue.approvals.actions import ensure_default_workflow, save_workflow
from tests.api.conftest import api  # noqa: F401 - the API client fixture


def step(name: str, approvers: list[str], quorum: str = "any", **extra: Any) -> dict[str, Any]:
    return {"name": name, "approvers": approvers, "quorum": quorum, **extra}


def definition(steps: list[dict[str, Any]], **conditions: Any) -> dict[str, Any]:
    return {"conditions": conditions, "steps": steps}


@pytest.fixture
def flows(org: Any) -> SimpleNamespace:
    """The default workflow (department head, then legal) and four routed ones."""
    default = ensure_default_workflow()
    big_sales = save_workflow(
        actor=org.admin,
        name="大额销售",
        priority=10,
        definition=definition(
            [
                step(
                    "管理层与财务会签",
                    ["role:manager", "role:finance"],
                    "all",
                    condition="amount_cny > 500000",
                    sla_days=2,
                ),
                step("法务审核", ["legal"], sla_days=2),
            ],
            types=["XS"],
            amount_min="300000",
        ),
    )
    nda = save_workflow(
        actor=org.admin,
        name="保密协议",
        priority=20,
        definition=definition([step("法务审核", ["legal"])], types=["BM"]),
    )
    secret = save_workflow(
        actor=org.admin,
        name="绝密合同",
        priority=30,
        definition=definition(
            [step("部门负责人", ["dept_head"]), step("上级负责人", ["parent_dept_head"])],
            confidentiality=["secret"],
        ),
    )
    renewals = save_workflow(
        actor=org.admin,
        name="短通知期自动续约",
        priority=40,
        definition=definition(
            [step("财务", ["role:finance"])],
            expression="auto_renew and notice_period_days < 30",
        ),
    )
    return SimpleNamespace(
        default=default, big_sales=big_sales, nda=nda, secret=secret, renewals=renewals
    )
