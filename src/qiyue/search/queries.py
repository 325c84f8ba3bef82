"""Search for users: only what ``visible_to(user, "view")`` lets them see.

The permission filter (with the list filters) is a subquery of the backend's search
statement, so hits, totals and pages are computed over visible contracts only; snippets
are computed afterwards from the hits of the page alone."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.contracts.queries import ContractFilters, apply_filters
from qiyue.search.backends import get_backend
from qiyue.search.backends.base import SORT_COLUMNS
from qiyue.search.indexing import field_texts, latest_versions
from qiyue.search.query import SearchError, parse
from qiyue.search.snippets import (
    Snippet,
    document_snippet,
    field_snippet,
    matcher,
    plain_snippet,
)

MAX_PAGE_SIZE = 200
MAX_OFFSET = 10_000


@dataclass
class SearchItem:
    contract_id: int
    number: str
    title: str
    state: str
    counterparty: str
    score: float
    snippet: str  # safe HTML: escaped text with <mark> around matches
    where: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class SearchResults:
    items: list[SearchItem] = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_size: int = 20

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total


SORTS = {"relevance", *SORT_COLUMNS, *(f"-{k}" for k in SORT_COLUMNS)}


def search_for(
    user: Any,
    q: str,
    *,
    filters: ContractFilters | None = None,
    sort: str = "relevance",
    page: int = 1,
    page_size: int = 20,
) -> SearchResults:
    """One page of the contracts the user may see that match ``q``; SearchError for a
    query, sort or page that cannot be answered."""
    if sort not in SORTS:
        raise SearchError(_("Unknown sort order."))
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise SearchError(_("Enter a page of 1 or more and a page size of 1 to 200."))
    offset = (page - 1) * page_size
    if offset >= MAX_OFFSET:
        raise SearchError(_("Too far into the results; refine the search instead."))
    parsed = parse(q)
    results = SearchResults(page=page, page_size=page_size)
    if not parsed.positive:
        return results
    f = dataclasses.replace(filters or ContractFilters(), q="")
    allowed = apply_filters(Contract.objects.visible_to(user, "view"), f)
    hits, total = get_backend().search(
        parsed, allowed=allowed, sort=sort, limit=page_size, offset=offset
    )
    results.total = total
    if not hits:
        return results
    ids = [h.contract_id for h in hits]
    rows = {
        r["pk"]: r
        for r in Contract.objects.filter(pk__in=ids).values(
            "pk",
            "number",
            "title",
            "state",
            "notes",
            "counterparty__name",
            "counterparty__short_name",
        )
    }
    tags: dict[int, list[str]] = {}
    for contract_id, name in (
        Contract.tags.through.objects.filter(contract_id__in=ids)
        .order_by("tag__name")
        .values_list("contract_id", "tag__name")
    ):
        tags.setdefault(contract_id, []).append(name)
    pattern = matcher(parsed)
    snippets: dict[int, Snippet | None] = {}
    for pk, row in rows.items():
        fields = field_texts(
            number=row["number"],
            title=row["title"],
            party=row["counterparty__name"] or "",
            short_name=row["counterparty__short_name"] or "",
            tags=tags.get(pk, []),
            notes=row["notes"],
        )
        snippets[pk] = field_snippet(fields, pattern)
    # Documents are decrypted only for the hits of this page whose fields did not match.
    rest = [pk for pk, snip in snippets.items() if snip is None]
    if rest and pattern is not None:
        for pk, versions in latest_versions(rest).items():
            snippets[pk] = document_snippet(versions, pattern)
    for hit in hits:
        found = rows.get(hit.contract_id)
        if found is None:  # deleted since the index was written
            continue
        snip = snippets.get(hit.contract_id) or plain_snippet(found["title"])
        results.items.append(
            SearchItem(
                contract_id=hit.contract_id,
                number=found["number"],
                title=found["title"],
                state=found["state"],
                counterparty=found["counterparty__name"] or "",
                score=round(hit.score, 4),
                snippet=str(snip.html),
                where=snip.where,
            )
        )
    return results
