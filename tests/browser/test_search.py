"""Search in the real browser: sales1 uploads a text to a draft contract, types 违约 in the
header box and sees instant results, presses Enter for the results page, narrows it with
a state facet, opens the hit's document and sees the matches marked; then the same in
English with an English word. Screenshots land in test-artifacts/screenshots/30-search-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_smoke import log_in

TEXT = (
    # Forty characters and more before the first match: a snippet starts there, and on
    # one line of the header's box the match would be out of sight.
    "本合同由双方在平等自愿的基础上订立，双方应当遵守国家法律法规，诚实信用地履行各自的义务。\n"
    "第八条 违约责任\n"
    "任何一方违约的，应向守约方支付合同总额百分之十的违约金。\n"
    "This agreement renews automatically for one year unless either party gives notice.\n"
)


def _type_in_header(page: Any, q: str) -> Any:
    box = page.get_by_test_id("header-search-input")
    box.fill("")
    box.press_sequentially(q, delay=40)
    return box


def test_header_box_results_page_facets_and_marked_document(
    page: Any, shot: Any, tmp_path: Path
) -> None:
    log_in(page, "sales1")
    page.goto("/contracts/?owner=me&state=draft")
    page.get_by_test_id("contract-row").first.locator("a").first.click()
    contract_path = _path(page.url)
    pk = re.search(r"/contracts/(\d+)/", contract_path).group(1)  # type: ignore[union-attr]
    file = tmp_path / "违约条款.txt"
    file.write_text(TEXT, encoding="utf-8")
    page.get_by_test_id("upload-input").set_input_files(str(file))
    expect(page.get_by_test_id("upload-progress").first).to_have_attribute(
        "data-state", "done", timeout=30_000
    )

    # The text is extracted and indexed by the server's job consumer: wait for the hit.
    instant = page.get_by_test_id("search-instant")
    hit = page.locator(f'[data-testid="instant-hit"][href="{contract_path}"]')
    for _ in range(30):
        _type_in_header(page, "违约")
        expect(instant).to_be_visible()
        if hit.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(hit).to_be_visible()
    expect(hit.locator("mark").first).to_have_text("违约")
    # The snippet wraps (the header's own links do not): its first match is in sight.
    snippet = hit.locator(".instant-snippet").bounding_box()
    mark = hit.locator("mark").first.bounding_box()
    assert snippet is not None and mark is not None
    assert mark["x"] + mark["width"] <= snippet["x"] + snippet["width"] + 1
    assert mark["y"] + mark["height"] <= snippet["y"] + snippet["height"] + 1
    shot(page, "30-search-instant")
    # In a narrow window the bar wraps and the box moves to the left of a second row;
    # its results stay on the screen.
    size = page.viewport_size
    page.set_viewport_size({"width": 700, "height": 900})
    results = instant.bounding_box()
    assert results is not None and results["x"] >= 0 and results["x"] + results["width"] <= 700
    page.set_viewport_size(size)

    # Arrow down reaches the first hit; Escape closes the box and returns to it.
    box = page.get_by_test_id("header-search-input")
    box.press("ArrowDown")
    expect(instant.get_by_test_id("instant-hit").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(box).to_be_focused()
    expect(instant).to_be_hidden()

    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=%E8%BF%9D%E7%BA%A6"))
    expect(page.get_by_test_id("search-hit").first).to_be_visible()
    expect(page.get_by_test_id("facets")).to_be_visible()
    shot(page, "30-search-results")

    page.get_by_test_id("facet-state").locator('[data-value="draft"]').click()
    expect(page).to_have_url(re.compile(r"state=draft"))
    expect(page.get_by_test_id("facet-state").locator(".facet.on")).to_have_attribute(
        "data-value", "draft"
    )
    ours = page.locator(f'[data-testid="search-hit"][data-contract="{pk}"]')
    expect(ours).to_be_visible()
    expect(ours.get_by_test_id("hit-snippet").locator("mark").first).to_contain_text("违约")
    shot(page, "30-search-facet")

    ours.get_by_test_id("hit-document").click()
    expect(page).to_have_url(re.compile(r"/document-versions/\d+/\?q=.*#first-match$"))
    first = page.locator("mark#first-match")
    expect(first).to_have_text("违约")
    expect(first).to_be_in_viewport()
    expect(page.get_by_test_id("highlight-bar")).to_be_visible()
    assert page.locator("pre.marked mark").count() >= 3
    shot(page, "30-search-document")

    # The same in English, with an English word form.
    page.get_by_test_id("lang-en").click()
    _type_in_header(page, "renew")
    expect(page.locator(f'[data-testid="instant-hit"][href="{contract_path}"]')).to_be_visible()
    page.get_by_test_id("header-search-input").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=renew"))
    expect(page.get_by_test_id("search-total")).to_contain_text("found")
    shot(page, "30-search-results-en")
    page.locator(f'[data-testid="search-hit"][data-contract="{pk}"]').get_by_test_id(
        "hit-document"
    ).click()
    expect(page.locator("mark#first-match")).to_have_text("renews")
    expect(page.get_by_test_id("highlight-bar")).to_contain_text("marked in the text")
    shot(page, "30-search-document-en")

    # A query the search refuses: a clear message, not an error page.
    page.goto("/search/?q=" + "违" * 300)
    expect(page.get_by_test_id("search-error")).to_contain_text("200")
    shot(page, "30-search-refused-en")
    page.get_by_test_id("lang-zh-hans").click()  # sales1's language back for later tests
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def test_the_filters_customer_search_refills_the_list_and_the_choice_is_kept(
    page: Any, shot: Any
) -> None:
    log_in(page, "manager")
    page.goto("/search/?q=" + "合同")
    picker = page.get_by_test_id("filter-customer-search")
    picker.press_sequentially("星河", delay=40)
    options = page.get_by_test_id("filter-customer").locator("option")
    expect(options.nth(1)).to_contain_text("星河")
    expect(options.first).to_have_attribute("value", "")
    name = options.nth(1).inner_text()
    page.get_by_test_id("filter-customer").select_option(index=1)
    page.get_by_test_id("search-submit").click()
    # The search box of the picker is not sent: the query stays the search's own.
    expect(page).to_have_url(re.compile(r"\?q=%E5%90%88%E5%90%8C&.*customer=\d+"))
    expect(page.get_by_test_id("filter-customer").locator("option:checked")).to_have_text(name)
    expect(page.get_by_test_id("search-hit").first).to_contain_text(name)
    shot(page, "31-search-customer-filter")


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)
