"""Deadlines of the money and obligations area, for the reminders scheduler and the
iCal feed (registered in ``qiyue.reminders.sources.SOURCES``).

* ``instalment.due``: an unpaid instalment falls due on that day;
* ``instalment.overdue``: the first day an instalment is overdue (due date + 1), while
  it is still unpaid;
* ``invoice.to_issue``: a planned invoice's date, or the due date of an instalment not
  yet fully invoiced for which no invoice is planned;
* ``obligation.due``: an open obligation's due date (reminding its owner).

Only contracts that are live (approved to renewed) count: a draft's plan is not owed
yet, an archived contract's is settled. Each source query reads the window once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from qiyue.obligations.models import (
    MONEY_STATES,
    OPEN_INSTALMENT_STATES,
    OPEN_OBLIGATION_STATES,
    Instalment,
    Invoice,
    InvoiceState,
    Obligation,
)
from qiyue.reminders.sources import Deadline


def _url(contract_id: int) -> str:
    return reverse("web:contract_money", args=[contract_id])


def _owned(owner_id: int | None, field: str = "contract__owner_id") -> Q:
    """Only ``owner_id``'s rows when given (the reminders page and feed of one user)."""
    return Q() if owner_id is None else Q(**{field: owner_id})


def _unpaid(start: date, end: date, owner_id: int | None) -> Iterator[Instalment]:
    return (
        Instalment.objects.filter(
            _owned(owner_id),
            state__in=OPEN_INSTALMENT_STATES,
            contract__state__in=MONEY_STATES,
            received__lt=F("amount"),
            due_date__gte=start,
            due_date__lte=end,
        )
        .select_related("contract")
        .order_by("due_date", "id")
        .iterator()
    )


def _instalment_deadlines(
    kind: str,
    start: date,
    end: date,
    title: Any,
    *,
    owner_id: int | None,
    shift: timedelta = timedelta(0),
) -> Iterator[Deadline]:
    """Unpaid instalments as ``kind`` deadlines on their due date + ``shift`` (the
    window reads due dates ``shift`` earlier)."""
    for inst in _unpaid(start - shift, end - shift, owner_id):
        c = inst.contract
        assert inst.due_date is not None
        yield Deadline(
            kind=kind,
            due=inst.due_date + shift,
            contract_id=c.pk,
            object_key=f"instalment:{inst.pk}",
            owner_id=c.owner_id,
            title=format_lazy(
                title,
                label=inst.label,
                number=c.number,
                amount=f"{inst.amount - inst.received:,.2f}",
                currency=c.currency,
            ),
            url=_url(c.pk),
        )


def instalments_due(start: date, end: date, owner_id: int | None = None) -> Iterator[Deadline]:
    return _instalment_deadlines(
        "instalment.due",
        start,
        end,
        _("Payment “{label}” of {number} is due ({amount} {currency})"),
        owner_id=owner_id,
    )


def instalments_overdue(start: date, end: date, owner_id: int | None = None) -> Iterator[Deadline]:
    return _instalment_deadlines(
        "instalment.overdue",
        start,
        end,
        _("Payment “{label}” of {number} is overdue ({amount} {currency} unpaid)"),
        owner_id=owner_id,
        shift=timedelta(days=1),  # overdue on the day after the due date
    )


def invoices_to_issue(start: date, end: date, owner_id: int | None = None) -> Iterator[Deadline]:
    planned = (
        Invoice.objects.filter(
            _owned(owner_id),
            state=InvoiceState.PLANNED,
            contract__state__in=MONEY_STATES,
            issued_on__gte=start,
            issued_on__lte=end,
        )
        .select_related("contract")
        .order_by("issued_on", "id")
    )
    for inv in planned:
        c = inv.contract
        yield Deadline(
            kind="invoice.to_issue",
            due=inv.issued_on,
            contract_id=c.pk,
            object_key=f"invoice:{inv.pk}",
            owner_id=c.owner_id,
            title=format_lazy(
                _("Issue the invoice of {amount} {currency} for {number}"),
                amount=f"{inv.amount:,.2f}",
                currency=c.currency,
                number=c.number,
            ),
            url=_url(c.pk),
        )
    invoiced = (
        Invoice.objects.filter(instalment=OuterRef("pk"))
        .exclude(state=InvoiceState.VOID)
        .values("instalment")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    money: DecimalField[Decimal, Decimal] = DecimalField(max_digits=18, decimal_places=2)
    rows = (
        Instalment.objects.filter(
            _owned(owner_id),
            state__in=OPEN_INSTALMENT_STATES,
            contract__state__in=MONEY_STATES,
            due_date__gte=start,
            due_date__lte=end,
        )
        .annotate(invoiced=Coalesce(Subquery(invoiced, output_field=money), Decimal(0)))
        .filter(Q(invoiced__lt=F("amount")))
        .exclude(invoices__state=InvoiceState.PLANNED)
        .select_related("contract")
        .order_by("due_date", "id")
    )
    for inst in rows:
        c = inst.contract
        assert inst.due_date is not None
        yield Deadline(
            kind="invoice.to_issue",
            due=inst.due_date,
            contract_id=c.pk,
            object_key=f"instalment-invoice:{inst.pk}",
            owner_id=c.owner_id,
            title=format_lazy(
                _("Invoice payment “{label}” of {number} ({amount} {currency})"),
                label=inst.label,
                number=c.number,
                amount=f"{inst.amount - inst.invoiced:,.2f}",
                currency=c.currency,
            ),
            url=_url(c.pk),
        )


def obligations_due(start: date, end: date, owner_id: int | None = None) -> Iterator[Deadline]:
    rows = (
        Obligation.objects.filter(
            _owned(owner_id, "owner_id"),  # the obligation's own owner is reminded
            state__in=OPEN_OBLIGATION_STATES,
            contract__state__in=MONEY_STATES,
            due_date__gte=start,
            due_date__lte=end,
        )
        .select_related("contract")
        .order_by("due_date", "id")
    )
    for ob in rows:
        c = ob.contract
        yield Deadline(
            kind="obligation.due",
            due=ob.due_date,
            contract_id=c.pk,
            object_key=f"obligation:{ob.pk}",
            owner_id=ob.owner_id,
            title=format_lazy(_("“{title}” is due for {number}"), title=ob.title, number=c.number),
            url=_url(c.pk),
        )


def deadlines(start: date, end: date, owner_id: int | None = None) -> Iterable[Deadline]:
    """Every deadline of this area due in ``[start, end]`` (only ``owner_id``'s if given)."""
    if end < start:
        return []
    return [
        *instalments_due(start, end, owner_id),
        *instalments_overdue(start, end, owner_id),
        *invoices_to_issue(start, end, owner_id),
        *obligations_due(start, end, owner_id),
    ]
