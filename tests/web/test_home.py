from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.factories import make_contract


def test_home_shows_my_drafts_and_counts(login: Any, org: Any) -> None:
    draft = make_contract(org.sales1, title="我的草稿")
    make_contract(org.sales1, state="active", amount="1200000.00")
    response = login(org.sales1).get(reverse("web:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert draft.number in body
    assert 'data-testid="by-state-active"' in body
    assert "¥120万" in body


def test_home_shows_english_amounts_in_full(login: Any, org: Any) -> None:
    make_contract(org.sales1, state="active", amount="1200000.00")
    c = login(org.sales1)
    c.post(reverse("web:language"), {"language": "en"})
    body = c.get(reverse("web:home")).content.decode()
    assert "¥1,200,000.00" in body


def test_outsiders_contracts_do_not_reach_the_dashboard(login: Any, org: Any) -> None:
    theirs = make_contract(org.sales2, title="别人的合同")
    body = login(org.sales1).get(reverse("web:home")).content.decode()
    assert theirs.number not in body


def test_admin_link_is_shown_to_admins_only(login: Any, org: Any) -> None:
    assert b'data-testid="nav-admin"' in login(org.admin).get(reverse("web:home")).content
    assert b'data-testid="nav-admin"' not in login(org.sales1).get(reverse("web:home")).content
