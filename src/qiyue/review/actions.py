"""Writes of contract review: store what the extractor proposes for a contract's record,
and the decisions people take on those proposals.

Accepting changes the record through ``contracts.actions.update_contract`` — the same
checks, optimistic locking (``version``) and ``contract.changed`` audit event as an edit
in the form — and marks the proposal, with its own audit event, in the same
transaction: a refused edit leaves the proposal pending and the record as it was.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.audit.actions import record
from qiyue.contracts.actions import ContractError, update_contract
from qiyue.contracts.models import Contract
from qiyue.documents.models import DocumentKind, DocumentVersion, TextStatus
from qiyue.documents.queries import version_pages
from qiyue.lib.text import normalize_company_name
from qiyue.parties.models import Party
from qiyue.review import llm
from qiyue.review.mapping import (
    HIGH_CONFIDENCE,
    Draft,
    contract_data,
    editable,
    from_extraction,
    record_value,
    same_as_record,
)
from qiyue.review.models import ExtractionRun, Proposal, ProposalStatus

log = logging.getLogger(__name__)

#: The extractor reads at most this many characters of a document (contracts are far
#: shorter; a huge text would only make the job slow).
TEXT_LIMIT = 500_000


class ReviewError(ContractError):
    """A refused decision on a proposal; ``code`` as for contracts (``invalid``,
    ``state`` when the proposal or the contract's state does not allow it,
    ``forbidden``, ``stale``)."""


def version_text(version: DocumentVersion) -> str:
    """The extracted text of a version, pages joined by a newline; spans index into it."""
    pages = version_pages(version) or []
    return "\n".join(str(p.get("text") or "") for p in pages)


def _latest_main_version_id(contract_id: int) -> int | None:
    return (
        DocumentVersion.objects.filter(
            document__contract_id=contract_id, document__kind=DocumentKind.MAIN
        )
        .order_by("-uploaded_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


def _counterparty_first(drafts: list[Draft]) -> list[Draft]:
    """Of the two parties, propose the one that is a known customer (the other party is
    usually the company itself); otherwise the first party, as named in the text."""
    out = []
    for d in drafts:
        if d.field == "counterparty" and d.value["alternatives"]:
            names = [d.value["name"], *d.value["alternatives"]]
            keys = [normalize_company_name(n) for n in names]
            known = set(
                Party.objects.filter(normalized_name__in=keys).values_list(
                    "normalized_name", flat=True
                )
            )
            if keys[0] not in known and keys[1] in known:
                d = replace(d, value={"name": names[1], "alternatives": [names[0]]})
        out.append(d)
    return out


def propose_for_version(version_id: int) -> int | None:
    """Extract the key terms of a contract's main text version and store them as pending
    proposals (the job's body); returns how many, or None when nothing was done.

    Runs once per version (an :class:`ExtractionRun` marks it); only the newest main
    version of a contract gets proposals, which supersede the older pending ones.
    Values the record already holds are not proposed."""
    from qiyue.review.extraction import extract

    version = (
        DocumentVersion.objects.select_related("document__contract__counterparty", "text_blob")
        .filter(pk=version_id)
        .first()
    )
    if version is None or version.document.kind != DocumentKind.MAIN:
        return None
    if version.text_status != TextStatus.OK:
        return None
    if ExtractionRun.objects.filter(version=version).exists():
        return None
    contract = version.document.contract
    newest = _latest_main_version_id(contract.pk) == version.pk
    drafts: list[Draft] = []
    language = ""
    if newest:
        text = version_text(version)[:TEXT_LIMIT]
        if text.strip():
            found = extract(text)
            language = str(found["language"].value) if "language" in found else ""
            drafts = _counterparty_first(from_extraction(found, text))
            drafts = [
                d
                for d in llm.refine(text, drafts)
                if not same_as_record(contract, d.field, d.value)
            ]
    now = timezone.now()
    with transaction.atomic():
        if newest:
            # Reading (and the model) took a while: a newer main version may have come
            # and had its proposals stored meanwhile. The contract's row lock makes the
            # jobs of two versions of one contract store one after the other.
            Contract.objects.select_for_update().filter(pk=contract.pk).values_list("pk").first()
            if _latest_main_version_id(contract.pk) != version.pk:
                newest, drafts = False, []
        try:
            with transaction.atomic():
                run = ExtractionRun.objects.create(
                    version=version,
                    contract=contract,
                    language=language,
                    proposals=len(drafts),
                    created_at=now,
                )
        except IntegrityError:
            return None  # another run of the job got here first
        superseded = 0
        if newest:
            superseded = (
                Proposal.objects.filter(contract=contract, status=ProposalStatus.PENDING)
                .exclude(version=version)
                .update(status=ProposalStatus.SUPERSEDED, decided_at=now)
            )
        Proposal.objects.bulk_create(
            [
                Proposal(
                    contract=contract,
                    version=version,
                    field=d.field,
                    value=d.value,
                    confidence=d.confidence,
                    start=d.start,
                    end=d.end,
                    excerpt=d.excerpt,
                    excerpt_start=d.excerpt_start,
                    created_at=now,
                )
                for d in drafts
            ]
        )
        if not drafts and not superseded:
            return 0
        record(
            actor=None,
            action="review.proposed",
            target=run,
            data={
                "contract": contract.pk,
                "version_id": version.pk,
                "language": language,
                "fields": [d.field for d in drafts],
                "superseded": superseded,
            },
        )
    return len(drafts)


# -- decisions -----------------------------------------------------------------------------


def _may_change(actor: Any, contract: Contract) -> None:
    if not Contract.objects.visible_to(actor, "change").filter(pk=contract.pk).exists():
        raise ReviewError(_("You may not edit this contract."), code="forbidden")


def _pending(proposal: Proposal) -> Proposal:
    """The proposal as stored now; refused unless still pending."""
    current = Proposal.objects.select_related("contract__counterparty").get(pk=proposal.pk)
    if current.status != ProposalStatus.PENDING:
        raise ReviewError(
            _("This proposal was already decided (%(status)s).")
            % {"status": current.get_status_display()},
            code="state",
        )
    return current


def _locked(contract: Contract, field: str) -> ReviewError:
    return ReviewError(
        {
            field: _(
                "Cannot be changed once the contract is %(state)s; record an amendment instead."
            )
            % {"state": contract.get_state_display()}
        },
        code="state",
    )


def _mark(
    proposals: list[Proposal],
    contract: Contract,
    *,
    actor: Any,
    status: str,
    edited: set[int] | None = None,
) -> None:
    """Compare-and-set each proposal from pending to ``status`` and audit it."""
    now = timezone.now()
    for p in proposals:
        final = None if status == ProposalStatus.REJECTED else record_value(contract, p.field)
        mark = ProposalStatus.EDITED if edited and p.pk in edited else status
        done = Proposal.objects.filter(pk=p.pk, status=ProposalStatus.PENDING).update(
            status=mark, final_value=final, decided_by=actor, decided_at=now
        )
        if done != 1:
            raise ReviewError(_("This proposal was already decided."), code="state")
        verb = "rejected" if status == ProposalStatus.REJECTED else "accepted"
        record(
            actor=actor,
            action=f"review.proposal_{verb}",
            target=p,
            data={
                "contract": contract.pk,
                "version_id": p.version_id,
                "field": p.field,
                "proposed": p.value,
                "confidence": p.confidence,
                **({} if final is None else {"accepted": final, "edited": mark == "edited"}),
            },
        )


def accept_proposal(*, actor: Any, proposal: Proposal, version: int, value: Any = None) -> Contract:
    """Set the record's field to the proposed value — or to ``value``, a person's edit of
    it (for the customer: the id of the customer chosen) — if the contract's ``version``
    is still current. Raises :class:`ReviewError` / ``ContractError``; changes nothing then."""
    with transaction.atomic():
        p = _pending(proposal)
        contract = p.contract
        _may_change(actor, contract)
        if not editable(contract, p.field):
            raise _locked(contract, p.field)
        if p.field == "counterparty" and (value in (None, "") or isinstance(value, dict)):
            raise ReviewError(
                {"counterparty": _("Choose the customer the document names.")}, code="invalid"
            )
        data = contract_data(p.field, p.value if value is None else value)
        updated = update_contract(actor=actor, contract=contract, data=data, version=version)
        edited = value is not None and not same_as_record(updated, p.field, p.value)
        _mark(
            [p],
            updated,
            actor=actor,
            status=ProposalStatus.ACCEPTED,
            edited={p.pk} if edited else None,
        )
    return updated


def reject_proposal(*, actor: Any, proposal: Proposal) -> None:
    """Turn the proposal down; the record stays as it is."""
    with transaction.atomic():
        p = _pending(proposal)
        _may_change(actor, p.contract)
        _mark([p], p.contract, actor=actor, status=ProposalStatus.REJECTED)


def high_confidence(contract: Contract, proposals: list[Proposal]) -> list[Proposal]:
    """The pending proposals "accept all high-confidence" takes: sure enough, for a field
    editable now, with a value of its own (the customer always needs a person's choice)."""
    return [
        p
        for p in proposals
        if p.status == ProposalStatus.PENDING
        and p.confidence >= HIGH_CONFIDENCE
        and p.field != "counterparty"
        and editable(contract, p.field)
    ]


def accept_high_confidence(*, actor: Any, contract: Contract, version: int) -> int:
    """Accept every high-confidence pending proposal of the contract in one edit (one new
    version of the record); returns how many were accepted."""
    with transaction.atomic():
        current = Contract.objects.select_related("counterparty").get(pk=contract.pk)
        _may_change(actor, current)
        pending = list(
            Proposal.objects.filter(contract=current, status=ProposalStatus.PENDING).order_by("id")
        )
        chosen = high_confidence(current, pending)
        if not chosen:
            raise ReviewError(_("There are no high-confidence proposals to accept."))
        data: dict[str, Any] = {}
        for p in chosen:
            data.update(contract_data(p.field, p.value))
        updated = update_contract(actor=actor, contract=current, data=data, version=version)
        _mark(chosen, updated, actor=actor, status=ProposalStatus.ACCEPTED)
    return len(chosen)
