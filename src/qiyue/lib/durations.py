"""Durations written in contracts: ``三年``, ``十二个月``, ``30日``, ``六十(60)日``,
``five (5) years``, ``sixty (60) days``, ``one year``, ``12 months``, ``one-year terms``.

Pure functions, no Django. A :class:`Duration` has an amount and a unit (``day``,
``week``, ``month``, ``year``) and converts to months or days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qiyue.lib.cn_numerals import CN_NUMERAL_CHARS, parse_cn_int

__all__ = ["Duration", "find_durations", "parse_duration", "word_number"]


@dataclass(frozen=True)
class Duration:
    """``amount`` ``unit`` s at ``text[start:end]``; ``business`` for 工作日 / business days."""

    amount: int
    unit: str
    start: int = 0
    end: int = 0
    business: bool = False

    @property
    def months(self) -> int | None:
        if self.unit == "year":
            return self.amount * 12
        if self.unit == "month":
            return self.amount
        return None

    @property
    def days(self) -> int:
        if self.unit == "year":
            return self.amount * 365
        if self.unit == "month":
            return round(self.amount * 30.4)
        if self.unit == "week":
            return self.amount * 7
        return self.amount


_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "an": 1,
    "a": 1,
}
_WORD_RE = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ](?:one|two|three|four|"
    r"five|six|seven|eight|nine)|" + "|".join(sorted(_WORDS, key=len, reverse=True)) + ")"
)
_EN_UNITS = {"day": "day", "week": "week", "month": "month", "year": "year"}
_CN_UNITS = {"年": "year", "月": "month", "日": "day", "天": "day", "周": "week", "星期": "week"}

_EN_RE = re.compile(
    rf"\b(?:(?P<word>{_WORD_RE})\s*(?:\(\s*(?P<paren>\d+)\s*\))?|(?P<num>\d+))"
    r"[\s-]*(?:\(\s*\d+\s*\)\s*)?(?P<business>business\s+|calendar\s+|working\s+)?"
    r"(?P<unit>day|week|month|year)s?\b",
    re.IGNORECASE,
)
_CN_RE = re.compile(
    rf"(?P<num>[0-9０-９]+|[{CN_NUMERAL_CHARS}]+)\s*(?:[（(]\s*(?P<paren>\d+)\s*[)）])?\s*"
    r"(?:个|個)?(?P<business>自然|工作|个工作|个自然)?(?P<unit>年|月|日|天|周|星期)"
)


def word_number(word: str) -> int | None:
    """ "sixty" → 60, "twenty-one" → 21, "a" → 1; None for anything else."""
    word = word.lower().replace("-", " ")
    parts = word.split()
    if len(parts) == 2:
        tens, ones = _WORDS.get(parts[0]), _WORDS.get(parts[1])
        return None if tens is None or ones is None else tens + ones
    return _WORDS.get(word)


def find_durations(text: str) -> list[Duration]:
    """Every duration in ``text`` (Chinese and English), in order of position."""
    found: list[Duration] = []
    for m in _EN_RE.finditer(text):
        if m.group("paren"):
            amount: int | None = int(m.group("paren"))
        elif m.group("num"):
            amount = int(m.group("num"))
        else:
            amount = word_number(m.group("word"))
        if amount is None:
            continue
        business = bool(m.group("business")) and "calendar" not in m.group("business").lower()
        unit = _EN_UNITS[m.group("unit").lower()]
        found.append(Duration(amount, unit, m.start(), m.end(), business))
    for m in _CN_RE.finditer(text):
        unit = _CN_UNITS[m.group("unit")]
        number = m.group("num")
        if m.group("paren"):
            amount = int(m.group("paren"))
        else:
            amount = parse_cn_int(
                number.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
            )
        if amount is None or amount == 0:
            continue
        # 2025年 / 3月 in a date, not a duration: a 4-digit year or a month followed by a day
        if unit == "year" and amount >= 1900:
            continue
        after = text[m.end() : m.end() + 4]
        if unit == "month" and not re.match(r"个|個", text[m.start("unit") - 1 : m.start("unit")]):
            if re.match(r"\s*[0-9０-９" + CN_NUMERAL_CHARS + r"]+\s*[日号]", after):
                continue
            if m.group("num")[-1:] not in "0123456789" and "个" not in m.group(0):
                continue
            if re.search(r"年\s*$", text[max(0, m.start() - 3) : m.start()]):
                continue
        if unit == "day" and re.search(r"月\s*$", text[max(0, m.start() - 3) : m.start()]):
            continue
        business = bool(m.group("business")) and "工作" in m.group("business")
        found.append(Duration(amount, unit, m.start(), m.end(), business))
    found.sort(key=lambda d: d.start)
    return found


def parse_duration(text: str) -> Duration | None:
    """The first duration written in ``text``, or None."""
    found = find_durations(text)
    return found[0] if found else None
