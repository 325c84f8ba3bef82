"""Fixes from the review of the approvals area: the access a task gives ends with the
task in the task lists too, and a refused comment leaves no attachment behind."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qiyue.documents.models import Document
from tests.approvals.test_pages import named_approver_flow, open_task, task_url
from tests.factories import make_contract

TASKS = "/api/v1/approvals/tasks"


def test_decided_task_outside_scope_leaves_the_inbox_and_the_api_list(
    org: Any, login: Any, api: Any
) -> None:
    named_approver_flow(org, org.sales2)
    contract = make_contract(org.sales1, state="in_review", title="跨部门合同")
    task = open_task(contract, org.sales2)
    client = login(org.sales2)
    assert "跨部门合同" in client.get("/approvals/?state=all").content.decode()  # still open
    client.post(task_url(task) + "decide/", {"decision": "approve"})
    assert client.get(task_url(task)).status_code == 404
    assert "跨部门合同" not in client.get("/approvals/?state=all").content.decode()
    for state in ("all", "approved"):
        items = api(org.sales2).get(f"{TASKS}?state={state}").json()["items"]
        assert [i for i in items if i["contract"]["id"] == contract.pk] == []
    # an approver who may see the contract keeps their past tasks in the list
    legal_task = open_task(contract, org.legal)
    login(org.legal).post(task_url(legal_task) + "decide/", {"decision": "approve"})
    legal_items = api(org.legal).get(f"{TASKS}?state=all").json()["items"]
    assert login(org.legal).get(f"/contracts/{contract.pk}/").status_code == 200
    assert [i["id"] for i in legal_items] == [legal_task.pk]


@pytest.mark.parametrize("text", ["", "长" * 2001])
def test_refused_comment_with_a_file_stores_no_document(org: Any, login: Any, text: str) -> None:
    contract = make_contract(org.sales1, state="in_review")
    instance = open_task(contract, org.head1).instance
    response = login(org.sales1).post(
        f"/approvals/instances/{instance.pk}/comment/",
        {"text": text, "file": SimpleUploadedFile("a.txt", b"price list\n")},
        follow=True,
    )
    assert any(m.level_tag == "error" for m in response.context["messages"])
    assert instance.comments.count() == 0
    assert not Document.objects.filter(contract=contract).exists()


def test_comment_with_a_file_by_someone_not_involved_stores_no_document(
    org: Any, login: Any
) -> None:
    contract = make_contract(org.sales1, state="in_review")
    instance = open_task(contract, org.head1).instance
    login(org.admin).post(
        f"/approvals/instances/{instance.pk}/comment/",
        {"text": "看看", "file": SimpleUploadedFile("a.txt", b"price list\n")},
    )
    assert instance.comments.count() == 0
    assert not Document.objects.filter(contract=contract).exists()


@pytest.mark.parametrize(
    "definition",
    [
        {"conditions": {"types": 5}, "steps": [{"name": "a", "approvers": ["legal"]}]},
        {"conditions": {"departments": 5}, "steps": [{"name": "a", "approvers": ["legal"]}]},
        {"conditions": {"departments": "12"}, "steps": [{"name": "a", "approvers": ["legal"]}]},
        {"conditions": {"confidentiality": 5}, "steps": [{"name": "a", "approvers": ["legal"]}]},
        {"conditions": {"risk": 5}, "steps": [{"name": "a", "approvers": ["legal"]}]},
        {"steps": [{"name": "a", "approvers": 5}]},
        {"steps": [{"name": "a", "approvers": "legal"}]},
    ],
)
def test_workflow_definition_with_a_non_list_is_a_400_not_a_500(
    org: Any, api: Any, definition: dict[str, Any]
) -> None:
    from qiyue.approvals.models import Workflow

    response = api(org.admin).post(
        "/api/v1/approvals/workflows",
        {"name": "w", "definition": definition},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]
    assert not Workflow.objects.exists()


INBOX_ALL_QUERIES = 12
API_TASKS_QUERIES = 2  # token + user with role, department, headed paths; the tasks


@pytest.mark.parametrize("n", [1, 6])
def test_all_my_tasks_and_the_api_list_have_a_fixed_query_count(
    org: Any, login: Any, api: Any, django_assert_num_queries: Any, n: int
) -> None:
    for _ in range(n):
        make_contract(org.sales1, state="in_review")
    page, rest = login(org.head1), api(org.head1)
    page.get("/approvals/?state=all")
    rest.get(f"{TASKS}?state=all")
    with django_assert_num_queries(INBOX_ALL_QUERIES):
        assert page.get("/approvals/?state=all").status_code == 200
    with django_assert_num_queries(API_TASKS_QUERIES):
        assert len(rest.get(f"{TASKS}?state=all").json()["items"]) == n


def test_new_main_document_during_approval_starts_a_new_round(org: Any) -> None:
    """Otherwise an approver who already approved never sees the text that is signed:
    the approved snapshot is taken when the last step ends."""
    import io

    from qiyue.approvals import actions
    from qiyue.approvals.models import ApprovalInstance
    from qiyue.audit.models import AuditEvent
    from qiyue.contracts.actions import transition_contract
    from qiyue.contracts.models import Contract
    from qiyue.documents.actions import upload_document

    contract = make_contract(org.sales1)
    upload_document(
        actor=org.sales1, contract=contract, fileobj=io.BytesIO(b"v1\n"), name="main.txt"
    )
    transition_contract(actor=org.sales1, contract=contract, code="submit")
    first = open_task(contract, org.head1)
    actions.decide(actor=org.head1, task_id=first.pk, decision="approve")
    legal_task = open_task(contract, org.legal)
    upload_document(
        actor=org.sales1,
        contract=contract,
        fileobj=io.BytesIO(b"v2: other terms\n"),
        name="main.txt",
        document=Document.objects.get(contract=contract),
    )
    rounds = list(ApprovalInstance.objects.filter(contract=contract).order_by("round"))
    assert [(i.round, i.state) for i in rounds] == [(1, "reopened"), (2, "pending")]
    legal_task.refresh_from_db()
    assert legal_task.state == "cancelled"
    assert AuditEvent.objects.filter(action="approval.superseded").count() == 1
    assert Contract.objects.get(pk=contract.pk).state == "in_review"
    # the department head decides again, on the new text
    assert open_task(contract, org.head1).instance_id == rounds[1].pk
    actions.complete_for_tests_and_demo(contract)
    assert transition_contract(actor=org.sales1, contract=contract, code="start_signing")
