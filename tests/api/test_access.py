"""Who sees what through the API: every route, every persona.

sales1 owns the records; colleague (same department, own-records scope) and sales2
(another department) must not see them at all (404, absent from lists); head1 (head of
the department) and viewer (department scope, read-only) see them but may not edit."""

from __future__ import annotations

from typing import Any

import pytest

from qiyue.accounts import actions as account_actions
from tests.factories import make_contract, make_party

SEE_CONTRACT = ["sales1", "head1", "viewer", "manager", "legal", "admin"]
HIDDEN_CONTRACT = ["colleague", "sales2"]
SEE_PARTY = ["sales1", "head1", "viewer", "manager", "admin"]
HIDDEN_PARTY = ["colleague", "sales2"]


@pytest.fixture
def record(org: Any) -> Any:
    party = make_party(org.sales1)
    contract = make_contract(org.sales1, party=party)
    return contract


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize("persona", SEE_CONTRACT)
def test_contract_is_listed_and_readable_for_those_who_may_see_it(org, api, record, persona):
    client = api(getattr(org, persona))
    assert record.pk in _ids(client.get("/api/v1/contracts"))
    response = client.get(f"/api/v1/contracts/{record.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == record.pk
    assert response.headers["ETag"] == record.etag


@pytest.mark.parametrize("persona", HIDDEN_CONTRACT)
def test_contract_of_another_user_is_absent_and_404_on_every_route(org, api, record, persona):
    client = api(getattr(org, persona))
    assert record.pk not in _ids(client.get("/api/v1/contracts"))
    url = f"/api/v1/contracts/{record.pk}"
    assert client.get(url).status_code == 404
    patched = client.patch_json(url, {"title": "x"}, headers={"If-Match": record.etag})
    assert patched.status_code == 404
    assert patched.json()["code"] == "not_found"
    moved = client.post_json(f"{url}/transitions", {"to": "approved"})
    assert moved.status_code == 404
    record.refresh_from_db()
    assert record.state == "draft"
    assert record.version == 1


def test_outsider_gets_404_for_contract_of_other_department(org, api, record):
    response = api(org.sales2).get(f"/api/v1/contracts/{record.pk}")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": response.json()["message"],
        "errors": {},
    }


@pytest.mark.parametrize("persona", ["head1", "viewer"])
def test_readers_who_may_not_edit_get_403_on_patch_and_nothing_changes(org, api, record, persona):
    client = api(getattr(org, persona))
    url = f"/api/v1/contracts/{record.pk}"
    response = client.patch_json(url, {"title": "changed"}, headers={"If-Match": record.etag})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    record.refresh_from_db()
    assert record.title != "changed"


@pytest.mark.parametrize("persona", ["head1", "viewer"])
def test_readers_without_the_permission_get_403_for_a_transition(org, api, record, persona):
    # Submitting needs "change" on the contract, which readers lack (approving is no
    # longer a contract transition but a decision on an approval task).
    response = api(getattr(org, persona)).post_json(
        f"/api/v1/contracts/{record.pk}/transitions", {"to": "in_review"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    record.refresh_from_db()
    assert record.state == "draft"


def test_owner_may_edit_and_submit_own_contract(org, api, record):
    client = api(org.sales1)
    url = f"/api/v1/contracts/{record.pk}"
    assert (
        client.patch_json(url, {"notes": "n"}, headers={"If-Match": record.etag}).status_code == 200
    )
    moved = client.post_json(f"{url}/transitions", {"to": "in_review"})
    assert moved.status_code == 200
    assert moved.json()["state"] == "in_review"


@pytest.mark.parametrize("persona", SEE_PARTY)
def test_party_is_listed_and_readable_for_those_who_may_see_it(org, api, record, persona):
    client = api(getattr(org, persona))
    party_id = record.counterparty_id
    assert party_id in _ids(client.get("/api/v1/parties"))
    response = client.get(f"/api/v1/parties/{party_id}")
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{party_id}-1"'


@pytest.mark.parametrize("persona", HIDDEN_PARTY)
def test_party_of_another_user_is_absent_and_404_on_every_route(org, api, record, persona):
    client = api(getattr(org, persona))
    party_id = record.counterparty_id
    assert party_id not in _ids(client.get("/api/v1/parties"))
    url = f"/api/v1/parties/{party_id}"
    assert client.get(url).status_code == 404
    patched = client.patch_json(url, {"notes": "x"}, headers={"If-Match": f'"{party_id}-1"'})
    assert patched.status_code == 404


@pytest.mark.parametrize("persona", ["head1", "viewer"])
def test_party_readers_who_may_not_edit_get_403_on_patch(org, api, record, persona):
    party_id = record.counterparty_id
    response = api(getattr(org, persona)).patch_json(
        f"/api/v1/parties/{party_id}", {"notes": "x"}, headers={"If-Match": f'"{party_id}-1"'}
    )
    assert response.status_code == 403


def test_viewer_may_not_create_contracts_or_parties(org, api):
    client = api(org.viewer)
    party = make_party(org.sales1)
    created = client.post_json(
        "/api/v1/contracts",
        {"title": "t", "contract_type": org.types["XS"].pk, "counterparty": party.pk},
    )
    assert created.status_code == 403
    assert client.post_json("/api/v1/parties", {"name": "某某公司"}).status_code == 403


ROUTES = [
    ("get", "/api/v1/contracts"),
    ("post", "/api/v1/contracts"),
    ("get", "/api/v1/contracts/{c}"),
    ("patch", "/api/v1/contracts/{c}"),
    ("post", "/api/v1/contracts/{c}/transitions"),
    ("get", "/api/v1/contract-types"),
    ("get", "/api/v1/parties"),
    ("post", "/api/v1/parties"),
    ("get", "/api/v1/parties/{p}"),
    ("patch", "/api/v1/parties/{p}"),
    ("get", "/api/v1/me"),
]


def _call(client: Any, method: str, url: str) -> Any:
    if method == "get":
        return client.get(url)
    return getattr(client, f"{method}_json")(url, {})


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_anonymous_caller_gets_401_json_on_every_route(org, api, record, method, url):
    url = url.format(c=record.pk, p=record.counterparty_id)
    response = _call(api(None), method, url)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_revoked_token_gets_401_on_every_route(org, record, method, url):
    from tests.api.conftest import ApiClient

    token, raw = account_actions.create_api_token(actor=org.sales1, user=org.sales1, name="t")
    account_actions.revoke_api_token(actor=org.sales1, token=token)
    url = url.format(c=record.pk, p=record.counterparty_id)
    assert _call(ApiClient(raw), method, url).status_code == 401


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer qy_wrong", "Basic abc", "Bearer"])
def test_malformed_or_unknown_credentials_get_401(org, header):
    from tests.api.conftest import ApiClient

    client = ApiClient(headers={"Authorization": header})
    assert client.get("/api/v1/me").status_code == 401


def test_token_of_deactivated_user_gets_401(org, api):
    client = api(org.sales1)
    org.sales1.is_active = False
    org.sales1.save(update_fields=["is_active"])
    assert client.get("/api/v1/me").status_code == 401


def test_logged_in_browser_user_may_read_with_the_session(org, login, record):
    client = login(org.sales1)
    assert client.get(f"/api/v1/contracts/{record.pk}").status_code == 200
    assert login(org.sales2).get(f"/api/v1/contracts/{record.pk}").status_code == 404


def test_session_writes_need_the_csrf_token(org, record):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.sales1)
    body = {"name": "跨站请求测试有限公司"}
    refused = client.post("/api/v1/parties", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf"
    page = client.get("/api/v1/docs")
    token = client.cookies["csrftoken"].value
    assert token
    assert page.status_code == 200
    accepted = client.post(
        "/api/v1/parties", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201, accepted.content


def test_me_tells_who_the_token_belongs_to(org, api):
    data = api(org.sales1).get("/api/v1/me").json()
    assert data["username"] == "sales1"
    assert data["department"]["name"] == "销售一部"
    assert data["role"]["code"] == "sales"
    assert "contract.create" in data["permissions"]
    assert "admin" not in data["permissions"]
    assert data["is_admin"] is False
    assert api(org.admin).get("/api/v1/me").json()["is_admin"] is True


def test_contract_types_lists_active_types(org, api):
    items = api(org.sales2).get("/api/v1/contract-types").json()["items"]
    codes = {item["code"] for item in items}
    assert {"XS", "FW", "BC"} <= codes
    assert all(set(item) == {"id", "code", "name"} for item in items)
