"""API of the compliance area: a contract's findings and risk (404 when the contract is
not visible), legal's acknowledgement, and the rules for administrators (404 for others)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema
from pydantic import ConfigDict

from qiyue.api.auth import current_user
from qiyue.api.errors import ApiError, forbidden, invalid
from qiyue.api.pagination import keyset_page
from qiyue.api.schemas import (
    COMMON_ERRORS,
    MAX_ID,
    Amount,
    Error,
    Out,
    Str20,
    Str40,
    Str200,
    Str300,
    Str2000,
    Text,
)
from qiyue.compliance import actions, queries
from qiyue.compliance.models import ContractRisk, Finding, Rule

router = Router(tags=["compliance"])

ERRORS = COMMON_ERRORS
ContractId = Path(..., ge=1, le=MAX_ID, description="Contract id.")
RuleId = Path(..., ge=1, le=MAX_ID, description="Rule id.")


class RiskOut(Out):
    level: str = Field(description="low, medium or high.")
    computed_at: datetime
    needs_acknowledgement: bool = Field(description="High and not acknowledged by legal.")
    acknowledged_by: str | None
    acknowledged_at: datetime | None


class FindingOut(Out):
    id: int
    rule: int
    rule_name: str
    severity: str
    code: str = Field(description="What was found: clause_missing, prohibited, amount_over, …")
    message: str = Field(description="In the caller's language.")
    evidence: str
    start: int | None = Field(description="Span of the evidence in the version's text.")
    end: int | None
    page: int | None
    document_version: int | None


class FindingsOut(Out):
    contract: int
    risk: RiskOut | None = Field(description="None when the contract was never checked.")
    findings: list[FindingOut]


class RuleOut(Out):
    id: int
    name: str
    kind: str
    contract_type: int | None
    severity: str
    enabled: bool
    message: str
    keywords: list[str]
    pattern: str
    extracted_field: str
    confidentiality_levels: list[str]
    amount_limit: str | None
    approver_role: str
    max_days: int | None
    required_fields: list[str]
    allowed_currencies: list[str]
    version: int


class RulePage(Out):
    items: list[RuleOut]
    next: str | None


class RuleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Str200 | None = None
    kind: Str40 | None = None
    contract_type: int | None = Field(None, ge=1, le=MAX_ID)
    severity: Str20 | None = None
    enabled: bool | None = None
    message: Str300 | None = None
    keywords: list[Str200] | None = Field(None, max_length=50)
    pattern: Str300 | None = None
    extracted_field: Str40 | None = None
    confidentiality_levels: list[Str20] | None = Field(None, max_length=10)
    amount_limit: Amount | None = None
    approver_role: Str40 | None = None
    max_days: int | None = Field(None, ge=0, le=3650)
    required_fields: list[Str40] | None = Field(None, max_length=20)
    allowed_currencies: list[Str20] | None = Field(None, max_length=20)
    version: int | None = Field(
        None, ge=1, le=MAX_ID, description="The version read last (required for changes)."
    )


class AcknowledgeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: Str2000 = ""


class RuleListParams(Schema):
    cursor: Text | None = None
    page_size: int = 50


def _risk_data(risk: ContractRisk | None) -> dict[str, Any] | None:
    if risk is None:
        return None
    return {
        "level": risk.level,
        "computed_at": risk.computed_at,
        "needs_acknowledgement": risk.needs_acknowledgement,
        "acknowledged_by": risk.acknowledged_by.get_username() if risk.acknowledged_by else None,
        "acknowledged_at": risk.acknowledged_at,
    }


def _finding_data(f: Finding) -> dict[str, Any]:
    return {
        "id": f.pk,
        "rule": f.rule_id,
        "rule_name": f.rule.name,
        "severity": f.severity,
        "code": f.code,
        "message": f.message,
        "evidence": f.evidence,
        "start": f.start,
        "end": f.end,
        "page": f.page,
        "document_version": f.document_version_id,
    }


def _rule_data(r: Rule) -> dict[str, Any]:
    return {**actions.rule_data(r), "id": r.pk, "keywords": r.keyword_list, "version": r.version}


def _refused(exc: actions.ComplianceError) -> ApiError:
    errors = dict(exc.errors)
    message = errors.pop("__all__", "")
    if isinstance(exc, actions.NotAllowed):
        return forbidden(message or None)
    if isinstance(exc, actions.StaleEdit):
        return ApiError(412, "stale", message, errors)
    if exc.code == "state":
        return ApiError(409, "state", message, errors)
    return invalid(errors, message or None)


def _rule_input(body: RuleIn) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    data.pop("version", None)
    if "keywords" in data:
        data["keywords"] = "\n".join(data["keywords"] or [])
    return data


@router.get(
    "/contracts/{id}/findings",
    response={200: FindingsOut, **ERRORS},
    summary="A contract's compliance findings and risk",
)
def contract_findings(request: HttpRequest, id: int = ContractId) -> dict[str, Any]:
    """The findings of the last compliance check, gravest first, and the risk level."""
    found = queries.findings_for(current_user(request), id)
    return {
        "contract": found.contract.pk,
        "risk": _risk_data(found.risk),
        "findings": [_finding_data(f) for f in found.findings],
    }


@router.post(
    "/contracts/{id}/findings/acknowledge",
    response={200: FindingsOut, 409: Error, **ERRORS},
    summary="Acknowledge a contract's high risk (legal)",
)
def acknowledge(request: HttpRequest, body: AcknowledgeIn, id: int = ContractId) -> dict[str, Any]:
    user = current_user(request)
    found = queries.findings_for(user, id)
    try:
        actions.acknowledge(actor=user, contract=found.contract, note=body.note)
    except actions.ComplianceError as exc:
        raise _refused(exc) from None
    return contract_findings(request, id)


@router.get(
    "/compliance/rules",
    response={200: RulePage, **ERRORS},
    summary="List compliance rules (administrators)",
)
def list_rules(request: HttpRequest, params: Query[RuleListParams]) -> dict[str, Any]:
    rules = queries.rules_for(current_user(request))
    return keyset_page(
        request, rules, page_size=params.page_size, cursor=params.cursor, render=_rule_data
    )


@router.get("/compliance/rules/{id}", response={200: RuleOut, **ERRORS}, summary="Read a rule")
def get_rule(request: HttpRequest, id: int = RuleId) -> dict[str, Any]:
    return _rule_data(queries.rule_for(current_user(request), id))


@router.post("/compliance/rules", response={201: RuleOut, **ERRORS}, summary="Create a rule")
def create_rule(request: HttpRequest, body: RuleIn) -> tuple[int, dict[str, Any]]:
    user = current_user(request)
    queries.rules_for(user)  # 404 for anyone but administrators
    try:
        rule = actions.create_rule(actor=user, data=_rule_input(body))
    except actions.ComplianceError as exc:
        raise _refused(exc) from None
    return 201, _rule_data(rule)


@router.patch(
    "/compliance/rules/{id}",
    response={200: RuleOut, 412: Error, **ERRORS},
    summary="Change a rule (send the version read last)",
)
def update_rule(request: HttpRequest, body: RuleIn, id: int = RuleId) -> dict[str, Any]:
    user = current_user(request)
    rule = queries.rule_for(user, id)
    if body.version is None:
        raise invalid({"version": _("This field is required.")})
    try:
        rule = actions.update_rule(
            actor=user, rule=rule, data=_rule_input(body), version=body.version
        )
    except actions.ComplianceError as exc:
        raise _refused(exc) from None
    return _rule_data(rule)


@router.delete("/compliance/rules/{id}", response={204: None, **ERRORS}, summary="Delete a rule")
def delete_rule(request: HttpRequest, id: int = RuleId) -> tuple[int, None]:
    user = current_user(request)
    rule = queries.rule_for(user, id)
    try:
        actions.delete_rule(actor=user, rule=rule)
    except actions.ComplianceError as exc:
        raise _refused(exc) from None
    return 204, None
