"""Compliance over REST: findings of visible contracts only, acknowledgement by legal,
rules for administrators (404 for everyone else)."""

from __future__ import annotations

from typing import Any

import pytest

from qiyue.compliance.models import Rule

pytestmark = pytest.mark.django_db


def test_owner_reads_findings(api: Any, org: Any, risky: Any) -> None:
    response = api(org.sales1).get(f"/api/v1/contracts/{risky.pk}/findings")
    assert response.status_code == 200
    data = response.json()
    assert data["risk"]["level"] == "high" and data["risk"]["needs_acknowledgement"] is True
    (finding,) = data["findings"]
    assert finding["code"] == "currency" and finding["rule_name"] == "币种"


@pytest.mark.parametrize("persona", ["colleague", "sales2"])
def test_outsider_gets_404_for_findings(api: Any, org: Any, risky: Any, persona: str) -> None:
    client = api(getattr(org, persona))
    assert client.get(f"/api/v1/contracts/{risky.pk}/findings").status_code == 404
    response = client.post_json(f"/api/v1/contracts/{risky.pk}/findings/acknowledge", {})
    assert response.status_code == 404


def test_unknown_contract_is_404(api: Any, org: Any) -> None:
    assert api(org.admin).get("/api/v1/contracts/999999/findings").status_code == 404


def test_legal_acknowledges_over_the_api(api: Any, org: Any, risky: Any) -> None:
    url = f"/api/v1/contracts/{risky.pk}/findings/acknowledge"
    assert api(org.sales1).post_json(url, {}).status_code == 403
    response = api(org.legal).post_json(url, {"note": "ok"})
    assert response.status_code == 200
    assert response.json()["risk"]["acknowledged_by"] == "legal"
    assert api(org.legal).post_json(url, {}).status_code == 409


def test_rules_are_for_admins_only(api: Any, org: Any, risky: Any) -> None:
    rule = Rule.objects.get()
    for persona in ("sales1", "legal"):
        client = api(getattr(org, persona))
        assert client.get("/api/v1/compliance/rules").status_code == 404
        assert client.get(f"/api/v1/compliance/rules/{rule.pk}").status_code == 404
        created = client.post_json("/api/v1/compliance/rules", {"name": "x", "kind": "currency"})
        assert created.status_code == 404
    listed = api(org.admin).get("/api/v1/compliance/rules")
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["items"]] == [rule.pk]


def test_admin_creates_and_changes_rules(api: Any, org: Any) -> None:
    client = api(org.admin)
    response = client.post_json(
        "/api/v1/compliance/rules",
        {
            "name": "大额",
            "kind": "amount_limit",
            "amount_limit": "1000000",
            "approver_role": "finance",
            "severity": "medium",
        },
    )
    assert response.status_code == 201, response.content
    rule = response.json()
    assert rule["amount_limit"] == "1000000.00"
    changed = client.patch_json(
        f"/api/v1/compliance/rules/{rule['id']}", {"severity": "high", "version": 1}
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.patch_json(
        f"/api/v1/compliance/rules/{rule['id']}", {"severity": "low", "version": 1}
    )
    assert stale.status_code == 412


def test_bad_rule_over_the_api_is_400_and_saves_nothing(api: Any, org: Any) -> None:
    response = api(org.admin).post_json(
        "/api/v1/compliance/rules",
        {"name": "x", "kind": "prohibited_term", "pattern": "(a+)+$"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "pattern" in response.json()["errors"]
    assert not Rule.objects.exists()


def test_admin_deletes_a_rule_over_the_api(api: Any, org: Any, risky: Any) -> None:
    rule = Rule.objects.get()
    assert api(org.sales1).delete(f"/api/v1/compliance/rules/{rule.pk}").status_code == 404
    assert api(org.admin).delete(f"/api/v1/compliance/rules/{rule.pk}").status_code == 204
    assert not Rule.objects.exists()


def test_rule_list_is_paginated_newest_first(api: Any, org: Any, make_rule: Any) -> None:
    rules = [make_rule("currency", name=f"币种 {n}", allowed_currencies=["CNY"]) for n in range(3)]
    client = api(org.admin)
    first = client.get("/api/v1/compliance/rules?page_size=2").json()
    assert [r["id"] for r in first["items"]] == [rules[2].pk, rules[1].pk] and first["next"]
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["items"]] == [rules[0].pk] and second["next"] is None
    assert client.get("/api/v1/compliance/rules?cursor=nonsense").status_code == 400
