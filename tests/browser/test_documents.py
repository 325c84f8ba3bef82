"""Documents in the real browser: sales1 uploads a PDF to a draft contract, watches the
progress bar finish and the document appear, then opens its preview and sees the page
image and the extracted text (the server's job consumer extracts it in the background).
Screenshots land in test-artifacts/screenshots/20-documents-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_smoke import log_in
from tests.documents.doc_files import pdf_bytes


def test_sales_uploads_pdf_and_previews_its_pages_and_text(
    page: Any, shot: Any, tmp_path: Path
) -> None:
    pdf = tmp_path / "browser-upload.pdf"
    pdf.write_bytes(pdf_bytes(["Browser upload agreement", "Second page of the agreement"]))

    log_in(page, "sales1")
    page.goto("/contracts/?owner=me&state=draft")
    page.get_by_test_id("contract-row").first.locator("a").first.click()
    documents = page.get_by_test_id("documents")
    expect(documents).to_be_visible()
    documents.scroll_into_view_if_needed()
    shot(page, "20-documents-contract")

    page.get_by_test_id("upload-note").fill("浏览器上传")
    notes = tmp_path / "meeting-notes.txt"
    notes.write_text("会议纪要：双方同意按季度付款。", encoding="utf-8")
    # Several at once: each file gets its own progress bar and result.
    page.get_by_test_id("upload-input").set_input_files([str(pdf), str(notes)])
    progress = page.get_by_test_id("upload-progress")
    expect(progress).to_have_count(2)
    for n in range(2):
        expect(progress.nth(n)).to_have_attribute("data-state", "done", timeout=30_000)
        expect(progress.nth(n).locator("progress")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("document-row").filter(has_text="meeting-notes.txt")).to_be_visible()
    row = page.get_by_test_id("document-row").filter(has_text="browser-upload.pdf")
    expect(row).to_be_visible()
    shot(page, "20-documents-uploaded")

    row.get_by_test_id("document-link").click()
    expect(page.get_by_test_id("document-title")).to_have_text("browser-upload.pdf")
    expect(page.get_by_test_id("version-row")).to_have_count(1)
    shot(page, "20-documents-document")

    page.get_by_test_id("version-link").first.click()
    expect(page).to_have_url(re.compile(r"/document-versions/\d+/$"))
    # Extraction runs in the server's consumer: the page polls until it is done.
    status = page.get_by_test_id("text-status")
    expect(status).not_to_have_attribute("data-status", "pending", timeout=30_000)
    expect(status).to_have_attribute("data-status", "ok")
    images = page.get_by_test_id("page-image")
    expect(images).to_have_count(2)
    first = images.first
    first.scroll_into_view_if_needed()
    expect(first).to_have_js_property("complete", True)
    assert first.evaluate("img => img.naturalWidth") > 100
    expect(page.get_by_test_id("page-text").first).to_contain_text("Browser upload agreement")
    shot(page, "20-documents-preview")

    # A second version from the document page, then the two compared side by side.
    second = tmp_path / "browser-upload-v2.pdf"
    second.write_bytes(pdf_bytes(["Browser upload agreement", "Second page of the contract"]))
    page.get_by_test_id("all-versions").click()
    page.get_by_test_id("upload-input").set_input_files(str(second))
    expect(page.get_by_test_id("version-row")).to_have_count(2, timeout=30_000)
    for _ in range(30):
        statuses = page.get_by_test_id("text-status").evaluate_all(
            "els => els.map(e => e.dataset.status)"
        )
        if "pending" not in statuses:
            break
        page.wait_for_timeout(1000)
        page.reload()
    shot(page, "20-documents-versions")
    page.get_by_test_id("compare-submit").click()
    table = page.get_by_test_id("compare-table")
    expect(table).to_be_visible()
    expect(table.locator("tr.rl-change td.old")).to_contain_text("agreement")
    expect(table.locator("del").first).to_be_visible()
    expect(table.locator("tr.rl-change td.new")).to_contain_text("contract")
    expect(table.locator("ins").first).to_be_visible()
    expect(page.get_by_test_id("compare-summary")).to_be_visible()
    shot(page, "20-documents-compare")
