"""Reads of compliance: findings and risk levels (also used by approvals), rules and the
blocklist for administrators. A contract the user may not see is 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from qiyue.compliance.checks import applies
from qiyue.compliance.models import (
    SEVERITY_RANK,
    BlocklistEntry,
    ContractRisk,
    Finding,
    Rule,
    RuleKind,
)
from qiyue.contracts.models import Contract


def _risk(contract: Any) -> ContractRisk | None:
    return ContractRisk.objects.filter(contract_id=contract.pk).first()


def risk_level(contract: Any) -> str | None:
    """The contract's risk level from its last compliance check: "low", "medium",
    "high", or None when it was never checked."""
    risk = _risk(contract)
    return str(risk.level) if risk else None


def approval_blockers(contract: Any) -> list[str]:
    """Reasons (translated) why ``contract`` may not be approved yet, e.g. a high risk
    that legal has not acknowledged. Empty when nothing blocks."""
    risk = _risk(contract)
    if risk is not None and risk.needs_acknowledgement:
        return [_("The compliance check found a high risk that legal has not acknowledged.")]
    return []


def required_approver_roles(contract: Any) -> list[str]:
    """Role codes whose approval the compliance rules require (e.g. an amount above a
    rule's limit needs "finance"). The amount rules are applied to the contract's
    current fields (so an edit counts before its check ran), together with the
    findings of the last check (an amount read from the text)."""
    roles: list[str] = []
    rules = Rule.objects.filter(enabled=True, kind=RuleKind.AMOUNT_LIMIT).exclude(approver_role="")
    for rule in rules:
        if (
            applies(rule, contract)
            and contract.amount is not None
            and rule.amount_limit is not None
            and contract.amount > rule.amount_limit
            and rule.approver_role not in roles
        ):
            roles.append(rule.approver_role)
    found = (
        Finding.objects.filter(contract_id=contract.pk, code="amount_over", rule__enabled=True)
        .values_list("rule__approver_role", flat=True)
        .distinct()
    )
    for role in found:
        if role and role not in roles:
            roles.append(role)
    return roles


@dataclass
class ContractFindings:
    """What the findings panel of a contract shows."""

    contract: Contract
    risk: ContractRisk | None
    findings: list[Finding]


def findings_for(user: Any, contract_id: int) -> ContractFindings:
    """The findings of a contract the user may see, gravest first (three queries), or 404."""
    contract = Contract.objects.visible_to(user, "view").filter(pk=contract_id).first()
    if contract is None:
        raise Http404
    risk = ContractRisk.objects.filter(contract_id=contract.pk).select_related("acknowledged_by")
    findings = list(
        Finding.objects.filter(contract_id=contract.pk)
        .select_related("rule", "document_version")
        .order_by("id")
    )
    findings.sort(key=lambda f: -SEVERITY_RANK.get(f.severity, 0))  # type: ignore[call-overload]
    return ContractFindings(contract, risk.first(), findings)


def _require_admin(user: Any) -> None:
    if not (user.is_authenticated and user.has_perm_code("admin")):
        raise Http404


def rules_for(user: Any) -> QuerySet[Rule]:
    """Every rule, for administrators (404 for anyone else)."""
    _require_admin(user)
    return Rule.objects.select_related("contract_type").order_by("id")


def rule_for(user: Any, pk: int) -> Rule:
    _require_admin(user)
    rule = Rule.objects.select_related("contract_type").filter(pk=pk).first()
    if rule is None:
        raise Http404
    return rule


def blocklist_for(user: Any) -> QuerySet[BlocklistEntry]:
    _require_admin(user)
    return BlocklistEntry.objects.select_related("created_by").order_by("-id")


def blocklist_entry_for(user: Any, pk: int) -> BlocklistEntry:
    _require_admin(user)
    entry = BlocklistEntry.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404
    return entry
