"""What the extractors return: a :class:`Proposal` per field, with the span of its evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

__all__ = ["FIELDS", "Proposal", "Proposals", "clause_around", "plain"]

#: The record fields proposed, with the key names of the zh-contracts gold files.
FIELDS: tuple[str, ...] = (
    "contract_number",
    "title",
    "party_a",
    "party_b",
    "signing_date",
    "effective_date",
    "expiration_date",
    "total_amount",
    "currency",
    "tax_rate",
    "auto_renewal",
    "renewal_term_months",
    "notice_period_days",
    "governing_law",
    "dispute_resolution",
    "dispute_venue",
    "payment_schedule",
    "confidentiality",
    "language",
)


@dataclass(frozen=True)
class Proposal:
    """A proposed value for one field, how sure the rule is (0..1), and ``text[start:end]``."""

    value: Any
    confidence: float
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": plain(self.value),
            "confidence": round(self.confidence, 2),
            "start": self.start,
            "end": self.end,
        }


Proposals = dict[str, Proposal]


def plain(value: Any) -> Any:
    """``value`` as JSON-friendly data (dates as ISO strings, decimals as int or float)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


_SENTENCE_END = re.compile(r"[。；;\n]|\.\s")


def clause_around(text: str, start: int, end: int, *, limit: int = 400) -> tuple[int, int]:
    """The bounds of the sentence holding ``text[start:end]`` (at most ``limit`` each way)."""
    left = max(0, start - limit)
    head = text[left:start]
    ends = list(_SENTENCE_END.finditer(head))
    s = left + ends[-1].end() if ends else left
    m = _SENTENCE_END.search(text, end, min(len(text), end + limit))
    e = m.start() + 1 if m else min(len(text), end + limit)
    return s, e
