"""The interface every search backend implements, and what it indexes."""

from __future__ import annotations

from abc import ABC, abstractmethod
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


# A search statement that runs longer is stopped and answered with a SearchError (400),
# so no query, however odd, holds a worker or the SQLite write lock.
TIME_LIMIT_SECONDS = 3.0

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

    @abstractmethod
    def write(self, doc: IndexDocument, *, generation: str = LIVE) -> None:
        """Replace the contract's entry (idempotent)."""

    @abstractmethod
    def remove(self, contract_id: int, *, generation: str = LIVE) -> None: ...

    def search(
        self,
        query: ParsedQuery,
        *,
        allowed: QuerySet[Any] | None,
        sort: str = "relevance",
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[Hit], int]:
        """The hits among ``allowed`` (a queryset of contracts, already filtered; None
        means every contract), best first or by ``sort``, and their total count."""
        in_allowed, allowed_params = self.allowed_sql(allowed) if query.positive else ("", ())
        return self.search_in(
            query, in_allowed, allowed_params, sort=sort, limit=limit, offset=offset
        )

    def search_in(
        self,
        query: ParsedQuery,
        in_allowed: str,
        allowed_params: tuple[Any, ...],
        *,
        sort: str = "relevance",
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[Hit], int]:
        """:meth:`search` with the allowed contracts given as the SQL that
        :meth:`allowed_sql` made of them (which a caller may keep and reuse)."""
        if not query.positive:
            return [], 0
        return self._search(query, in_allowed, allowed_params, sort, limit, offset)

    @abstractmethod
    def _search(
        self,
        query: ParsedQuery,
        in_allowed: str,
        allowed_params: tuple[Any, ...],
        sort: str,
        limit: int,
        offset: int,
    ) -> tuple[list[Hit], int]:
        """:meth:`search` for a query with positive terms; ``in_allowed`` and its
        parameters (from :meth:`allowed_sql`) follow the contract id column."""

    @abstractmethod
    def indexed_ids(self, *, generation: str = LIVE) -> set[int]: ...

    def allowed_sql(self, allowed: QuerySet[Any] | None) -> tuple[str, tuple[Any, ...]]:
        """``AND <col> IN (<the allowed contracts' ids>)`` as SQL in the same statement, so
        hits, counts and pages only ever see what the user may see."""
        if allowed is None:
            return "", ()
        sql, params = allowed.order_by().values("pk").query.sql_with_params()
        return f" IN ({sql})", tuple(params)
