"""The search box's little language, parsed into terms the backends translate.

- words are ANDed: ``违约金 北京`` finds contracts with both;
- ``"quoted phrases"`` match in order (an unbalanced quote runs to the end); “curly”,
  full-width and corner quotes (＂…＂, 「…」) are quotes too;
- ``-word`` or ``-"a phrase"`` excludes (a full-width －, or a minus sign −, as well);
- ``renew*`` matches words that start with *renew* (two characters at least);
- a CJK word of any length matches as a substring (违约 finds 违约金), one character too;
- a word typed in traditional characters also finds the mainland's word for the same
  thing (合約 finds 合同, 軟體 finds 软件: :func:`analysis.regional_variants`).

User text never reaches a backend's query syntax: every token is re-quoted by the
backend from the analysed tokens, which hold only letters and digits. Queries longer than
:data:`MAX_CHARS` characters or with more than :data:`MAX_TERMS` terms are refused with a
:class:`SearchError` (a 400 in the API), so every query is small and answers fast.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext as _

from qiyue.search.analysis import (
    fold,
    gram_tokens,
    has_traditional,
    regional_variants,
    runs,
    stem,
)

MAX_CHARS = 200
MAX_TERMS = 32
MIN_PREFIX = 2


class SearchError(ValueError):
    """A query that cannot be run; the message is for the user, ``field`` names the
    parameter it is about (``q``, ``sort``, ``page``)."""

    def __init__(self, message: str, field: str = "q") -> None:
        super().__init__(message)
        self.field = field


class Kind(StrEnum):
    CHAR = "char"  # one CJK character: the c columns
    GRAMS = "grams"  # a CJK word: its bigrams as a phrase (plus the jieba word, for rank)
    WORD = "word"  # another word: its stem in the w columns
    PREFIX = "prefix"  # word*: a prefix of the raw words in the g columns
    PHRASE = "phrase"  # several runs in order: g tokens as a phrase


@dataclass(frozen=True)
class Term:
    kind: Kind
    tokens: tuple[str, ...]  # the index tokens to look for (see ``Kind``)
    text: str  # the folded text the term came from (for highlighting)
    negative: bool = False
    #: The same term with a regional word written the mainland's way; any of them matches.
    variants: tuple[Term, ...] = ()

    @property
    def forms(self) -> tuple[Term, ...]:
        """This term and its variants: a backend matches any of them."""
        return (self, *self.variants)


@dataclass
class ParsedQuery:
    terms: list[Term] = field(default_factory=list)

    @property
    def positive(self) -> list[Term]:
        return [t for t in self.terms if not t.negative]

    @property
    def negative(self) -> list[Term]:
        return [t for t in self.terms if t.negative]

    @property
    def is_empty(self) -> bool:
        return not self.terms


_CHUNK = re.compile(r'(-?)"([^"]*)(?:"|$)|(-?)(\S+)')
# Quotes and minus signs as Chinese input methods, word processors and phones type them:
# read as " and - (a NUL as a space).
_MARKS = str.maketrans(
    {
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\uff02": '"',  # ＂ (full width)
        "\u300c": '"',  # 「
        "\u300d": '"',  # 」
        "\u300e": '"',  # 『
        "\u300f": '"',  # 』
        "\uff0d": "-",  # － (full width)
        "\u2212": "-",  # − (minus sign)
        "\x00": " ",
    }
)


def _term(text: str, *, negative: bool, quoted: bool) -> Term | None:
    term = _one_term(text, negative=negative, quoted=quoted)
    if term is None or term.kind not in (Kind.GRAMS, Kind.PHRASE) or not has_traditional(text):
        return term
    variants = tuple(
        Term(term.kind, tuple(gram_tokens(v)), v, negative) for v in regional_variants(term.text)
    )
    return dataclasses.replace(term, variants=variants) if variants else term


def _one_term(text: str, *, negative: bool, quoted: bool) -> Term | None:
    prefix = False
    if not quoted and text.endswith("*"):
        text = text.rstrip("*")
        prefix = True
    parts = list(runs(text))
    if not parts:
        return None
    folded = fold(text)
    if len(parts) == 1 and not quoted:
        cjk, run = parts[0]
        if cjk:
            kind = Kind.CHAR if len(run) == 1 else Kind.GRAMS
            tokens = (run,) if len(run) == 1 else tuple(gram_tokens(run))
            return Term(kind, tokens, run, negative)
        if prefix and len(run) >= MIN_PREFIX:
            return Term(Kind.PREFIX, (run,), run, negative)
        return Term(Kind.WORD, (stem(run),), run, negative)
    if len(parts) == 1 and parts[0][0] and len(parts[0][1]) == 1:
        return Term(Kind.CHAR, (parts[0][1],), parts[0][1], negative)
    return Term(Kind.PHRASE, tuple(gram_tokens(text)), folded.strip(), negative)


def parse(q: str) -> ParsedQuery:
    """The terms of a query; raises SearchError when it is too long."""
    q = q or ""
    if len(q) > MAX_CHARS:
        raise SearchError(
            _("Search for at most %(max)d characters at a time.") % {"max": MAX_CHARS}
        )
    parsed = ParsedQuery()
    for m in _CHUNK.finditer(q.translate(_MARKS)):
        if m.group(2) is not None:
            term = _term(m.group(2), negative=bool(m.group(1)), quoted=True)
        else:
            term = _term(m.group(4), negative=bool(m.group(3)), quoted=False)
        if term is not None and term not in parsed.terms:
            parsed.terms.append(term)
    if len(parsed.terms) > MAX_TERMS:
        raise SearchError(_("Search for at most %(max)d words at a time.") % {"max": MAX_TERMS})
    if parsed.terms and not parsed.positive:
        raise SearchError(_("Add a word to look for; excluded words alone find nothing."))
    return parsed
