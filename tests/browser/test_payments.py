"""Finance in the real browser: the dashboard shows what customers owe; finance opens an
overdue contract, records a payment and an invoice on its money panel, and the
dashboard's receivables go down by the payment."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_smoke import log_in


def _amount(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text))


def test_finance_records_payment_and_invoice_and_receivables_change(page: Any, shot: Any) -> None:
    log_in(page, "finance")
    outstanding = page.get_by_test_id("receivable-outstanding")
    expect(outstanding).to_be_visible()
    before = _amount(outstanding.get_attribute("title") or "")
    assert before > 0
    shot(page, "payments-01-home-receivables")

    page.get_by_test_id("overdue-list").locator("a").first.click()
    expect(page.get_by_test_id("instalments")).to_be_visible()
    payments_before = page.get_by_test_id("payment-row").count()
    shot(page, "payments-02-contract-money")

    page.get_by_test_id("record-payment").click()
    page.get_by_test_id("payment-amount").fill("10000")
    page.get_by_test_id("payment-submit").click()
    expect(page.get_by_test_id("messages")).to_be_visible()
    expect(page.get_by_test_id("payment-row")).to_have_count(payments_before + 1)

    invoices_before = page.get_by_test_id("invoice-row").count()
    page.get_by_test_id("record-invoice").click()
    page.get_by_test_id("invoice-number").fill("55550001")
    page.get_by_test_id("invoice-amount").fill("10000")
    page.get_by_test_id("invoice-submit").click()
    expect(page.get_by_test_id("invoice-row")).to_have_count(invoices_before + 1)
    expect(page.get_by_test_id("invoices")).to_contain_text("55550001")
    shot(page, "payments-03-recorded")

    page.get_by_test_id("nav-home").click()
    outstanding = page.get_by_test_id("receivable-outstanding")
    expect(outstanding).to_be_visible()
    after = _amount(outstanding.get_attribute("title") or "")
    assert after == before - Decimal("10000")
    shot(page, "payments-04-home-after")
