"""The two things search keeps between requests (docs/decisions/0006-search-and-import-speed.md):
the compiled SQL of what a user may see, by everything that SQL depends on, and the
decrypted page texts of recent snippets, by the content of their blob. Neither may ever
show what the user may no longer see or text a document no longer has."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from qiyue.contracts import actions as contract_actions
from qiyue.search import pagecache
from qiyue.search.queries import search_for

from .conftest import Committed, upload_text

pytestmark = pytest.mark.usefixtures("allowed_form")


@pytest.fixture(autouse=True)
def _fresh_page_cache() -> Any:
    """Each test starts and leaves with a page cache of the module's own size."""
    pagecache.clear()
    yield
    pagecache.clear()


def found(user: Any, q: str) -> set[int]:
    return {item.contract_id for item in search_for(user, q, page_size=200).items}


def test_a_new_role_department_share_or_deactivation_applies_to_the_next_search(
    org: SimpleNamespace, corpus: SimpleNamespace
) -> None:
    sales1 = org.sales1
    assert corpus.c5.pk not in found(sales1, "违约金")  # sales2's contract
    sales1.role = org.roles["manager"]  # data scope: every contract
    sales1.save(update_fields=["role"])
    assert corpus.c5.pk in found(sales1, "违约金")
    sales1.role = org.roles["sales"]
    sales1.save(update_fields=["role"])
    assert corpus.c5.pk not in found(sales1, "违约金")

    share = contract_actions.share_contract(actor=org.sales2, contract=corpus.c5, user=sales1)
    assert corpus.c5.pk in found(sales1, "违约金")
    contract_actions.unshare_contract(actor=org.sales2, share=share)
    assert corpus.c5.pk not in found(sales1, "违约金")

    # A department share reaches whoever is in the department now.
    contract_actions.share_contract(
        actor=org.sales2, contract=corpus.c5, department=org.sales2.department
    )
    assert corpus.c5.pk not in found(sales1, "违约金")
    old_department = sales1.department
    sales1.department = org.sales2.department
    sales1.save(update_fields=["department"])
    assert corpus.c5.pk in found(sales1, "违约金")
    sales1.department = old_department
    sales1.save(update_fields=["department"])
    assert corpus.c5.pk not in found(sales1, "违约金")

    assert found(sales1, "违约金")
    sales1.is_active = False
    sales1.save(update_fields=["is_active"])
    assert found(sales1, "违约金") == set()


def test_snippets_follow_a_new_version_of_a_document(
    org: SimpleNamespace, corpus: SimpleNamespace, committed: Committed
) -> None:
    pagecache.clear()
    [item] = search_for(org.sales1, "税款").items
    assert "缴纳<mark>税款</mark>" in item.snippet
    with committed():
        upload_text(
            org.sales1, corpus.c2, "乙方应于每月五日前缴纳税款与滞纳金。", document=corpus.d2
        )
    [item] = search_for(org.sales1, "税款").items
    assert "每月五日前缴纳<mark>税款</mark>" in item.snippet
    assert item.where is not None and item.where["version"] == 2


def test_the_page_cache_stays_within_its_bound(
    org: SimpleNamespace, corpus: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagecache, "MAX_CHARS", 600)
    pagecache.clear()
    for q in ("违约金", "governing law", "税款", "confidential", "renew"):
        search_for(org.sales1, q)
        entries, chars = pagecache.size()
        assert chars <= 600
    assert entries >= 1
    # Served from the cache, the snippet is the same as from the document.
    first = search_for(org.sales1, "governing law").items
    pagecache.clear()
    assert search_for(org.sales1, "governing law").items == first
