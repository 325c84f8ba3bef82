"""Records as JSON-ready dicts. Plain functions over rows the queries already loaded
with their relations, so a list page costs no query per row."""

from __future__ import annotations

import functools
import operator
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


# The columns contract_rows_data reads, in the order it unpacks them.
_ROW_COLUMNS = (
    "id", "number", "title", "state", "contract_type_id", "contract_type__code",
    "contract_type__name", "contract_type__name_en", "counterparty_id", "counterparty__name",
    "owner_id", "owner__username", "owner__display_name", "owner__first_name",
    "owner__last_name", "department_id", "department__name", "amount", "currency",
    "tax_rate", "signed_date_text", "effective_date_text", "expiry_date_text", "auto_renew",
    "renewal_term_months", "notice_period_days", "payment_terms", "confidentiality",
    "tag_names", "parent_id", "relation", "notes", "version", "created_at_text",
    "updated_at_text",
)  # fmt: skip


@functools.lru_cache(maxsize=8)
def _row_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving the :data:`_ROW_COLUMNS` of a row whose columns are ``names``."""
    return operator.itemgetter(*(names.index(n) for n in _ROW_COLUMNS))


def contract_rows_data(names: tuple[str, ...], rows: list[Any]) -> list[dict[str, Any]]:
    """``contract_data`` for rows of ``queries.contract_values_page_after`` (values in the
    order of ``names``; dates and times already the API's text); the same JSON. The
    columns are taken out of each row at once, by position: a dict a row, then a key
    look-up a field, cost more than the rest of the serialisation."""
    if not rows:
        return []
    english = (get_language() or "").startswith("en")
    get = _row_getter(names)
    out = []
    for row in rows:
        (
            pk, number, title, state, type_id, type_code, type_name, type_name_en, party_id,
            party_name, owner_id, username, display_name, first_name, last_name, dept_id,
            dept_name, amount, currency, tax_rate, signed, effective, expiry, auto_renew,
            renewal_months, notice_days, payment_terms, confidentiality, tags, parent_id,
            relation, notes, version, created, updated,
        ) = get(row)  # fmt: skip
        out.append(
            {
                "id": pk,
                "number": number,
                "title": title,
                "state": state,
                "contract_type": {
                    "id": type_id,
                    "code": type_code,
                    "name": (type_name_en if english else "") or type_name,
                },
                "counterparty": {"id": party_id, "name": party_name},
                "owner": {
                    "id": owner_id,
                    "username": username,
                    "display_name": display_name or f"{first_name} {last_name}".strip() or username,
                },
                "department": None if dept_id is None else {"id": dept_id, "name": dept_name},
                "amount": decimal_text(amount),
                "currency": currency,
                "tax_rate": decimal_text(tax_rate),
                "signed_date": signed,
                "effective_date": effective,
                "expiry_date": expiry,
                "auto_renew": auto_renew,
                "renewal_term_months": renewal_months,
                "notice_period_days": notice_days,
                "payment_terms": payment_terms,
                "confidentiality": confidentiality,
                "tags": tags,
                "parent": parent_id,
                "relation": relation,
                "notes": notes,
                "version": version,
                "created_at": created,
                "updated_at": updated,
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
