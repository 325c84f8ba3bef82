"""The shape of a workflow definition, checked and normalised in one place for the
settings UI, the API and the demo.

```
{"conditions": {"types": ["XS"], "amount_min": "500000.00", "amount_max": null,
                "departments": [3], "confidentiality": ["secret"], "risk": ["high"],
                "expression": "auto_renew and notice_period_days < 30"},
 "steps": [{"name": "财务与管理层会签", "approvers": ["role:manager", "role:finance"],
            "quorum": "all", "n": null, "sla_days": 2,
            "condition": "amount_cny > 500000"}]}
```

Approvers are tokens: ``user:<id>``, ``role:<code>``, ``dept_head`` (the submitter's
department head), ``parent_dept_head`` (the head of the department above),
``dept:<id>`` (a department's members) and ``legal`` (法务: users with the legal role)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiyue.approvals.expressions import ExpressionError, check
from qiyue.approvals.models import Quorum
from qiyue.lib.errors import FieldErrors
from qiyue.lib.money import MoneyError, parse_amount
from qiyue.lib.text import as_id

MAX_STEPS = 20
MAX_APPROVERS = 20
MAX_SLA_DAYS = 60
RISK_LEVELS = ("low", "medium", "high")

APPROVER_KINDS = {
    "dept_head": gettext_lazy("Submitter's department head"),
    "parent_dept_head": gettext_lazy("Head of the department above"),
    "legal": gettext_lazy("Legal (法务)"),
    "role": gettext_lazy("Role"),
    "user": gettext_lazy("User"),
    "dept": gettext_lazy("Members of a department"),
}


class DefinitionError(FieldErrors):
    """A workflow definition that cannot be saved; ``errors`` names each bad part."""


def _ids(raw: Any) -> list[int]:
    out = []
    for value in raw or []:
        pk = as_id(value)
        if pk is None:
            raise ValueError(value)
        out.append(pk)
    return sorted(set(out))


def _as_list(raw: Any, key: str, errors: dict[str, str]) -> list[Any]:
    """``raw`` when it is a list (nothing given is an empty one); else an error for
    ``key``: a string would be taken apart character by character, a number not at all."""
    if raw in (None, ""):
        return []
    if isinstance(raw, list | tuple):
        return list(raw)
    errors[key] = _("Enter a list of values.")
    return []


def _amount(raw: Any) -> Decimal | None:
    if raw in (None, ""):
        return None
    return parse_amount(raw)


def normalize(definition: Any) -> dict[str, Any]:
    """A checked copy of ``definition``; raises DefinitionError naming every bad part."""
    from qiyue.accounts.models import Department, Role, User
    from qiyue.contracts.models import Confidentiality, ContractType

    errors: dict[str, str] = {}
    if not isinstance(definition, dict):
        raise DefinitionError(
            {"__all__": _("A definition is an object with conditions and steps.")}
        )
    cond_in = definition.get("conditions") or {}
    if not isinstance(cond_in, dict):
        cond_in = {}
        errors["conditions"] = _("Conditions are an object.")
    cond: dict[str, Any] = {}
    types = [str(t) for t in _as_list(cond_in.get("types"), "conditions.types", errors)]
    known_types = set(ContractType.objects.filter(code__in=types).values_list("code", flat=True))
    if set(types) - known_types:
        errors["conditions.types"] = _("Unknown contract type: %(v)s") % {
            "v": ", ".join(sorted(set(types) - known_types))[:80]
        }
    cond["types"] = sorted(set(types))
    for name in ("amount_min", "amount_max"):
        try:
            value = _amount(cond_in.get(name))
        except MoneyError:
            errors[f"conditions.{name}"] = _("Enter a non-negative amount.")
            value = None
        cond[name] = None if value is None else str(value)
    if (
        cond["amount_min"] is not None
        and cond["amount_max"] is not None
        and Decimal(cond["amount_min"]) > Decimal(cond["amount_max"])
    ):
        errors["conditions.amount_max"] = _("The upper bound must not be below the lower bound.")
    try:
        depts = _ids(_as_list(cond_in.get("departments"), "conditions.departments", errors))
    except ValueError:
        depts = []
        errors["conditions.departments"] = _("Expected department ids.")
    if len(set(Department.objects.filter(pk__in=depts).values_list("pk", flat=True))) != len(depts):
        errors["conditions.departments"] = _("Unknown department.")
    cond["departments"] = depts
    levels = [
        str(v)
        for v in _as_list(cond_in.get("confidentiality"), "conditions.confidentiality", errors)
    ]
    if set(levels) - set(Confidentiality.values):
        errors["conditions.confidentiality"] = _("Unknown confidentiality level.")
    cond["confidentiality"] = sorted(set(levels))
    risks = [str(v) for v in _as_list(cond_in.get("risk"), "conditions.risk", errors)]
    if set(risks) - set(RISK_LEVELS):
        errors["conditions.risk"] = _("Risk levels are low, medium and high.")
    cond["risk"] = sorted(set(risks))
    try:
        cond["expression"] = check(str(cond_in.get("expression") or ""))
    except ExpressionError as exc:
        errors["conditions.expression"] = str(exc)
        cond["expression"] = str(cond_in.get("expression") or "")[:500]

    steps_in = definition.get("steps")
    if not isinstance(steps_in, list) or not steps_in:
        errors["steps"] = _("A workflow needs at least one step.")
        steps_in = []
    if len(steps_in) > MAX_STEPS:
        errors["steps"] = _("At most %(n)d steps.") % {"n": MAX_STEPS}
        steps_in = steps_in[:MAX_STEPS]
    roles = set(Role.objects.values_list("code", flat=True))
    steps = []
    for i, raw in enumerate(steps_in):
        key = f"steps.{i}"
        if not isinstance(raw, dict):
            errors[key] = _("A step is an object.")
            continue
        name = str(raw.get("name") or "").strip()
        if not name or len(name) > 100:
            errors[f"{key}.name"] = _("Give the step a name of at most 100 characters.")
        tokens = _as_list(raw.get("approvers"), f"{key}.approvers", errors)
        approvers = [str(a).strip() for a in tokens if str(a).strip()]
        approvers = list(dict.fromkeys(approvers))
        if not approvers:
            errors[f"{key}.approvers"] = _("Choose at least one approver.")
        if len(approvers) > MAX_APPROVERS:
            errors[f"{key}.approvers"] = _("At most %(n)d approvers.") % {"n": MAX_APPROVERS}
        user_ids: list[int] = []
        dept_ids: list[int] = []
        for token in approvers:
            kind, _sep, arg = token.partition(":")
            if kind in {"dept_head", "parent_dept_head", "legal"} and not arg:
                continue
            if kind == "role" and arg in roles:
                continue
            if kind in {"user", "dept"} and arg.isascii() and arg.isdigit() and len(arg) < 18:
                (user_ids if kind == "user" else dept_ids).append(int(arg))
                continue
            errors[f"{key}.approvers"] = _("Unknown approver: %(v)s") % {"v": token[:40]}
        if user_ids and User.objects.filter(pk__in=user_ids, is_active=True).count() != len(
            set(user_ids)
        ):
            errors[f"{key}.approvers"] = _("Choose active users.")
        if dept_ids and Department.objects.filter(pk__in=dept_ids).count() != len(set(dept_ids)):
            errors[f"{key}.approvers"] = _("Unknown department.")
        quorum = str(raw.get("quorum") or Quorum.ALL)
        n: int | None = None
        if quorum not in Quorum.values:
            errors[f"{key}.quorum"] = _("Quorum is all, any or n.")
        elif quorum == Quorum.N:
            try:
                n = int(str(raw.get("n")))
                if not 1 <= n <= MAX_APPROVERS:
                    raise ValueError(n)
            except (TypeError, ValueError):
                errors[f"{key}.n"] = _("Enter how many approvals the step needs (1 to %(n)d).") % {
                    "n": MAX_APPROVERS
                }
        sla: int | None = None
        if raw.get("sla_days") not in (None, ""):
            try:
                sla = int(str(raw.get("sla_days")))
                if not 1 <= sla <= MAX_SLA_DAYS:
                    raise ValueError(sla)
            except (TypeError, ValueError):
                errors[f"{key}.sla_days"] = _(
                    "Enter the SLA as whole working days from 1 to %(n)d."
                ) % {"n": MAX_SLA_DAYS}
        try:
            condition = check(str(raw.get("condition") or ""))
        except ExpressionError as exc:
            errors[f"{key}.condition"] = str(exc)
            condition = ""
        steps.append(
            {
                "name": name[:100],
                "approvers": approvers,
                "quorum": quorum,
                "n": n,
                "sla_days": sla,
                "condition": condition,
            }
        )
    if errors:
        raise DefinitionError(errors)
    return {"conditions": cond, "steps": steps}


DEFAULT_NAME = "默认审批流程"
DEFAULT_DEFINITION: dict[str, Any] = {
    "conditions": {
        "types": [],
        "amount_min": None,
        "amount_max": None,
        "departments": [],
        "confidentiality": [],
        "risk": [],
        "expression": "",
    },
    "steps": [
        {
            "name": "部门负责人审批",
            "approvers": ["dept_head"],
            "quorum": "any",
            "n": None,
            "sla_days": 2,
            "condition": "",
        },
        {
            "name": "法务审核",
            "approvers": ["legal"],
            "quorum": "any",
            "n": None,
            "sla_days": 2,
            "condition": "",
        },
    ],
}
