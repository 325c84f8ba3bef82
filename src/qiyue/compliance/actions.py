"""Writes of compliance: rules and the blocklist (administrators), checking a contract,
and legal's acknowledgement of a high risk. Each is one transaction with its audit event."""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.accounts.models import Role, User
from qiyue.audit.actions import record
from qiyue.compliance import hooks
from qiyue.compliance.checks import (
    EXTRACTED_FIELDS,
    REQUIRED_FIELD_CHOICES,
    Context,
    evaluate,
    risk_of,
    version_text,
)
from qiyue.compliance.models import (
    BlocklistEntry,
    ContractRisk,
    Finding,
    Rule,
    RuleKind,
    Severity,
)
from qiyue.compliance.patterns import PatternError, check_pattern
from qiyue.contracts.models import Confidentiality, Contract, ContractType
from qiyue.lib.errors import FieldErrors
from qiyue.lib.money import CURRENCIES, MoneyError, parse_amount
from qiyue.lib.text import normalize_company_name
from qiyue.lib.uscc import is_valid_uscc, normalize_uscc

log = logging.getLogger(__name__)

MAX_KEYWORDS = 50
ACKNOWLEDGING_ROLES = ("legal", "admin")


class ComplianceError(FieldErrors):
    """A refused compliance operation; ``errors`` maps fields to translated messages
    (a bare string: form-wide) and ``code`` is its machine-readable reason."""


class NotAllowed(ComplianceError):
    code = "forbidden"


class StaleEdit(ComplianceError):
    code = "stale"

    def __init__(self) -> None:
        super().__init__(
            _("Someone else changed this rule meanwhile; reload it and apply your change again.")
        )


RULE_FIELDS = (
    "name",
    "kind",
    "contract_type",
    "severity",
    "enabled",
    "message",
    "keywords",
    "pattern",
    "extracted_field",
    "confidentiality_levels",
    "amount_limit",
    "approver_role",
    "max_days",
    "required_fields",
    "allowed_currencies",
)


def _require_admin(actor: User | None) -> None:
    if actor is None or not actor.has_perm_code("admin"):
        raise NotAllowed(_("Only administrators may change compliance rules."))


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "on", "yes"}


def clean_rule_data(data: dict[str, Any], *, current: Rule | None = None) -> dict[str, Any]:
    """Check and convert a rule's fields (all of them for a new rule, the given ones for
    an edit); raises :class:`ComplianceError` naming every bad field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    unknown = sorted(set(data) - set(RULE_FIELDS))
    if unknown:
        errors["__all__"] = _("Unknown fields: %(f)s") % {"f": ", ".join(unknown)}

    def has(name: str) -> bool:
        return name in data

    if has("name") or current is None:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = _("A rule needs a name.")
        elif len(name) > 200:
            errors["name"] = _("At most %(n)d characters.") % {"n": 200}
        out["name"] = name
    if has("kind") or current is None:
        if data.get("kind") not in RuleKind.values:
            errors["kind"] = _("Choose one of the kinds of rule.")
        out["kind"] = data.get("kind")
    if has("contract_type"):
        raw = data["contract_type"]
        if raw in (None, ""):
            out["contract_type"] = None
        else:
            try:
                out["contract_type"] = ContractType.objects.get(pk=int(str(raw)))
            except (ValueError, TypeError, ContractType.DoesNotExist):
                errors["contract_type"] = _("Choose one of the contract types.")
    if has("severity") or current is None:
        severity = data.get("severity") or Severity.MEDIUM
        if severity not in Severity.values:
            errors["severity"] = _("Choose low, medium or high.")
        out["severity"] = severity
    if has("enabled"):
        out["enabled"] = _to_bool(data["enabled"])
    for name, limit in (("message", 300), ("keywords", 2000)):
        if has(name):
            text = str(data[name] or "").strip()
            if len(text) > limit:
                errors[name] = _("At most %(n)d characters.") % {"n": limit}
            out[name] = text
    if "keywords" in out:
        words = [k.strip() for k in out["keywords"].splitlines() if k.strip()]
        if len(words) > MAX_KEYWORDS:
            errors["keywords"] = _("At most %(n)d keywords.") % {"n": MAX_KEYWORDS}
        out["keywords"] = "\n".join(words)
    if has("pattern"):
        pattern = str(data["pattern"] or "").strip()
        if pattern:
            try:
                check_pattern(pattern)
            except PatternError as exc:
                errors["pattern"] = str(exc)
        out["pattern"] = pattern
    if has("extracted_field"):
        value = str(data["extracted_field"] or "")
        if value and value not in EXTRACTED_FIELDS:
            errors["extracted_field"] = _("Choose one of the extracted fields.")
        out["extracted_field"] = value
    if has("confidentiality_levels"):
        levels = _as_list(data["confidentiality_levels"])
        if any(level not in Confidentiality.values for level in levels):
            errors["confidentiality_levels"] = _("Unknown confidentiality level.")
        out["confidentiality_levels"] = sorted(set(levels))
    if has("amount_limit"):
        raw = data["amount_limit"]
        if raw in (None, ""):
            out["amount_limit"] = None
        else:
            try:
                out["amount_limit"] = parse_amount(raw)
            except MoneyError:
                errors["amount_limit"] = _(
                    "Enter a non-negative amount with at most two decimals, below 10^16."
                )
    if has("approver_role"):
        role = str(data["approver_role"] or "").strip()
        if role and not Role.objects.filter(code=role).exists():
            errors["approver_role"] = _("Choose one of the roles.")
        out["approver_role"] = role
    if has("max_days"):
        raw = data["max_days"]
        if raw in (None, ""):
            out["max_days"] = None
        else:
            try:
                days = int(str(raw))
                if not 0 <= days <= 3650:
                    raise ValueError(days)
                out["max_days"] = days
            except (ValueError, TypeError):
                errors["max_days"] = _("Enter a whole number between %(lo)d and %(hi)d.") % {
                    "lo": 0,
                    "hi": 3650,
                }
    if has("required_fields"):
        names = _as_list(data["required_fields"])
        if any(n not in REQUIRED_FIELD_CHOICES for n in names):
            errors["required_fields"] = _("Choose among the listed fields.")
        out["required_fields"] = [n for n in REQUIRED_FIELD_CHOICES if n in names]
    if has("allowed_currencies"):
        codes = [c.upper() for c in _as_list(data["allowed_currencies"])]
        if any(c not in CURRENCIES for c in codes):
            errors["allowed_currencies"] = _("Unknown currency.")
        out["allowed_currencies"] = [c for c in CURRENCIES if c in codes]

    if not errors:
        _check_kind_parameters(out, current, errors)
    if errors:
        raise ComplianceError(errors)
    return out


def _check_kind_parameters(
    out: dict[str, Any], current: Rule | None, errors: dict[str, str]
) -> None:
    """Each kind needs its own parameters."""

    def value(name: str) -> Any:
        if name in out:
            return out[name]
        return getattr(current, name) if current is not None else None

    kind = value("kind")
    keywords = value("keywords") or ""
    if kind == RuleKind.REQUIRED_CLAUSE:
        if not (keywords or value("pattern") or value("extracted_field")):
            errors["keywords"] = _("Give keywords, a pattern or an extracted field to look for.")
    elif kind == RuleKind.PROHIBITED_TERM:
        if not (keywords or value("pattern")):
            errors["keywords"] = _("Give the prohibited terms (keywords or a pattern).")
    elif kind == RuleKind.AMOUNT_LIMIT:
        if value("amount_limit") is None:
            errors["amount_limit"] = _("Give the amount limit.")
        if not value("approver_role"):
            errors["approver_role"] = _("Choose the role that must approve above the limit.")
    elif kind == RuleKind.PAYMENT_DAYS:
        if value("max_days") is None:
            errors["max_days"] = _("Give the longest payment term allowed, in days.")
    elif kind == RuleKind.REQUIRED_FIELDS:
        if not value("required_fields"):
            errors["required_fields"] = _("Choose at least one field.")
    elif kind == RuleKind.CURRENCY and not value("allowed_currencies"):
        errors["allowed_currencies"] = _("Choose at least one allowed currency.")


def rule_data(rule: Rule) -> dict[str, Any]:
    """The rule's fields as plain values (the contract type by id, the amount as a
    string): its audit data, and what the API and the rule editor start from."""
    return {
        name: (
            rule.contract_type_id
            if name == "contract_type"
            else str(getattr(rule, name))
            if isinstance(getattr(rule, name), Decimal)
            else getattr(rule, name)
        )
        for name in RULE_FIELDS
    }


def create_rule(*, actor: User, data: dict[str, Any], recheck: bool = True) -> Rule:
    """A new rule; the open contracts it may apply to are re-checked after commit
    (unless ``recheck`` is false: a caller that creates several checks once at the end)."""
    _require_admin(actor)
    with transaction.atomic():
        cleaned = clean_rule_data(data)
        rule = Rule.objects.create(created_by=actor, **cleaned)
        record(actor=actor, action="compliance.rule_created", target=rule, data=rule_data(rule))
        if recheck:
            hooks.recheck_scope_after_commit(rule.contract_type_id)
    return rule


def update_rule(*, actor: User, rule: Rule, data: dict[str, Any], version: int) -> Rule:
    _require_admin(actor)
    with transaction.atomic():
        cleaned = clean_rule_data(data, current=rule)
        before = rule_data(rule)
        old_type = rule.contract_type_id
        updated = Rule.objects.filter(pk=rule.pk, version=version).update(
            **cleaned, version=version + 1, updated_at=timezone.now()
        )
        if updated != 1:
            raise StaleEdit()
        rule.refresh_from_db()
        after = rule_data(rule)
        changes = {k: after[k] for k in after if before[k] != after[k]}
        if changes:
            record(
                actor=actor,
                action="compliance.rule_changed",
                target=rule,
                data={"before": {k: before[k] for k in changes}, "after": changes},
            )
            hooks.recheck_scope_after_commit(
                None if old_type != rule.contract_type_id else old_type
            )
    return rule


def delete_rule(*, actor: User, rule: Rule) -> None:
    """Remove a rule and its findings; the contracts it applied to are re-checked."""
    _require_admin(actor)
    with transaction.atomic():
        record(actor=actor, action="compliance.rule_deleted", target=rule, data=rule_data(rule))
        hooks.recheck_scope_after_commit(rule.contract_type_id)
        rule.delete()


def set_rule_enabled(*, actor: User, rule: Rule, enabled: bool, version: int) -> Rule:
    return update_rule(actor=actor, rule=rule, data={"enabled": enabled}, version=version)


def add_blocklist_entry(*, actor: User, data: dict[str, Any]) -> BlocklistEntry:
    _require_admin(actor)
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    code = normalize_uscc(str(data.get("credit_code") or ""))
    reason = str(data.get("reason") or "").strip()
    if not name and not code:
        errors["name"] = _("Give the company's name or its credit code.")
    if len(name) > 200:
        errors["name"] = _("At most %(n)d characters.") % {"n": 200}
    if code and (len(code) > 18 or not is_valid_uscc(code)):
        errors["credit_code"] = _(
            "Not a valid unified social credit code (18 characters with a check digit)."
        )
    if len(reason) > 500:
        errors["reason"] = _("At most %(n)d characters.") % {"n": 500}
    if errors:
        raise ComplianceError(errors)
    with transaction.atomic():
        entry = BlocklistEntry.objects.create(
            name=name,
            normalized_name=normalize_company_name(name) if name else "",
            credit_code=code,
            reason=reason,
            created_by=actor,
        )
        record(
            actor=actor,
            action="compliance.blocklist_added",
            target=entry,
            data={"name": name, "credit_code": code, "reason": reason},
        )
        _recheck_blocklisted_after_commit(entry)
    return entry


def remove_blocklist_entry(*, actor: User, entry: BlocklistEntry) -> None:
    _require_admin(actor)
    with transaction.atomic():
        _recheck_blocklisted_after_commit(entry)
        record(
            actor=actor,
            action="compliance.blocklist_removed",
            target=entry,
            data={"name": entry.name, "credit_code": entry.credit_code},
        )
        entry.delete()


def _recheck_blocklisted_after_commit(entry: BlocklistEntry) -> None:
    q = Q()
    if entry.credit_code:
        q |= Q(counterparty__credit_code=entry.credit_code)
    if entry.normalized_name:
        q |= Q(counterparty__normalized_name=entry.normalized_name)
    if q:  # one job for them all, not one per contract
        ids = Contract.objects.filter(q).values_list("pk", flat=True)[:5000]
        hooks.recheck_many_after_commit(list(ids))


# -- checking -------------------------------------------------------------------------


def _texts(contract: Contract) -> tuple[list[Any], bool]:
    """The text of the newest version of each of the contract's documents, and whether
    the contract has any document at all."""
    from qiyue.documents.models import DocumentVersion
    from qiyue.documents.queries import version_pages

    versions = (
        DocumentVersion.objects.filter(document__contract=contract)
        .select_related("text_blob")
        .order_by("document_id", "-number")
    )
    texts = []
    seen: set[int] = set()
    for version in versions:
        if version.document_id in seen:
            continue
        seen.add(version.document_id)
        try:
            pages = version_pages(version) or []
        except Exception:  # an unreadable text must not stop the check of the rest
            log.exception("compliance: cannot read the text of version %s", version.pk)
            pages = []
        if pages:
            texts.append(version_text(version.pk, pages))
    return texts, bool(seen)


def _digest(hits: list[Any]) -> str:
    keys = sorted(h.key() for h in hits if h.severity == Severity.HIGH)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest() if keys else ""


def check_contract(contract_id: int) -> ContractRisk | None:
    """Check the contract against every enabled rule: replace its findings, recompute
    its risk level (audited when it changes). Safe to run twice; None when the
    contract no longer exists. Reading the texts and evaluating happen before the
    transaction, so the write lock is held only to store the result."""
    contract = (
        Contract.objects.select_related("counterparty", "contract_type")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        return None
    # The findings are as of this moment (stored as ``computed_at``): a check that read
    # the contract later and stored first is newer, and this one must not overwrite it.
    started = timezone.now()
    texts, has_documents = _texts(contract)
    rules = list(Rule.objects.filter(enabled=True).order_by("id"))
    hits = evaluate(rules, Context(contract, texts, has_documents=has_documents))
    level = risk_of(hits)
    digest = _digest(hits)
    with transaction.atomic():
        _row, created = ContractRisk.objects.get_or_create(
            contract_id=contract.pk, defaults={"level": level, "computed_at": started}
        )
        # An evaluated row lock: two checks of one contract store one after the other.
        locked = list(ContractRisk.objects.select_for_update().filter(contract_id=contract.pk))
        risk = locked[0]
        if not created and risk.computed_at > started:
            return risk  # a check that started later has stored its (newer) findings
        previous_level = None if created else risk.level
        Finding.objects.filter(contract_id=contract.pk).delete()
        Finding.objects.bulk_create(
            [
                Finding(
                    contract_id=contract.pk,
                    rule=h.rule,
                    severity=h.severity,
                    code=h.code,
                    params=h.params,
                    evidence=h.evidence[:500],
                    start=h.start,
                    end=h.end,
                    page=h.page,
                    document_version_id=h.version_id,
                    created_at=started,
                )
                for h in hits
            ]
        )
        changes: dict[str, Any] = {"level": level, "computed_at": started, "high_digest": digest}
        if digest != risk.high_digest:
            changes.update(acknowledged_by=None, acknowledged_at=None)
        ContractRisk.objects.filter(pk=risk.pk).update(**changes)
        # A first check that finds nothing is no news; every other change of level is.
        if previous_level != level and not (previous_level is None and level == Severity.LOW):
            record(
                actor=None,
                action="compliance.risk_changed",
                target=contract,
                data={
                    "before": {"risk_level": previous_level},
                    "after": {"risk_level": level},
                    "findings": len(hits),
                    "high": sum(1 for h in hits if h.severity == Severity.HIGH),
                },
            )
    risk.refresh_from_db()
    return risk


def may_acknowledge(user: Any) -> bool:
    """Legal (and administrators) acknowledge high risks."""
    if not getattr(user, "is_active", False):
        return False
    if user.has_perm_code("admin"):
        return True
    role = getattr(user, "role", None)
    return role is not None and role.code in ACKNOWLEDGING_ROLES


def may_recheck(user: Any, contract_id: int) -> bool:
    """Legal, administrators and whoever may change the contract ask for a new check."""
    return (
        may_acknowledge(user)
        or Contract.objects.visible_to(user, "change").filter(pk=contract_id).exists()
    )


def request_recheck(*, actor: Any, contract_id: int) -> None:
    """Check the contract against the rules again, in a job; :class:`NotAllowed` unless
    :func:`may_recheck`."""
    if not may_recheck(actor, contract_id):
        raise NotAllowed(_("You may not start a compliance check of this contract."))
    with transaction.atomic():
        hooks.recheck_after_commit(contract_id)


def acknowledge(*, actor: User, contract: Contract, note: str = "") -> ContractRisk:
    """Legal acknowledges the contract's high risk, so that its approval may complete."""
    if not may_acknowledge(actor):
        raise NotAllowed(_("Only legal may acknowledge a high risk."))
    note = (note or "").strip()
    if len(note) > 2000:
        raise ComplianceError({"note": _("At most %(n)d characters.") % {"n": 2000}})
    with transaction.atomic():
        risk = ContractRisk.objects.filter(contract_id=contract.pk).first()
        if risk is None or risk.level != Severity.HIGH:
            raise ComplianceError(_("This contract has no high risk to acknowledge."), code="state")
        if risk.acknowledged_at is not None:
            raise ComplianceError(_("This high risk was acknowledged already."), code="state")
        now = timezone.now()
        updated = ContractRisk.objects.filter(
            pk=risk.pk, high_digest=risk.high_digest, acknowledged_at__isnull=True
        ).update(acknowledged_by=actor, acknowledged_at=now)
        if updated != 1:
            raise ComplianceError(
                _("The findings changed meanwhile; reload the contract and look again."),
                code="stale",
            )
        record(
            actor=actor,
            action="compliance.acknowledged",
            target=contract,
            data={"level": risk.level, "note": note},
        )
    risk.refresh_from_db()
    return risk
