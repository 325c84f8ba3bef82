"""Records as JSON-ready dicts. Plain functions over rows the queries already loaded
with their relations, so a list page costs no query per row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qiyue.accounts.models import Department, User
from qiyue.contracts.models import Contract, ContractType
from qiyue.parties.models import Contact, Party

CENT = Decimal("0.01")


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


def user_ref(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username, "display_name": str(user)}


def department_ref(dept: Department | None) -> dict[str, Any] | None:
    return None if dept is None else {"id": dept.pk, "name": dept.name}


def type_ref(ct: ContractType) -> dict[str, Any]:
    return {"id": ct.pk, "code": ct.code, "name": ct.display_name}


def contract_data(c: Contract) -> dict[str, Any]:
    return {
        "id": c.pk,
        "number": c.number,
        "title": c.title,
        "state": c.state,
        "contract_type": type_ref(c.contract_type),
        "counterparty": {"id": c.counterparty_id, "name": c.counterparty.name},
        "owner": user_ref(c.owner),
        "department": department_ref(c.department),
        "amount": decimal_text(c.amount),
        "currency": c.currency,
        "tax_rate": decimal_text(c.tax_rate),
        "signed_date": c.signed_date,
        "effective_date": c.effective_date,
        "expiry_date": c.expiry_date,
        "auto_renew": c.auto_renew,
        "renewal_term_months": c.renewal_term_months,
        "notice_period_days": c.notice_period_days,
        "payment_terms": c.payment_terms,
        "confidentiality": c.confidentiality,
        "tags": [t.name for t in c.tags.all()],
        "parent": c.parent_id,
        "relation": c.relation,
        "notes": c.notes,
        "version": c.version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def party_data(p: Party) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "short_name": p.short_name,
        "credit_code": p.credit_code,
        "foreign_registration": p.foreign_registration,
        "address": p.address,
        "industry": p.industry,
        "status": p.status,
        "owner": user_ref(p.owner),
        "department": department_ref(p.department),
        "notes": p.notes,
        "version": p.version,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def contact_data(c: Contact) -> dict[str, Any]:
    return {"id": c.pk, "name": c.name, "title": c.title, "phone": c.phone, "email": c.email}
