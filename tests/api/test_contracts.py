"""Creating, editing and moving contracts through the API, and refusing bad input."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.utils import translation

from qiyue.accounts import actions as account_actions
from qiyue.approvals import actions as approval_actions
from qiyue.contracts import actions as contract_actions
from qiyue.contracts.models import Contract
from tests.factories import make_contract, make_party

SCRIPT = '<script>alert("x")</script>'


@pytest.fixture
def party(org: Any) -> Any:
    return make_party(org.sales1)


def _new(org: Any, party: Any, **extra: Any) -> dict[str, Any]:
    return {
        "title": "年度软件服务合同",
        "contract_type": org.types["FW"].pk,
        "counterparty": party.pk,
        "amount": "1200000.00",
        **extra,
    }


def test_sales_creates_a_contract_and_gets_it_back_with_etag_and_location(org, api, party):
    body = _new(
        org,
        party,
        tax_rate=13,
        effective_date="2025-01-01",
        expiry_date="2025-12-31",
        auto_renew=True,
        renewal_term_months=12,
        notice_period_days=30,
        tags=["战略客户", "renewal-risk"],
        payment_terms="30% 预付",
        confidentiality="confidential",
    )
    response = api(org.sales1).post_json("/api/v1/contracts", body)
    assert response.status_code == 201, response.content
    data = response.json()
    contract = Contract.objects.get(pk=data["id"])
    assert response.headers["ETag"] == contract.etag
    assert response.headers["Location"] == f"/api/v1/contracts/{contract.pk}"
    assert data["number"].startswith("FW-")
    assert data["state"] == "draft"
    assert data["amount"] == "1200000.00"
    assert data["tax_rate"] == "13.00"
    assert data["currency"] == "CNY"
    assert data["effective_date"] == "2025-01-01"
    assert data["expiry_date"] == "2025-12-31"
    assert data["tags"] == ["renewal-risk", "战略客户"]
    assert data["owner"]["username"] == "sales1"
    assert data["department"]["name"] == "销售一部"
    assert data["contract_type"] == {"id": org.types["FW"].pk, "code": "FW", "name": "服务合同"}
    assert data["counterparty"] == {"id": party.pk, "name": party.name}
    assert data["transitions"] == ["in_review"]
    assert data["version"] == 1


def test_amount_may_be_a_json_number(org, api, party):
    response = api(org.sales1).post_json("/api/v1/contracts", _new(org, party, amount=1500.5))
    assert response.status_code == 201
    assert response.json()["amount"] == "1500.50"


def test_full_lifecycle_draft_approved_by_manager_then_active(org, api, party):
    sales, manager = api(org.sales1), api(org.manager)
    created = sales.post_json("/api/v1/contracts", _new(org, party)).json()
    url = f"/api/v1/contracts/{created['id']}"

    assert manager.get(url).json()["transitions"] == []  # approval is the workflow's
    submitted = sales.post_json(f"{url}/transitions", {"to": "in_review"})
    assert submitted.status_code == 200, submitted.content
    # The default workflow: the department head, then legal, decide on their tasks.
    for approver in (org.head1, org.legal):
        client = api(approver)
        tasks = client.get("/api/v1/approvals/tasks?assignee=me").json()["items"]
        (task,) = [t for t in tasks if t["contract"]["id"] == created["id"]]
        decided = client.post_json(
            f"/api/v1/approvals/tasks/{task['id']}/decision",
            {"decision": "approve", "comment": "同意"},
        )
        assert decided.status_code == 200, decided.content
    approved = sales.get(url)
    assert approved.json()["state"] == "approved"
    assert approved.headers["ETag"] == f'"{created["id"]}-3"'

    assert "active" in sales.get(url).json()["transitions"]
    active = sales.post_json(f"{url}/transitions", {"to": "active"})
    assert active.status_code == 200, active.content
    assert active.json()["state"] == "active"
    assert active.json()["signed_date"] is not None
    assert Contract.objects.get(pk=created["id"]).state == "active"


def test_owner_cannot_approve_own_contract(org, api, party):
    contract = contract_actions.create_contract(
        actor=org.admin,
        data={
            "title": "法务自己的合同",
            "contract_type": org.types["XS"].pk,
            "counterparty": party.pk,
            "amount": "1",
            "owner": org.legal.pk,
        },
    )
    assert contract.owner == org.legal
    approval_actions.save_workflow(
        actor=org.admin,
        name="法务或财务",
        priority=1,
        definition={
            "conditions": {},
            "steps": [
                {"name": "审批", "approvers": ["role:legal", "role:finance"], "quorum": "any"}
            ],
        },
    )
    contract_actions.transition_contract(actor=org.admin, contract=contract, code="submit")
    client = api(org.legal)
    tasks = client.get("/api/v1/approvals/tasks?assignee=me&state=all").json()["items"]
    assert [t for t in tasks if t["contract"]["id"] == contract.pk] == []
    response = client.post_json(f"/api/v1/contracts/{contract.pk}/transitions", {"to": "approved"})
    assert response.status_code == 400
    assert response.json()["code"] == "approval_workflow"
    contract.refresh_from_db()
    assert contract.state == "in_review"


def test_patch_with_current_etag_changes_the_contract(org, api, party):
    contract = make_contract(org.sales1, party=party)
    response = api(org.sales1).patch_json(
        f"/api/v1/contracts/{contract.pk}",
        {"title": "新标题", "amount": "99.90", "tags": ["a"]},
        headers={"If-Match": contract.etag},
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "新标题"
    assert response.json()["amount"] == "99.90"
    assert response.headers["ETag"] == f'"{contract.pk}-2"'
    contract.refresh_from_db()
    assert (contract.title, contract.version) == ("新标题", 2)


def test_patch_with_stale_if_match_gets_412_and_changes_nothing(org, api, party):
    contract = make_contract(org.sales1, party=party)
    old_etag = contract.etag
    client = api(org.sales1)
    url = f"/api/v1/contracts/{contract.pk}"
    first = client.patch_json(url, {"notes": "first"}, headers={"If-Match": old_etag})
    assert first.status_code == 200
    response = client.patch_json(url, {"title": "overwrite"}, headers={"If-Match": old_etag})
    assert response.status_code == 412
    assert response.json()["code"] == "stale"
    contract.refresh_from_db()
    assert contract.title != "overwrite"
    assert contract.version == 2


def test_patch_without_if_match_gets_428(org, api, party):
    contract = make_contract(org.sales1, party=party)
    response = api(org.sales1).patch_json(f"/api/v1/contracts/{contract.pk}", {"title": "x"})
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    assert response.json()["message"]
    contract.refresh_from_db()
    assert contract.version == 1


def test_a_concurrent_edit_caught_by_the_action_is_a_412(org, api, party, monkeypatch):
    contract = make_contract(org.sales1, party=party)

    def racing(**kwargs: Any) -> None:
        raise contract_actions.StaleEdit()

    monkeypatch.setattr(contract_actions, "update_contract", racing)
    response = api(org.sales1).patch_json(
        f"/api/v1/contracts/{contract.pk}", {"title": "x"}, headers={"If-Match": contract.etag}
    )
    assert response.status_code == 412
    assert response.json()["code"] == "stale"


def test_transition_with_stale_if_match_gets_412(org, api, party):
    contract = make_contract(org.sales1, party=party)
    response = api(org.sales1).post_json(
        f"/api/v1/contracts/{contract.pk}/transitions",
        {"to": "in_review"},
        headers={"If-Match": f'"{contract.pk}-99"'},
    )
    assert response.status_code == 412
    contract.refresh_from_db()
    assert contract.state == "draft"


def test_unknown_target_state_is_400_and_impossible_transition_is_409(org, api, party):
    contract = make_contract(org.sales1, party=party)
    client = api(org.sales1)
    url = f"/api/v1/contracts/{contract.pk}/transitions"
    unknown = client.post_json(url, {"to": "flying"})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown_state"
    assert "to" in unknown.json()["errors"]
    impossible = client.post_json(url, {"to": "archived"})
    assert impossible.status_code == 409
    assert impossible.json()["code"] == "invalid_transition"
    missing = client.post_json(url, {})
    assert missing.status_code == 400
    contract.refresh_from_db()
    assert contract.state == "draft"


def test_terminating_without_a_reason_is_409_comment_required(org, api, party):
    contract = make_contract(org.sales1, party=party, state="active")
    client = api(org.manager)
    url = f"/api/v1/contracts/{contract.pk}/transitions"
    refused = client.post_json(url, {"to": "terminated"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "comment_required"
    assert "comment" in refused.json()["errors"]
    assert client.post_json(url, {"to": "terminated", "comment": "客户违约"}).status_code == 200


def test_approving_without_an_amount_is_409_incomplete(org, api, party):
    # Nothing without an amount reaches approval: submitting it is refused.
    contract = make_contract(org.sales1, party=party, amount=None)
    response = api(org.sales1).post_json(
        f"/api/v1/contracts/{contract.pk}/transitions", {"to": "in_review"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "incomplete"
    assert "amount" in response.json()["errors"]


def test_locked_fields_of_an_active_contract_are_409(org, api, party):
    contract = make_contract(org.sales1, party=party, state="active")
    client = api(org.sales1)
    url = f"/api/v1/contracts/{contract.pk}"
    locked = client.patch_json(url, {"amount": "1"}, headers={"If-Match": contract.etag})
    assert locked.status_code == 409
    assert locked.json()["code"] == "state"
    notes = client.patch_json(url, {"notes": "ok"}, headers={"If-Match": contract.etag})
    assert notes.status_code == 200


def test_script_in_title_is_stored_and_returned_verbatim_as_escaped_json(org, api, party):
    client = api(org.sales1)
    response = client.post_json("/api/v1/contracts", _new(org, party, title=SCRIPT))
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")
    assert b"<script>" not in response.content
    assert response.json()["title"] == SCRIPT
    assert Contract.objects.get(pk=response.json()["id"]).title == SCRIPT
    listed = client.get("/api/v1/contracts")
    assert b"<script>" not in listed.content
    assert listed.json()["items"][0]["title"] == SCRIPT


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"title": "长" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "1e100"}, "amount"),
        ({"amount": True}, "amount"),
        ({"tax_rate": "101"}, "tax_rate"),
        ({"effective_date": "2025-06-01", "expiry_date": "2025-01-01"}, "expiry_date"),
        ({"expiry_date": "2025-02-30"}, "expiry_date"),
        ({"currency": "XXX"}, "currency"),
        ({"contract_type": 999999}, "contract_type"),
        ({"contract_type": 10**30}, "contract_type"),
        ({"contract_type": "abc"}, "contract_type"),
        ({"counterparty": None}, "counterparty"),
        ({"renewal_term_months": 10**12}, "renewal_term_months"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"tags": "not-a-list"}, "tags"),
        ({"notes": "a\x00b"}, "notes"),
        ({"payment_terms": "p" * 2001}, "payment_terms"),
        ({"relation": "order"}, "parent"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_contract_input_is_400_naming_the_field(org, api, party, extra, field):
    before = Contract.objects.count()
    response = api(org.sales1).post_json("/api/v1/contracts", _new(org, party, **extra))
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "invalid"
    assert field in data["errors"], data
    assert Contract.objects.count() == before


def test_counterparty_the_user_cannot_see_is_refused(org, api):
    hidden = make_party(org.sales2)
    response = api(org.sales1).post_json("/api/v1/contracts", _new(org, hidden))
    assert response.status_code == 400
    assert "counterparty" in response.json()["errors"]


def test_patch_refuses_unknown_fields_and_bad_dates(org, api, party):
    contract = make_contract(org.sales1, party=party, effective_date="2025-06-01")
    client = api(org.sales1)
    url = f"/api/v1/contracts/{contract.pk}"
    headers = {"If-Match": contract.etag}
    assert client.patch_json(url, {"state": "active"}, headers=headers).status_code == 400
    earlier = client.patch_json(url, {"expiry_date": "2025-01-01"}, headers=headers)
    assert earlier.status_code == 400
    assert "expiry_date" in earlier.json()["errors"]
    contract.refresh_from_db()
    assert (contract.state, contract.version) == ("draft", 1)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"text"', b"{", json.dumps({"title": "x" * 3_000_000}).encode()],
)
def test_malformed_or_oversized_bodies_are_400(org, api, body):
    response = api(org.sales1).post("/api/v1/contracts", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert Contract.objects.count() == 0


def test_error_messages_come_in_chinese_for_a_chinese_user(org, api, party):
    assert org.sales1.language == "zh-hans"
    response = api(org.sales1).post_json("/api/v1/contracts", {"counterparty": party.pk})
    assert response.status_code == 400
    message = response.json()["errors"]["title"]
    with translation.override("zh-hans"):
        assert message == translation.gettext("This field is required.")
    assert re.search(r"[\u4e00-\u9fff]", message), message  # e.g. 这个字段是必填项。


def test_error_messages_come_in_english_for_an_english_user(org, api, party):
    account_actions.set_language(actor=org.sales1, language="en")
    client = api(org.sales1)
    response = client.post_json(
        "/api/v1/contracts", {"counterparty": party.pk}, headers={"Accept-Language": "zh-hans"}
    )
    assert response.json()["errors"]["title"] == "This field is required."
    contract = make_contract(org.sales1, party=party)
    moved = client.post_json(f"/api/v1/contracts/{contract.pk}/transitions", {"to": "flying"})
    assert moved.json()["errors"]["to"] == "Unknown state flying."


def test_messages_of_the_domain_follow_the_users_language(org, api, party):
    contract = make_contract(org.sales1, party=party)
    moved = api(org.sales1).post_json(
        f"/api/v1/contracts/{contract.pk}/transitions", {"to": "flying"}
    )
    with translation.override("zh-hans"):
        expected = translation.gettext("Unknown state %(to)s.") % {"to": "flying"}
    assert moved.json()["errors"]["to"] == expected
    assert moved["Content-Language"] == "zh-hans"
