"""Search pages: the results page with filters and facets, and the header box's instant
results (an htmx partial).

Thin: :func:`qiyue.search.queries.search_for` finds the hits (permissions inside its
statement, snippets escaped and marked) and, from the same statement, counts them per
state, type and department inside the same permission filter (its ``facets``). A query the search
refuses (too long, only exclusions, too deep) is shown with its message and answers 400,
never 500."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import EmptyPage, Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from qiyue.accounts.models import Department
from qiyue.contracts.models import ContractState, ContractType
from qiyue.contracts.queries import ContractFilters, FilterError
from qiyue.search.queries import (
    FILTER_KEYS,
    Facets,
    SearchResults,
    hit_contracts,
    search_filters,
    search_for,
)
from qiyue.search.query import SearchError
from qiyue.web.views.common import PAGE_SIZES, as_id, page_size_of
from qiyue.web.views.contracts import filter_choices

INSTANT_HITS = 8

# The sort switch: relevance, or a date either way (every order search_for knows, so a
# link with any of them shows the order it was sorted by).
SORT_CHOICES = [
    ("relevance", gettext_lazy("Relevance")),
    ("-created", gettext_lazy("Newest first")),
    ("created", gettext_lazy("Oldest first")),
    ("-signed", gettext_lazy("Signed, latest first")),
    ("signed", gettext_lazy("Signed, earliest first")),
    ("expiry", gettext_lazy("Expires, soonest first")),
    ("-expiry", gettext_lazy("Expires, latest first")),
    ("-updated", gettext_lazy("Changed, latest first")),
    ("updated", gettext_lazy("Changed, earliest first")),
]


class _Hits:
    """One page of hits, sized like the whole result (which a search counts no deeper
    than the pages it answers) so Django's Paginator and ``_pagination.html`` can number
    the pages."""

    def __init__(self, rows: list[dict[str, Any]], total: int) -> None:
        self.rows = rows
        self.total = total

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        return self.rows


def _rows(user: Any, results: SearchResults) -> list[dict[str, Any]]:
    """Each hit with its contract (type, owner, dates) and the document version its
    snippet comes from: one query, whatever the page size."""
    by_id = hit_contracts(user, results)
    return [
        {
            "item": item,
            "c": by_id[item.contract_id],
            "where": item.where or {},
            "version_pk": item.version_id,
        }
        for item in results.items
        if item.contract_id in by_id
    ]


def _facet_links(
    facets: Facets,
    filters: ContractFilters | None,
    types: list[ContractType],
    depts: list[Department],
) -> dict[str, list[Any]]:
    """The facet values with their counts, labels and whether they are chosen."""
    chosen_states = set(filters.state) if filters else set()
    type_names = {t.pk: t.display_name for t in types}
    dept_names = {d.pk: d.name for d in depts}
    return {
        "state": [
            {
                "value": value,
                "label": label,
                "n": facets.states[value],
                "on": value in chosen_states,
            }
            for value, label in ContractState.choices
            if value in facets.states
        ],
        "contract_type": [
            {
                "value": str(pk),
                "label": type_names.get(pk, "—"),
                "n": n,
                "on": filters is not None and filters.contract_type == pk,
            }
            for pk, n in sorted(facets.types.items(), key=lambda kv: -kv[1])
        ],
        "department": [
            {
                "value": str(pk),
                "label": dept_names.get(pk, "—"),
                "n": n,
                "on": filters is not None and filters.department == pk,
            }
            for pk, n in sorted(facets.departments.items(), key=lambda kv: -kv[1])
        ],
    }


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    q = request.GET.get("q", "")
    sort = request.GET.get("sort") or "relevance"
    number = as_id(request.GET.get("page")) or 1
    size = page_size_of(request)
    filter_errors: dict[str, str] = {}
    query_error = ""
    filters: ContractFilters | None = None
    results = SearchResults(page=number, page_size=size)
    facets = Facets()
    try:
        filters = search_filters(request.GET, user=user)
    except FilterError as exc:
        filter_errors = exc.errors
    if filters is not None and q.strip():
        try:
            results = search_for(
                user, q, filters=filters, sort=sort, page=number, page_size=size, facets=True
            )
            facets = results.facets or facets
        except SearchError as exc:
            query_error = str(exc)
    page: Page[Any] | None = None
    past_end = False
    if results.total:
        paginator: Paginator[dict[str, Any]] = Paginator(
            _Hits(_rows(user, results), results.total),  # type: ignore[arg-type]
            size,
        )
        try:
            page = paginator.page(number)
        except EmptyPage:
            past_end = True
    choices = filter_choices(request)
    types, depts = choices["types"], choices["departments"]
    context = {
        "q": q,
        "results": results,
        "page": page,
        "count_inexact": not results.exact,  # the pager says "more than"
        "hits": page.object_list if page is not None else [],
        "past_end": past_end,
        "facets": _facet_links(facets, filters, types, depts) if facets.total else None,
        "facets_partial": facets.partial,
        "query_error": query_error,
        "filter_errors": filter_errors,
        "sort": sort,
        "sort_choices": SORT_CHOICES,
        **choices,
        "selected_states": filters.state if filters else [],
        "page_sizes": PAGE_SIZES,
        "filtered": any(request.GET.get(k) for k in FILTER_KEYS),
        "searched": bool(q.strip()) and not query_error and not filter_errors,
    }
    status = 400 if query_error or filter_errors else 200
    return render(request, "web/search/results.html", context, status=status)


@login_required
@require_GET
def search_instant(request: HttpRequest) -> HttpResponse:
    """Up to eight hits under the header box, as HTML for htmx; 400 with the message for
    a query the search refuses."""
    user: Any = request.user
    q = request.GET.get("q", "")
    context: dict[str, Any] = {"q": q, "results": None, "items": [], "error": ""}
    status = 200
    if q.strip():
        try:
            results = search_for(user, q, page_size=INSTANT_HITS)
        except SearchError as exc:
            context["error"] = str(exc)
            status = 400
        else:
            labels = dict(ContractState.choices)
            context["results"] = results
            context["items"] = [
                (item, labels.get(item.state, item.state)) for item in results.items
            ]
    # Rendered without the request: the page-wide context (header counts) is not needed
    # for a fragment fetched on every keystroke.
    html = render_to_string("web/search/_instant.html", context)
    response = HttpResponse(html, status=status)
    response["Cache-Control"] = "private, no-store"
    return response
