"""Checking one contract against the rules: what each kind of rule looks at and what it
reports. Pure evaluation — :func:`evaluate` reads but never writes; ``actions.check_contract``
stores the result."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy

from qiyue.compliance.models import BlocklistEntry, Rule, RuleKind, Severity
from qiyue.compliance.patterns import PatternTimeout, find_keyword, find_pattern
from qiyue.contracts.models import Contract
from qiyue.lib.durations import find_durations
from qiyue.lib.money import format_money
from qiyue.lib.text import normalize_company_name
from qiyue.lib.uscc import is_valid_uscc, normalize_uscc

log = logging.getLogger(__name__)

#: Characters of a version's text that are checked (the rest is not read).
MAX_TEXT_CHARS = 1_000_000
#: Characters of evidence kept either side of a match.
EVIDENCE_CONTEXT = 60
MAX_EVIDENCE = 300

#: Extracted fields a required-clause rule may ask for (``review.extraction`` names).
EXTRACTED_FIELDS: dict[str, Any] = {
    "dispute_resolution": gettext_lazy("Dispute resolution"),
    "governing_law": gettext_lazy("Governing law"),
    "confidentiality": gettext_lazy("Confidentiality clause"),
    "payment_schedule": gettext_lazy("Payment schedule"),
    "notice_period_days": gettext_lazy("Notice period"),
    "total_amount": gettext_lazy("Total amount"),
    "expiration_date": gettext_lazy("Expiration date"),
}

#: Record fields a required-fields rule may ask for; ``document`` is an uploaded document.
REQUIRED_FIELD_CHOICES: dict[str, Any] = {
    "amount": gettext_lazy("Amount"),
    "tax_rate": gettext_lazy("Tax rate"),
    "signed_date": gettext_lazy("Signed on"),
    "effective_date": gettext_lazy("Effective from"),
    "expiry_date": gettext_lazy("Expires on"),
    "payment_terms": gettext_lazy("Payment terms"),
    "notice_period_days": gettext_lazy("Notice period"),
    "renewal_term_months": gettext_lazy("Renewal term"),
    "department": gettext_lazy("Department"),
    "document": gettext_lazy("Contract document"),
}

MESSAGES: dict[str, Any] = {
    "clause_missing": gettext_lazy("Required clause not found: %(what)s."),
    "prohibited": gettext_lazy("Prohibited term found: %(term)s."),
    "amount_over": gettext_lazy(
        "Amount %(amount)s is above the limit of %(limit)s: needs approval by %(role)s."
    ),
    "payment_days": gettext_lazy("Payment is due after %(days)s days, more than %(max)s."),
    "fields_missing": gettext_lazy("Required fields missing: %(fields)s."),
    "blocklisted": gettext_lazy("The customer is on the blocklist: %(reason)s"),
    "party_blocked": gettext_lazy("The customer is marked as blocked."),
    "credit_code_invalid": gettext_lazy(
        "The customer's unified social credit code %(code)s is not valid."
    ),
    "credit_code_missing": gettext_lazy(
        "The customer has neither a unified social credit code nor a foreign registration."
    ),
    "renewal_no_notice": gettext_lazy("Renews automatically but has no notice period."),
    "currency": gettext_lazy("Currency %(currency)s is not allowed (allowed: %(allowed)s)."),
    "pattern_timeout": gettext_lazy(
        "The rule's pattern took too long and could not be checked; simplify it."
    ),
}


def _role_name(code: str) -> str:
    from qiyue.accounts.models import Role

    role = Role.objects.filter(code=code).first()
    return role.display_name if role else code


def finding_message(code: str, params: dict[str, Any]) -> str:
    """The finding's message in the active language."""
    template = MESSAGES.get(code)
    if template is None:
        return code
    values = dict(params)
    if code == "fields_missing":
        values["fields"] = "、".join(
            str(REQUIRED_FIELD_CHOICES.get(f, f)) for f in params.get("fields", [])
        )
    if code == "clause_missing" and params.get("field"):
        names = [str(EXTRACTED_FIELDS.get(params["field"], params["field"]))]
        values["what"] = " / ".join(names + list(params.get("keywords", [])))
    elif code == "clause_missing":
        values["what"] = " / ".join(params.get("keywords", [])) or params.get("pattern", "")
    if code == "amount_over":
        values["role"] = _role_name(str(params.get("role", "")))
    if code == "blocklisted" and not params.get("reason"):
        values["reason"] = "—"
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)


@dataclass
class VersionText:
    """The text of one document version: its pages joined by newlines."""

    version_id: int
    text: str
    page_starts: list[tuple[int, int]]  # (offset, page number)

    def page_of(self, offset: int) -> int | None:
        page = None
        for start, number in self.page_starts:
            if start > offset:
                break
            page = number
        return page


@dataclass
class Hit:
    """One finding before it is stored."""

    rule: Rule
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    evidence: str = ""
    start: int | None = None
    end: int | None = None
    page: int | None = None
    version_id: int | None = None

    @property
    def severity(self) -> str:
        return str(self.rule.severity)

    def key(self) -> str:
        import json

        return f"{self.rule.pk}:{self.code}:{json.dumps(self.params, sort_keys=True)}"


def version_text(version_id: int, pages: list[dict[str, Any]]) -> VersionText:
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    offset = 0
    for index, page in enumerate(pages):
        text = str(page.get("text", ""))
        starts.append((offset, int(page.get("number", index + 1))))
        parts.append(text)
        offset += len(text) + 1
    return VersionText(version_id, "\n".join(parts)[:MAX_TEXT_CHARS], starts)


def _evidence(vt: VersionText, start: int, end: int) -> dict[str, Any]:
    left = max(0, start - EVIDENCE_CONTEXT)
    right = min(len(vt.text), end + EVIDENCE_CONTEXT)
    snippet = vt.text[left:right].strip()
    return {
        "evidence": snippet[:MAX_EVIDENCE],
        "start": start,
        "end": end,
        "page": vt.page_of(start),
        "version_id": vt.version_id,
    }


class Context:
    """What the rules look at for one contract; extraction runs at most once per text."""

    def __init__(self, contract: Contract, texts: list[VersionText], *, has_documents: bool):
        self.contract = contract
        self.texts = texts
        self.has_documents = has_documents
        self._extracted: dict[int, Any] = {}

    def extracted(self, vt: VersionText) -> Any:
        if vt.version_id not in self._extracted:
            from qiyue.review.extraction import extract

            try:
                self._extracted[vt.version_id] = extract(vt.text)
            except Exception:  # a bug in one extractor rule must not stop the check
                log.exception("compliance: extraction failed for version %s", vt.version_id)
                self._extracted[vt.version_id] = {}
        return self._extracted[vt.version_id]

    def extracted_value(self, name: str) -> tuple[VersionText, Any] | None:
        for vt in self.texts:
            proposal = self.extracted(vt).get(name)
            if proposal is not None and proposal.value not in (None, "", [], False):
                return vt, proposal
        return None


def _required_clause(rule: Rule, ctx: Context) -> Iterable[Hit]:
    if not ctx.texts:
        return
    keywords = rule.keyword_list
    for vt in ctx.texts:
        for keyword in keywords:
            if next(find_keyword(keyword, vt.text, limit=1), None):
                return
        if rule.pattern and find_pattern(rule.pattern, vt.text, limit=1):
            return
    if rule.extracted_field and ctx.extracted_value(rule.extracted_field):
        return
    yield Hit(
        rule,
        "clause_missing",
        {"field": rule.extracted_field, "keywords": keywords, "pattern": rule.pattern},
    )


def _prohibited_term(rule: Rule, ctx: Context) -> Iterable[Hit]:
    for vt in ctx.texts:
        for keyword in rule.keyword_list:
            for start, end in find_keyword(keyword, vt.text, limit=5):
                yield Hit(rule, "prohibited", {"term": keyword}, **_evidence(vt, start, end))
        if rule.pattern:
            for start, end in find_pattern(rule.pattern, vt.text, limit=5):
                term = vt.text[start:end][:80]
                yield Hit(rule, "prohibited", {"term": term}, **_evidence(vt, start, end))


def _amount_limit(rule: Rule, ctx: Context) -> Iterable[Hit]:
    limit = rule.amount_limit
    if limit is None:
        return
    c = ctx.contract
    amount: Decimal | None = c.amount
    extra: dict[str, Any] = {}
    if amount is None:
        found = ctx.extracted_value("total_amount")
        if found:
            vt, proposal = found
            amount = Decimal(str(proposal.value))
            extra = _evidence(vt, proposal.start, proposal.end)
    if amount is not None and amount > limit:
        yield Hit(
            rule,
            "amount_over",
            {
                "amount": format_money(amount, c.currency),
                "limit": format_money(limit, c.currency),
                "role": rule.approver_role,
            },
            **extra,
        )


_PAYMENT_WORDS = re.compile(r"付款|支付|结算|回款|payment|payable|\bpay\b|\bpaid\b|invoice", re.I)
_NET_DAYS = re.compile(r"\bnet\s*(\d{1,4})\b", re.I)
_SENTENCE_END = re.compile(r"[。；;\n]|\.\s")


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    head = text[max(0, start - 300) : start]
    ends = list(_SENTENCE_END.finditer(head))
    s = start - len(head) + (ends[-1].end() if ends else 0)
    m = _SENTENCE_END.search(text, end, min(len(text), end + 300))
    e = m.start() + 1 if m else min(len(text), end + 300)
    return s, e


def _payment_periods(text: str, *, all_sentences: bool = False) -> Iterable[tuple[int, int, int]]:
    """(days, start, end) of each payment period written in ``text``: ``120日内付款``,
    ``十个工作日内支付``, ``within sixty (60) days after invoice``, ``Net 90``. Only
    sentences that speak of paying count, unless ``all_sentences`` (the record's
    payment terms, which speak of nothing else)."""
    for m in _NET_DAYS.finditer(text):
        yield int(m.group(1)), m.start(), m.end()
    seen: set[tuple[int, int]] = set()
    sentences = (
        [(0, len(text))]
        if all_sentences
        else (_sentence(text, m.start(), m.end()) for m in _PAYMENT_WORDS.finditer(text))
    )
    for s, e in sentences:
        if (s, e) in seen:
            continue
        seen.add((s, e))
        sentence = text[s:e]
        for d in find_durations(sentence):
            after = sentence[d.end : d.end + 14].lower()
            before = sentence[max(0, d.start - 10) : d.start].lower()
            if before.rstrip().endswith(("前", "过去", "最近", "preceding", "prior")):
                continue  # a look-back ("违约发生前12个月内支付的费用"), not a term to pay
            if not (
                after.startswith(("内", "以内", "之内"))
                or "within" in before
                or after.lstrip(" )").startswith(("after", "following", "from", "of receipt"))
            ):
                continue
            days = d.days * 7 // 5 if d.business else d.days
            yield days, s + d.start, s + d.end


def _payment_days(rule: Rule, ctx: Context) -> Iterable[Hit]:
    if rule.max_days is None:
        return
    worst: tuple[int, dict[str, Any]] | None = None
    for days, _s, _e in _payment_periods(ctx.contract.payment_terms, all_sentences=True):
        if days > rule.max_days and (worst is None or days > worst[0]):
            worst = (days, {"evidence": ctx.contract.payment_terms[:MAX_EVIDENCE]})
    for vt in ctx.texts:
        for days, s, e in _payment_periods(vt.text):
            if days > rule.max_days and (worst is None or days > worst[0]):
                worst = (days, _evidence(vt, s, e))
    if worst:
        yield Hit(rule, "payment_days", {"days": worst[0], "max": rule.max_days}, **worst[1])


def _required_fields(rule: Rule, ctx: Context) -> Iterable[Hit]:
    c = ctx.contract
    missing = []
    for name in rule.required_fields or []:
        if name == "document":
            if not ctx.has_documents:
                missing.append(name)
        elif name == "department":
            if c.department_id is None:
                missing.append(name)
        elif getattr(c, name, None) in (None, ""):
            missing.append(name)
    if missing:
        yield Hit(rule, "fields_missing", {"fields": missing})


def _blocklist(rule: Rule, ctx: Context) -> Iterable[Hit]:
    party = ctx.contract.counterparty
    q = Q()
    code = normalize_uscc(party.credit_code or "")
    if code:
        q |= Q(credit_code=code)
    name = normalize_company_name(party.name)
    if name:
        q |= Q(normalized_name=name)
    entry = BlocklistEntry.objects.filter(q).order_by("id").first() if q else None
    if entry is not None:
        yield Hit(rule, "blocklisted", {"reason": entry.reason, "entry": entry.pk})
    elif party.status == "blocked":
        yield Hit(rule, "party_blocked", {})


def _credit_code(rule: Rule, ctx: Context) -> Iterable[Hit]:
    party = ctx.contract.counterparty
    code = normalize_uscc(party.credit_code or "")
    if code and not is_valid_uscc(code):
        yield Hit(rule, "credit_code_invalid", {"code": party.credit_code[:40]})
    elif not code and not party.foreign_registration:
        yield Hit(rule, "credit_code_missing", {})


def _renewal_notice(rule: Rule, ctx: Context) -> Iterable[Hit]:
    c = ctx.contract
    if c.auto_renew:
        if c.notice_period_days is None and not ctx.extracted_value("notice_period_days"):
            yield Hit(rule, "renewal_no_notice", {})
        return
    found = ctx.extracted_value("auto_renewal")
    if (
        found
        and found[1].value is True
        and c.notice_period_days is None
        and not ctx.extracted_value("notice_period_days")
    ):
        vt, proposal = found
        yield Hit(rule, "renewal_no_notice", {}, **_evidence(vt, proposal.start, proposal.end))


def _currency(rule: Rule, ctx: Context) -> Iterable[Hit]:
    allowed = list(rule.allowed_currencies or [])
    if allowed and ctx.contract.currency not in allowed:
        yield Hit(
            rule,
            "currency",
            {"currency": ctx.contract.currency, "allowed": ", ".join(allowed)},
        )


CHECKS: dict[str, Callable[[Rule, Context], Iterable[Hit]]] = {
    RuleKind.REQUIRED_CLAUSE: _required_clause,
    RuleKind.PROHIBITED_TERM: _prohibited_term,
    RuleKind.AMOUNT_LIMIT: _amount_limit,
    RuleKind.PAYMENT_DAYS: _payment_days,
    RuleKind.REQUIRED_FIELDS: _required_fields,
    RuleKind.BLOCKLIST: _blocklist,
    RuleKind.CREDIT_CODE: _credit_code,
    RuleKind.RENEWAL_NOTICE: _renewal_notice,
    RuleKind.CURRENCY: _currency,
}


def applies(rule: Rule, contract: Contract) -> bool:
    if rule.contract_type_id is not None and rule.contract_type_id != contract.contract_type_id:
        return False
    levels = rule.confidentiality_levels or []
    return not levels or contract.confidentiality in levels


def evaluate(rules: Iterable[Rule], ctx: Context) -> list[Hit]:
    """Every finding of the enabled ``rules`` that apply to the contract."""
    hits: list[Hit] = []
    for rule in rules:
        if not rule.enabled or not applies(rule, ctx.contract):
            continue
        try:
            hits.extend(CHECKS[rule.kind](rule, ctx))
        except PatternTimeout:
            log.warning("compliance: pattern of rule %s timed out", rule.pk)
            hits.append(Hit(rule, "pattern_timeout", {}))
    return hits


def risk_of(hits: Iterable[Hit]) -> str:
    """The gravest severity among the findings; low when there are none."""
    level = Severity.LOW
    for hit in hits:
        if hit.severity == Severity.HIGH:
            return Severity.HIGH
        if hit.severity == Severity.MEDIUM:
            level = Severity.MEDIUM
    return str(level)
