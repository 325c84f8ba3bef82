"""Snippets of the hits on one page, from the decrypted fields and document text.

The index holds no text, so the snippet is found again in the text itself: the first
place, fields first then documents page by page, where a positive term of the query
occurs. The text is escaped first and only then wrapped in ``<mark>``, so the HTML is safe
whatever the contract or document says."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from qiyue.documents.models import DocumentVersion
from qiyue.documents.queries import version_pages
from qiyue.search.analysis import fold, runs
from qiyue.search.query import Kind, ParsedQuery, Term

log = logging.getLogger(__name__)

BEFORE = 40
LENGTH = 160


@dataclass
class Snippet:
    html: SafeString
    where: dict[str, Any] | None  # {"field": …} or {"document_id", "document", "version", "page"}


def _pattern(term: Term) -> str:
    if term.variants:
        return "|".join(f"(?:{_form_pattern(t)})" for t in term.forms)
    return _form_pattern(term)


def _form_pattern(term: Term) -> str:
    if term.kind in (Kind.CHAR, Kind.GRAMS):
        return re.escape(term.text)
    if term.kind == Kind.WORD:
        return rf"(?<![a-z0-9]){re.escape(term.tokens[0])}[a-z]{{0,4}}(?![a-z0-9])"
    if term.kind == Kind.PREFIX:
        return rf"(?<![a-z0-9]){re.escape(term.tokens[0])}[a-z0-9]*"
    parts = [re.escape(run) for _cjk, run in runs(term.text)]
    return r"[\W_]*".join(parts)


def matcher(query: ParsedQuery) -> re.Pattern[str] | None:
    patterns = [_pattern(t) for t in query.positive]
    patterns = [p for p in patterns if p]
    if not patterns:
        return None
    # Longest first, so a phrase wins over one of its words at the same place.
    patterns.sort(key=len, reverse=True)
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Characters whose fold is not exactly one character (ligatures, ㎏, ½, İ …): a text
# without any of them folds character for character, offsets unchanged. Filled by
# _FoldTable as characters are first seen; a few thousand at most (Unicode is finite).
_IRREGULAR: set[str] = set()
_FOLD_TABLE_MAX = 65_536  # characters remembered, as analysis._fold_char


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table giving each character its fold (``fold(ch)``),
    computed the first time the character is seen: the text is then folded character
    by character in one C loop instead of one Python call per character."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = fold(ch)
        if len(folded) != 1:
            _IRREGULAR.add(ch)
        if len(self) < _FOLD_TABLE_MAX:
            self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold_map(text: str) -> tuple[str, list[int] | None]:
    """The text folded character by character and, for each folded character, its index
    in the original; None instead of the list when every character folded to exactly
    one (offsets are then the same: the common case)."""
    if text.isascii():  # lower case is all folding does to ASCII, one for one
        return text.lower(), None
    folded = text.translate(_FOLD)  # also meets every character of the text
    if not _IRREGULAR or _IRREGULAR.isdisjoint(text):
        return folded, None
    # Stretches between irregular characters fold one to one ("…" → "..." does not).
    parts: list[str] = []
    origin: list[int] = []
    pos = 0
    for m in _irregular_re().finditer(text):
        i = m.start()
        parts.append(text[pos:i].translate(_FOLD))
        origin.extend(range(pos, i))
        f = _FOLD[ord(text[i])]
        parts.append(f)
        origin.extend([i] * len(f))
        pos = i + 1
    parts.append(text[pos:].translate(_FOLD))
    origin.extend(range(pos, len(text)))
    return "".join(parts), origin


_irregular_cache: tuple[int, re.Pattern[str]] | None = None


def _irregular_re() -> re.Pattern[str]:
    """A character class of the irregular characters met so far (rebuilt when more)."""
    global _irregular_cache
    if _irregular_cache is None or _irregular_cache[0] != len(_IRREGULAR):
        chars = "".join(re.escape(ch) for ch in sorted(_IRREGULAR))
        _irregular_cache = (len(_IRREGULAR), re.compile(f"[{chars}]"))
    return _irregular_cache[1]


def match_spans(
    folded: str, origin: list[int] | None, pattern: re.Pattern[str]
) -> Iterator[tuple[int, int]]:
    """Each non-empty match of ``pattern`` in ``folded`` (from :func:`fold_map`), as
    (start, end) offsets in the original text."""
    for m in pattern.finditer(folded):
        if m.end() <= m.start():
            continue
        if origin is None:
            yield m.start(), m.end()
        else:
            yield origin[m.start()], origin[m.end() - 1] + 1


# How far a snippet's ends move to meet a word's edge; a longer "word" is cut.
WORD_TRIM = 20
# A letter or digit of a script written with spaces between words: below U+1100, and
# the extended Latin and Greek letters (Vietnamese). Not Hangul, kana or Chinese (from
# U+1100 and U+2E80), nor full-width forms, whose characters may be cut between.
_IN_WORD = r"[^\W_\u1100-\u1dff\u2000-\U0010ffff]"
_ONE_IN_WORD = re.compile(_IN_WORD)
_WORD_RUN = re.compile(_IN_WORD + "+")
_WORD_TAIL = re.compile(_IN_WORD + r"+\Z")
# What a snippet does not begin with once it has moved past the end of a cut word.
_AFTER_WORD = re.compile(r"[ \t\r\n.,;:!?]+")


def _word_bounds(text: str, start: int, end: int, first: int, first_end: int) -> tuple[int, int]:
    """``start`` and ``end`` moved inwards, by at most ``WORD_TRIM`` characters, off the
    middle of a word, so a snippet does not begin with "irty" nor end with "shal". Never
    past the first match. Only inwards: :func:`analysis.match_window` keeps the text up
    to the unmoved ends, so a snippet of the window is the snippet of the whole text.
    (Regular expressions, not a loop a character: this runs for every hit of a page.)"""
    if start > 0 and _ONE_IN_WORD.match(text, start - 1):
        limit = min(first, start + WORD_TRIM)
        run = _WORD_RUN.match(text, start, limit)
        at = run.end() if run else start
        after = _AFTER_WORD.match(text, at, limit)  # "…The", not "…. The"
        at = after.end() if after else at
        if at < limit:
            start = at
    if end < len(text) and _ONE_IN_WORD.match(text, end):
        lowest = max(first_end, end - WORD_TRIM)
        tail = _WORD_TAIL.search(text, lowest, end) if lowest < end else None
        if tail is not None and tail.start() > lowest:
            end = tail.start()
    return start, end


def highlight(text: str, pattern: re.Pattern[str]) -> str | None:
    """An escaped window of ``text`` around its first match, matches in ``<mark>``;
    None when nothing matches."""
    folded, origin = fold_map(text)
    found = pattern.search(folded)
    if found is None:
        return None
    if origin is None:
        first, first_end = found.start(), found.end()
    else:
        first, first_end = origin[found.start()], origin[max(found.start(), found.end() - 1)] + 1
    start = max(0, first - BEFORE)
    end = min(len(text), start + LENGTH)
    start, end = _word_bounds(text, start, end, first, first_end)
    spans: list[tuple[int, int]] = []
    for a, b in match_spans(folded, origin, pattern):
        if a >= end:
            break
        if b > start:
            spans.append((max(a, start), min(b, end)))
    parts: list[str] = ["…" if start > 0 else ""]
    pos = start
    for a, b in spans:
        if a < pos:
            continue
        # html.escape is what django.utils.html.escape applies, without its lazy wrapper.
        parts.append(html_escape(text[pos:a]))
        parts.append(f"<mark>{html_escape(text[a:b])}</mark>")
        pos = b
    parts.append(html_escape(text[pos:end]))
    parts.append("…" if end < len(text) else "")
    return " ".join("".join(parts).split())


def field_snippet(fields: list[tuple[str, str]], pattern: re.Pattern[str] | None) -> Snippet | None:
    """The snippet of the first field that matches, or None."""
    if pattern is None:
        return None
    for name, text in fields:
        html = highlight(text, pattern)
        if html is not None:  # built by highlight(): escaped text and <mark> only
            return Snippet(mark_safe(html), {"field": name})
    return None


def document_snippet(
    versions: list[DocumentVersion], pattern: re.Pattern[str] | None
) -> Snippet | None:
    """The snippet of the first page of these versions that matches, or None."""
    if pattern is None:
        return None
    for version in versions:
        try:
            pages = version_pages(version) or []
        except Exception:
            log.exception("search: cannot read the text of document version %s", version.pk)
            continue
        for page in pages:
            html = highlight(str(page.get("text", "")), pattern)
            if html is not None:
                where = {
                    "document_id": version.document_id,
                    "document": version.document.title,
                    "version": version.number,
                    "page": page.get("number"),
                }
                return Snippet(mark_safe(html), where)  # escaped by highlight()
    return None


def plain_snippet(title: str) -> Snippet:
    return Snippet(mark_safe(escape(title[:LENGTH])), None)
