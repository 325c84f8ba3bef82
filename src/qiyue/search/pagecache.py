"""The decrypted, folded page texts of recently shown document versions, in memory, for
the snippets of search results (``docs/decisions/0006-search-and-import-speed.md``).

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
from collections.abc import Callable
from typing import Any, NamedTuple

from cachetools import TTLCache

from qiyue.documents.queries import text_blob_pages
from qiyue.search.analysis import fold

MAX_CHARS = 4_000_000  # original and folded text together: a few tens of MB at most
TTL_SECONDS = 600


class PageText(NamedTuple):
    number: Any
    text: str
    folded: str


def _chars(pages: tuple[PageText, ...]) -> int:
    return sum(len(p.text) + len(p.folded) for p in pages)


def _new_cache() -> TTLCache[str, tuple[PageText, ...]]:
    return TTLCache(maxsize=MAX_CHARS, ttl=TTL_SECONDS, getsizeof=_chars)


_cache = _new_cache()
_lock = threading.Lock()


def page_texts(sha256: str, blob: Callable[[], Any]) -> tuple[PageText, ...]:
    """The pages of the text blob with this SHA-256 with their folded text; ``blob``
    gives the blob (a ``Blob``) when they are not kept here. Raises what reading the
    blob raises."""
    with _lock:
        found = _cache.get(sha256)
    if found is not None:
        return found
    pages = tuple(
        PageText(page.get("number"), text, fold(text))
        for page in text_blob_pages(blob())
        for text in [str(page.get("text", ""))]
    )
    if _chars(pages) <= _cache.maxsize // 4:  # one huge document would push out the rest
        with _lock:
            _cache[sha256] = pages
    return pages


def clear() -> None:
    """Forget every text and take up ``MAX_CHARS`` and ``TTL_SECONDS`` anew (tests; a
    process that wants its memory back)."""
    global _cache
    with _lock:
        _cache = _new_cache()


def size() -> tuple[int, int]:
    """(entries, characters) held now."""
    with _lock:
        _cache.expire()
        return len(_cache), int(_cache.currsize)
