"""Text analysis shared by indexing and querying: the same tokens on both sides.

Every text is folded (NFKC: full-width → half-width, lower case, traditional Chinese
characters → simplified) and cut into *runs*: runs of CJK characters and runs of other
letters and digits. Each run gives tokens for three *kinds* of index column:

- ``w`` (words, for ranking): jieba's search-mode words of a CJK run; a light stem of
  every other word (``renewals`` → ``renewal``, ``terminated`` → ``terminat``).
- ``g`` (grams, for exact substring and phrase matching): the overlapping bigrams of a CJK
  run (a one-character run stays one token), every other word as it is; in text order,
  so a phrase of grams at consecutive positions is a substring of the text. Any CJK query
  of two or more characters is such a phrase: 违约金 → "违约 约金".
- ``c`` (characters): every CJK character, so one-character queries (税) find every
  contract that has it, which trigram or word indexes cannot.

The backends store the tokens as they are (SQLite: ``unicode61`` over space-separated
tokens; PostgreSQL: a ``tsvector`` literal), so nothing depends on a database's own
parser or locale.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
RUN = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>[^\W_{CJK}]+)")
IS_CJK = re.compile(rf"^[{CJK}]+$")
MAX_WORD = 40  # longer "words" (base64, hashes) are cut; nobody types them in full


def _traditional_to_simplified() -> dict[int, str]:
    """A ``str.translate`` table from traditional Chinese characters to simplified ones:
    OpenCC's character table (``TSCharacters``, shipped by opencc-python-reimplemented),
    one character for one, so offsets into a text stay the same. A character that is
    also one of its own simplified forms (乾 → 干 or 乾, 於 → 于 or 於) is kept: it is
    written in simplified text too, and mapping it would change what such text says."""
    from importlib.resources import files

    text = files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        key, _tab, values = line.partition("\t")
        forms = values.split()
        if len(key) == 1 and forms and key not in forms and IS_CJK.match(forms[0]):
            table[key] = forms[0]
    for key, value in table.items():  # to the end of a chain: fold(fold(x)) == fold(x)
        seen = {key}
        while value in table and value not in seen:
            seen.add(value)
            value = table[value]
        table[key] = value
    return {ord(k): v for k, v in table.items() if k != v}


T2S = _traditional_to_simplified()
# Whether a text has any of them: a set look-up per character (13 ns), where translating
# costs a dictionary look-up and a new string (65 ns), and most texts are in simplified
# Chinese or English.
_TRADITIONAL = frozenset(chr(k) for k in T2S)


def _simplified(text: str) -> str:
    return text if _TRADITIONAL.isdisjoint(text) else text.translate(T2S)


def fold(text: str) -> str:
    """NFKC (full-width → half-width, compatibility forms), lower case, and traditional
    Chinese characters as simplified ones (:data:`T2S`, one for one): 違約金 → 违约金."""
    if text.isascii():  # NFKC leaves ASCII as it is
        return text.lower()
    if len(text) == 1:  # snippets fold character by character
        return _fold_char(text)
    return _simplified(unicodedata.normalize("NFKC", text).lower())


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    return _simplified(unicodedata.normalize("NFKC", ch).lower())


def has_traditional(text: str) -> bool:
    """Whether ``text`` holds a traditional Chinese character that folds (:data:`T2S`)."""
    return not _TRADITIONAL.isdisjoint(text)


# Contract words that Taiwan and Hong Kong write differently from the mainland and that
# OpenCC's phrase table (about computing, mostly) lacks: 合約 is the mainland's 合同.
CONTRACT_WORDS = (("合約", "合同"),)
MAX_VARIANTS = 4


@lru_cache(maxsize=1)
def _regional_words() -> tuple[dict[str, tuple[str, ...]], int]:
    """Folded Taiwan/Hong Kong words → the folded mainland words for the same thing
    (合约 → 合同, 软体 → 软件, 资讯 → 信息), and the length of the longest word. From
    OpenCC's ``TWPhrasesRev`` (shipped by opencc-python-reimplemented) and
    :data:`CONTRACT_WORDS`; pairs that fold to the same characters are left out (folding
    matches them already)."""
    from importlib.resources import files

    text = files("opencc").joinpath("dictionary/TWPhrasesRev.txt").read_text("utf-8")
    pairs = [
        (key, value)
        for line in text.splitlines()
        for key, _tab, values in [line.partition("\t")]
        for value in values.split()
    ]
    table: dict[str, list[str]] = {}
    for key, value in [*pairs, *CONTRACT_WORDS]:
        word, mainland = fold(key), fold(value)
        if word != mainland and IS_CJK.match(word) and IS_CJK.match(mainland):
            forms = table.setdefault(word, [])
            if mainland not in forms:
                forms.append(mainland)
    return {word: tuple(forms) for word, forms in table.items()}, max(map(len, table), default=0)


def regional_variants(folded: str) -> tuple[str, ...]:
    """``folded`` (a folded query text) with the Taiwan/Hong Kong words in it written as
    the mainland writes them (:func:`_regional_words`, longest word first, left to
    right): 软体授权合约 → 软件授权合同. At most :data:`MAX_VARIANTS`; none when it holds
    no such word. A query typed in traditional characters is looked for in these forms
    too: the person typing it may call a 合同 a 合約."""
    words, longest = _regional_words()
    texts = [""]
    i = 0
    while i < len(folded):
        for size in range(min(longest, len(folded) - i), 1, -1):
            forms = words.get(folded[i : i + size])
            if forms:
                texts = [t + f for t in texts for f in forms][:MAX_VARIANTS]
                i += size
                break
        else:
            texts = [t + folded[i] for t in texts]
            i += 1
    return tuple(t for t in texts if t != folded)


def match_window(
    text: str,
    pattern: re.Pattern[str],
    *,
    before: int = 41,
    length: int = 162,
    folded: str | None = None,
) -> str | None:
    """The ``length`` characters of ``text`` from ``before`` characters ahead of the
    first match of ``pattern`` in its folded form, for making a snippet (40 characters
    before the match, 160 in all, and one more each side to tell whether there is text
    beyond) without folding a whole document character by character; None when nothing
    matches. The whole text when folding moved characters (its length changed) or when
    the cut would change where the first match is, so the snippet is the same either
    way. ``folded`` is ``fold(text)`` when the caller has it already."""
    if folded is None:
        folded = fold(text)
    if len(folded) != len(text):
        return text
    found = pattern.search(folded)
    if found is None:
        return None
    start = max(0, found.start() - before)
    end = start + length
    while (
        end < len(text)
        and end < start + 2 * length
        and folded[end].isascii()
        and folded[end].isalnum()
    ):
        end += 1  # never cut a word: its cut end could match where the word does not
    if start == 0 and end >= len(text):
        return text
    again = pattern.search(folded[start:end])  # as the snippet will see the cut text
    if again is None or again.start() != found.start() - start:
        return text
    return text[start:end]


def is_cjk(token: str) -> bool:
    return bool(IS_CJK.match(token))


def stem(word: str) -> str:
    """A deliberately light English stemmer: plural and verb endings only, so that
    *renews*, *renewed* and *renewing* meet at *renew*; never below three letters."""
    if not word.isascii() or not word.isalpha() or len(word) <= 3:
        return word
    for suffix, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", "e"),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) + len(repl) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: len(word) - len(suffix)] + repl
    return word


@lru_cache(maxsize=1)
def _jieba() -> object:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def load_dictionary() -> None:
    """Load jieba's dictionary now (about a second), not in the first search that needs
    it; ``qiyue serve`` calls this in a thread as it starts."""
    _jieba()


# Short runs of Chinese repeat: a customer's name on each of its contracts, the titles of
# a template, the words of a query as it is typed. Their words are kept (at most
# CUT_CACHE_RUNS runs of at most CUT_CACHE_CHARS characters, a few MB); jieba's
# dictionary never changes while the process runs, so neither do they.
CUT_CACHE_CHARS = 24
CUT_CACHE_RUNS = 8_192


def _cut(run: str) -> tuple[str, ...]:
    jieba = _jieba()
    return tuple(w for w in jieba.cut_for_search(run) if w.strip())  # type: ignore[attr-defined]


_cut_short = lru_cache(maxsize=CUT_CACHE_RUNS)(_cut)


def cut_for_search(run: str) -> tuple[str, ...]:
    return _cut_short(run) if len(run) <= CUT_CACHE_CHARS else _cut(run)


def runs(text: str) -> Iterator[tuple[bool, str]]:
    """``(is_cjk, run)`` for each run of the folded text."""
    for m in RUN.finditer(fold(text)):
        if m.group("cjk"):
            yield True, m.group("cjk")
        else:
            yield False, m.group("word")[:MAX_WORD]


def grams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@dataclass
class Tokens:
    """The tokens of one text for the three column kinds."""

    w: list[str] = field(default_factory=list)
    g: list[str] = field(default_factory=list)
    c: list[str] = field(default_factory=list)

    def extend(self, other: Tokens) -> None:
        self.w += other.w
        self.g += other.g
        self.c += other.c


def analyse(text: str) -> Tokens:
    out = Tokens()
    for cjk, run in runs(text):
        if cjk:
            out.w += cut_for_search(run)
            out.g += grams(run)
            out.c += list(run)
        else:
            out.w.append(stem(run))
            out.g.append(run)
    return out


def gram_tokens(text: str) -> list[str]:
    """The ``g`` tokens of a query phrase or word (its exact-substring form)."""
    out: list[str] = []
    for cjk, run in runs(text):
        out += grams(run) if cjk else [run]
    return out
