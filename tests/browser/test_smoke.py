"""The main journey the way a person walks it, in the real browser:
sales1 logs in, adds a customer and a contract; the manager approves and records the
signature; the contract is active. Screenshots of each page land in
test-artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

PASSWORD = "qiyue-demo"


def log_in(page: Any, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("dashboard")).to_be_visible()


def log_out(page: Any) -> None:
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login/"))


def test_sales_creates_contract_and_manager_approves_it_until_active(page: Any, shot: Any) -> None:
    log_in(page, "sales1")
    shot(page, "01-home-sales1")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    page.get_by_test_id("nav-parties").click()
    shot(page, "02-customers")
    page.get_by_test_id("new-party").click()
    page.fill("#id_name", "苏州浏览器测试科技有限公司")
    page.fill("#id_short_name", "浏览器测试")
    page.get_by_test_id("party-save").click()
    expect(page.get_by_test_id("party-name")).to_have_text("苏州浏览器测试科技有限公司")
    shot(page, "03-customer-created")

    page.get_by_test_id("new-contract-for-party").click()
    page.fill("#id_title", "浏览器冒烟测试销售合同")
    page.select_option("#id_contract_type", label="销售合同")
    page.fill("#id_amount", "1200000")
    page.fill("#id_effective_date", "2026-12-01")
    page.fill("#id_expiry_date", "2027-11-30")
    shot(page, "04-contract-form")
    page.get_by_test_id("contract-save").click()
    expect(page.get_by_test_id("contract-state")).to_have_attribute("data-state", "draft")
    expect(page.get_by_test_id("contract-amount")).to_contain_text("¥1,200,000.00")
    number = page.get_by_test_id("contract-number").inner_text()
    assert re.fullmatch(r"XS-\d{4}-\d{5}", number)
    contract_url = page.url
    shot(page, "05-contract-draft")

    # Submitted, the contract is approved by its workflow's approvers (the demo's sales
    # workflow: management and finance above ¥500,000, then legal) on their tasks.
    page.get_by_test_id("transition-submit").click()
    expect(page.get_by_test_id("contract-state")).to_have_attribute("data-state", "in_review")
    log_out(page)
    for approver in ("manager", "finance", "legal"):
        log_in(page, approver)
        page.goto(contract_url)
        page.get_by_test_id("open-my-task").click()
        page.get_by_test_id("decide-approve").click()
        expect(page.get_by_test_id("messages")).to_be_visible()
        log_out(page)
    log_in(page, "manager")
    page.goto(contract_url)
    expect(page.get_by_test_id("contract-state")).to_have_attribute("data-state", "approved")
    shot(page, "06-contract-approved")
    page.get_by_test_id("transition-mark_signed").click()
    page.get_by_test_id("confirm-mark_signed").click()
    expect(page.get_by_test_id("contract-state")).to_have_attribute("data-state", "active")
    expect(page.get_by_test_id("history")).to_contain_text("王总")
    shot(page, "07-contract-active")


def test_outsider_gets_not_found_for_contract_of_other_department(page: Any, shot: Any) -> None:
    log_in(page, "sales1")
    page.goto("/contracts/?owner=me")
    first = page.get_by_test_id("contract-row").first.locator("a").first
    href = first.get_attribute("href")
    log_out(page)

    log_in(page, "sales2")
    response = page.goto(href)
    assert response is not None and response.status == 404
    shot(page, "08-outsider-404")


def test_contract_list_reads_in_english_after_switching_language(page: Any, shot: Any) -> None:
    log_in(page, "sales2")
    page.get_by_test_id("lang-en").click()
    page.goto("/contracts/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("contract-table")).to_be_visible()
    shot(page, "09-contract-list-en")
