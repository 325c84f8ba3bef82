"""The inbox (我的待办) with its header count, the task page, decisions in the browser
UI, the contract page's timeline, and who may see what (others get 404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from qiyue.approvals import actions
from qiyue.approvals.models import ApprovalTask, Workflow
from qiyue.contracts.models import Contract
from tests.approvals.conftest import definition, step
from tests.factories import make_contract

INBOX = "/approvals/"


def task_url(task: ApprovalTask) -> str:
    return f"/approvals/tasks/{task.pk}/"


def open_task(contract: Contract, user: Any) -> ApprovalTask:
    return ApprovalTask.objects.get(contract=contract, assignee=user, state="open")


def named_approver_flow(org: Any, user: Any) -> Workflow:
    return actions.save_workflow(
        actor=org.admin,
        name="点名审批",
        priority=1,
        definition=definition([step("点名", [f"user:{user.pk}"]), step("法务", ["legal"])]),
    )


def test_inbox_lists_exactly_my_open_tasks_and_the_header_counts_them(org: Any, login: Any) -> None:
    mine = [make_contract(org.sales1, state="in_review") for _ in range(2)]
    make_contract(org.sales2, state="in_review")  # 销售二部: the head above is manager
    page = login(org.head1).get(INBOX)
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="inbox-row"') == 2
    assert all(c.number in html for c in mine)
    assert 'data-testid="inbox-count">2<' in html
    empty = login(org.colleague).get(INBOX).content.decode()
    assert 'data-testid="inbox-empty"' in empty
    assert 'data-testid="inbox-count"' not in empty


INBOX_QUERIES = 10


@pytest.mark.parametrize("n", [1, 6])
def test_inbox_query_count_does_not_grow_with_rows(
    org: Any, login: Any, django_assert_num_queries: Any, n: int
) -> None:
    for _ in range(n):
        make_contract(org.sales1, state="in_review")
    client = login(org.head1)
    client.get(INBOX)
    with django_assert_num_queries(INBOX_QUERIES):
        assert client.get(INBOX).status_code == 200


def test_approver_sees_contract_through_task_even_outside_scope(org: Any, login: Any) -> None:
    named_approver_flow(org, org.sales2)
    contract = make_contract(org.sales1, state="in_review", title="跨部门合同")
    task = open_task(contract, org.sales2)
    outsider = login(org.sales2)
    page = outsider.get(task_url(task))
    assert page.status_code == 200
    assert "跨部门合同" in page.content.decode()
    # the contract page itself stays out of their scope
    assert outsider.get(f"/contracts/{contract.pk}/").status_code == 404
    # a non-approver from the same or another department gets 404 on the task
    assert login(org.colleague).get(task_url(task)).status_code == 404
    # once decided the task is no longer theirs
    response = outsider.post(task_url(task) + "decide/", {"decision": "approve"})
    assert response.status_code == 302
    assert outsider.get(task_url(task)).status_code == 404
    # the owner still sees it (their contract)
    assert login(org.sales1).get(task_url(task)).status_code == 200


def test_decide_in_the_browser_and_already_decided_is_a_clear_message(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = open_task(contract, org.head1)
    client = login(org.head1)
    client.post(task_url(task) + "decide/", {"decision": "approve", "comment": "同意"})
    again = client.post(
        task_url(task) + "decide/", {"decision": "approve"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert again.status_code == 200
    messages = [str(m) for m in again.context["messages"]]
    assert any("已经" in m or "already" in m for m in messages)


def test_return_needs_a_comment_and_changes_nothing_without(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = open_task(contract, org.head1)
    login(org.head1).post(task_url(task) + "decide/", {"decision": "return", "comment": ""})
    assert ApprovalTask.objects.get(pk=task.pk).state == "open"
    assert Contract.objects.get(pk=contract.pk).state == "in_review"


def test_script_in_a_comment_is_shown_escaped(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = open_task(contract, org.head1)
    client = login(org.head1)
    client.post(
        task_url(task) + "decide/", {"decision": "return", "comment": "<script>alert(1)</script>"}
    )
    html = login(org.sales1).get(f"/contracts/{contract.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_contract_page_shows_timeline_and_my_task(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    html = login(org.head1).get(f"/contracts/{contract.pk}/").content.decode()
    assert 'data-testid="approval-timeline"' in html
    assert 'data-testid="open-my-task"' in html
    owner_html = login(org.sales1).get(f"/contracts/{contract.pk}/").content.decode()
    assert 'data-testid="withdraw-approval"' in owner_html
    assert 'data-testid="open-my-task"' not in owner_html


def test_withdraw_from_the_contract_page(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    login(org.sales1).post(f"/contracts/{contract.pk}/approval/withdraw/", {"comment": "改"})
    assert Contract.objects.get(pk=contract.pk).state == "draft"
    assert login(org.sales2).post(f"/contracts/{contract.pk}/approval/withdraw/").status_code == 404


def test_delegate_in_the_browser(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = open_task(contract, org.head1)
    login(org.head1).post(task_url(task) + "delegate/", {"to": org.colleague.pk})
    assert open_task(contract, org.colleague).delegated_from_id == task.pk
    bad = login(org.colleague).post(
        f"/approvals/tasks/{open_task(contract, org.colleague).pk}/delegate/", {"to": "x"}
    )
    assert bad.status_code == 302
    assert open_task(contract, org.colleague)


def test_comment_from_task_page(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    task = open_task(contract, org.head1)
    login(org.head1).post(f"/approvals/instances/{task.instance_id}/comment/", {"text": "看过"})
    assert task.instance.comments.get().text == "看过"
    assert (
        login(org.sales2)
        .post(f"/approvals/instances/{task.instance_id}/comment/", {"text": "x"})
        .status_code
        == 404
    )


# Administrators: the workflow editor and the calendar --------------------------------------


def test_admin_builds_a_two_branch_workflow_in_the_ui(org: Any, login: Any) -> None:
    client = login(org.admin)
    assert client.get("/settings/workflows/new/").status_code == 200
    response = client.post(
        "/settings/workflows/new/",
        {
            "name": "大额销售（界面）",
            "priority": "5",
            "is_active": "on",
            "types": ["XS"],
            "amount_min": "",
            "amount_max": "",
            "expression": "",
            "step-0-name": "管理层与财务",
            "step-0-approvers": ["role:manager", "role:finance"],
            "step-0-quorum": "all",
            "step-0-n": "",
            "step-0-sla_days": "2",
            "step-0-condition": "amount_cny > 500000",
            "step-1-name": "法务",
            "step-1-approvers": ["legal"],
            "step-1-quorum": "any",
            "step-1-n": "",
            "step-1-sla_days": "",
            "step-1-condition": "",
            "step-2-name": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    wf = Workflow.objects.get(name="大额销售（界面）")
    assert [s["name"] for s in wf.definition["steps"]] == ["管理层与财务", "法务"]
    big = make_contract(org.sales1, state="in_review", amount="800000")
    small = make_contract(org.sales1, state="in_review", amount="100000")
    assert set(
        ApprovalTask.objects.filter(contract=big).values_list("assignee__username", flat=True)
    ) == {
        "manager",
        "finance",
    }
    assert set(
        ApprovalTask.objects.filter(contract=small).values_list("assignee__username", flat=True)
    ) == {"legal"}
    # editing shows the saved steps and saving again makes version 2
    page = client.get(f"/settings/workflows/{wf.pk}/").content.decode()
    assert "管理层与财务" in page


def test_workflow_editor_refuses_bad_input_and_saves_nothing(org: Any, login: Any) -> None:
    response = login(org.admin).post(
        "/settings/workflows/new/",
        {
            "name": "<b>坏</b>",
            "priority": "5",
            "expression": "__import__('os').system('x')",
            "step-0-name": "s",
            "step-0-approvers": ["legal"],
            "step-0-quorum": "any",
        },
    )
    assert response.status_code == 200
    assert "&lt;b&gt;坏&lt;/b&gt;" in response.content.decode()
    assert not Workflow.objects.filter(name="<b>坏</b>").exists()


def test_workflow_editor_names_bad_fields_by_their_form_labels(org: Any, login: Any) -> None:
    client = login(org.admin)
    client.post(reverse("web:language"), {"language": "en", "next": "/"})
    response = client.post(
        "/settings/workflows/new/",
        {"name": "w", "amount_min": "-1", "step-0-name": "s", "step-0-quorum": "all"},
    )
    page = response.content.decode()
    assert "conditions.amount_min" not in page and "steps.0." not in page
    assert "<strong>Amount from (CNY equivalent)</strong>" in page
    assert "<strong>Step 1 · Approvers</strong>" in page


@pytest.mark.parametrize("persona", ["manager", "sales1", "legal"])
def test_workflow_and_calendar_pages_are_404_for_non_admins(
    org: Any, login: Any, persona: str
) -> None:
    client = login(getattr(org, persona))
    assert client.get("/settings/workflows/").status_code == 404
    assert client.get("/settings/workflows/new/").status_code == 404
    assert client.get("/settings/calendar/").status_code == 404


def test_calendar_page_adds_deletes_and_loads_days(org: Any, login: Any) -> None:
    from qiyue.workdays.models import CalendarDay

    client = login(org.admin)
    client.post(
        "/settings/calendar/", {"op": "add", "day": "2026-12-31", "kind": "holiday", "name": "年终"}
    )
    day = CalendarDay.objects.get(day="2026-12-31")
    bad = client.post("/settings/calendar/", {"op": "add", "day": "2026-13-40", "kind": "holiday"})
    assert bad.status_code == 200 and CalendarDay.objects.count() == 1
    client.post("/settings/calendar/", {"op": "delete", "id": day.pk})
    assert not CalendarDay.objects.exists()
    client.post("/settings/calendar/", {"op": "load"})
    assert CalendarDay.objects.filter(name="春节").count() == 9
    assert "春节" in client.get("/settings/calendar/").content.decode()


def test_approver_downloads_documents_through_the_task_only_while_it_is_theirs(
    org: Any, login: Any
) -> None:
    import io

    from qiyue.documents.actions import upload_document

    named_approver_flow(org, org.sales2)
    contract = make_contract(org.sales1)
    version = upload_document(
        actor=org.sales1, contract=contract, fileobj=io.BytesIO(b"main text\n"), name="m.txt"
    )
    from qiyue.contracts.actions import transition_contract

    transition_contract(actor=org.sales1, contract=contract, code="submit")
    task = open_task(contract, org.sales2)
    url = f"{task_url(task)}versions/{version.pk}/download/"
    assert login(org.sales2).get(url).status_code == 200
    assert login(org.colleague).get(url).status_code == 404
    assert login(org.sales2).get(f"/document-versions/{version.pk}/download/").status_code == 404
    other = make_contract(org.sales2)
    foreign = upload_document(
        actor=org.sales2, contract=other, fileobj=io.BytesIO(b"other\n"), name="o.txt"
    )
    assert (
        login(org.sales2).get(f"{task_url(task)}versions/{foreign.pk}/download/").status_code == 404
    )


def test_comment_with_an_attachment_becomes_a_contract_document(org: Any, login: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from qiyue.documents.models import Document

    contract = make_contract(org.sales1, state="in_review")
    instance = open_task(contract, org.head1).instance
    client = login(org.sales1)
    client.post(
        f"/approvals/instances/{instance.pk}/comment/",
        {"text": "补充材料", "file": SimpleUploadedFile("报价单.txt", b"price list\n")},
    )
    comment = instance.comments.get()
    assert comment.document_version is not None
    assert Document.objects.get(contract=contract).kind == "attachment"
    assert "报价单.txt" in client.get(f"/contracts/{contract.pk}/").content.decode()
    # a file the documents area refuses leaves no comment either
    bad = client.post(
        f"/approvals/instances/{instance.pk}/comment/",
        {"text": "坏文件", "file": SimpleUploadedFile("x.exe", b"MZ\x90\x00binary")},
        follow=True,
    )
    assert any(m.level_tag == "error" for m in bad.context["messages"])
    assert instance.comments.count() == 1


def returned_and_resubmitted(org: Any, contract: Contract, rounds: int) -> None:
    """``rounds`` approval rounds, each but the last returned by legal to the submitter."""
    from qiyue.contracts.actions import transition_contract

    for n in range(rounds - 1):
        actions.decide(
            actor=org.head1, task_id=open_task(contract, org.head1).pk, decision="approve"
        )
        actions.decide(
            actor=org.legal,
            task_id=open_task(contract, org.legal).pk,
            decision="return",
            comment=f"第{n + 1}轮请补充",
        )
        transition_contract(actor=org.sales1, contract=contract, code="submit")


TASK_PAGE_QUERIES = 15  # the previous round for the diff comes from the rounds read


@pytest.mark.parametrize("rounds", [1, 3])
def test_task_page_query_count_does_not_grow_with_rounds(
    org: Any, login: Any, django_assert_num_queries: Any, rounds: int
) -> None:
    contract = make_contract(org.sales1, state="in_review")
    returned_and_resubmitted(org, contract, rounds)
    client = login(org.head1)
    url = task_url(open_task(contract, org.head1))
    client.get(url)
    with django_assert_num_queries(TASK_PAGE_QUERIES):
        assert client.get(url).status_code == 200


def test_task_page_offers_each_earlier_step_once_and_shows_the_change_since_the_last_round(
    org: Any, login: Any
) -> None:
    from qiyue.contracts.actions import update_contract

    contract = make_contract(org.sales1, state="in_review")
    actions.decide(actor=org.head1, task_id=open_task(contract, org.head1).pk, decision="approve")
    actions.decide(
        actor=org.legal,
        task_id=open_task(contract, org.legal).pk,
        decision="return",
        comment="再看",
        to_step=0,
    )
    actions.decide(actor=org.head1, task_id=open_task(contract, org.head1).pk, decision="approve")
    html = login(org.legal).get(task_url(open_task(contract, org.legal))).content.decode()
    returns = html.split('data-testid="return-to"')[1].split("</select>")[0]
    assert returns.count("<option") == 2  # the submitter, and step 0 once though it ran twice
    assert 'value="0"' in returns
    first_round = html.split('data-testid="task-diff"')[1].split("</article>")[0]
    assert "<table" not in first_round  # one round: nothing to compare with

    actions.decide(
        actor=org.legal,
        task_id=open_task(contract, org.legal).pk,
        decision="return",
        comment="补充",
    )
    fresh = Contract.objects.get(pk=contract.pk)
    update_contract(
        actor=org.sales1, contract=fresh, data={"amount": "120000"}, version=fresh.version
    )
    from qiyue.contracts.actions import transition_contract

    transition_contract(actor=org.sales1, contract=contract, code="submit")
    diff = login(org.head1).get(task_url(open_task(contract, org.head1))).content.decode()
    diff = diff.split('data-testid="task-diff"')[1].split("</article>")[0]
    assert "100000.00" in diff and "120000.00" in diff
