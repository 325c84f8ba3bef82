"""match_window: snippets made from the part of a page around its first match are the
same as those made from the whole page."""

from __future__ import annotations

import pytest

from qiyue.search.analysis import match_window
from qiyue.search.query import parse
from qiyue.search.snippets import highlight, matcher

LONG = (
    "Preamble. " * 80
    + "The governing law of this Agreement is New York law; 甲方应支付违约金。 "
    + "Other terms follow. " * 80
)


@pytest.mark.parametrize(
    "q", ["governing", '"governing law"', "违约金", "税", "new*", "agreement", "preamble"]
)
def test_the_window_gives_the_same_snippet_as_the_whole_text(q: str) -> None:
    pattern = matcher(parse(q))
    assert pattern is not None
    window = match_window(LONG, pattern)
    if "税" in q:
        assert window is None and highlight(LONG, pattern) is None
        return
    assert window is not None and len(window) < len(LONG) / 4
    assert highlight(window, pattern) == highlight(LONG, pattern)


def test_text_whose_folding_changes_its_length_is_kept_whole() -> None:
    text = "Wait… " * 100 + "termination clause"
    pattern = matcher(parse("termination"))
    assert pattern is not None
    assert match_window(text, pattern) == text


def test_a_cut_that_would_make_a_new_match_keeps_the_whole_text() -> None:
    # The window starts 41 characters before the first match; here that is just after
    # the "x" of "xrenewal", so the cut text would start with a match of its own.
    head = "a" * 100 + "xrenewal "
    text = head + "b" * (101 + 41 - len(head) - 1) + " renewal here" + "c" * 300
    pattern = matcher(parse("renewal"))
    assert pattern is not None
    assert match_window(text, pattern) == text
    assert highlight(text, pattern) is not None


CLAUSE = (
    "The Supplier may terminate this Agreement upon thirty (30) days after written "
    "notice. 8. Governing Law and Arbitration This Agreement is governed by the laws of "
    "Hong Kong. Any dispute shall be finally resolved by arbitration in Hong Kong under "
    "the rules then in force."
)


@pytest.mark.parametrize("shift", range(0, 12))
def test_an_english_snippet_begins_and_ends_between_words(shift: int) -> None:
    # Each shift moves where 40 characters before the match falls inside "thirty".
    text = "x" * shift + " " + CLAUSE
    pattern = matcher(parse('"governing law"'))
    assert pattern is not None
    html = highlight(text, pattern)
    assert html is not None and html.startswith("…") and html.endswith("…")
    words = html.strip("…").split()
    assert words[0] in {"(30)", "days", "thirty"}, html
    assert html[1] not in " .", html
    assert words[-1] in CLAUSE.split(), html
    window = match_window(text, pattern)
    assert window is not None and highlight(window, pattern) == html


def test_a_snippet_that_moved_past_a_word_begins_with_the_next_one() -> None:
    text = (
        "The Joint Venture is formed by the Parties. "
        "The name of the Joint Venture will be MightyCell Batteries."
    )
    html = highlight(text, matcher(parse("mightycell")))  # type: ignore[arg-type]
    assert html is not None and html.startswith("…The name of the Joint Venture"), html


def test_a_word_longer_than_the_trim_is_cut_and_chinese_is_cut_anywhere() -> None:
    pattern = matcher(parse("违约金"))
    assert pattern is not None
    chinese = "本合同" * 30 + "甲方应支付违约金" + "并承担损失" * 40
    html = highlight(chinese, pattern)
    assert html is not None
    start = chinese.index("违约金") - 40
    assert html.startswith("…" + chinese[start : start + 10])
    code = "A" * 200 + " renewal " + "B" * 300
    found = highlight(code, matcher(parse("renewal")))  # type: ignore[arg-type]
    assert found is not None and found.startswith("…" + "A" * 39 + " <mark>renewal</mark>")
    assert found.endswith("B…")
