"""Text helpers: width folding and company-name normalisation for duplicate checks."""

from __future__ import annotations

import re
import unicodedata

# Legal-form suffixes that do not tell two companies apart.
_SUFFIXES = [
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "公司",
    "co ltd",
    "company limited",
    "limited",
    "ltd",
    "inc",
    "incorporated",
    "corporation",
    "corp",
    "llc",
    "gmbh",
    "plc",
    "co",
]
_PUNCT = re.compile(r"[\s\.,，。·()（）\[\]【】&'\"、/\\-]+")


def fold_width(text: str) -> str:
    """Full-width letters, digits and punctuation to their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def normalize_company_name(name: str) -> str:
    """A key under which 'ACME Co., Ltd.' and 'acme co ltd' or '北京甲乙有限公司' and
    '北京甲乙 有限公司' collide; used to warn about duplicate customers."""
    text = fold_width(name).lower()
    text = _PUNCT.sub(" ", text).strip()
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if text.endswith(" " + suffix) or (text.endswith(suffix) and not suffix.isascii()):
                text = text[: -len(suffix)].strip()
                changed = True
    return text.replace(" ", "")


def as_id(raw: object) -> int | None:
    """A database id from user input, or None. ASCII digits only (``"²".isdigit()`` is
    true but ``int`` refuses it) and short enough to fit the database's integers."""
    text = str(raw or "")
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None
