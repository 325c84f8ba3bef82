"""Writes for payment plans, payments, invoices and obligations.

Each action is one transaction that also writes its audit event. The events target the
contract (``instalment.planned``, ``payment.received``, ``invoice.issued``…) so that the
contract's history tells the whole story of its money. A refused action raises
:class:`ObligationError` (a :class:`ContractError`, so the web and the API answer it
like any other refusal) and leaves nothing behind.

Who may do what: the contract's editors (the owner, "change" access) plan instalments
and obligations; finance ("payment.record" and "view" access) records payments and
invoices and may plan instalments too. A contract the actor cannot see is "not found".
"""

from qiyue.obligations.actions.common import (
    MONEY_STATES,
    OPEN_INSTALMENT_STATES,
    OPEN_OBLIGATION_STATES,
    PLANNING_STATES,
    NotAllowed,
    NotFound,
    ObligationError,
    may_manage_obligations,
    may_plan,
    may_record,
    money_rights,
)
from qiyue.obligations.actions.duties import (
    CARRY,
    CLOSE,
    add_obligation,
    clean_obligation,
    complete_obligation,
    open_items,
    settle_open_items,
)
from qiyue.obligations.actions.invoices import issue_invoice, record_invoice, void_invoice
from qiyue.obligations.actions.payments import record_payment
from qiyue.obligations.actions.plan import (
    add_instalment,
    add_schedule,
    clean_instalment,
    record_acceptance,
    remove_instalment,
    resolve_event,
    resolve_signing,
    sweep_triggers,
)

__all__ = [
    "CARRY",
    "CLOSE",
    "MONEY_STATES",
    "OPEN_INSTALMENT_STATES",
    "OPEN_OBLIGATION_STATES",
    "PLANNING_STATES",
    "NotAllowed",
    "NotFound",
    "ObligationError",
    "add_instalment",
    "add_obligation",
    "add_schedule",
    "clean_instalment",
    "clean_obligation",
    "complete_obligation",
    "issue_invoice",
    "may_manage_obligations",
    "may_plan",
    "may_record",
    "money_rights",
    "open_items",
    "record_acceptance",
    "record_invoice",
    "record_payment",
    "remove_instalment",
    "resolve_event",
    "resolve_signing",
    "settle_open_items",
    "sweep_triggers",
    "void_invoice",
]
