"""Rule-based key-term extraction from contract text, Chinese and English.

:func:`extract` reads a contract's text and proposes its record: a :class:`Proposal` per
field it is sure enough about (value, confidence, character span of the evidence), and
nothing for the rest — a person confirms each proposal, so an empty field is better than
a guess. Works offline; no model.
"""

from __future__ import annotations

import re
from typing import Any

from qiyue.review.extraction.base import FIELDS, Proposal, Proposals, plain

__all__ = ["FIELDS", "Proposal", "Proposals", "detect_language", "extract", "extract_values"]

_CJK = re.compile(r"[\u4e00-\u9fff]")


def detect_language(text: str) -> str:
    """``zh`` when Chinese characters make up a real share of the text, else ``en``."""
    sample = text[:20000]
    letters = sum(1 for ch in sample if ch.isalpha())
    cjk = len(_CJK.findall(sample))
    return "zh" if letters and cjk / letters > 0.2 else "en"


def extract(text: str) -> Proposals:
    """The proposals for ``text``, keyed by field name (fields left empty are absent)."""
    language = detect_language(text)
    if language == "zh":
        from qiyue.review.extraction.chinese import extract_zh

        proposals = extract_zh(text)
    else:
        from qiyue.review.extraction.english import extract_en

        proposals = extract_en(text)
    proposals["language"] = Proposal(language, 0.9, 0, 0)
    return proposals


def extract_values(text: str) -> dict[str, Any]:
    """Every field of :data:`FIELDS` with its proposed value as JSON-friendly data, or None."""
    proposals = extract(text)
    return {name: plain(proposals[name].value) if name in proposals else None for name in FIELDS}
