"""Payments received (回款) and their allocation to instalments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from qiyue.accounts.models import User
from qiyue.audit.actions import record
from qiyue.contracts.models import Contract
from qiyue.obligations.actions.common import (
    NOTE_MAX,
    OPEN_INSTALMENT_STATES,
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
    Allocation,
    Instalment,
    Payment,
    PaymentMethod,
)

# -- payments -----------------------------------------------------------------------------


def _open_instalments(contract: Contract) -> list[Instalment]:
    """Instalments still owed, in the order money settles them: due date (undated
    last), then position."""
    rows = Instalment.objects.filter(
        contract=contract, state__in=OPEN_INSTALMENT_STATES, received__lt=F("amount")
    )
    return sorted(rows, key=lambda i: (i.due_date is None, i.due_date or date.max, i.seq, i.pk))


def _allocate(payment: Payment, money: Decimal, targets: Iterable[Instalment]) -> Decimal:
    """Settle ``targets`` in order with ``money``; returns what is left. Each instalment
    is advanced with a compare-and-set on ``received``, so two payments recorded at the
    same moment cannot settle the same instalment twice."""
    for inst in targets:
        if money <= 0:
            break
        part = min(money, inst.amount - inst.received)
        if part <= 0:
            continue
        moved = Instalment.objects.filter(pk=inst.pk, received=inst.received).update(
            received=inst.received + part
        )
        if moved != 1:
            raise ObligationError(
                _("The payment plan changed meanwhile; please record the payment again."),
                code="stale",
            )
        inst.received += part
        Allocation.objects.create(payment=payment, instalment=inst, amount=part)
        money -= part
    return money


def allocate_leftovers(actor: User | None, contract: Contract) -> None:
    """Apply money received but not yet allocated to the open instalments."""
    for payment in Payment.objects.filter(contract=contract, unallocated__gt=0).order_by(
        "received_on", "id"
    ):
        left = _allocate(payment, payment.unallocated, _open_instalments(contract))
        if left != payment.unallocated:
            # Compare-and-set: two plan changes at once must not both spend the same
            # unallocated money (the instalment CAS alone allows it on two instalments).
            moved = Payment.objects.filter(pk=payment.pk, unallocated=payment.unallocated).update(
                unallocated=left
            )
            if moved != 1:
                raise ObligationError(
                    _("The payment plan changed meanwhile; please try again."), code="stale"
                )
            record(
                actor=actor,
                action="payment.allocated",
                target=contract,
                data={"payment": payment.pk, "allocated": money_text(payment.unallocated - left)},
            )


def record_payment(
    *,
    actor: User,
    contract: Contract,
    amount: Any,
    received_on: Any,
    method: str = PaymentMethod.TRANSFER,
    reference: str = "",
    note: str = "",
    instalment: Instalment | int | str | None = None,
) -> Payment:
    """Record money received (回款) and allocate it: to ``instalment`` first when one is
    named, then to the open instalments by due date. Partial payments leave the rest of
    an instalment open; early ones settle instalments not due yet; what exceeds
    everything owed stays on the payment as unallocated (an overpayment)."""
    errors: dict[str, str] = {}
    money = amount_of(amount, "amount", errors)
    day = date_of(received_on, "received_on", errors)
    not_future(day, "received_on", errors)
    if method not in PaymentMethod.values:
        errors["method"] = _("Choose a payment method.")
    reference = text_of(reference, "reference", 100, errors, required=False)
    note = text_of(note, "note", NOTE_MAX, errors, required=False)
    if errors:
        raise ObligationError(errors)
    assert day is not None
    with transaction.atomic():
        current = check_record(actor, contract)
        first: list[Instalment] = []
        if instalment not in (None, ""):
            target = Instalment.objects.filter(
                pk=as_id(instalment), contract=current, state__in=OPEN_INSTALMENT_STATES
            ).first()
            if target is None:
                raise ObligationError(
                    {"instalment": _("Choose an open instalment of this contract.")}
                )
            first = [target]
        payment = Payment.objects.create(
            contract=current,
            amount=money,
            received_on=day,
            method=method,
            reference=reference,
            note=note,
            recorded_by=actor,
        )
        rest = [i for i in _open_instalments(current) if not first or i.pk != first[0].pk]
        left = _allocate(payment, money, [*first, *rest])
        if left:
            payment.unallocated = left
            payment.save(update_fields=["unallocated"])
        allocations = {
            str(a.instalment_id): money_text(a.amount) for a in payment.allocations.all()
        }
        record(
            actor=actor,
            action="payment.received",
            target=current,
            data={
                "payment": payment.pk,
                "amount": money_text(money),
                "received_on": day.isoformat(),
                "method": method,
                "reference": reference,
                "allocations": allocations,
                "unallocated": money_text(left),
            },
        )
    return payment
