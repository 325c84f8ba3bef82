"""The payment plan (回款计划): instalments by amount or percent, due by date or by an
event (signing, effective date, acceptance), resolved when the event happens."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from qiyue.accounts.models import User
from qiyue.audit.actions import record
from qiyue.contracts.models import Contract
from qiyue.lib.dates import add_months
from qiyue.lib.money import CENT
from qiyue.obligations.actions.common import (
    LABEL_MAX,
    MAX_OFFSET_DAYS,
    MAX_SCHEDULE,
    OPEN_INSTALMENT_STATES,
    NotFound,
    ObligationError,
    amount_of,
    check_plan,
    date_of,
    money_text,
    not_future,
    text_of,
)
from qiyue.obligations.actions.payments import allocate_leftovers
from qiyue.obligations.models import (
    Instalment,
    Trigger,
)

# -- payment plan -------------------------------------------------------------------------


def _event_date(contract: Contract, trigger: str) -> date | None:
    """The date of the event an instalment waits for, if it has happened."""
    if trigger == Trigger.SIGNING:
        return contract.signed_date
    if trigger == Trigger.EFFECTIVE:
        return contract.effective_date
    if trigger == Trigger.ACCEPTANCE:
        return (
            Instalment.objects.filter(contract=contract, trigger=Trigger.ACCEPTANCE)
            .exclude(event_date=None)
            .values_list("event_date", flat=True)
            .order_by("-event_date")
            .first()
        )
    return None


def _percent_amount(contract: Contract, percent: Decimal) -> Decimal:
    base = contract.amount or Decimal(0)
    return (base * percent / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)


def clean_instalment(contract: Contract, data: dict[str, Any]) -> dict[str, Any]:
    """Check an instalment's fields; raises ObligationError naming every bad one."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["label"] = text_of(data.get("label"), "label", LABEL_MAX, errors, required=True)
    raw_amount, raw_percent = data.get("amount"), data.get("percent")
    has_amount = raw_amount not in (None, "")
    has_percent = raw_percent not in (None, "")
    if has_amount == has_percent:
        errors["amount"] = _("Give either an amount or a percent of the contract amount.")
    elif has_percent:
        try:
            percent = Decimal(str(raw_percent).strip().rstrip("%"))
            if not percent.is_finite() or not Decimal(0) < percent <= Decimal(100):
                raise InvalidOperation
            # Checked again once rounded: "0.001" must not become a 0.00 % instalment.
            percent = percent.quantize(CENT, rounding=ROUND_HALF_UP)
            if percent <= 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["percent"] = _("Enter a percent above 0 and at most 100.")
        else:
            if not contract.amount:
                errors["percent"] = _("The contract has no amount to take a percent of.")
            out["percent"] = percent.quantize(CENT)
            out["amount"] = _percent_amount(contract, out["percent"])
    else:
        out["amount"] = amount_of(raw_amount, "amount", errors)
        out["percent"] = None
    trigger = str(data.get("trigger") or Trigger.DATE)
    if trigger not in Trigger.values:
        errors["trigger"] = _("Choose when the instalment falls due.")
    out["trigger"] = trigger
    try:
        offset = int(str(data.get("offset_days") or 0))
        if not 0 <= offset <= MAX_OFFSET_DAYS:
            raise ValueError
    except ValueError:
        errors["offset_days"] = _("Enter a whole number between %(lo)d and %(hi)d.") % {
            "lo": 0,
            "hi": MAX_OFFSET_DAYS,
        }
        offset = 0
    out["offset_days"] = offset if trigger != Trigger.DATE else 0
    if trigger == Trigger.DATE:
        out["due_date"] = date_of(data.get("due_date"), "due_date", errors)
    if errors:
        raise ObligationError(errors)
    return out


def _next_seq(contract: Contract) -> int:
    last = Instalment.objects.filter(contract=contract).order_by("-seq").values("seq").first()
    return (last["seq"] if last else 0) + 1


def _create_instalment(actor: User, contract: Contract, cleaned: dict[str, Any]) -> Instalment:
    inst = Instalment(contract=contract, seq=_next_seq(contract), created_by=actor, **cleaned)
    if inst.trigger != Trigger.DATE:
        event = _event_date(contract, inst.trigger)
        if event is not None:
            inst.event_date = event
            inst.due_date = event + timedelta(days=inst.offset_days)
    inst.save()
    return inst


def _instalment_data(inst: Instalment) -> dict[str, Any]:
    return {
        "instalment": inst.pk,
        "label": inst.label,
        "amount": money_text(inst.amount),
        "percent": str(inst.percent) if inst.percent is not None else None,
        "trigger": inst.trigger,
        "offset_days": inst.offset_days,
        "due_date": inst.due_date.isoformat() if inst.due_date else None,
    }


def add_instalment(*, actor: User, contract: Contract, data: dict[str, Any]) -> Instalment:
    """Add one line to the contract's payment plan. Money already received and not yet
    allocated (paid before the plan existed) goes to it straight away."""
    with transaction.atomic():
        current = check_plan(actor, contract)
        cleaned = clean_instalment(current, data)
        inst = _create_instalment(actor, current, cleaned)
        record(
            actor=actor,
            action="instalment.planned",
            target=current,
            data=_instalment_data(inst),
        )
        allocate_leftovers(actor, current)
        inst.refresh_from_db()
    return inst


def add_schedule(
    *,
    actor: User,
    contract: Contract,
    label: str,
    total: Any,
    first_due: Any,
    count: Any,
    every_months: Any = 3,
) -> list[Instalment]:
    """Split ``total`` into ``count`` equal instalments every ``every_months`` months
    from ``first_due`` (quarterly by default); the last one takes the rounding rest.
    Dates stay on the first due date's day, clamped to short months (Jan 31 → Apr 30 →
    Jul 31)."""
    errors: dict[str, str] = {}
    label = text_of(label, "label", LABEL_MAX - 8, errors, required=True)
    amount = amount_of(total, "amount", errors)
    start = date_of(first_due, "due_date", errors)
    try:
        n, step = int(str(count)), int(str(every_months))
        if not 1 <= n <= MAX_SCHEDULE or not 1 <= step <= 12:
            raise ValueError
    except ValueError:
        errors["count"] = _("Enter between 1 and %(n)d instalments, 1 to 12 months apart.") % {
            "n": MAX_SCHEDULE
        }
        n, step = 0, 0
    if not errors and amount < n * CENT:
        errors["amount"] = _("The total is too small to split.")
    if not errors and start is not None:
        try:
            add_months(start, (n - 1) * step)
        except (ValueError, OverflowError):
            errors["due_date"] = _("Enter a date as YYYY-MM-DD.")
    if errors:
        raise ObligationError(errors)
    assert start is not None
    # Rounded down, so the last instalment's rest is never below the others (rounded
    # half up, 2.00 in 120 parts gave 119 × 0.02 and a negative last part).
    share = (amount / n).quantize(CENT, rounding=ROUND_DOWN)
    out = []
    with transaction.atomic():
        current = check_plan(actor, contract)
        for i in range(n):
            part = share if i < n - 1 else amount - share * (n - 1)
            if part <= 0:
                raise ObligationError({"amount": _("The total is too small to split.")})
            inst = _create_instalment(
                actor,
                current,
                {
                    "label": f"{label} {i + 1}/{n}",
                    "amount": part,
                    "percent": None,
                    "trigger": Trigger.DATE,
                    "offset_days": 0,
                    "due_date": add_months(start, i * step),
                },
            )
            out.append(inst)
        record(
            actor=actor,
            action="instalment.scheduled",
            target=current,
            data={
                "label": label,
                "amount": money_text(amount),
                "count": n,
                "every_months": step,
                "first_due": start.isoformat(),
                "instalments": [i.pk for i in out],
            },
        )
        allocate_leftovers(actor, current)
    return out


def remove_instalment(*, actor: User, instalment: Instalment) -> None:
    """Take a line off the plan; only while nothing was paid or invoiced against it."""
    with transaction.atomic():
        current = check_plan(actor, instalment.contract_id)
        inst = Instalment.objects.filter(pk=instalment.pk, contract=current).first()
        if inst is None:
            raise NotFound(_("Instalment not found."))
        if inst.allocations.exists() or inst.invoices.exists():
            raise ObligationError(
                _("Money was received or invoiced for this instalment; it cannot be removed."),
                code="state",
            )
        data = _instalment_data(inst)
        inst.delete()
        record(actor=actor, action="instalment.removed", target=current, data=data)


def resolve_event(
    *, actor: User | None, contract: Contract, trigger: str, on: date
) -> list[Instalment]:
    """Give the instalments waiting for ``trigger`` on this contract their due dates
    (event date + their offset). Instalments already resolved are left alone, so calling
    it twice changes nothing. Runs inside the caller's transaction when there is one."""
    with transaction.atomic():
        waiting = list(
            Instalment.objects.filter(
                contract=contract, trigger=trigger, due_date=None, state__in=OPEN_INSTALMENT_STATES
            )
        )
        for inst in waiting:
            inst.event_date = on
            inst.due_date = on + timedelta(days=inst.offset_days)
            Instalment.objects.filter(pk=inst.pk, due_date=None).update(
                event_date=inst.event_date, due_date=inst.due_date
            )
        if waiting:
            record(
                actor=actor,
                action="instalment.due_set",
                target=contract,
                data={
                    "trigger": trigger,
                    "event_date": on.isoformat(),
                    "instalments": {
                        str(i.pk): i.due_date.isoformat() for i in waiting if i.due_date
                    },
                },
            )
    return waiting


def record_acceptance(*, actor: User, contract: Contract, accepted_on: Any) -> list[Instalment]:
    """The customer accepted the delivery (验收) on ``accepted_on``: instalments due
    "N days after acceptance" now have a date."""
    errors: dict[str, str] = {}
    day = date_of(accepted_on, "accepted_on", errors)
    not_future(day, "accepted_on", errors)
    if errors:
        raise ObligationError(errors)
    assert day is not None
    with transaction.atomic():
        current = check_plan(actor, contract)
        resolved = resolve_event(actor=actor, contract=current, trigger=Trigger.ACCEPTANCE, on=day)
        if not resolved:
            raise ObligationError(
                _("No instalment of this contract waits for acceptance."), code="state"
            )
    return resolved


def sweep_triggers(*, today: date, dry_run: bool = False) -> list[tuple[Contract, str, date]]:
    """Resolve "after signing" / "after the effective date" instalments of contracts
    whose event has happened (the lifecycle job runs it daily). Idempotent."""
    done: list[tuple[Contract, str, date]] = []
    waiting = (
        Instalment.objects.filter(due_date=None, state__in=OPEN_INSTALMENT_STATES)
        .filter(
            Q(trigger=Trigger.SIGNING, contract__signed_date__lte=today)
            | Q(trigger=Trigger.EFFECTIVE, contract__effective_date__lte=today)
        )
        .values_list("contract_id", "trigger")
        .distinct()
    )
    for contract_id, trigger in sorted(set(waiting)):
        contract = Contract.objects.get(pk=contract_id)
        on = contract.signed_date if trigger == Trigger.SIGNING else contract.effective_date
        assert on is not None
        if not dry_run:
            resolve_event(actor=None, contract=contract, trigger=trigger, on=on)
        done.append((contract, trigger, on))
    return done


def resolve_signing(*, actor: User | None, contract: Contract) -> None:
    """Called when a contract is signed (inside that transaction): instalments due after
    signing, or after the effective date, get their dates."""
    if contract.signed_date:
        resolve_event(
            actor=actor, contract=contract, trigger=Trigger.SIGNING, on=contract.signed_date
        )
    if contract.effective_date:
        resolve_event(
            actor=actor, contract=contract, trigger=Trigger.EFFECTIVE, on=contract.effective_date
        )
