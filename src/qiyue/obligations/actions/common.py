"""Errors, permission checks and input parsing shared by the obligations actions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.accounts.permissions import Perm
from qiyue.contracts.actions import ContractError
from qiyue.contracts.models import Contract, ContractState
from qiyue.lib.money import CENT, MoneyError, parse_amount
from qiyue.lib.text import as_id as parse_id
from qiyue.obligations.models import MONEY_STATES as MONEY_STATES
from qiyue.obligations.models import OPEN_INSTALMENT_STATES as OPEN_INSTALMENT_STATES
from qiyue.obligations.models import OPEN_OBLIGATION_STATES as OPEN_OBLIGATION_STATES


class ObligationError(ContractError):
    """A refused operation on a contract's money or obligations."""


class NotFound(ObligationError):
    code = "not_found"


class NotAllowed(ObligationError):
    code = "forbidden"


#: States in which a contract's plan and obligations may still be edited.
PLANNING_STATES = frozenset(
    {
        ContractState.DRAFT,
        ContractState.IN_REVIEW,
        ContractState.RETURNED,
        ContractState.APPROVED,
        ContractState.SIGNING,
        ContractState.ACTIVE,
    }
)
LABEL_MAX = 100
TITLE_MAX = 200
NOTE_MAX = 500
MAX_OFFSET_DAYS = 3650
MAX_SCHEDULE = 120


# -- checks -------------------------------------------------------------------------------


def visible_contract(actor: Any, contract: Contract | int, action: str = "view") -> Contract:
    pk = contract if isinstance(contract, int) else contract.pk
    found = Contract.objects.visible_to(actor, action).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Contract not found."))
    return found


def _is_finance(actor: Any) -> bool:
    return (
        actor is not None
        and actor.is_authenticated
        and bool(actor.has_perm_code(Perm.PAYMENT_RECORD))
    )


def may_record(actor: Any, contract: Contract) -> bool:
    """Finance records payments and invoices of the contracts it can see."""
    if not _is_finance(actor):
        return False
    return Contract.objects.filter(pk=contract.pk).visible_to(actor, "view").exists()


def may_manage_obligations(actor: Any, contract: Contract) -> bool:
    """The contract's editors ("change" access) manage its obligations."""
    return Contract.objects.filter(pk=contract.pk).visible_to(actor, "change").exists()


def may_plan(actor: Any, contract: Contract) -> bool:
    """Editors of the contract, and finance, plan its instalments."""
    return may_manage_obligations(actor, contract) or may_record(actor, contract)


def money_rights(actor: Any, contract: Contract) -> dict[str, bool]:
    """Which forms of the money panel the actor may use now (the actions check again),
    for a contract the caller already read through ``visible_to(actor, "view")``: the
    "change" access is asked once for every form, finance needs no second look.
    ``may_change`` is that "change" access (renewal, amendments, notices)."""
    change = may_manage_obligations(actor, contract)
    record = _is_finance(actor)  # and may see the contract, as the caller read it
    planning = contract.state in PLANNING_STATES
    return {
        "may_change": change,
        "may_plan": (change or record) and planning,
        "may_record": record and contract.state in MONEY_STATES,
        "may_obligations": change and planning,
    }


def check_plan(actor: Any, contract: Contract | int) -> Contract:
    current = visible_contract(actor, contract)
    if not may_plan(actor, current):
        raise NotAllowed(_("You may not change the payment plan of this contract."))
    if current.state not in PLANNING_STATES:
        raise ObligationError(
            _("The payment plan cannot change once the contract is %(state)s.")
            % {"state": current.get_state_display()},
            code="state",
        )
    return current


def check_record(actor: Any, contract: Contract | int) -> Contract:
    current = visible_contract(actor, contract)
    if not may_record(actor, current):
        raise NotAllowed(_("Only finance records payments and invoices."))
    if current.state not in MONEY_STATES:
        raise ObligationError(
            _("No payments or invoices while the contract is %(state)s.")
            % {"state": current.get_state_display()},
            code="state",
        )
    return current


def amount_of(value: Any, field: str, errors: dict[str, str], *, positive: bool = True) -> Decimal:
    try:
        amount = parse_amount(value)
    except MoneyError:
        errors[field] = _("Enter a non-negative amount with at most two decimals, below 10^16.")
        return Decimal(0)
    if positive and amount <= 0:
        errors[field] = _("Enter an amount above zero.")
    return amount


def date_of(
    value: Any, field: str, errors: dict[str, str], *, required: bool = True
) -> date | None:
    if value in (None, ""):
        if required:
            errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None
    if isinstance(value, date):
        return value
    from django.utils.dateparse import parse_date

    try:
        parsed = parse_date(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
    return parsed


def text_of(value: Any, field: str, limit: int, errors: dict[str, str], *, required: bool) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > limit:
        errors[field] = _("At most %(n)d characters.") % {"n": limit}
    return text


def not_future(day: date | None, field: str, errors: dict[str, str]) -> None:
    if day is not None and field not in errors and day > timezone.localdate():
        errors[field] = _("This date is in the future.")


def as_id(value: Any) -> int:
    """A database id from a model or user input; 0 (matches nothing) when it is none."""
    if hasattr(value, "pk"):
        return int(value.pk)
    return parse_id(str(value).strip()) or 0


def money_text(value: Decimal) -> str:
    return str(value.quantize(CENT))
