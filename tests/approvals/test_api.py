"""The approvals API: my tasks, decisions (exactly once), workflow definitions for
administrators (404 for anyone else)."""

from __future__ import annotations

from typing import Any

import pytest

from qiyue.approvals.models import ApprovalTask, Workflow
from qiyue.contracts.models import Contract
from tests.factories import make_contract

TASKS = "/api/v1/approvals/tasks"
WORKFLOWS = "/api/v1/approvals/workflows"


def test_my_tasks_lists_exactly_mine(org: Any, api: Any) -> None:
    mine = make_contract(org.sales1, state="in_review")
    make_contract(org.sales2, state="in_review")  # the manager's, not head1's
    response = api(org.head1).get(f"{TASKS}?assignee=me")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["contract"]["id"] for i in items] == [mine.pk]
    assert items[0]["step"] == "部门负责人审批"
    assert api(org.colleague).get(TASKS).json()["items"] == []
    assert api(org.head1).get(f"{TASKS}?assignee=someone").status_code == 400


def test_tasks_are_keyset_paged(org: Any, api: Any) -> None:
    for _ in range(3):
        make_contract(org.sales1, state="in_review")
    client = api(org.head1)
    first = client.get(f"{TASKS}?page_size=2").json()
    assert len(first["items"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert client.get(f"{TASKS}?cursor=bogus").status_code == 400


def test_decision_approve_then_already_decided_is_409(org: Any, api: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = ApprovalTask.objects.get(contract=contract, state="open")
    client = api(org.head1)
    url = f"{TASKS}/{task.pk}/decision"
    ok = client.post_json(url, {"decision": "approve", "comment": "同意"})
    assert ok.status_code == 200, ok.content
    assert ok.json()["state"] == "approved"
    again = client.post_json(url, {"decision": "approve"})
    assert again.status_code == 409
    assert again.json()["code"] == "already_decided"


def test_return_without_comment_is_400_and_changes_nothing(org: Any, api: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = ApprovalTask.objects.get(contract=contract, state="open")
    response = api(org.head1).post_json(f"{TASKS}/{task.pk}/decision", {"decision": "return"})
    assert response.status_code == 400
    assert "comment" in response.json()["errors"]
    assert ApprovalTask.objects.get(pk=task.pk).state == "open"
    bad = api(org.head1).post_json(f"{TASKS}/{task.pk}/decision", {"decision": "maybe"})
    assert bad.status_code == 400


def test_delegate_through_the_api(org: Any, api: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = ApprovalTask.objects.get(contract=contract, state="open")
    url = f"{TASKS}/{task.pk}/decision"
    missing = api(org.head1).post_json(url, {"decision": "delegate"})
    assert missing.status_code == 400
    response = api(org.head1).post_json(
        url, {"decision": "delegate", "delegate_to": org.colleague.pk}
    )
    assert response.status_code == 200
    assert ApprovalTask.objects.get(contract=contract, state="open").assignee == org.colleague


@pytest.mark.parametrize("persona", ["sales2", "colleague", "legal"])
def test_someone_elses_task_is_404(org: Any, api: Any, persona: str) -> None:
    contract = make_contract(org.sales1, state="in_review", title="别人的")
    task = ApprovalTask.objects.get(contract=contract, state="open")
    client = api(getattr(org, persona))
    decided = client.post_json(f"{TASKS}/{task.pk}/decision", {"decision": "approve"})
    assert decided.status_code == 404
    if persona != "legal":  # legal sees every contract (data scope: all)
        assert client.get(f"{TASKS}/{task.pk}").status_code == 404
    assert Contract.objects.get(pk=contract.pk).state == "in_review"
    assert client.get(f"{TASKS}/999999999").status_code == 404


def test_admins_read_and_write_workflows(org: Any, api: Any) -> None:
    client = api(org.admin)
    created = client.post_json(
        WORKFLOWS,
        {
            "name": "API 流程",
            "priority": 3,
            "definition": {
                "conditions": {"types": ["FW"]},
                "steps": [{"name": "法务", "approvers": ["legal"], "quorum": "any"}],
            },
        },
    )
    assert created.status_code == 201, created.content
    wf = created.json()
    assert wf["version"] == 1
    listed = client.get(WORKFLOWS).json()
    assert "API 流程" in [w["name"] for w in listed]
    updated = client.put(
        f"{WORKFLOWS}/{wf['id']}",
        {**{k: wf[k] for k in ("name", "priority", "definition")}, "version": 1},
        content_type="application/json",
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = client.put(
        f"{WORKFLOWS}/{wf['id']}",
        {**{k: wf[k] for k in ("name", "priority", "definition")}, "version": 1},
        content_type="application/json",
    )
    assert stale.status_code == 409
    bad = client.post_json(
        WORKFLOWS, {"name": "坏", "definition": {"steps": [{"name": "x", "approvers": ["eval"]}]}}
    )
    assert bad.status_code == 400
    assert "steps.0.approvers" in bad.json()["errors"]


@pytest.mark.parametrize("persona", ["manager", "sales1", "legal"])
def test_workflows_are_404_for_non_admins(org: Any, api: Any, persona: str) -> None:
    wf = Workflow.objects.create(name="x", definition={})
    client = api(getattr(org, persona))
    assert client.get(WORKFLOWS).status_code == 404
    assert client.get(f"{WORKFLOWS}/{wf.pk}").status_code == 404
    assert client.post_json(WORKFLOWS, {"name": "y", "definition": {}}).status_code == 404
