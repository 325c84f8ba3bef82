"""Customers through the API: create, read with contacts, edit with If-Match."""

from __future__ import annotations

import pytest

from qiyue.parties import actions as party_actions
from qiyue.parties.models import Party
from tests.factories import make_party, valid_credit_code


def test_sales_creates_a_customer_and_gets_it_back_with_etag(org, api):
    code = valid_credit_code()
    response = api(org.sales1).post_json(
        "/api/v1/parties",
        {"name": "上海示例科技有限公司", "credit_code": code, "industry": "软件"},
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "上海示例科技有限公司"
    assert data["credit_code"] == code
    assert data["owner"]["username"] == "sales1"
    assert data["department"]["name"] == "销售一部"
    assert data["contacts"] == []
    assert data["status"] == "active"
    assert response.headers["ETag"] == f'"{data["id"]}-1"'
    assert response.headers["Location"] == f"/api/v1/parties/{data['id']}"


def test_party_detail_lists_its_contacts(org, api):
    party = make_party(org.sales1)
    party_actions.add_contact(
        actor=org.sales1, party=party, data={"name": "王经理", "email": "wang@example.com"}
    )
    data = api(org.sales1).get(f"/api/v1/parties/{party.pk}").json()
    assert [(c["name"], c["email"]) for c in data["contacts"]] == [("王经理", "wang@example.com")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "名" * 201}, "name"),
        ({"name": "某公司", "credit_code": "123"}, "credit_code"),
        ({"name": "某公司", "status": "sleeping"}, "status"),
        ({"name": "某公司", "owner": 1}, "owner"),
        ({"name": "某\x00公司"}, "name"),
        ({}, "name"),
    ],
)
def test_bad_customer_input_is_400_naming_the_field(org, api, body, field):
    response = api(org.sales1).post_json("/api/v1/parties", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Party.objects.exists()


def test_duplicate_customer_name_is_refused_even_if_invisible(org, api):
    make_party(org.sales2, name="北京重复有限公司")
    response = api(org.sales1).post_json("/api/v1/parties", {"name": "北京重复有限公司"})
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_script_in_customer_name_is_returned_verbatim(org, api):
    name = "<img src=x onerror=alert(1)>公司"
    response = api(org.sales1).post_json("/api/v1/parties", {"name": name})
    assert response.status_code == 201
    assert b"<img" not in response.content
    assert response.json()["name"] == name


def test_patch_customer_with_current_etag(org, api):
    party = make_party(org.sales1)
    client = api(org.sales1)
    url = f"/api/v1/parties/{party.pk}"
    etag = client.get(url).headers["ETag"]
    response = client.patch_json(url, {"address": "上海市浦东新区"}, headers={"If-Match": etag})
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "上海市浦东新区"
    assert response.json()["version"] == 2
    assert response.headers["ETag"] == f'"{party.pk}-2"'


def test_patch_customer_with_stale_etag_is_412_and_changes_nothing(org, api):
    party = make_party(org.sales1)
    party_actions.update_party(actor=org.sales1, party=party, data={"notes": "x"}, version=1)
    response = api(org.sales1).patch_json(
        f"/api/v1/parties/{party.pk}", {"address": "旧"}, headers={"If-Match": f'"{party.pk}-1"'}
    )
    assert response.status_code == 412
    assert response.json()["code"] == "stale"
    party.refresh_from_db()
    assert party.address == ""


def test_patch_customer_without_if_match_is_428(org, api):
    party = make_party(org.sales1)
    response = api(org.sales1).patch_json(f"/api/v1/parties/{party.pk}", {"address": "x"})
    assert response.status_code == 428


def test_a_concurrent_customer_edit_caught_by_the_action_is_a_412(org, api, monkeypatch):
    party = make_party(org.sales1)

    def racing(**kwargs):
        raise party_actions.StaleEdit()

    monkeypatch.setattr(party_actions, "update_party", racing)
    response = api(org.sales1).patch_json(
        f"/api/v1/parties/{party.pk}", {"address": "x"}, headers={"If-Match": f'"{party.pk}-1"'}
    )
    assert response.status_code == 412


def test_a_refusal_by_the_action_itself_is_a_403(org, api, monkeypatch):
    party = make_party(org.sales1)

    def refusing(**kwargs):
        raise party_actions.NotAllowed()

    monkeypatch.setattr(party_actions, "update_party", refusing)
    response = api(org.sales1).patch_json(
        f"/api/v1/parties/{party.pk}", {"address": "x"}, headers={"If-Match": f'"{party.pk}-1"'}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
