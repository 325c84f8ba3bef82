"""The interface every search backend implements, and what it indexes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from qiyue.search.analysis import Tokens, analyse
from qiyue.search.query import ParsedQuery

LIVE = "live"
NEXT = "next"  # the shadow generation a full rebuild fills before it is swapped in


@dataclass
class IndexDocument:
    """What one contract contributes to the index: the text of its fields and of the
    latest version of each of its documents. Only in memory: backends store its terms
    (:func:`qiyue.search.analysis.analyse`), never the text."""

    contract_id: int
    fields: str = ""
    documents: list[str] = field(default_factory=list)

    def field_tokens(self) -> Tokens:
        return analyse(self.fields)

    def document_tokens(self) -> Tokens:
        out = Tokens()
        for text in self.documents:
            out.extend(analyse(text))
        return out


@dataclass(frozen=True)
class Hit:
    contract_id: int
    score: float


# A search ranks and counts at most this many matches. When more contracts match, the
# newest of them (the highest contract ids) are the ones ranked and paged, and the total
# is a lower bound (``Found.exact`` is False), as search engines count "10,000+". The
# index is read newest first and stops there, so a search costs about the same on a
# hundred thousand contracts as on a million (issue 5; decision 0007).
CANDIDATES = 1000

# Stands for the id column of the backend's statement in an :class:`Allowed` condition.
ID = "__qiyue_contract_id__"


@dataclass(frozen=True)
class Allowed:
    """The contracts a search may return, as a condition of the backend's statement on
    :data:`ID` with its parameters ("" for every contract). Made by
    :meth:`SearchBackend.allowed`; a caller may keep and reuse it. A backend may add the
    same contracts in a second form (``per_match``, ``per_match_params``) that it uses
    for queries with fewer than ``few`` matches."""

    condition: str = ""
    params: tuple[Any, ...] = ()
    per_match: str = ""
    per_match_params: tuple[Any, ...] = ()
    few: int = 0

    def where(self, column: str) -> str:
        """The condition on ``column``."""
        return self.condition.replace(ID, column)

    def on(self, column: str) -> str:
        """The condition on ``column`` with a leading ``AND`` ("" for every contract)."""
        return f" AND {self.where(column)}" if self.condition else ""


@dataclass(frozen=True)
class Found:
    """A page of hits and the number of matches: exact up to :data:`CANDIDATES`, else
    :data:`CANDIDATES` with ``exact`` False."""

    hits: list[Hit]
    total: int
    exact: bool = True


# A search statement that runs longer is stopped and answered with a SearchError (400),
# so no query, however odd, holds a worker or the SQLite write lock.
TIME_LIMIT_SECONDS = 3.0

# Entries given to one SearchBackend.write: their ids are bound as parameters of one
# statement, and on SQLite their terms are sealed under one data key.
WRITE_CHUNK = 500

SORT_COLUMNS = {
    "created": "created_at",
    "updated": "updated_at",
    "signed": "signed_date",
    "expiry": "expiry_date",
}


class SearchBackend(ABC):
    """One index per database; ``generation`` is LIVE or NEXT (the shadow rebuild)."""

    vendor: str

    @abstractmethod
    def create_tables(self, generation: str = LIVE) -> None: ...

    @abstractmethod
    def drop_tables(self, generation: str) -> None: ...

    @abstractmethod
    def swap(self) -> None:
        """Replace the live index by the shadow one, in the caller's transaction."""

    def optimize(self, *, generation: str = LIVE) -> int:
        """Merge the pieces an index is written in, after many writes at once (a
        rebuild, a bulk import), so that a search reads one list per term instead of
        several; returns how many index tables were merged. Outside a transaction.
        Nothing to merge by default (PostgreSQL's GIN index is kept by autovacuum)."""
        return 0

    @abstractmethod
    def write(self, docs: Sequence[IndexDocument], *, generation: str = LIVE) -> None:
        """Replace these contracts' entries (idempotent), in the caller's transaction.
        Indexing calls it with at most :data:`WRITE_CHUNK` entries."""

    @abstractmethod
    def remove(self, contract_id: int, *, generation: str = LIVE) -> None: ...

    def search_in(
        self,
        query: ParsedQuery,
        allowed: Allowed,
        *,
        sort: str = "relevance",
        limit: int = 20,
        offset: int = 0,
    ) -> Found:
        """The hits among the ``allowed`` contracts (from :meth:`allowed`), best first or
        by ``sort``, and how many there are (see :data:`CANDIDATES`)."""
        if not query.positive:
            return Found([], 0)
        if offset >= CANDIDATES:  # past the ranked matches: only how many there are
            _first, n = self._search(query, allowed, sort, 1, 0)
            return Found([], min(n, CANDIDATES), n <= CANDIDATES)
        hits, n = self._search(query, allowed, sort, min(limit, CANDIDATES - offset), offset)
        return Found(hits, min(n, CANDIDATES), n <= CANDIDATES)

    @abstractmethod
    def _search(
        self,
        query: ParsedQuery,
        allowed: Allowed,
        sort: str,
        limit: int,
        offset: int,
    ) -> tuple[list[Hit], int]:
        """:meth:`search` for a query with positive terms: the page, and the number of
        matches up to ``CANDIDATES + 1`` (more means "more than CANDIDATES"). By
        relevance, only the newest ``CANDIDATES + 1`` matches are ranked."""

    @abstractmethod
    def indexed_ids(self, *, generation: str = LIVE) -> set[int]: ...

    @abstractmethod
    def ids_with_any(self, chars: frozenset[str], *, generation: str = LIVE) -> Iterator[int]:
        """The contracts whose entry holds any of ``chars`` in its terms (an index
        written before a change of :func:`analysis.fold` that touches them)."""

    def allowed(self, allowed: QuerySet[Any] | None) -> Allowed:
        """``allowed`` (None: every contract) as a condition of the search statement,
        so hits, counts and pages only ever see what the user may see: the contract id
        in the queryset's ids."""
        if allowed is None:
            return Allowed()
        sql, params = allowed.order_by().values("pk").query.sql_with_params()
        return Allowed(f"{ID} IN ({sql})", tuple(params))
