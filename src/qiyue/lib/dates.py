"""Dates written in contracts, Chinese and English, with their positions in the text.

Pure functions, no Django. Chinese: ``2025年3月1日``, ``二〇二五年三月一日``, ``2025-03-01``,
``2025.3.1``, ``2025/3/1``. English: ``March 1, 2025``, ``1st day of March, 2025``,
``March 1st 2025``, ``1 March 2025``, ``3/1/2025`` (US month first), ``Mar. 1, 2025``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from qiyue.lib.cn_numerals import CN_NUMERAL_CHARS, parse_cn_int

__all__ = ["DateMatch", "add_term", "find_dates", "parse_date"]


@dataclass(frozen=True)
class DateMatch:
    """A date found in a text and the span ``text[start:end]`` it was read from."""

    value: date
    start: int
    end: int


MONTHS: dict[str, int] = {}
for _i, _name in enumerate(calendar.month_name):
    if _i:
        MONTHS[_name.lower()] = _i
        MONTHS[_name[:3].lower()] = _i
MONTHS["sept"] = 9

_CN = f"[0-9０-９{CN_NUMERAL_CHARS}]"
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th|t\s?h|s\s?t|n\s?d|r\s?d)?"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("cn", re.compile(rf"({_CN}{{4}})\s*年\s*({_CN}{{1,3}})\s*月\s*({_CN}{{1,4}})\s*[日号]")),
    (
        "ymd",
        re.compile(r"(?<![\d.])((?:19|20)\d\d)\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})(?![\d])"),
    ),
    (
        "dmy",
        re.compile(
            rf"(?<![\d/.])(\d{{1,2}}){_ORD}\s+(?:day\s+of\s+)?({_MONTH_NAMES})\.?,?\s*(?:of\s+)?,?\s*((?:19|20)\d\d)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "mdy",
        re.compile(
            rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}}){_ORD}\s*,?\s*((?:19|20)\d\d)\b",
            re.IGNORECASE,
        ),
    ),
    ("us", re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})/((?:19|20)?\d\d)(?![\d/])")),
]


def _safe_date(year: int | None, month: int | None, day: int | None) -> date | None:
    if year is None or month is None or day is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _cn_part(text: str) -> int | None:
    return parse_cn_int(text.translate(str.maketrans("０１２３４５６７８９", "0123456789")))


def _convert(kind: str, groups: tuple[str, ...]) -> date | None:
    if kind == "cn":
        return _safe_date(*(_cn_part(g) for g in groups))
    if kind == "ymd":
        return _safe_date(int(groups[0]), int(groups[1]), int(groups[2]))
    if kind == "dmy":
        return _safe_date(int(groups[2]), MONTHS.get(groups[1].lower()), int(groups[0]))
    if kind == "mdy":
        return _safe_date(int(groups[2]), MONTHS.get(groups[0].lower()), int(groups[1]))
    year = int(groups[2])
    if year < 100:
        year += 2000 if year <= 30 else 1900
    return _safe_date(year, int(groups[0]), int(groups[1]))


def find_dates(text: str) -> list[DateMatch]:
    """Every date in ``text``, in order of position; overlapping matches keep the first."""
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            value = _convert(kind, m.groups())
            if value is not None:
                found.append(DateMatch(value, m.start(), m.end()))
                taken.append((m.start(), m.end()))
    found.sort(key=lambda d: d.start)
    return found


def parse_date(text: str) -> date | None:
    """The first date written in ``text``, or None."""
    matches = find_dates(text)
    return matches[0].value if matches else None


def add_months(start: date, months: int) -> date:
    """``start`` moved by ``months`` calendar months (day clamped to the month's end)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def add_term(start: date, *, months: int = 0, days: int = 0) -> date:
    """The last day of a term that starts on ``start`` (inclusive) and lasts the duration.

    2025-06-09 + 36 months → 2028-06-08.
    """
    return add_months(start, months) + timedelta(days=days) - timedelta(days=1)
