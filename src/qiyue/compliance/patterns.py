"""Administrators' patterns (regular expressions) run safely.

Patterns are compiled with the ``regex`` package and every search runs with a timeout,
so a pathological pattern (catastrophic backtracking such as ``(a+)+$``) costs a worker
at most :data:`SEARCH_TIMEOUT` seconds per rule and contract instead of hanging it. The
rule editor also refuses patterns that are too long, match empty text, or already time
out on a small probe text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

try:
    import regex
except ImportError:  # pragma: no cover - a runtime dependency; refuse patterns without it
    regex = None

__all__ = [
    "MAX_PATTERN_LENGTH",
    "PatternError",
    "PatternTimeout",
    "check_pattern",
    "find_keyword",
    "find_pattern",
]

MAX_PATTERN_LENGTH = 300
#: The largest repeat count (``{n}``, ``{n,m}``) and product of all repeat counts a
#: pattern may use: the regex package unrolls counted repeats when it compiles, so
#: ``a{99999999}`` alone takes gigabytes of memory before any timeout applies.
MAX_REPEAT = 1000
MAX_REPEAT_PRODUCT = 100_000
_REPEAT = re.compile(r"\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}")
#: Seconds one search of one pattern over one text may take.
SEARCH_TIMEOUT = 1.0
#: Seconds the editor's probe may take (stricter: the probe text is small).
PROBE_TIMEOUT = 0.2
PROBE_TEXTS = (
    "a" * 3000 + "!",
    "甲方" * 800 + "。",
    ("ab1 " * 600) + "\n",
    "x" * 3000,
)
FLAGS = (regex.IGNORECASE | regex.V0) if regex is not None else 0


class PatternError(ValueError):
    """A pattern the editor refuses; the message says why, in the user's language."""


class PatternTimeout(RuntimeError):
    """A search that took longer than its timeout (the pattern backtracks badly)."""


@lru_cache(maxsize=256)
def _compile(pattern: str) -> Any:
    return regex.compile(pattern, FLAGS)


def check_pattern(pattern: str) -> None:
    """Raise :class:`PatternError` unless ``pattern`` may be saved in a rule."""
    if regex is None:  # pragma: no cover
        raise PatternError(_("Patterns are not available: the regex package is missing."))
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(_("A pattern has at most %(n)d characters.") % {"n": MAX_PATTERN_LENGTH})
    _check_repeats(pattern)
    try:
        compiled = _compile(pattern)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise PatternError(
            _("This is not a valid regular expression: %(error)s") % {"error": str(exc)}
        ) from None
    try:
        if compiled.search("", timeout=PROBE_TIMEOUT) is not None:
            raise PatternError(_("The pattern matches empty text; it would match everything."))
        for probe in PROBE_TEXTS:
            compiled.search(probe, timeout=PROBE_TIMEOUT)
    except TimeoutError:
        raise PatternError(
            _("This pattern takes too long to run (it backtracks); simplify it.")
        ) from None


def _check_repeats(pattern: str) -> None:
    """Refuse repeat counts that would make compiling the pattern take too much memory."""
    product = 1
    for match in _REPEAT.finditer(pattern):
        for number in match.groups():
            if number:
                count = int(number[:12])  # past 12 digits it is too big anyway
                if count > MAX_REPEAT:
                    raise PatternError(
                        _("A repeat count in a pattern is at most %(n)d.") % {"n": MAX_REPEAT}
                    )
                product *= max(count, 1)
    if product > MAX_REPEAT_PRODUCT:
        raise PatternError(_("The pattern's repeat counts are too large together; simplify it."))


def find_pattern(pattern: str, text: str, *, limit: int = 20) -> list[tuple[int, int]]:
    """The spans of up to ``limit`` matches of ``pattern`` in ``text``; raises
    :class:`PatternTimeout` when the search takes longer than :data:`SEARCH_TIMEOUT`."""
    if regex is None:  # pragma: no cover - without timeouts no pattern runs
        raise PatternTimeout(pattern)
    compiled = _compile(pattern)
    spans: list[tuple[int, int]] = []
    try:
        for match in compiled.finditer(text, timeout=SEARCH_TIMEOUT):
            if match.end() > match.start():
                spans.append((match.start(), match.end()))
            if len(spans) >= limit:
                break
    except TimeoutError:
        raise PatternTimeout(pattern) from None
    return spans


def find_keyword(keyword: str, text: str, *, limit: int = 20) -> Iterator[tuple[int, int]]:
    """The spans of ``keyword`` in ``text`` (case-insensitive, plain text: no pattern)."""
    if not keyword:
        return
    haystack, needle = text.casefold(), keyword.casefold()
    # casefold can change lengths (ß → ss); fall back to exact search then.
    if len(haystack) != len(text) or len(needle) != len(keyword):
        haystack, needle = text, keyword
    found = 0
    start = haystack.find(needle)
    while start >= 0 and found < limit:
        yield start, start + len(needle)
        found += 1
        start = haystack.find(needle, start + len(needle))
