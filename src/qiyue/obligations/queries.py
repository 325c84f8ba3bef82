"""Reads of payment plans, payments, invoices and obligations; every one goes through
the contracts the user may see (``Contract.objects.visible_to``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import DecimalField, ExpressionWrapper, F, Model, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.obligations.models import (
    OPEN_INSTALMENT_STATES,
    Allocation,
    Instalment,
    InstalmentState,
    Invoice,
    InvoiceState,
    Obligation,
    Payment,
)

ZERO = Decimal(0)
_MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=18, decimal_places=2)
_Row = TypeVar("_Row", bound=Model)


def _visible_ids(user: Any, action: str = "view") -> QuerySet[Contract, Any]:
    return Contract.objects.visible_to(user, action).values("pk")


def instalments_of(contract: Contract) -> QuerySet[Instalment]:
    return Instalment.objects.filter(contract=contract).order_by("seq", "id")


def payments_of(contract: Contract) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(contract=contract)
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch("allocations", queryset=Allocation.objects.select_related("instalment"))
        )
        .order_by("received_on", "id")
    )


def invoices_of(contract: Contract) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(contract=contract)
        .select_related("instalment")
        .order_by("issued_on", "id")
    )


def obligations_of(contract: Contract) -> QuerySet[Obligation]:
    return (
        Obligation.objects.filter(contract=contract)
        .select_related("owner", "evidence")
        .order_by("due_date", "id")
    )


@dataclass
class Reconciliation:
    """How a contract's money adds up: the plan against the contract amount, what was
    received and invoiced against both. ``flags`` are the differences, in words."""

    currency: str
    contract_amount: Decimal | None
    planned: Decimal = ZERO
    planned_percent: Decimal = ZERO
    received: Decimal = ZERO
    allocated: Decimal = ZERO
    unallocated: Decimal = ZERO
    invoiced: Decimal = ZERO
    invoiced_tax: Decimal = ZERO
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    closed: Decimal = ZERO
    flags: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return not self.flags

    @property
    def uninvoiced_received(self) -> Decimal:
        return max(self.received - self.invoiced, ZERO)


def reconcile(contract: Contract, *, today: date | None = None) -> Reconciliation:
    """The figures and the flagged differences of one contract (four queries)."""
    today = today or timezone.localdate()
    inst = Instalment.objects.filter(contract=contract).aggregate(
        planned_sum=Sum("amount"),
        received_sum=Sum("received"),
        percent_sum=Sum("percent"),
        closed_sum=_unpaid_sum(Q(state=InstalmentState.CLOSED)),
        outstanding_sum=_outstanding(),
        overdue_sum=_overdue(today),
    )
    pay = Payment.objects.filter(contract=contract).aggregate(
        paid=Sum("amount"), left=Sum("unallocated")
    )
    inv = Invoice.objects.filter(contract=contract, state=InvoiceState.ISSUED).aggregate(
        total=Sum("amount"), tax_sum=Sum("tax")
    )
    r = Reconciliation(
        currency=contract.currency,
        contract_amount=contract.amount,
        planned=inst["planned_sum"] or ZERO,
        planned_percent=inst["percent_sum"] or ZERO,
        received=pay["paid"] or ZERO,
        allocated=inst["received_sum"] or ZERO,
        unallocated=pay["left"] or ZERO,
        invoiced=inv["total"] or ZERO,
        invoiced_tax=inv["tax_sum"] or ZERO,
        outstanding=inst["outstanding_sum"] or ZERO,
        overdue=inst["overdue_sum"] or ZERO,
        closed=inst["closed_sum"] or ZERO,
    )
    amount = contract.amount
    has_plan = Instalment.objects.filter(contract=contract).exists() if not r.planned else True
    if has_plan and amount is not None and r.planned != amount:
        diff = r.planned - amount
        r.flags.append(
            (
                _("The plan is %(diff)s above the contract amount.")
                if diff > 0
                else _("The plan is %(diff)s short of the contract amount.")
            )
            % {"diff": f"{abs(diff):,.2f}"}
        )
    if not has_plan and r.received:
        r.flags.append(_("Money was received but the contract has no payment plan."))
    if r.unallocated:
        r.flags.append(
            _("%(amount)s received is not allocated to any instalment (overpaid or unplanned).")
            % {"amount": f"{r.unallocated:,.2f}"}
        )
    if amount is not None and r.received > amount:
        r.flags.append(
            _("Received %(diff)s more than the contract amount.")
            % {"diff": f"{r.received - amount:,.2f}"}
        )
    if amount is not None and r.invoiced > amount:
        r.flags.append(
            _("Invoiced %(diff)s more than the contract amount.")
            % {"diff": f"{r.invoiced - amount:,.2f}"}
        )
    if r.received != r.allocated + r.unallocated:
        r.flags.append(_("Payments and allocations do not add up; ask an administrator."))
    return r


def money_for(user: Any, pk: int) -> dict[str, Any]:
    """Everything the contract's money panel shows, for a contract the user may see."""
    contract = (
        Contract.objects.visible_to(user, "view")
        .select_related("counterparty", "owner")
        .filter(pk=pk)
        .first()
    )
    if contract is None:
        raise Http404
    return {
        "contract": contract,
        "instalments": list(instalments_of(contract)),
        "payments": list(payments_of(contract)),
        "invoices": list(invoices_of(contract)),
        "obligations": list(obligations_of(contract)),
        "reconciliation": reconcile(contract),
    }


def _visible_row(model: type[_Row], user: Any, pk: int, *related: str) -> _Row:
    """The row ``pk`` of ``model`` on a contract the user may see, else 404."""
    found = (
        model._default_manager.filter(pk=pk, contract__in=_visible_ids(user))
        .select_related(*related)
        .first()
    )
    if found is None:
        raise Http404
    return found


def instalment_for(user: Any, pk: int) -> Instalment:
    return _visible_row(Instalment, user, pk, "contract")


def invoice_for(user: Any, pk: int) -> Invoice:
    return _visible_row(Invoice, user, pk, "contract")


def obligation_for(user: Any, pk: int) -> Obligation:
    return _visible_row(Obligation, user, pk, "contract")


# -- lists across contracts ---------------------------------------------------------------


def instalments_for(user: Any) -> QuerySet[Instalment]:
    return (
        Instalment.objects.filter(contract__in=_visible_ids(user))
        .select_related("contract")
        .order_by("-id")
    )


def payments_for(user: Any) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(contract__in=_visible_ids(user))
        .select_related("contract")
        .order_by("-id")
    )


def invoices_for(user: Any) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(contract__in=_visible_ids(user))
        .select_related("contract")
        .order_by("-id")
    )


def obligations_for(user: Any) -> QuerySet[Obligation]:
    return (
        Obligation.objects.filter(contract__in=_visible_ids(user))
        .select_related("contract", "owner")
        .order_by("-id")
    )


def _unpaid_sum(where: Q) -> Any:
    """The sum left unpaid on the instalments matching ``where``, 0 when none."""
    return Coalesce(
        Sum(ExpressionWrapper(F("amount") - F("received"), output_field=_MONEY), filter=where),
        ZERO,
        output_field=_MONEY,
    )


def _outstanding() -> Any:
    return _unpaid_sum(Q(state__in=OPEN_INSTALMENT_STATES))


def _overdue(today: date) -> Any:
    return _unpaid_sum(Q(state__in=OPEN_INSTALMENT_STATES, due_date__lt=today))


GROUPS = {
    "contract": ("contract_id", "contract__number", "contract__title"),
    "customer": ("contract__counterparty_id", "contract__counterparty__name"),
    "department": ("contract__department_id", "contract__department__name"),
}


def receivables_for(
    user: Any, *, by: str = "customer", today: date | None = None, overdue_only: bool = False
) -> QuerySet[Any]:
    """Planned, received, outstanding and overdue sums per contract, customer or
    department (and currency), over the contracts the user may see; largest overdue
    first. One query whatever the number of rows."""
    if by not in GROUPS:
        raise ValueError(by)
    today = today or timezone.localdate()
    qs = (
        Instalment.objects.filter(contract__in=_visible_ids(user))
        .values(*GROUPS[by], "contract__currency")
        .annotate(
            planned=Coalesce(Sum("amount"), ZERO, output_field=_MONEY),
            received_sum=Coalesce(Sum("received"), ZERO, output_field=_MONEY),
            outstanding=_outstanding(),
            overdue=_overdue(today),
        )
    )
    if overdue_only:
        qs = qs.filter(overdue__gt=0)
    return qs.order_by("-overdue", "-outstanding", *GROUPS[by][:1])


def receivables_summary(user: Any, *, today: date | None = None) -> dict[str, Any]:
    """The dashboard's receivables block: totals in CNY and the most overdue contracts."""
    today = today or timezone.localdate()
    visible = _visible_ids(user)
    cny = Instalment.objects.filter(contract__in=visible, contract__currency="CNY").aggregate(
        outstanding=_outstanding(), overdue=_overdue(today)
    )
    month_start = today.replace(day=1)
    received = (
        Payment.objects.filter(
            contract__in=visible, contract__currency="CNY", received_on__gte=month_start
        ).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    top = list(receivables_for(user, by="contract", today=today, overdue_only=True)[:5])
    return {
        "outstanding": cny["outstanding"] or ZERO,
        "overdue": cny["overdue"] or ZERO,
        "received_this_month": received,
        "top_overdue": top,
    }


# -- lifecycle records of a contract (amendments, notices, termination, renewal) ----------


def lifecycle_for(
    user: Any,
    contract: Contract,
    *,
    instalments: Iterable[Instalment] | None = None,
    obligations: Iterable[Obligation] | None = None,
) -> dict[str, Any]:
    """The amendments, the non-renewal notice of the current term, the termination and
    the renewal of a contract the caller already read through ``visible_to``; the open
    items a termination decides are picked from ``instalments``/``obligations`` when the
    caller has read them already. A notice is only looked for on an active contract that
    renews automatically (the only one it is recorded for and matters to), a termination
    only on a terminated or archived one (its flow writes it and ends the contract)."""
    from qiyue.contracts.models import (
        Amendment,
        ContractState,
        NonRenewalNotice,
        Relation,
        Termination,
    )
    from qiyue.obligations.actions import open_items

    notice = termination = None
    if contract.state == ContractState.ACTIVE and contract.auto_renew and contract.expiry_date:
        notice = NonRenewalNotice.objects.filter(
            contract=contract, for_expiry=contract.expiry_date
        ).first()
    if contract.state in (ContractState.TERMINATED, ContractState.ARCHIVED):
        termination = Termination.objects.filter(contract=contract).first()
    renewal = (
        Contract.objects.visible_to(user, "view")
        .filter(parent=contract, relation=Relation.RENEWAL)
        .order_by("-id")
        .first()
    )
    open_instalments, open_obligations = (
        open_items(contract, instalments=instalments, obligations=obligations)
        if contract.state == ContractState.ACTIVE
        else ([], [])
    )
    return {
        "amendments": list(
            Amendment.objects.filter(contract=contract)
            .select_related("created_by", "decided_by")
            .order_by("-id")
        ),
        "notice": notice,
        "termination": termination,
        "renewal": renewal,
        "open_instalments": open_instalments,
        "open_obligations": open_obligations,
    }


def amendment_for(user: Any, pk: int) -> Any:
    from qiyue.contracts.models import Amendment

    return _visible_row(Amendment, user, pk)
