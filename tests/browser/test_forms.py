"""Forms sent by htmx show their refusal where they were sent (htmx keeps 4xx answers
out of the page unless told otherwise: see the htmx-config meta in base.html)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.test_smoke import log_in


def test_a_refused_one_off_reminder_shows_its_error_in_place(page: Any, shot: Any) -> None:
    log_in(page, "sales1")
    page.get_by_test_id("nav-contracts").click()
    page.locator("table.data tbody a").first.click()
    form = page.get_by_test_id("one-off-form")
    form.locator("[name=day]").fill("2020-01-01")
    form.locator("[name=text]").fill("给客户回电话")
    form.get_by_role("button").click()
    errors = page.get_by_test_id("contract-reminders").get_by_test_id("form-errors")
    expect(errors).to_contain_text("该日期已过")
    shot(page, "40-one-off-refused")
