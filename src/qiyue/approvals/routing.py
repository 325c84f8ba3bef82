"""Routing: which workflow a contract follows, which of its steps run, and who
approves each step. Pure reads; ``actions`` writes what is decided here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q

from qiyue.accounts.models import User
from qiyue.accounts.queries import nearest_head
from qiyue.approvals.expressions import ExpressionError, evaluate
from qiyue.approvals.models import Workflow

# Reference rates for the CNY-equivalent amount of conditions ("above ¥500,000"); an
# approximation on purpose: routing needs the order of magnitude, not the day's rate.
FX_TO_CNY: dict[str, Decimal] = {
    "CNY": Decimal(1),
    "USD": Decimal("7.1"),
    "EUR": Decimal("7.7"),
    "HKD": Decimal("0.91"),
    "JPY": Decimal("0.047"),
    "GBP": Decimal("9.0"),
}


def amount_cny(contract: Any) -> Decimal | None:
    if contract.amount is None:
        return None
    return (contract.amount * FX_TO_CNY.get(contract.currency, Decimal(1))).quantize(
        Decimal("0.01")
    )


def record_names(contract: Any) -> dict[str, Any]:
    """The names an expression sees for ``contract`` (see ``expressions.SAMPLE``); two
    queries (its risk level and its tags)."""
    from qiyue.compliance.queries import risk_level

    return {
        "amount": contract.amount,
        "amount_cny": amount_cny(contract),
        "currency": contract.currency,
        "type": contract.contract_type.code,
        "department": contract.department.name if contract.department_id else "",
        "confidentiality": contract.confidentiality,
        "risk": risk_level(contract),
        "auto_renew": contract.auto_renew,
        "tax_rate": contract.tax_rate,
        "notice_period_days": contract.notice_period_days,
        "renewal_term_months": contract.renewal_term_months,
        "title": contract.title,
        "customer": contract.counterparty.name,
        "tags": sorted(t.name for t in contract.tags.all()),
        "relation": contract.relation,
        "owner": contract.owner.username,
    }


def conditions_match(conditions: dict[str, Any], contract: Any, names: dict[str, Any]) -> bool:
    """Whether a workflow's conditions hold for the contract (all given ones must)."""
    c = conditions or {}
    if c.get("types") and names["type"] not in c["types"]:
        return False
    amount = names["amount_cny"]
    if c.get("amount_min") is not None and (amount is None or amount < Decimal(c["amount_min"])):
        return False
    if c.get("amount_max") is not None and (amount is None or amount > Decimal(c["amount_max"])):
        return False
    if c.get("departments") and contract.department_id not in c["departments"]:
        return False
    if c.get("confidentiality") and contract.confidentiality not in c["confidentiality"]:
        return False
    if c.get("risk") and names["risk"] not in c["risk"]:
        return False
    if c.get("expression"):
        try:
            return evaluate(c["expression"], names)
        except ExpressionError:
            return False  # a condition that cannot be evaluated does not match
    return True


def choose_workflow(contract: Any, names: dict[str, Any] | None = None) -> Workflow | None:
    """The first active workflow by priority whose conditions match; the default one
    (matching anything) when none does; None when there is no workflow at all.
    ``names`` are the contract's :func:`record_names` when the caller has them."""
    if names is None:
        names = record_names(contract)
    candidates = Workflow.objects.filter(is_active=True).order_by("is_default", "priority", "pk")
    default = None
    for wf in candidates:
        if wf.is_default:
            default = default or wf
            continue
        if conditions_match(wf.definition.get("conditions") or {}, contract, names):
            return wf
    return default


def step_runs(step: dict[str, Any], names: dict[str, Any]) -> tuple[bool, str]:
    """Whether a step runs for the record, and a note when it is skipped or its
    condition could not be evaluated (then it runs: skipping an approval is the risk)."""
    condition = step.get("condition") or ""
    if not condition:
        return True, ""
    try:
        return (True, "") if evaluate(condition, names) else (False, condition)
    except ExpressionError as exc:
        return True, str(exc)[:300]


def resolve_approvers(tokens: list[str], contract: Any, submitter: User) -> list[tuple[User, str]]:
    """The active users a step's approver tokens name, each once, with the reason; the
    submitter and the contract's owner never approve their own contract."""
    excluded = {submitter.pk, contract.owner_id}
    found: dict[int, tuple[User, str]] = {}

    def add(user: User | None, reason: str) -> None:
        if user is not None and user.is_active and user.pk not in excluded:
            found.setdefault(user.pk, (user, reason))

    own_dept = contract.department or submitter.department
    for token in tokens:
        kind, _sep, arg = token.partition(":")
        if kind == "dept_head":
            head, name = nearest_head(own_dept, excluded)
            add(head, f"dept_head:{name}")
        elif kind == "parent_dept_head":
            parent = own_dept.parent if own_dept is not None else None
            head, name = nearest_head(parent, excluded)
            add(head, f"parent_dept_head:{name}")
        elif kind in {"role", "legal"}:
            code = "legal" if kind == "legal" else arg
            for user in User.objects.filter(role__code=code, is_active=True).order_by("id"):
                add(user, f"role:{code}")
        elif kind == "user" and arg.isdigit():
            add(User.objects.filter(pk=int(arg)).first(), "user")
        elif kind == "dept" and arg.isdigit():
            for user in User.objects.filter(department_id=int(arg), is_active=True).order_by("id"):
                add(user, f"dept:{arg}")
    return list(found.values())


def fallback_approvers(contract: Any, submitter: User) -> list[tuple[User, str]]:
    """Who approves a step whose approvers are nobody (a head left, a role is empty):
    the administrators, so that nothing is approved by no one."""
    admins = User.objects.filter(Q(is_superuser=True) | Q(role__code="admin"), is_active=True)
    return [
        (u, "fallback:admin")
        for u in admins.exclude(pk__in=[submitter.pk, contract.owner_id]).order_by("id")
    ]


def plan(contract: Any, definition: dict[str, Any], submitter: User) -> list[dict[str, Any]]:
    """The steps a contract would go through: for each, whether it runs and its approvers
    (what an instance would open, without writing it)."""
    names = record_names(contract)
    out = []
    for step in definition.get("steps") or []:
        runs, note = step_runs(step, names)
        approvers = resolve_approvers(step["approvers"], contract, submitter) if runs else []
        out.append({"name": step["name"], "runs": runs, "note": note, "approvers": approvers})
    return out
