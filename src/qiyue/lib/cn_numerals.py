"""Chinese numerals: 一百二十, 二〇二五, 壹佰贰拾万元整, 1.5亿, 120万 → numbers.

Pure functions, no Django. :func:`parse_cn_int` reads integers written with digits
(一二三 / 壹贰叁 / 〇零), units (十百千 / 拾佰仟) and sections (万, 亿), and also digit-by-digit
forms such as 二〇二五. :func:`parse_amount` reads an amount with an optional 万/亿 multiplier
or the capital form with 元/角/分 (``壹佰贰拾万元整`` → 1200000).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["CN_DIGITS", "CN_NUMERAL_CHARS", "parse_amount", "parse_cn_int", "parse_number"]

CN_DIGITS: dict[str, int] = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "Ｏ": 0,
    "O": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "貳": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "叁": 3,
    "參": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "陸": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_SECTIONS: dict[str, int] = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}

#: Every character that may appear in a Chinese numeral (for building regexes).
CN_NUMERAL_CHARS = (
    "".join(k for k in CN_DIGITS if k not in "OＯ") + "".join(_UNITS) + "".join(_SECTIONS)
)


def _small(text: str) -> int | None:
    """A number below 10,000 written with 十百千 units (十二 → 12, 一百零五 → 105)."""
    if not text:
        return 0
    total = 0
    digit: int | None = None
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in _UNITS:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
        else:
            return None
    if digit is not None:
        total += digit
    return total


def parse_cn_int(text: str) -> int | None:
    """The integer written in Chinese numerals (or ASCII digits) in ``text``; else None.

    >>> parse_cn_int("一千二百万")
    12000000
    >>> parse_cn_int("二〇二五")
    2025
    """
    s = text.strip()
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if all(ch in CN_DIGITS for ch in s):
        # digit by digit: 二〇二五 (but a lone 两 is just 2)
        return int("".join(str(CN_DIGITS[ch]) for ch in s))
    if any(ch not in CN_DIGITS and ch not in _UNITS and ch not in _SECTIONS for ch in s):
        return None
    total = 0
    rest = s
    for sec_char, sec_value in (("亿", 100_000_000), ("億", 100_000_000)):
        if sec_char in rest:
            head, rest = rest.split(sec_char, 1)
            value = parse_cn_int(head) if head else 1
            if value is None:
                return None
            total += value * sec_value
    for sec_char in ("万", "萬"):
        if sec_char in rest:
            head, rest = rest.split(sec_char, 1)
            value = _small(head) if head else 1
            if value is None:
                return None
            total += value * 10_000
    tail = _small(rest)
    if tail is None:
        return None
    return total + tail


def parse_number(text: str) -> Decimal | None:
    """A number written in ASCII (``1,234.5``, full-width digits too) or Chinese numerals."""
    s = text.strip().translate(_FULLWIDTH).replace(",", "").replace("，", "")
    if not s:
        return None
    try:
        return Decimal(s)
    except InvalidOperation:
        pass
    value = parse_cn_int(s)
    return None if value is None else Decimal(value)


_FULLWIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")
_AMOUNT_RE = re.compile(r"^\s*([0-9０-９][0-9０-９,，]*(?:[.．][0-9０-９]+)?)\s*([万萬亿億]*)")


def parse_amount(text: str) -> Decimal | None:
    """An amount: ``1,200,000.00``, ``120万``, ``1.5亿``, ``壹佰贰拾万元整``, ``叁拾元伍角``.

    Currency words and symbols around the number are ignored; returns None when no amount.
    """
    s = re.sub(r"[人民币￥¥RMBCNY\s整正]", "", text.strip())
    s = s.replace("圆", "元")
    m = _AMOUNT_RE.match(s)
    if m:
        number = parse_number(m.group(1))
        if number is None:
            return None
        for ch in m.group(2):
            number *= _SECTIONS[ch]
        return number
    yuan_part, jiao, fen = s, 0, 0
    if "元" in s:
        yuan_part, after = s.split("元", 1)
        m_jiao = re.search(r"(.)角", after)
        m_fen = re.search(r"(.)分", after)
        if m_jiao:
            jiao = CN_DIGITS.get(m_jiao.group(1), 0)
        if m_fen:
            fen = CN_DIGITS.get(m_fen.group(1), 0)
    if not yuan_part:
        return None
    yuan = parse_cn_int(yuan_part)
    if yuan is None:
        return None
    return Decimal(yuan) + Decimal(jiao) / 10 + Decimal(fen) / 100
