"""Key-term proposals in the real browser: sales1 uploads a Chinese contract text to a
draft, the server's job consumer extracts its text and proposes the record's fields, and
sales1 accepts the amount and the dates; the record and its history show the change.
Screenshots land in test-artifacts/screenshots/30-review-*.png."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_smoke import log_in

ZH = Path("/work/shared/data/zh-contracts/zh-02-equipment-sales.txt")


@pytest.mark.skipif(not ZH.exists(), reason="shared contract texts not present")
def test_sales_accepts_proposed_amount_and_dates(page: Any, shot: Any, tmp_path: Path) -> None:
    text = tmp_path / "设备买卖合同.txt"
    shutil.copy(ZH, text)

    log_in(page, "sales1")
    page.goto("/contracts/?owner=me&state=draft")
    page.get_by_test_id("contract-row").last.locator("a").first.click()
    page.get_by_test_id("upload-input").set_input_files(str(text))
    expect(page.get_by_test_id("upload-progress").first).to_have_attribute(
        "data-state", "done", timeout=30_000
    )
    # Text extraction, then the proposals, run in the server's job consumer (after the
    # demo's own backlog of jobs); the panel appears by itself once they are stored.
    proposals = page.get_by_test_id("proposals")
    expect(proposals).to_be_visible(timeout=150_000)
    amount = proposals.locator('[data-field="amount"]')
    expect(amount.get_by_test_id("proposal-value")).to_contain_text("3,456,000.00")
    expect(amount.locator("mark")).to_contain_text("叁佰肆拾伍万陆仟元整")
    proposals.scroll_into_view_if_needed()
    shot(page, "30-review-proposals")

    amount.get_by_test_id("proposal-accept").click()
    expect(page.get_by_test_id("contract-amount")).to_contain_text("3,456,000.00")
    signed = proposals.locator('[data-field="signed_date"]')
    signed.get_by_test_id("proposal-accept").click()
    expect(page.get_by_test_id("contract-signed")).to_contain_text("2024")
    effective = proposals.locator('[data-field="effective_date"]')
    effective.get_by_test_id("proposal-accept").click()
    expect(proposals.locator('[data-field="effective_date"]')).to_have_count(0)
    expect(proposals.locator('[data-field="amount"]')).to_have_count(0)
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("3,456,000.00")
    expect(history).to_contain_text("2024年11月8日")
    shot(page, "30-review-accepted")

    # The evidence of a remaining proposal, marked in the whole text.
    proposals.get_by_test_id("proposal-context").first.click()
    expect(page).to_have_url(re.compile(r"/review/proposals/\d+/#span$"))
    expect(page.get_by_test_id("proposal-span")).to_be_visible()
    shot(page, "30-review-context")
