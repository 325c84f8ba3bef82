"""The product's URLs plus raw baselines for the benchmarks."""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

BARE_SQL = """
SELECT c.id, c.number, c.title, c.state, c.amount, c.currency, c.expiry_date,
       t.code, p.name, u.username
FROM contracts_contract c
JOIN contracts_contracttype t ON t.id = c.contract_type_id
JOIN parties_party p ON p.id = c.counterparty_id
JOIN accounts_user u ON u.id = c.owner_id
ORDER BY c.id DESC
LIMIT %s
"""


def bare_contracts(request: HttpRequest) -> HttpResponse:
    """The raw baseline: one SQL query and json.dumps, no auth, no ORM, no framework."""
    size = int(request.GET.get("page_size", "50"))
    with connection.cursor() as cursor:
        cursor.execute(BARE_SQL, [size])
        rows = cursor.fetchall()
    keys = ["id", "number", "title", "state", "amount", "currency", "expiry_date"]
    items = [
        {
            **{
                k: (str(v) if v is not None and k in {"amount", "expiry_date"} else v)
                for k, v in zip(keys, r[:7], strict=True)
            },
            "contract_type": r[7],
            "counterparty": r[8],
            "owner": r[9],
        }
        for r in rows
    ]
    return HttpResponse(json.dumps({"items": items, "next": None}), content_type="application/json")


_PREBUILT: dict[int, list[dict[str, object]]] = {}


def prebuilt_contracts(request: HttpRequest) -> HttpResponse:
    """The issue's baseline: 50 prebuilt dicts (the same page, built once) through
    json.dumps on every request; no auth, no database."""
    size = int(request.GET.get("page_size", "50"))
    if size not in _PREBUILT:
        _PREBUILT[size] = json.loads(bare_contracts(request).content)["items"]
    return HttpResponse(
        json.dumps({"items": _PREBUILT[size], "next": None}), content_type="application/json"
    )


urlpatterns = [
    path("bench/bare-contracts", bare_contracts),
    path("bench/prebuilt-contracts", prebuilt_contracts),
    path("", include("qiyue.urls")),
]
