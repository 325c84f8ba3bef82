"""Reads of contract review for users; every one goes through ``Contract.visible_to``.

A proposal of a contract the user may not see is "not found" (404), never "forbidden"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from qiyue.contracts.models import Contract
from qiyue.documents.models import DocumentKind, DocumentVersion, TextStatus
from qiyue.lib.money import CURRENCIES
from qiyue.lib.text import normalize_company_name
from qiyue.parties.models import Party
from qiyue.review.actions import high_confidence, version_text
from qiyue.review.mapping import (
    HIGH_CONFIDENCE,
    INPUT_TYPES,
    LABELS,
    display,
    edit_input,
    editable,
    record_value,
    same_as_record,
)
from qiyue.review.models import ExtractionRun, Proposal, ProposalStatus


def _visible_ids(user: Any, action: str = "view") -> Any:
    return Contract.objects.visible_to(user, action).values("pk")


def proposal_for(user: Any, pk: int) -> Proposal:
    """One proposal of a contract the user may see, or 404."""
    proposal = (
        Proposal.objects.filter(pk=pk, contract__in=_visible_ids(user))
        .select_related("contract__counterparty", "version__document", "decided_by")
        .first()
    )
    if proposal is None:
        raise Http404
    return proposal


def proposals_of(user: Any, contract: Contract, *, status: str = "") -> QuerySet[Proposal]:
    """The contract's proposals (none if the contract is not visible: callers get it
    from ``contract_for``, which answers 404 then); with ``status``, only those in that
    state."""
    qs = Proposal.objects.filter(contract=contract, contract__in=_visible_ids(user)).select_related(
        "decided_by"
    )
    return qs.filter(status=status) if status else qs


def waiting(contract: Contract) -> bool:
    """Whether proposals may still come: the newest main text is being extracted or read."""
    latest = (
        DocumentVersion.objects.filter(
            document__contract=contract, document__kind=DocumentKind.MAIN
        )
        .order_by("-uploaded_at", "-pk")
        .values_list("pk", "text_status")
        .first()
    )
    if latest is None:
        return False
    pk, status = latest
    if status == TextStatus.PENDING:
        return True
    return status == TextStatus.OK and not ExtractionRun.objects.filter(version_id=pk).exists()


@dataclass
class Row:
    """One pending proposal as the contract page shows it."""

    p: Proposal
    label: str
    current: str
    proposed: str
    matches: bool
    editable: bool
    high: bool
    input_type: str
    input_value: str
    before: str
    evidence: str
    after: str
    parties: list[Party] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _party_matches(user: Any, proposals: list[Proposal]) -> dict[str, list[Party]]:
    """Visible customers whose name or short name is a name the proposals give, by name
    key: one query for all the customer proposals (none when there are none)."""
    names = {
        str(n)
        for p in proposals
        if p.field == "counterparty" and isinstance(p.value, dict)
        for n in [p.value.get("name", ""), *p.value.get("alternatives", [])]
        if n
    }
    if not names:
        return {}
    keys = {normalize_company_name(n) for n in names} - {""}
    parties = Party.objects.visible_to(user, "view").filter(
        Q(normalized_name__in=keys) | Q(short_name__in=names)
    )
    out: dict[str, list[Party]] = {}
    for party in parties.order_by("id")[:20]:
        for key in {party.normalized_name, normalize_company_name(party.short_name)} - {""}:
            out.setdefault(key, []).append(party)
    return out


def panel(user: Any, contract: Contract, *, can_edit: bool) -> dict[str, Any]:
    """What the "Proposed from the document" panel shows: the pending proposals with the
    record's current values. One query, two with a customer proposal, whatever their
    number (``contract`` comes with its counterparty; ``can_edit`` is the page's)."""
    pending = list(
        Proposal.objects.filter(contract=contract, status=ProposalStatus.PENDING).select_related(
            "version__document"
        )
    )
    order = {name: i for i, name in enumerate(LABELS)}
    pending.sort(key=lambda p: (order.get(p.field, len(order)), p.pk))
    matches = _party_matches(user, pending)
    party_names = {contract.counterparty_id: contract.counterparty.name}
    high = {p.pk for p in high_confidence(contract, pending)} if can_edit else set()
    rows = []
    for p in pending:
        before, evidence, after = p.excerpt_parts()
        parties: list[Party] = []
        names: list[str] = []
        if p.field == "counterparty" and isinstance(p.value, dict):
            names = [str(n) for n in [p.value.get("name"), *p.value.get("alternatives", [])] if n]
            seen: set[int] = set()
            for n in names:
                for party in matches.get(normalize_company_name(n), []):
                    if party.pk not in seen:
                        seen.add(party.pk)
                        parties.append(party)
        rows.append(
            Row(
                p=p,
                label=str(LABELS.get(p.field, p.field)),
                current=display(p.field, record_value(contract, p.field), party_names=party_names),
                proposed=display(p.field, p.value),
                matches=same_as_record(contract, p.field, p.value),
                editable=can_edit and editable(contract, p.field),
                high=p.pk in high,
                input_type=INPUT_TYPES.get(p.field, "text"),
                input_value=edit_input(p.field, p.value),
                before=before,
                evidence=evidence,
                after=after,
                parties=parties,
                names=names,
            )
        )
    return {
        "rows": rows,
        "high_count": len(high),
        "high_threshold": int(HIGH_CONFIDENCE * 100),
        "locked": bool(rows) and can_edit and not any(r.editable for r in rows),
        "can_decide": can_edit,
        "currencies": CURRENCIES,
    }


def text_with_span(proposal: Proposal) -> dict[str, Any]:
    """The proposal's document version text split around its span, for the context page
    (the parts are shown escaped; the span marked)."""
    text = version_text(proposal.version)
    start, end = proposal.start, proposal.end
    if not 0 <= start <= end <= len(text):
        start = end = 0
    return {
        "has_text": bool(text),
        "before": text[:start],
        "evidence": text[start:end],
        "after": text[end:],
    }
