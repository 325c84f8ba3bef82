"""Full-text search over REST: ``GET /api/v1/search?q=…``.

Thin: parse, call :func:`qiyue.search.queries.search_for`, render. Relevance order has no
stable key to continue after, so pages are numbered (``page``), as deep as a search ranks
(the newest 1,000 matches); ``next`` is the path of the following page, keeping the
filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from pydantic import BaseModel, Field

from qiyue.api.auth import current_user
from qiyue.api.errors import invalid
from qiyue.api.pagination import check_page_size, check_params
from qiyue.api.rendering import render_json
from qiyue.api.schemas import COMMON_ERRORS, ContractFilterParams
from qiyue.search.queries import SORT_ORDERS, search_filters, search_for
from qiyue.search.query import SearchError

router = Router(tags=["search"])


class SearchParams(ContractFilterParams):
    q: str = Field(
        ...,
        description='Words (ANDed), "quoted phrases", -excluded, prefix*; at most 200 characters.',
    )
    sort: str = Field(
        "relevance",
        description="Relevance (best first), or a date: `-` for the latest first.",
        json_schema_extra={"enum": list[Any](SORT_ORDERS)},
    )
    page: int = Field(
        1, ge=1, le=10_000, description="1 for the first page; pages reach the 1,000th hit."
    )
    page_size: int = Field(20, ge=1, description="1 to 200 (QIYUE_API_PAGE_SIZE_MAX).")


class Where(BaseModel):
    field: str | None = None
    document_id: int | None = None
    document: str | None = None
    version: int | None = None
    page: int | None = None


class SearchHit(BaseModel):
    contract_id: int
    number: str
    title: str
    state: str
    counterparty: str
    score: float
    snippet: str = Field(..., description="Escaped HTML, matches in <mark>.")
    where: Where | None


class SearchPage(BaseModel):
    items: list[SearchHit]
    total: int = Field(..., description="Matches, counted up to 1,000.")
    total_exact: bool = Field(
        ...,
        description="False when more contracts match than are counted: then the newest "
        "1,000 matches are ranked and paged, and `total` is a lower bound.",
    )
    also: list[str] = Field(
        default_factory=list,
        description="The mainland's words also looked for, for words of `q` typed the "
        "Taiwan or Hong Kong way (合約 → 合同, 軟體 → 软件).",
    )
    next: str | None


def _next_link(request: HttpRequest, page: int) -> str:
    params = [(k, v) for k, values in request.GET.lists() if k != "page" for v in values]
    params.append(("page", str(page)))
    return f"{request.path}?{urlencode(params)}"


@router.get("/search", response={200: SearchPage, **COMMON_ERRORS}, summary="Search contracts")
def search(request: HttpRequest, params: Query[SearchParams]) -> HttpResponse:
    """Contracts the caller may see whose fields or documents match `q`, best first,
    with a highlighted snippet and where it was found (field, or document and page)."""
    user = current_user(request)
    check_params(request)
    size = check_page_size(params.page_size)
    filters = search_filters(request.GET, user=user)
    try:
        results = search_for(
            user, params.q, filters=filters, sort=params.sort, page=params.page, page_size=size
        )
    except SearchError as exc:
        raise invalid({exc.field: str(exc)}, str(exc)) from None
    body: dict[str, Any] = {
        "items": [item.as_dict() for item in results.items],
        "total": results.total,
        "total_exact": results.exact,
        "also": results.also,
        "next": _next_link(request, params.page + 1) if results.has_next else None,
    }
    return render_json(request, body)
