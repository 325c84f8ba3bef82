"""A contract imported in bulk is the contract ``create_contract`` makes of the same
values: the same row (bar its number and times), the same values in its audit event
(plus the state and ``via``), and the same errors for the same bad values. The import
writes its rows and events without the ORM, so these pin what it writes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import translation

from qiyue.audit.models import AuditEvent
from qiyue.contracts import actions as contract_actions
from qiyue.contracts.bulk import import_contracts
from qiyue.contracts.models import Contract, ContractType, NumberSequence
from qiyue.contracts.numbering import allocate_numbers
from tests.factories import make_party

pytestmark = pytest.mark.django_db

FULL = {
    "title": "  全字段合同 ✓ ",
    "amount": "1,234,567.895",
    "currency": "USD",
    "tax_rate": "6.5",
    "signed_date": "2026-01-05",
    "effective_date": "2026-01-06",
    "expiry_date": "2027-01-05",
    "auto_renew": "yes",
    "renewal_term_months": "12",
    "notice_period_days": "0",
    "payment_terms": "30 天",
    "confidentiality": "confidential",
    "tags": "乙，甲, 甲",
    "notes": "备注",
}
SPARSE = {"title": "Sparse", "amount": "", "tax_rate": None, "notice_period_days": ""}
COMPARED = [
    f.attname
    for f in Contract._meta.concrete_fields
    if f.name not in {"id", "number", "created_at", "updated_at"}
]


def event_data(contract: Contract) -> dict[str, Any]:
    return AuditEvent.objects.get(
        action="contract.created", target_type="contract", target_id=str(contract.pk)
    ).data


@pytest.mark.parametrize("values", [FULL, SPARSE], ids=["full", "sparse"])
def test_an_imported_contract_is_what_create_contract_makes(
    org: SimpleNamespace, values: dict[str, Any]
) -> None:
    party = make_party(org.admin, name="同一客户有限公司")
    xs = ContractType.objects.get(code="XS")
    created = contract_actions.create_contract(
        actor=org.admin,
        data={**values, "contract_type": xs.pk, "counterparty": party.pk, "owner": org.sales1.pk},
    )
    result = import_contracts(
        org.admin,
        [{**values, "type": "XS", "customer": party.name, "owner": "sales1"}],
        index=False,
    )
    assert result.errors == []
    imported = Contract.objects.get(pk=result.created[0])
    created.refresh_from_db()
    assert [getattr(imported, n) for n in COMPARED] == [getattr(created, n) for n in COMPARED]
    assert sorted(t.name for t in imported.tags.all()) == sorted(t.name for t in created.tags.all())
    assert imported.created_at == imported.updated_at
    assert imported.number[:8] == created.number[:8] and imported.number != created.number

    made, got = event_data(created)["after"], event_data(imported)
    # An empty cell is a value not given (create_contract records the None it sets).
    made = {k: v for k, v in made.items() if values.get(k, "given") not in (None, "")}
    assert got == {"after": {**made, "number": imported.number, "state": "draft"}, "via": "import"}
    if connection.vendor == "sqlite":  # PostgreSQL's jsonb keeps no key order
        names = ("contract_type", "counterparty", "owner", "number", "tags")
        order = [k for k in made if k not in names]
        order += ["owner", "number", "state", "contract_type", "counterparty"]
        assert list(got["after"]) == order + (["tags"] if "tags" in made else [])


def test_the_values_of_the_event_are_text_for_amounts_and_dates(org: SimpleNamespace) -> None:
    party = make_party(org.admin)
    result = import_contracts(
        org.admin, [{**FULL, "type": "XS", "customer": party.name}], index=False
    )
    after = event_data(Contract.objects.get(pk=result.created[0]))["after"]
    assert after["amount"] == "1234567.90" and after["tax_rate"] == "6.50"
    assert (after["signed_date"], after["effective_date"], after["expiry_date"]) == (
        "2026-01-05",
        "2026-01-06",
        "2027-01-05",
    )
    assert after["auto_renew"] is True and after["notice_period_days"] == 0
    assert after["tags"] == ["乙", "甲"] and after["title"] == "全字段合同 ✓"
    contract = Contract.objects.get(pk=result.created[0])
    assert contract.amount == Decimal("1234567.90") and contract.signed_date == date(2026, 1, 5)


BAD = [
    {"amount": "-1"},
    {"amount": "abc", "currency": "XXX", "tax_rate": "101"},
    {"signed_date": "2026-13-01", "expiry_date": "tomorrow"},
    {"effective_date": "2026-02-01", "expiry_date": "2026-01-01"},
    {"signed_date": "2027-01-01", "expiry_date": "2026-01-01"},
    {"auto_renew": "maybe", "renewal_term_months": "0", "notice_period_days": "3651"},
    {"confidentiality": "top", "relation": "amends"},
    {"title": "x" * 201, "notes": "n" * 5001, "payment_terms": "p" * 2001},
    {"title": "   "},
    {"tags": ",".join(f"t{n}" for n in range(21))},
]


@pytest.mark.parametrize("bad", BAD, ids=range(len(BAD)))
def test_bad_values_get_the_errors_of_create_contract(
    org: SimpleNamespace, bad: dict[str, Any]
) -> None:
    party = make_party(org.admin)
    values = {"title": "t", **bad}
    with translation.override("en"):
        with pytest.raises(contract_actions.ContractError) as refused:
            contract_actions.clean_contract_data(actor=org.admin, data=values)
        result = import_contracts(
            org.admin, [{**values, "type": "XS", "customer": party.name}], index=False
        )
    assert result.created == []
    [error] = result.errors
    assert error.errors == refused.value.errors


def test_unknown_columns_are_named_and_the_row_still_checked(org: SimpleNamespace) -> None:
    party = make_party(org.admin)
    with translation.override("en"):
        result = import_contracts(
            org.admin,
            [{"title": "t", "type": "XS", "customer": party.name, "zeta": 1, "alpha": 2}],
            index=False,
        )
    [error] = result.errors
    assert error.errors == {"__all__": "Unknown fields: alpha, zeta"}


def test_numbers_of_a_type_without_a_sequence_yet_start_at_one(org: SimpleNamespace) -> None:
    fresh = ContractType.objects.create(code="NEW", name="新类型", number_pattern="N-{seq:03}")
    with transaction.atomic():
        assert allocate_numbers(fresh, on=date(2026, 5, 1), count=3) == [
            "N-001",
            "N-002",
            "N-003",
        ]
        assert allocate_numbers(fresh, on=date(2027, 5, 1), count=1) == ["N-004"]
    assert NumberSequence.objects.get(contract_type=fresh).last == 4
    yearly = ContractType.objects.create(code="YR", name="年", number_pattern="Y{year}-{seq}")
    with transaction.atomic():
        assert allocate_numbers(yearly, on=date(2026, 5, 1), count=2) == ["Y2026-1", "Y2026-2"]
        assert allocate_numbers(yearly, on=date(2027, 1, 1), count=1) == ["Y2027-1"]
        assert allocate_numbers(yearly, on=date(2026, 12, 31), count=1) == ["Y2026-3"]


def test_a_rolled_back_allocation_leaves_no_gap(org: SimpleNamespace) -> None:
    kind = ContractType.objects.create(code="RB", name="回滚", number_pattern="RB{seq}")
    with pytest.raises(RuntimeError), transaction.atomic():
        allocate_numbers(kind, on=date(2026, 1, 1), count=5)
        raise RuntimeError
    with transaction.atomic():
        assert allocate_numbers(kind, on=date(2026, 1, 1), count=1) == ["RB1"]
