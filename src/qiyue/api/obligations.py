"""Payment plans, payments, invoices, obligations and receivables over REST.

Thin: parse, call ``qiyue.obligations`` actions and queries, render. A contract the
caller may not see answers 404 on every route; a refusal of an action answers like the
contracts API (400 invalid, 403 forbidden, 409 state)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from pydantic import AfterValidator, StrictStr, create_model

from qiyue.api.auth import current_user
from qiyue.api.pagination import check_params, keyset_page
from qiyue.api.schemas import (
    COMMON_ERRORS,
    MAX_ID,
    Amount,
    Error,
    Id,
    Out,
    Str20,
    Str100,
    Str200,
    Strict,
    _no_nul,
)
from qiyue.contracts.queries import contract_for
from qiyue.obligations import actions
from qiyue.obligations import queries as q
from qiyue.obligations.models import Instalment, Invoice, Obligation, Payment

router = Router(tags=["obligations"])

ERRORS = {**COMMON_ERRORS, 409: Error}
Str500 = Annotated[StrictStr, Field(max_length=500), AfterValidator(_no_nul)]
ContractId = Path(..., ge=1, le=MAX_ID, description="Contract id.")


class ListParams(Schema):
    cursor: str | None = Field(None, description="From the previous page's `next`.")
    page_size: int = Field(50, description="Items per page.")


# --- shapes -----------------------------------------------------------------------------


class InstalmentOut(Out):
    id: int
    contract: int
    seq: int
    label: str
    amount: str
    percent: str | None
    trigger: str
    offset_days: int
    due_date: date | None
    received: str
    outstanding: str
    state: str


class InstalmentIn(Strict):
    label: Str100
    amount: Amount | None = None
    percent: Amount | None = None
    trigger: Literal["date", "signing", "effective", "acceptance"] = "date"
    offset_days: int = Field(0, ge=0, le=3650)
    due_date: date | None = None


class AllocationOut(Out):
    instalment: int
    amount: str


class PaymentOut(Out):
    id: int
    contract: int
    amount: str
    received_on: date
    method: str
    reference: str
    note: str
    unallocated: str
    allocations: list[AllocationOut]


class PaymentIn(Strict):
    amount: Amount
    received_on: date
    method: Literal["transfer", "bill", "cash", "other"] = "transfer"
    reference: Str100 = ""
    note: Str500 = ""
    instalment: Id | None = None


class InvoiceOut(Out):
    id: int
    contract: int
    instalment: int | None
    number: str
    kind: str
    amount: str
    tax: str
    issued_on: date
    state: str


class InvoiceIn(Strict):
    number: Str20 = ""
    kind: Literal["special", "normal"] = "special"
    amount: Amount
    tax: Amount | None = None
    issued_on: date
    instalment: Id | None = None
    planned: bool = False


class ObligationOut(Out):
    id: int
    contract: int
    kind: str
    title: str
    owner: int
    due_date: date
    recurrence: str
    state: str
    evidence: int | None
    done_on: date | None


class ObligationIn(Strict):
    title: Str200
    kind: Literal["deliverable", "report", "insurance", "audit", "other"] = "deliverable"
    owner: Id | None = None
    due_date: date
    recurrence: Literal["", "monthly", "quarterly", "yearly"] = ""


class ReconciliationOut(Out):
    currency: str
    contract_amount: str | None
    planned: str
    received: str
    allocated: str
    unallocated: str
    invoiced: str
    invoiced_tax: str
    outstanding: str
    overdue: str
    balanced: bool
    flags: list[str]


class ReceivableOut(Out):
    key: int | None
    name: str | None
    currency: str
    planned: str
    received: str
    outstanding: str
    overdue: str


def _page(name: str, item: Any) -> Any:
    return create_model(name, __base__=Out, items=(list[item], ...), next=(str | None, None))


InstalmentPage = _page("InstalmentPage", InstalmentOut)
PaymentPage = _page("PaymentPage", PaymentOut)
InvoicePage = _page("InvoicePage", InvoiceOut)
ObligationPage = _page("ObligationPage", ObligationOut)
ReceivablePage = _page("ReceivablePage", ReceivableOut)


def _m(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def instalment_data(i: Instalment) -> dict[str, Any]:
    return {
        "id": i.pk,
        "contract": i.contract_id,
        "seq": i.seq,
        "label": i.label,
        "amount": _m(i.amount),
        "percent": _m(i.percent),
        "trigger": i.trigger,
        "offset_days": i.offset_days,
        "due_date": i.due_date,
        "received": _m(i.received),
        "outstanding": _m(i.outstanding),
        "state": i.state,
    }


def payment_data(p: Payment) -> dict[str, Any]:
    return {
        "id": p.pk,
        "contract": p.contract_id,
        "amount": _m(p.amount),
        "received_on": p.received_on,
        "method": p.method,
        "reference": p.reference,
        "note": p.note,
        "unallocated": _m(p.unallocated),
        "allocations": [
            {"instalment": a.instalment_id, "amount": _m(a.amount)} for a in p.allocations.all()
        ],
    }


def invoice_data(v: Invoice) -> dict[str, Any]:
    return {
        "id": v.pk,
        "contract": v.contract_id,
        "instalment": v.instalment_id,
        "number": v.number,
        "kind": v.kind,
        "amount": _m(v.amount),
        "tax": _m(v.tax),
        "issued_on": v.issued_on,
        "state": v.state,
    }


def obligation_data(o: Obligation) -> dict[str, Any]:
    return {
        "id": o.pk,
        "contract": o.contract_id,
        "kind": o.kind,
        "title": o.title,
        "owner": o.owner_id,
        "due_date": o.due_date,
        "recurrence": o.recurrence,
        "state": o.state,
        "evidence": o.evidence_id,
        "done_on": o.done_on,
    }


def _keyset(
    request: HttpRequest, qs: QuerySet[Any], params: ListParams, render: Any
) -> dict[str, Any]:
    return keyset_page(request, qs, page_size=params.page_size, cursor=params.cursor, render=render)


# --- payment plan -----------------------------------------------------------------------


@router.get(
    "/contracts/{id}/instalments",
    response={200: InstalmentPage, **ERRORS},
    summary="List a contract's payment plan",
)
def list_instalments(
    request: HttpRequest, params: Query[ListParams], id: int = ContractId
) -> dict[str, Any]:
    contract = contract_for(current_user(request), id)
    return _keyset(request, q.instalments_of(contract), params, instalment_data)


@router.post(
    "/contracts/{id}/instalments",
    response={201: InstalmentOut, **ERRORS},
    summary="Add an instalment to a contract's payment plan",
)
def create_instalment(
    request: HttpRequest, payload: InstalmentIn, id: int = ContractId
) -> tuple[int, dict[str, Any]]:
    """Either `amount` or `percent` (of the contract amount); `due_date` for a fixed
    date, else `trigger` and `offset_days` (resolved when the event happens)."""
    user = current_user(request)
    contract = contract_for(user, id)
    inst = actions.add_instalment(actor=user, contract=contract, data=payload.dict())
    return 201, instalment_data(inst)


@router.get(
    "/contracts/{id}/reconciliation",
    response={200: ReconciliationOut, **ERRORS},
    summary="How a contract's plan, payments and invoices add up",
)
def get_reconciliation(request: HttpRequest, id: int = ContractId) -> dict[str, Any]:
    contract = contract_for(current_user(request), id)
    r = q.reconcile(contract)
    return {
        "currency": r.currency,
        "contract_amount": _m(r.contract_amount),
        "planned": _m(r.planned),
        "received": _m(r.received),
        "allocated": _m(r.allocated),
        "unallocated": _m(r.unallocated),
        "invoiced": _m(r.invoiced),
        "invoiced_tax": _m(r.invoiced_tax),
        "outstanding": _m(r.outstanding),
        "overdue": _m(r.overdue),
        "balanced": r.balanced,
        "flags": [str(f) for f in r.flags],
    }


# --- payments ---------------------------------------------------------------------------


@router.get(
    "/contracts/{id}/payments",
    response={200: PaymentPage, **ERRORS},
    summary="List the payments received for a contract",
)
def list_payments(
    request: HttpRequest, params: Query[ListParams], id: int = ContractId
) -> dict[str, Any]:
    contract = contract_for(current_user(request), id)
    return _keyset(request, q.payments_of(contract), params, payment_data)


@router.post(
    "/contracts/{id}/payments",
    response={201: PaymentOut, **ERRORS},
    summary="Record a payment received (finance)",
)
def create_payment(
    request: HttpRequest, payload: PaymentIn, id: int = ContractId
) -> tuple[int, dict[str, Any]]:
    """Allocated to `instalment` first when given, then to open instalments by due date;
    the rest stays `unallocated`."""
    user = current_user(request)
    contract = contract_for(user, id)
    payment = actions.record_payment(actor=user, contract=contract, **payload.dict())
    payment = q.payments_of(contract).get(pk=payment.pk)
    return 201, payment_data(payment)


# --- invoices ---------------------------------------------------------------------------


@router.get(
    "/contracts/{id}/invoices",
    response={200: InvoicePage, **ERRORS},
    summary="List a contract's invoices",
)
def list_invoices(
    request: HttpRequest, params: Query[ListParams], id: int = ContractId
) -> dict[str, Any]:
    contract = contract_for(current_user(request), id)
    return _keyset(request, q.invoices_of(contract), params, invoice_data)


@router.post(
    "/contracts/{id}/invoices",
    response={201: InvoiceOut, **ERRORS},
    summary="Record an invoice (finance)",
)
def create_invoice(
    request: HttpRequest, payload: InvoiceIn, id: int = ContractId
) -> tuple[int, dict[str, Any]]:
    """`amount` includes tax; without `tax` it is worked out from the contract's rate.
    With `planned`, an invoice to issue on `issued_on` (no number yet)."""
    user = current_user(request)
    contract = contract_for(user, id)
    invoice = actions.record_invoice(actor=user, contract=contract, **payload.dict())
    return 201, invoice_data(invoice)


# --- obligations ------------------------------------------------------------------------


@router.get(
    "/contracts/{id}/obligations",
    response={200: ObligationPage, **ERRORS},
    summary="List a contract's obligations",
)
def list_obligations(
    request: HttpRequest, params: Query[ListParams], id: int = ContractId
) -> dict[str, Any]:
    contract = contract_for(current_user(request), id)
    return _keyset(request, q.obligations_of(contract), params, obligation_data)


@router.post(
    "/contracts/{id}/obligations",
    response={201: ObligationOut, **ERRORS},
    summary="Add an obligation to a contract",
)
def create_obligation(
    request: HttpRequest, payload: ObligationIn, id: int = ContractId
) -> tuple[int, dict[str, Any]]:
    user = current_user(request)
    contract = contract_for(user, id)
    ob = actions.add_obligation(actor=user, contract=contract, data=payload.dict())
    return 201, obligation_data(ob)


@router.get(
    "/obligations",
    response={200: ObligationPage, **ERRORS},
    summary="List the obligations of every contract the caller may see",
)
def list_all_obligations(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    return _keyset(request, q.obligations_for(current_user(request)), params, obligation_data)


# --- receivables ------------------------------------------------------------------------


@router.get(
    "/receivables",
    response={200: list[ReceivableOut], **ERRORS},
    summary="Planned, received, outstanding and overdue per customer, department or contract",
)
def list_receivables(
    request: HttpRequest, by: Literal["customer", "department", "contract"] = "customer"
) -> list[dict[str, Any]]:
    """Over the contracts the caller may see, one row per group and currency, largest
    overdue first (at most 500 rows)."""
    check_params(request)
    keys = q.GROUPS[by]
    rows = q.receivables_for(current_user(request), by=by)[:500]
    return [
        {
            "key": r[keys[0]],
            "name": r[keys[1]],
            "currency": r["contract__currency"],
            "planned": _m(r["planned"]),
            "received": _m(r["received_sum"]),
            "outstanding": _m(r["outstanding"]),
            "overdue": _m(r["overdue"]),
        }
        for r in rows
    ]
