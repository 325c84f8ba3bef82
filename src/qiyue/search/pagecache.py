"""The decrypted, folded page texts of recently shown document versions, in memory, for
the snippets of search results (``docs/decisions/0006-search-speed.md``).

A search shows a snippet for each hit of its page whose fields do not match, found in
the latest text of its documents. Decrypting those texts and folding them (NFKC, lower
case) cost more than the search statement itself; the same documents come back as the
user types in the instant box, pages through results or refines a query. Texts are
kept by the SHA-256 of the text blob (blobs are content-addressed, so an entry can never
describe other content), at most ``MAX_CHARS`` characters in all and ``TTL_SECONDS``
each, in this process only: never written anywhere, gone on restart. Encryption at rest
is about what is on disk; this is the same plaintext a request holds while it renders
a page, kept a little longer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, NamedTuple

from qiyue.documents.queries import text_blob_pages
from qiyue.search.analysis import fold

MAX_CHARS = 4_000_000  # original and folded text together: a few tens of MB at most
TTL_SECONDS = 600


class PageText(NamedTuple):
    number: Any
    text: str
    folded: str


class _Entry(NamedTuple):
    at: float
    chars: int
    pages: tuple[PageText, ...]


_cache: OrderedDict[str, _Entry] = OrderedDict()
_chars = 0
_lock = threading.Lock()


def page_texts(blob: Any) -> tuple[PageText, ...]:
    """The pages of a text blob (``version.text_blob``) with their folded text; raises
    what reading the blob raises."""
    global _chars
    now = time.monotonic()
    with _lock:
        entry = _cache.get(blob.sha256)
        if entry is not None:
            if now - entry.at <= TTL_SECONDS:
                _cache.move_to_end(blob.sha256)
                return entry.pages
            del _cache[blob.sha256]
            _chars -= entry.chars
    pages = tuple(
        PageText(page.get("number"), text, fold(text))
        for page in text_blob_pages(blob)
        for text in [str(page.get("text", ""))]
    )
    chars = sum(len(p.text) + len(p.folded) for p in pages)
    if chars > MAX_CHARS // 4:  # one huge document would push out everything else
        return pages
    with _lock:
        old = _cache.pop(blob.sha256, None)
        if old is not None:
            _chars -= old.chars
        _cache[blob.sha256] = _Entry(now, chars, pages)
        _chars += chars
        while _chars > MAX_CHARS and _cache:
            _key, dropped = _cache.popitem(last=False)
            _chars -= dropped.chars
    return pages


def clear() -> None:
    """Forget every text (tests; a process that wants its memory back)."""
    global _chars
    with _lock:
        _cache.clear()
        _chars = 0


def size() -> tuple[int, int]:
    """(entries, characters) held now."""
    with _lock:
        return len(_cache), _chars
