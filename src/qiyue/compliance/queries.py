"""Reads of compliance findings and risk levels (used by approvals)."""

from __future__ import annotations

from typing import Any


def risk_level(contract: Any) -> str | None:
    """The contract's risk level from its last compliance check: "low", "medium",
    "high", or None when it was never checked."""
    return None


def approval_blockers(contract: Any) -> list[str]:
    """Reasons (translated) why ``contract`` may not be approved yet, e.g. a high risk
    that legal has not acknowledged. Empty when nothing blocks."""
    return []


def required_approver_roles(contract: Any) -> list[str]:
    """Role codes whose approval the compliance rules require (e.g. an amount above a
    rule's limit needs "finance")."""
    return []
