"""统一社会信用代码 (Unified Social Credit Code, GB 32100-2015) validation."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalize_uscc(code: str) -> str:
    """Upper-case, strip spaces and turn full-width characters into ASCII."""
    out = []
    for ch in code.strip():
        cp = ord(ch)
        if 0xFF01 <= cp <= 0xFF5E:
            ch = chr(cp - 0xFEE0)
        if ch.isspace() or ch == "-":
            continue
        out.append(ch.upper())
    return "".join(out)


def check_char(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """True when the 18 characters use the code's alphabet and the check digit fits."""
    if len(code) != 18 or any(c not in ALPHABET for c in code):
        return False
    return check_char(code[:17]) == code[17]
