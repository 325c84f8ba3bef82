"""Payment plans, payments, invoices and obligations over REST, per persona."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from qiyue.obligations.models import Payment
from tests.factories import make_contract

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


def _active(org: Any) -> Any:
    return make_contract(org.sales1, state="active", amount="100000", tax_rate="6")


def test_owner_plans_finance_pays_and_invoices(org: Any, api: Any) -> None:
    c = _active(org)
    owner, finance = api(org.sales1), api(org.finance)
    r = owner.post_json(
        f"{BASE}/contracts/{c.pk}/instalments",
        {"label": "首付款", "percent": "30", "due_date": "2026-01-31"},
    )
    assert r.status_code == 201, r.content
    inst = r.json()
    assert inst["amount"] == "30000.00" and inst["outstanding"] == "30000.00"
    r = finance.post_json(
        f"{BASE}/contracts/{c.pk}/payments",
        {"amount": "35000", "received_on": timezone.localdate().isoformat()},
    )
    assert r.status_code == 201, r.content
    assert r.json()["allocations"] == [{"instalment": inst["id"], "amount": "30000.00"}]
    assert r.json()["unallocated"] == "5000.00"
    r = finance.post_json(
        f"{BASE}/contracts/{c.pk}/invoices",
        {
            "number": "44440001",
            "amount": "30000",
            "issued_on": "2026-01-31",
            "instalment": inst["id"],
        },
    )
    assert r.status_code == 201 and r.json()["tax"] == "1698.11"
    rec = owner.get(f"{BASE}/contracts/{c.pk}/reconciliation").json()
    assert rec["received"] == "35000.00" and rec["balanced"] is False
    assert len(owner.get(f"{BASE}/contracts/{c.pk}/payments").json()["items"]) == 1
    rows = finance.get(f"{BASE}/receivables", {"by": "customer"}).json()
    assert rows[0]["planned"] == "30000.00" and rows[0]["outstanding"] == "0.00"


def test_outsider_gets_404_and_owner_cannot_record_payments(org: Any, api: Any) -> None:
    c = _active(org)
    outsider = api(org.sales2)
    for path in ("instalments", "payments", "invoices", "obligations", "reconciliation"):
        assert outsider.get(f"{BASE}/contracts/{c.pk}/{path}").status_code == 404
    r = outsider.post_json(
        f"{BASE}/contracts/{c.pk}/payments", {"amount": "1", "received_on": "2026-01-01"}
    )
    assert r.status_code == 404
    r = api(org.sales1).post_json(
        f"{BASE}/contracts/{c.pk}/payments", {"amount": "1", "received_on": "2026-01-01"}
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert not Payment.objects.exists()
    assert api(org.sales2).get(f"{BASE}/receivables").json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "-1", "received_on": "2026-01-01"},
        {"amount": "abc", "received_on": "2026-01-01"},
        {"amount": "1", "received_on": "2026-13-01"},
        {"amount": "1", "received_on": "2026-01-01", "method": "gold"},
        {"amount": "1", "received_on": "2026-01-01", "extra": 1},
        {"amount": "1", "received_on": "2026-01-01", "note": "x" * 501},
    ],
)
def test_bad_payment_answers_400(org: Any, api: Any, body: dict[str, Any]) -> None:
    c = _active(org)
    r = api(org.finance).post_json(f"{BASE}/contracts/{c.pk}/payments", body)
    assert r.status_code == 400, r.content
    assert not Payment.objects.exists()


def test_obligations_created_and_listed(org: Any, api: Any) -> None:
    c = _active(org)
    owner = api(org.sales1)
    r = owner.post_json(
        f"{BASE}/contracts/{c.pk}/obligations",
        {"title": "年度审计", "kind": "audit", "due_date": "2026-12-31", "recurrence": "yearly"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["owner"] == org.sales1.pk
    assert [o["title"] for o in owner.get(f"{BASE}/obligations").json()["items"]] == ["年度审计"]
    assert api(org.sales2).get(f"{BASE}/obligations").json()["items"] == []
    r = api(org.viewer).post_json(
        f"{BASE}/contracts/{c.pk}/obligations", {"title": "x", "due_date": "2026-12-31"}
    )
    assert r.status_code == 403
