"""Records as JSON-ready dicts. Plain functions over rows the queries already loaded
with their relations, so a list page costs no query per row."""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import get_language

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


@functools.lru_cache(maxsize=8)
def _row_type(names: tuple[str, ...]) -> Callable[[Any], Any]:
    """Makes a row whose columns are ``names`` readable by name (a named tuple)."""
    return collections.namedtuple("ContractRow", names)._make  # type: ignore[attr-defined]


def contract_rows_data(names: tuple[str, ...], rows: list[Any]) -> list[dict[str, Any]]:
    """``contract_data`` for rows of ``queries.contract_values_page_after`` (values in the
    order of ``names``; dates and times already the API's text); the same JSON. Each
    row is read as a named tuple: a dict a row cost more than the rest of the
    serialisation."""
    english = (get_language() or "").startswith("en")
    make = _row_type(names)
    out = []
    for row in rows:
        r = make(row)
        out.append(
            {
                "id": r.id,
                "number": r.number,
                "title": r.title,
                "state": r.state,
                "contract_type": {
                    "id": r.contract_type_id,
                    "code": r.contract_type__code,
                    "name": (r.contract_type__name_en if english else "") or r.contract_type__name,
                },
                "counterparty": {"id": r.counterparty_id, "name": r.counterparty__name},
                "owner": {
                    "id": r.owner_id,
                    "username": r.owner__username,
                    "display_name": r.owner__display_name
                    or f"{r.owner__first_name} {r.owner__last_name}".strip()
                    or r.owner__username,
                },
                "department": None
                if r.department_id is None
                else {"id": r.department_id, "name": r.department__name},
                "amount": decimal_text(r.amount),
                "currency": r.currency,
                "tax_rate": decimal_text(r.tax_rate),
                "signed_date": r.signed_date_text,
                "effective_date": r.effective_date_text,
                "expiry_date": r.expiry_date_text,
                "auto_renew": r.auto_renew,
                "renewal_term_months": r.renewal_term_months,
                "notice_period_days": r.notice_period_days,
                "payment_terms": r.payment_terms,
                "confidentiality": r.confidentiality,
                "tags": r.tag_names,
                "parent": r.parent_id,
                "relation": r.relation,
                "notes": r.notes,
                "version": r.version,
                "created_at": r.created_at_text,
                "updated_at": r.updated_at_text,
            }
        )
    return out


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
