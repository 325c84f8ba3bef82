"""Snippets fold their text character by character; the fast path (one ``translate``)
gives the same folded text and offsets as folding each character in Python."""

from __future__ import annotations

import random

from qiyue.search.analysis import fold
from qiyue.search.query import parse
from qiyue.search.snippets import fold_map, highlight, matcher

# ASCII, CJK, and characters whose fold is longer (ﬁ, ㎏, ½, İ, …), full-width forms,
# Greek sigma (whose lower case depends on context in a whole string), combining marks.
POOL = [
    *(chr(c) for c in range(32, 127)),
    *(chr(c) for c in range(0x4E00, 0x4E30)),
    *"ﬁ㎏½İΣσＡｂ①é\u0301ß\u00a0\u3000：，…™ǅ\u1100\u1161",
]


def _folded(text: str) -> tuple[str, list[int]]:
    """The reference: each character folded in Python, with its index in the original."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        f = fold(ch)
        out.append(f)
        origin.extend([i] * len(f))
    return "".join(out), origin


def test_fold_map_matches_folding_each_character() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(POOL) for _ in range(rng.randint(0, 50)))
        folded, origin = _folded(text)
        fast, fast_origin = fold_map(text)
        assert fast == folded
        assert (fast_origin if fast_origin is not None else list(range(len(text)))) == origin


def test_highlight_maps_longer_folds_back_to_the_original() -> None:
    pattern = matcher(parse("违约金"))
    assert pattern is not None
    text = "注意…ﬁ 一方违约，应支付违约金½。"
    assert highlight(text, pattern) == "注意…ﬁ 一方违约，应支付<mark>违约金</mark>½。"
    pattern = matcher(parse("ＡＢＣ"))
    assert pattern is not None
    assert highlight("x … abc", pattern) == "x … <mark>abc</mark>"
