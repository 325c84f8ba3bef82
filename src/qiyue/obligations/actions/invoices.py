"""Invoices (开票): issued, planned, voided."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from qiyue.accounts.models import User
from qiyue.audit.actions import record
from qiyue.contracts.models import Contract
from qiyue.lib.money import CENT
from qiyue.obligations.actions.common import (
    NOTE_MAX,
    ObligationError,
    amount_of,
    as_id,
    check_record,
    date_of,
    money_text,
    not_future,
    text_of,
)
from qiyue.obligations.models import (
    Instalment,
    Invoice,
    InvoiceKind,
    InvoiceState,
)

# -- invoices -----------------------------------------------------------------------------


def _tax_of(amount: Decimal, rate: Decimal | None) -> Decimal:
    """The VAT included in a tax-inclusive amount at ``rate`` percent."""
    if not rate:
        return Decimal(0)
    return (amount * rate / (Decimal(100) + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def _clean_number(value: Any, errors: dict[str, str], *, required: bool) -> str:
    number = "" if value is None else str(value).strip()
    if not number:
        if required:
            errors["number"] = _("Enter the invoice number.")
        return ""
    if not (number.isascii() and number.isalnum()) or not 8 <= len(number) <= 20:
        errors["number"] = _("An invoice number has 8 to 20 letters or digits.")
    return number


def record_invoice(
    *,
    actor: User,
    contract: Contract,
    amount: Any,
    issued_on: Any,
    number: str = "",
    kind: str = InvoiceKind.SPECIAL,
    tax: Any = None,
    instalment: Instalment | int | str | None = None,
    planned: bool = False,
) -> Invoice:
    """Record an invoice issued to the customer, or (``planned``) one to issue on
    ``issued_on``. Without ``tax`` the VAT is worked out from the contract's tax rate."""
    errors: dict[str, str] = {}
    money = amount_of(amount, "amount", errors)
    day = date_of(issued_on, "issued_on", errors)
    if not planned:
        not_future(day, "issued_on", errors)
    number = _clean_number(number, errors, required=not planned)
    if kind not in InvoiceKind.values:
        errors["kind"] = _("Choose an invoice type.")
    tax_amount: Decimal | None = None
    if tax not in (None, ""):
        tax_amount = amount_of(tax, "tax", errors, positive=False)
        if "tax" not in errors and "amount" not in errors and tax_amount > money:
            errors["tax"] = _("The tax cannot exceed the invoice amount.")
    if errors:
        raise ObligationError(errors)
    with transaction.atomic():
        current = check_record(actor, contract)
        inst = None
        if instalment not in (None, ""):
            inst = Instalment.objects.filter(pk=as_id(instalment), contract=current).first()
            if inst is None:
                raise ObligationError({"instalment": _("Choose an instalment of this contract.")})
        if tax_amount is None:
            tax_amount = _tax_of(money, current.tax_rate)
        if number and Invoice.objects.filter(kind=kind, number=number).exists():
            raise ObligationError({"number": _("An invoice with this number is already recorded.")})
        try:
            with transaction.atomic():
                invoice = Invoice.objects.create(
                    contract=current,
                    instalment=inst,
                    number=number,
                    kind=kind,
                    amount=money,
                    tax=tax_amount,
                    issued_on=day,  # type: ignore[misc]
                    state=InvoiceState.PLANNED if planned else InvoiceState.ISSUED,
                    recorded_by=actor,
                )
        except IntegrityError:
            raise ObligationError(
                {"number": _("An invoice with this number is already recorded.")}
            ) from None
        record(
            actor=actor,
            action="invoice.planned" if planned else "invoice.issued",
            target=current,
            data={
                "invoice": invoice.pk,
                "number": number,
                "kind": kind,
                "amount": money_text(money),
                "tax": money_text(tax_amount),
                "date": day.isoformat() if day else None,
                "instalment": inst.pk if inst else None,
            },
        )
    return invoice


def issue_invoice(*, actor: User, invoice: Invoice, number: str, issued_on: Any) -> Invoice:
    """A planned invoice was issued: give it its number and date."""
    errors: dict[str, str] = {}
    number = _clean_number(number, errors, required=True)
    day = date_of(issued_on, "issued_on", errors)
    not_future(day, "issued_on", errors)
    if errors:
        raise ObligationError(errors)
    with transaction.atomic():
        current = check_record(actor, invoice.contract_id)
        if Invoice.objects.filter(kind=invoice.kind, number=number).exclude(pk=invoice.pk).exists():
            raise ObligationError({"number": _("An invoice with this number is already recorded.")})
        moved = Invoice.objects.filter(
            pk=invoice.pk, contract=current, state=InvoiceState.PLANNED
        ).update(number=number, issued_on=day, state=InvoiceState.ISSUED)
        if moved != 1:
            raise ObligationError(_("Only a planned invoice can be issued."), code="state")
        record(
            actor=actor,
            action="invoice.issued",
            target=current,
            data={
                "invoice": invoice.pk,
                "number": number,
                "date": day.isoformat() if day else None,
            },
        )
        invoice.refresh_from_db()
    return invoice


def void_invoice(*, actor: User, invoice: Invoice, reason: str) -> Invoice:
    """Void an invoice (作废 / 红冲); it no longer counts as invoiced."""
    errors: dict[str, str] = {}
    reason = text_of(reason, "reason", NOTE_MAX, errors, required=True)
    if errors:
        raise ObligationError(errors)
    with transaction.atomic():
        current = check_record(actor, invoice.contract_id)
        moved = (
            Invoice.objects.filter(pk=invoice.pk, contract=current)
            .exclude(state=InvoiceState.VOID)
            .update(state=InvoiceState.VOID)
        )
        if moved != 1:
            raise ObligationError(_("This invoice is already void."), code="state")
        record(
            actor=actor,
            action="invoice.voided",
            target=current,
            data={"invoice": invoice.pk, "number": invoice.number, "comment": reason},
        )
        invoice.refresh_from_db()
    return invoice
