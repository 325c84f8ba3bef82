"""The contract lifecycle as data: which transition leads from which states to which,
which access action it needs, and what it requires."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from qiyue.contracts.models import ContractState as S


@dataclass(frozen=True)
class Transition:
    code: str
    label: object
    sources: frozenset[str]
    target: str
    access: str  # the visible_to action the actor needs on the contract
    comment_required: bool = False
    owner_may: bool = False  # the owner may take it with only "change" access
    # Taken only by the approval workflow (``qiyue.approvals``) as the result of its
    # decisions, never directly by a person: approve, return, reject, withdraw, reapprove.
    workflow: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.code: t
    for t in [
        Transition(
            "submit",
            _("Submit for approval"),
            frozenset({S.DRAFT, S.RETURNED}),
            S.IN_REVIEW,
            "change",
        ),
        Transition(
            "approve",
            _("Approve"),
            frozenset({S.IN_REVIEW}),
            S.APPROVED,
            "approve",
            workflow=True,
        ),
        Transition(
            "return",
            _("Return for revision"),
            frozenset({S.IN_REVIEW}),
            S.RETURNED,
            "approve",
            comment_required=True,
            workflow=True,
        ),
        Transition(
            "reject",
            _("Reject"),
            frozenset({S.IN_REVIEW}),
            S.DRAFT,
            "approve",
            comment_required=True,
            workflow=True,
        ),
        Transition(
            "withdraw",
            _("Withdraw from approval"),
            frozenset({S.IN_REVIEW}),
            S.DRAFT,
            "change",
            workflow=True,
        ),
        Transition(
            "reapprove",
            _("Approval re-opened after a change"),
            frozenset({S.APPROVED, S.SIGNING}),
            S.IN_REVIEW,
            "change",
            workflow=True,
        ),
        Transition("reopen", _("Back to draft"), frozenset({S.RETURNED}), S.DRAFT, "change"),
        Transition("start_signing", _("Start signing"), frozenset({S.APPROVED}), S.SIGNING, "sign"),
        Transition(
            "mark_signed", _("Mark signed"), frozenset({S.APPROVED, S.SIGNING}), S.ACTIVE, "sign"
        ),
        Transition("expire", _("Mark expired"), frozenset({S.ACTIVE}), S.EXPIRED, "terminate"),
        Transition(
            "terminate",
            _("Terminate"),
            frozenset({S.ACTIVE}),
            S.TERMINATED,
            "terminate",
            comment_required=True,
        ),
        Transition(
            "renew", _("Mark renewed"), frozenset({S.ACTIVE, S.EXPIRED}), S.RENEWED, "terminate"
        ),
        Transition(
            "archive",
            _("Archive"),
            frozenset({S.EXPIRED, S.TERMINATED, S.RENEWED}),
            S.ARCHIVED,
            "archive",
        ),
    ]
}

# (from, to) -> transition, for callers that name the target state (the API).
BY_TARGET: dict[tuple[str, str], Transition] = {}
for _t in TRANSITIONS.values():
    if _t.workflow:
        continue
    for _src in _t.sources:
        key = (str(_src), str(_t.target))
        assert key not in BY_TARGET, key
        BY_TARGET[key] = _t

# Fields that may change only while the contract is a draft or returned; later changes
# go through amendments (and, with the approval workflow, re-open approval).
EDITABLE_STATES = frozenset({S.DRAFT, S.RETURNED})
ALWAYS_EDITABLE_FIELDS = frozenset({"notes", "tags", "confidentiality"})
FROZEN_STATES = frozenset({S.ARCHIVED})


def transitions_from(state: str) -> list[Transition]:
    """The steps a person may take from ``state`` (not the workflow's own)."""
    return [t for t in TRANSITIONS.values() if state in t.sources and not t.workflow]
