"""The approval journey in the real browser: sales1 submits a ¥800,000 sales contract;
manager and finance approve in parallel; legal returns it with a comment; sales1 revises
and resubmits; the second round completes. Screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_smoke import log_in, log_out


def open_task(page: Any, number: str) -> None:
    page.get_by_test_id("nav-inbox").click()
    expect(page.get_by_test_id("inbox")).to_be_visible()
    page.get_by_test_id("inbox-row").filter(has_text=number).get_by_test_id("task-link").click()
    expect(page.get_by_test_id("decision-forms")).to_be_visible()


def approve_as(page: Any, username: str, number: str, shot: Any, name: str) -> None:
    log_in(page, username)
    expect(page.get_by_test_id("inbox-count")).to_be_visible()
    open_task(page, number)
    shot(page, name)
    page.get_by_test_id("decide-approve").click()
    expect(page.get_by_test_id("messages")).to_be_visible()
    log_out(page)


def test_parallel_approval_return_and_resubmission(page: Any, shot: Any) -> None:
    log_in(page, "sales1")
    page.goto("/contracts/new/")
    page.fill("#id_title", "浏览器审批测试销售合同")
    page.select_option("#id_contract_type", label="销售合同")
    page.select_option("#id_counterparty", index=1)
    page.fill("#id_amount", "800000")
    page.get_by_test_id("contract-save").click()
    expect(page.get_by_test_id("contract-state")).to_have_attribute("data-state", "draft")
    number = page.get_by_test_id("contract-number").inner_text()
    contract_url = page.url
    page.get_by_test_id("transition-submit").click()
    expect(page.get_by_test_id("contract-state")).to_have_attribute("data-state", "in_review")
    expect(page.get_by_test_id("approval-timeline")).to_contain_text("管理层与财务会签")
    shot(page, "approvals-01-submitted")
    log_out(page)

    # Round 1: management and finance in parallel (above ¥500,000), then legal returns.
    approve_as(page, "manager", number, shot, "approvals-02-manager-task")
    approve_as(page, "finance", number, shot, "approvals-03-finance-task")
    log_in(page, "legal")
    open_task(page, number)
    page.get_by_test_id("decide-return").click()
    page.get_by_test_id("comment-return").fill("请补充违约责任条款")
    shot(page, "approvals-04-legal-returns")
    page.get_by_test_id("confirm-return").click()
    expect(page.get_by_test_id("messages")).to_be_visible()
    log_out(page)

    # sales1 sees the comment, revises and resubmits.
    log_in(page, "sales1")
    page.goto(contract_url)
    expect(page.get_by_test_id("contract-state")).to_have_attribute("data-state", "returned")
    expect(page.get_by_test_id("approval-timeline")).to_contain_text("请补充违约责任条款")
    shot(page, "approvals-05-returned")
    page.get_by_test_id("edit-contract").click()
    page.fill("#id_payment_terms", "合同签订后30日内支付50%，验收后支付50%；违约方承担违约责任")
    page.get_by_test_id("contract-save").click()
    page.get_by_test_id("transition-submit").click()
    expect(page.get_by_test_id("contract-state")).to_have_attribute("data-state", "in_review")
    log_out(page)

    # Round 2: everyone approves; legal's task shows what changed since round 1.
    approve_as(page, "manager", number, shot, "approvals-06-round2-manager")
    approve_as(page, "finance", number, shot, "approvals-07-round2-finance")
    log_in(page, "legal")
    open_task(page, number)
    expect(page.get_by_test_id("task-diff")).to_contain_text("付款条款")
    shot(page, "approvals-08-round2-legal-diff")
    page.get_by_test_id("decide-approve").click()
    expect(page.get_by_test_id("messages")).to_be_visible()
    page.goto(contract_url)
    expect(page.get_by_test_id("contract-state")).to_have_attribute("data-state", "approved")
    rounds = page.get_by_test_id("approval-round")
    expect(rounds).to_have_count(2)
    expect(rounds.first).to_have_attribute("data-state", "approved")
    shot(page, "approvals-09-approved-timeline")
    assert re.fullmatch(r"XS-\d{4}-\d{5}", number)


def test_admin_builds_a_two_branch_workflow_and_edits_the_calendar(page: Any, shot: Any) -> None:
    log_in(page, "admin")
    page.get_by_test_id("nav-settings").click()
    page.get_by_test_id("settings-workflows").get_by_role("link").click()
    expect(page.get_by_test_id("workflows")).to_contain_text("销售合同审批")
    shot(page, "approvals-10-workflow-list")
    page.get_by_test_id("new-workflow").click()
    page.get_by_test_id("wf-name").fill("框架协议审批")
    page.get_by_test_id("wf-priority").fill("20")
    page.get_by_test_id("wf-types").select_option(["KJ"])
    page.get_by_test_id("step-0-name").fill("管理层与财务会签")
    page.get_by_test_id("step-0-approvers").select_option(["role:manager", "role:finance"])
    page.get_by_test_id("step-0-quorum").select_option("all")
    page.get_by_test_id("step-0-sla").fill("2")
    page.get_by_test_id("step-0-condition").fill("amount_cny > 500000")
    page.get_by_test_id("step-1-name").fill("法务审核")
    page.get_by_test_id("step-1-approvers").select_option(["legal"])
    page.get_by_test_id("step-1-quorum").select_option("any")
    shot(page, "approvals-11-workflow-editor")
    page.get_by_test_id("save-workflow").click()
    expect(page.get_by_test_id("messages")).to_contain_text("1")
    expect(page.get_by_test_id("step-1-name")).to_have_value("法务审核")

    page.goto("/settings/calendar/")
    page.get_by_test_id("calendar-day").fill("2026-12-31")
    page.get_by_test_id("calendar-kind").select_option("holiday")
    page.get_by_test_id("calendar-save").click()
    expect(page.get_by_test_id("calendar-days")).to_contain_text("2026-12-31")
    shot(page, "approvals-12-calendar")
