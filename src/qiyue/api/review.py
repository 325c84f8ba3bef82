"""Proposals of key terms over REST: list a contract's proposals, accept (as proposed
or edited) or reject one.

Thin: parse, call the queries and actions of ``qiyue.review``, render. A proposal of a
contract the caller may not see answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema
from pydantic import ConfigDict, Field

from qiyue.api.auth import current_user
from qiyue.api.errors import invalid
from qiyue.api.etags import check_if_match
from qiyue.api.pagination import keyset_page
from qiyue.api.schemas import COMMON_ERRORS, MAX_ID, Error, Out, UserRef
from qiyue.api.serializers import user_ref
from qiyue.contracts.queries import contract_for
from qiyue.review import actions, queries
from qiyue.review.mapping import LABELS, editable, record_value
from qiyue.review.models import Proposal

router = Router(tags=["review"])

ContractId = Path(..., ge=1, le=MAX_ID, description="Contract id.")
ProposalId = Path(..., ge=1, le=MAX_ID, description="Proposal id.")
IfMatch = Header(
    None,
    alias="If-Match",
    description="Optional: the contract's ETag from your last read; a stale one answers 412.",
)
DECISION_ERRORS = {**COMMON_ERRORS, 409: Error, 412: Error}


class ProposalOut(Out):
    id: int
    contract: int
    document_version: int
    field: str = Field(description="The record field: title, amount, signed_date, …")
    label: str = Field(description="The field's name for people, in the user's language.")
    value: Any = Field(description="The proposed value (JSON; amounts as strings).")
    current: Any = Field(description="The record's value of the field now.")
    confidence: float = Field(description="How sure the extractor was, 0 to 1.")
    start: int = Field(description="Where the evidence starts in the version's text.")
    end: int
    excerpt: str = Field(description="The sentence around the evidence.")
    excerpt_start: int = Field(description="Where the excerpt starts in the text.")
    status: str = Field(description="pending, accepted, edited, rejected or superseded.")
    editable: bool = Field(description="Whether the field may change in the contract's state.")
    final_value: Any = Field(description="The value the record took, once accepted.")
    decided_by: UserRef | None
    decided_at: datetime | None
    created_at: datetime


class ProposalPage(Out):
    items: list[ProposalOut]
    next: str | None


class ProposalParams(Schema):
    model_config = ConfigDict(extra="forbid")
    status: Literal["", "pending", "accepted", "edited", "rejected", "superseded"] = ""
    page_size: int = 50
    cursor: str | None = None


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "reject"]
    value: Any = Field(
        None,
        description=(
            "Accept only: the value to take instead of the proposed one (an edit). "
            "For `counterparty` the id of the customer, required."
        ),
    )


def proposal_data(p: Proposal) -> dict[str, Any]:
    return {
        "id": p.pk,
        "contract": p.contract_id,
        "document_version": p.version_id,
        "field": p.field,
        "label": str(LABELS.get(p.field, p.field)),
        "value": p.value,
        "current": record_value(p.contract, p.field),
        "confidence": p.confidence,
        "start": p.start,
        "end": p.end,
        "excerpt": p.excerpt,
        "excerpt_start": p.excerpt_start,
        "status": p.status,
        "editable": editable(p.contract, p.field),
        "final_value": p.final_value,
        "decided_by": user_ref(p.decided_by) if p.decided_by else None,
        "decided_at": p.decided_at,
        "created_at": p.created_at,
    }


@router.get(
    "/contracts/{id}/proposals",
    response={200: ProposalPage, **COMMON_ERRORS},
    summary="List a contract's proposals",
)
def list_proposals(
    request: HttpRequest, params: Query[ProposalParams], id: int = ContractId
) -> dict[str, Any]:
    """Values read from the contract's main text, newest first; `status=pending` for
    those waiting for a decision. `start`/`end` index the document version's text
    (`GET /document-versions/{id}/text`, pages joined by a newline)."""
    user = current_user(request)
    contract = contract_for(user, id)

    def render(p: Proposal) -> dict[str, Any]:
        p.contract = contract  # one contract for all: no query per row
        return proposal_data(p)

    return keyset_page(
        request,
        queries.proposals_of(user, contract, status=params.status),
        page_size=params.page_size,
        cursor=params.cursor,
        render=render,
    )


@router.post(
    "/proposals/{id}/decision",
    response={200: ProposalOut, **DECISION_ERRORS},
    summary="Accept or reject a proposal",
)
def decide_proposal(
    request: HttpRequest,
    response: HttpResponse,
    payload: DecisionIn,
    id: int = ProposalId,
    if_match: str | None = IfMatch,
) -> dict[str, Any]:
    """`accept` sets the record's field to the proposed value, or to `value` (an edit),
    through the contract's normal edit (checks, audit; 409 when the contract's state
    locks the field or the proposal was decided); `reject` leaves the record as it is.
    Answers the proposal; after an accept, `ETag` is the contract's new one."""
    user = current_user(request)
    proposal = queries.proposal_for(user, id)
    contract = proposal.contract
    check_if_match(if_match, contract.etag)
    if payload.decision == "reject":
        if payload.value is not None:
            raise invalid({"value": _("Only an accepted proposal takes a value.")})
        actions.reject_proposal(actor=user, proposal=proposal)
    else:
        updated = actions.accept_proposal(
            actor=user, proposal=proposal, version=contract.version, value=payload.value
        )
        response["ETag"] = updated.etag
    return proposal_data(queries.proposal_for(user, id))
