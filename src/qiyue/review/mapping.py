"""From extracted key terms to the fields of a contract's record, and back to words.

The extractor names its fields as the labelled sets do (``signing_date``,
``total_amount`` …); the record has its own (``signed_date``, ``amount`` …). A proposal
is stored under the record's field name with a JSON value in one canonical form per
field (dates as ISO strings, amounts as ``{"amount": "1200.00", "currency": "CNY"}``,
the counterparty as ``{"name": ..., "alternatives": [...]}``), which :func:`contract_data`
turns into the ``data`` of ``contracts.actions.update_contract``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from qiyue.contracts.lifecycle import ALWAYS_EDITABLE_FIELDS, EDITABLE_STATES
from qiyue.contracts.models import Contract
from qiyue.lib.money import CURRENCIES, MoneyError, format_money, parse_amount
from qiyue.lib.text import normalize_company_name
from qiyue.review.extraction.base import Proposal as Extracted
from qiyue.review.extraction.base import Proposals, clause_around

#: Proposals at or above this confidence are taken by "accept all high-confidence".
HIGH_CONFIDENCE = 0.8
#: The record fields proposals are made for, in the order the page shows them.
LABELS: dict[str, Any] = {
    "title": gettext_lazy("Title"),
    "counterparty": gettext_lazy("Customer"),
    "amount": gettext_lazy("Amount"),
    "tax_rate": gettext_lazy("Tax rate"),
    "signed_date": gettext_lazy("Signed on"),
    "effective_date": gettext_lazy("Effective from"),
    "expiry_date": gettext_lazy("Expires on"),
    "auto_renew": gettext_lazy("Renews automatically"),
    "renewal_term_months": gettext_lazy("Renewal term (months)"),
    "notice_period_days": gettext_lazy("Notice period (days)"),
    "payment_terms": gettext_lazy("Payment terms"),
}
FIELDS = tuple(LABELS)
DATES = {
    "signing_date": "signed_date",
    "effective_date": "effective_date",
    "expiration_date": "expiry_date",
}
INTS = {"renewal_term_months": (1, 600), "notice_period_days": (0, 3650)}
#: How an edited value is typed in the page's form.
INPUT_TYPES = {
    "title": "text",
    "counterparty": "party",
    "amount": "amount",
    "tax_rate": "number",
    "signed_date": "date",
    "effective_date": "date",
    "expiry_date": "date",
    "auto_renew": "bool",
    "renewal_term_months": "number",
    "notice_period_days": "number",
    "payment_terms": "textarea",
}
EXCERPT_CONTEXT = 160
EXCERPT_MAX = 1500


@dataclass(frozen=True)
class Draft:
    """A proposal about to be stored."""

    field: str
    value: Any
    confidence: float
    start: int
    end: int
    excerpt: str = ""
    excerpt_start: int = 0


def excerpt_of(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence around ``text[start:end]`` (bounded), and where it starts."""
    if end <= start:
        return "", 0
    s, e = clause_around(text, start, end, limit=EXCERPT_CONTEXT)
    s, e = min(s, start), max(e, end)
    if e - s > EXCERPT_MAX:
        s = max(s, start - EXCERPT_CONTEXT)
        e = min(e, max(end, s + EXCERPT_MAX))
    return text[s:e], s


def _draft(field: str, value: Any, p: Extracted, text: str) -> Draft:
    excerpt, at = excerpt_of(text, p.start, p.end)
    return Draft(field, value, round(float(p.confidence), 2), p.start, p.end, excerpt, at)


def from_extraction(found: Proposals, text: str) -> list[Draft]:
    """The record-field proposals for what the extractor found in ``text``. Only values
    with evidence in the text (a span) and within the record's limits are proposed."""
    out: list[Draft] = []

    def evident(name: str) -> Extracted | None:
        p = found.get(name)
        return p if p is not None and p.end > p.start and p.value not in (None, "") else None

    if p := evident("title"):
        out.append(_draft("title", str(p.value).strip()[:200], p, text))
    a, b = evident("party_a"), evident("party_b")
    first = a or b
    if first is not None:
        other = b if first is a else None
        names = [str(other.value).strip()] if other is not None else []
        value = {"name": str(first.value).strip()[:200], "alternatives": names}
        out.append(_draft("counterparty", value, first, text))
    if p := evident("total_amount"):
        try:
            amount = parse_amount(p.value)
        except MoneyError:
            pass
        else:
            cur = found.get("currency")
            currency = cur.value if cur is not None and cur.value in CURRENCIES else None
            out.append(_draft("amount", {"amount": str(amount), "currency": currency}, p, text))
    if p := evident("tax_rate"):
        try:
            rate = Decimal(str(p.value))
        except InvalidOperation:
            rate = Decimal(-1)
        if Decimal(0) <= rate <= Decimal(100):
            out.append(_draft("tax_rate", str(rate.quantize(Decimal("0.01"))), p, text))
    for source, target in DATES.items():
        p = evident(source)
        if p is not None and isinstance(p.value, date):
            out.append(_draft(target, p.value.isoformat(), p, text))
    p = evident("auto_renewal")
    if p is not None and isinstance(p.value, bool):
        out.append(_draft("auto_renew", p.value, p, text))
    for name, (low, high) in INTS.items():
        p = evident(name)
        if p is not None and isinstance(p.value, int) and low <= p.value <= high:
            out.append(_draft(name, int(p.value), p, text))
    if p := evident("payment_schedule"):
        terms = " ".join(text[p.start : p.end].split())[:2000]
        if terms:
            out.append(_draft("payment_terms", terms, p, text))
    return out


# -- the record's side ---------------------------------------------------------------------


def record_value(contract: Contract, field: str) -> Any:
    """The record's current value of ``field`` in the proposals' canonical form."""
    if field == "counterparty":
        return contract.counterparty_id
    if field == "amount":
        amount = contract.amount
        return {"amount": None if amount is None else str(amount), "currency": contract.currency}
    value = getattr(contract, field)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def same_as_record(contract: Contract, field: str, value: Any) -> bool:
    """Whether the record already holds ``value`` (the proposal would change nothing)."""
    current = record_value(contract, field)
    if field == "counterparty":
        party = contract.counterparty
        keys = {normalize_company_name(party.name), normalize_company_name(party.short_name)}
        return normalize_company_name(str(value.get("name", ""))) in keys - {""}
    if field == "amount":
        if current["amount"] is None:
            return False
        currency = value.get("currency") or current["currency"]
        return Decimal(current["amount"]) == Decimal(value["amount"]) and (
            currency == current["currency"]
        )
    if field == "tax_rate":
        return current is not None and Decimal(current) == Decimal(str(value))
    if field == "payment_terms":
        return " ".join(str(current or "").split()) == " ".join(str(value).split())
    return bool(current == value)


def editable(contract: Contract, field: str) -> bool:
    """Whether the record's ``field`` may change in the contract's current state."""
    return contract.state in EDITABLE_STATES or field in ALWAYS_EDITABLE_FIELDS


def contract_data(field: str, value: Any) -> dict[str, Any]:
    """The ``data`` for ``update_contract`` that sets ``field`` to ``value`` (a proposal's
    value or a person's edit of it; the edit action checks and converts it)."""
    if field == "amount":
        if not isinstance(value, dict):
            value = {"amount": value}
        data = {"amount": value.get("amount")}
        if value.get("currency"):
            data["currency"] = value["currency"]
        return data
    return {field: value}


# -- words -------------------------------------------------------------------------------


def display(field: str, value: Any, *, party_names: dict[int, str] | None = None) -> str:
    """A value (proposed or current) as the page shows it."""
    if value in (None, ""):
        return "—"
    if field == "counterparty":
        if isinstance(value, dict):
            return str(value.get("name", ""))
        return (party_names or {}).get(value, f"#{value}")
    if field == "amount":
        if not isinstance(value, dict) or value.get("amount") in (None, ""):
            return "—"
        try:
            amount = Decimal(str(value["amount"]))
        except InvalidOperation:
            return str(value["amount"])
        currency = value.get("currency") or "CNY"
        return format_money(amount, currency, language=get_language() or "zh-hans")
    if field == "tax_rate":
        return f"{value}%"
    if field in {"signed_date", "effective_date", "expiry_date"}:
        try:
            return str(date_format(date.fromisoformat(str(value)), "DATE_FORMAT"))
        except ValueError:
            return str(value)
    if field == "auto_renew":
        return _("Yes") if value else _("No")
    return str(value)


def edit_input(field: str, value: Any) -> str:
    """The proposed value as the edit form's input shows it first."""
    if field == "amount" and isinstance(value, dict):
        return str(value.get("amount") or "")
    if field == "auto_renew":
        return "true" if value else "false"
    if field == "counterparty" and isinstance(value, dict):
        return str(value.get("name", ""))
    return "" if value is None else str(value)
