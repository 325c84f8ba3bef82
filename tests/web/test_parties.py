from __future__ import annotations

from typing import Any

from django.urls import reverse

from qiyue.parties.actions import update_party
from qiyue.parties.models import Contact, Party
from tests.factories import make_contract, make_party, valid_credit_code

LIST = reverse("web:party_list")


def detail(p: Party) -> str:
    return reverse("web:party_detail", args=[p.pk])


def edit(p: Party) -> str:
    return reverse("web:party_edit", args=[p.pk])


def party_form(p: Party, **changes: Any) -> dict[str, Any]:
    data = {
        "name": p.name,
        "short_name": p.short_name,
        "credit_code": p.credit_code,
        "foreign_registration": p.foreign_registration,
        "address": p.address,
        "industry": p.industry,
        "status": p.status,
        "notes": p.notes,
        "version": p.version,
    }
    data.update(changes)
    return data


def test_owner_sees_customer_in_list_and_detail(login: Any, party: Any) -> None:
    c = login(party.owner)
    assert party.name in c.get(LIST).content.decode()
    page = c.get(detail(party))
    assert page.status_code == 200
    assert b'data-testid="edit-party"' in page.content


def test_outsider_gets_404_for_customer_of_other_department(
    login: Any, org: Any, party: Any
) -> None:
    c = login(org.sales2)
    assert party.name not in c.get(LIST).content.decode()
    assert c.get(detail(party)).status_code == 404
    assert c.get(edit(party)).status_code == 404
    response = c.post(reverse("web:party_add_contact", args=[party.pk]), {"name": "X"})
    assert response.status_code == 404
    assert not Contact.objects.filter(party=party).exists()


def test_viewer_sees_department_customer_but_gets_404_on_edit(
    login: Any, org: Any, party: Any
) -> None:
    c = login(org.viewer)
    assert c.get(detail(party)).status_code == 200
    assert c.get(edit(party)).status_code == 404
    assert c.get(reverse("web:party_create")).status_code == 404


def test_list_searches_and_filters_by_status(login: Any, org: Any) -> None:
    a = make_party(org.sales1, name="北京甲科技有限公司")
    b = make_party(org.sales1, name="上海乙制造有限公司", status="inactive")
    c = login(org.sales1)
    body = c.get(LIST, {"q": "甲科技"}).content.decode()
    assert a.name in body and b.name not in body
    body = c.get(LIST, {"status": "inactive"}).content.decode()
    assert b.name in body and a.name not in body


def test_create_customer_then_land_on_its_page(login: Any, org: Any) -> None:
    response = login(org.sales1).post(
        reverse("web:party_create"),
        {"name": "杭州新客户有限公司", "credit_code": valid_credit_code(), "status": "active"},
    )
    assert response.status_code == 302
    party = Party.objects.get(name="杭州新客户有限公司")
    assert response["Location"] == detail(party)


def test_invalid_credit_code_shows_a_field_error(login: Any, org: Any) -> None:
    response = login(org.sales1).post(
        reverse("web:party_create"),
        {"name": "坏代码有限公司", "credit_code": "123", "status": "active"},
    )
    assert response.status_code == 200
    assert b'data-testid="error-credit_code"' in response.content
    assert not Party.objects.filter(name="坏代码有限公司").exists()


def test_script_in_customer_name_is_rendered_escaped(login: Any, org: Any) -> None:
    evil = make_party(org.sales1, name="<img src=x onerror=alert(1)>")
    c = login(org.sales1)
    for url in (detail(evil), LIST):
        body = c.get(url).content.decode()
        assert "<img src=x" not in body
        assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_edit_customer_saves(login: Any, party: Any) -> None:
    response = login(party.owner).post(edit(party), party_form(party, industry="制造业"))
    assert response.status_code == 302
    party.refresh_from_db()
    assert party.industry == "制造业"


def test_stale_customer_edit_shows_the_message_and_changes_nothing(login: Any, party: Any) -> None:
    c = login(party.owner)
    stale = party_form(party, industry="我的行业")
    update_party(actor=party.owner, party=party, data={"industry": "别人的行业"}, version=1)
    response = c.post(edit(party), stale)
    assert response.status_code == 409
    assert b'data-testid="stale-edit"' in response.content
    party.refresh_from_db()
    assert party.industry == "别人的行业"


def test_add_contact_and_see_it_on_the_customer_page(login: Any, party: Any) -> None:
    c = login(party.owner)
    response = c.post(
        reverse("web:party_add_contact", args=[party.pk]),
        {"name": "刘洋", "title": "采购经理", "email": "liu@example.cn"},
    )
    assert response.status_code == 302
    assert "刘洋" in c.get(detail(party)).content.decode()


def test_contact_with_bad_email_shows_an_error(login: Any, party: Any) -> None:
    response = login(party.owner).post(
        reverse("web:party_add_contact", args=[party.pk]), {"name": "刘洋", "email": "nope"}
    )
    assert response.status_code == 400
    assert b'data-testid="error-email"' in response.content
    assert not Contact.objects.exists()


def test_customer_page_lists_only_contracts_the_user_may_see(login: Any, org: Any) -> None:
    party = make_party(org.sales1)
    mine = make_contract(org.sales1, party=party)
    assert mine.number in login(org.head1).get(detail(party)).content.decode()
    assert login(org.sales2).get(detail(party)).status_code == 404


def test_autocomplete_offers_only_visible_customers(login: Any, org: Any) -> None:
    mine = make_party(org.sales1, name="可见客户有限公司")
    theirs = make_party(org.sales2, name="可见不了客户有限公司")
    body = login(org.sales1).get(reverse("web:party_autocomplete"), {"q": "客户"})
    text = body.content.decode()
    assert mine.name in text
    assert theirs.name not in text


def test_the_contract_filters_keep_an_older_customer_chosen_and_search_for_others(
    login: Any, org: Any, monkeypatch: Any
) -> None:
    from qiyue.web.views import contracts as contract_views

    older = make_party(org.sales1, name="老客户有限公司")
    make_party(org.sales1, name="新客户有限公司")
    theirs = make_party(org.sales2, name="别人的客户有限公司")
    monkeypatch.setattr(contract_views, "PICKER_LIMIT", 1)  # the newest customer only
    client = login(org.sales1)
    for url in (reverse("web:contract_list"), reverse("web:search")):
        html = client.get(url, {"q": "合同", "customer": older.pk}).content.decode()
        assert f'<option value="{older.pk}" selected>老客户有限公司</option>' in html
        assert "新客户有限公司" in html
        # A customer the user may not see is neither offered nor named.
        html = client.get(url, {"customer": theirs.pk}).content.decode()
        assert "别人的客户" not in html
    # The filter's search box refills the list, led by "All customers"; it is sent to
    # the picker only, never with the filters (whose own "q" is the search).
    html = client.get(reverse("web:contract_list")).content.decode()
    assert 'name="q" form="no-form"' in html and 'data-testid="filter-customer-search"' in html
    options = client.get(reverse("web:party_autocomplete"), {"q": "老客户", "all": "1"})
    assert options.content.decode().strip() == (
        f'<option value="">全部客户</option><option value="{older.pk}">老客户有限公司</option>'
    )
    none = client.get(reverse("web:party_autocomplete"), {"q": "没有这个", "all": "1"})
    assert "disabled" in none.content.decode()
