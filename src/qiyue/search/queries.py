"""Search for users: only what ``visible_to(user, "view")`` lets them see.

The permission filter (with the list filters) is a subquery of the backend's search
statement, so hits, totals and pages are computed over visible contracts only; snippets
are computed afterwards from the hits of the page alone."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache
from django.db import connection
from django.db.models import Count
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract, visibility_key
from qiyue.contracts.queries import ContractFilters, apply_filters, parse_filters
from qiyue.search.analysis import fold, match_window
from qiyue.search.backends import base, get_backend
from qiyue.search.backends.base import CANDIDATES, SORT_COLUMNS, Allowed
from qiyue.search.indexing import contract_texts, latest_texts
from qiyue.search.pagecache import page_texts
from qiyue.search.query import SearchError, parse
from qiyue.search.snippets import (
    Snippet,
    field_snippet,
    fold_map,
    highlight,
    match_spans,
    matcher,
    plain_snippet,
)

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 200
# Pages reach as deep as a search ranks (the newest CANDIDATES matches).
MAX_OFFSET = CANDIDATES


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
    # The document version the snippet comes from (for links to its preview); not part
    # of what the API and the CLI print, whose ``where`` names document and version.
    version_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        del out["version_id"]
        return out


@dataclass
class SearchResults:
    items: list[SearchItem] = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_size: int = 20
    # False when more contracts match than a search counts (``total`` is then a lower
    # bound, shown as "more than"; backends.base.CANDIDATES).
    exact: bool = True
    facets: Facets | None = None  # when asked for (search_for(facets=True))
    #: The mainland's words also looked for, for words typed the Taiwan or Hong Kong way
    #: (合約 → 合同: query.Term.variants), to say so beside the results.
    also: list[str] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total


# A search's orders: relevance, or a date, "-" for the latest first (in a stable order,
# for menus and the API's schema).
SORT_ORDERS = ("relevance", *(f"{sign}{key}" for key in SORT_COLUMNS for sign in ("-", "")))
SORTS = frozenset(SORT_ORDERS)
# The contract list's filters that narrow a search. Not its ``q`` (the search's own query)
# nor its ``sort``: a search sorts by relevance or by one of SORTS.
FILTER_KEYS = (
    "state",
    "contract_type",
    "type",
    "customer",
    "owner",
    "department",
    "tag",
    "expiry_from",
    "expiry_to",
    "signed_from",
    "signed_to",
    "amount_min",
    "amount_max",
)


def search_filters(params: Mapping[str, Any], *, user: Any) -> ContractFilters:
    """The filters of a search's parameters (a request's query string); FilterError
    naming each bad one."""
    return parse_filters({k: params.get(k) for k in FILTER_KEYS if k in params}, user=user)


def _may_match(text: str, pattern: re.Pattern[str]) -> bool:
    """``match_window(text, pattern) is not None``, without cutting the window."""
    folded = fold(text)
    return len(folded) != len(text) or pattern.search(folded) is not None


# The SQL of the contracts a user may see with the given filters, by the user's
# visibility key and the filters: building and compiling that queryset took as long as a
# selective search statement (bench/search.py). Per process; a key holds everything the
# SQL depends on, so an entry never goes stale. Entries expire after ten minutes all the
# same: which of two equivalent forms the backend chose, and its "few", depend on how
# many contracts were allowed when it was made (SqliteBackend.allowed).
_ALLOWED_SQL: TTLCache[tuple[Any, ...], Allowed | None] = TTLCache(512, ttl=600)
_allowed_lock = threading.Lock()
_MISSING = object()


def _allowed_sql(backend: Any, user: Any, f: ContractFilters) -> Allowed | None:
    """``backend.allowed`` of the contracts ``user`` may see filtered by ``f``
    (``Allowed()`` for someone who sees every contract and filters nothing; None for
    someone who may see none)."""
    key = (visibility_key(user, "view"), repr(f), connection.vendor)
    with _allowed_lock:
        found = _ALLOWED_SQL.get(key, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[return-value]
    allowed: Any = apply_filters(Contract.objects.visible_to(user, "view"), f)
    if allowed.query.is_empty():  # may see no contract at all
        return None
    if not allowed.query.where:
        # Sees every contract and filters nothing: an IN over every id would only cost.
        allowed = None
    made = backend.allowed(allowed)
    with _allowed_lock:
        _ALLOWED_SQL[key] = made
    return made


def search_for(
    user: Any,
    q: str,
    *,
    filters: ContractFilters | None = None,
    sort: str = "relevance",
    page: int = 1,
    page_size: int = 20,
    facets: bool = False,
) -> SearchResults:
    """One page of the contracts the user may see that match ``q``; SearchError for a
    query, sort or page that cannot be answered. With ``facets``, also the counts of
    :func:`facets_for` (``results.facets``), from the same search statement when it can
    give them."""
    if sort not in SORTS:
        raise SearchError(_("Unknown sort order."), "sort")
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise SearchError(_("Enter a page of 1 or more and a page size of 1 to 200."), "page")
    offset = (page - 1) * page_size
    if offset >= MAX_OFFSET:
        raise SearchError(_("Too far into the results; refine the search instead."), "page")
    parsed = parse(q)
    results = SearchResults(page=page, page_size=page_size)
    results.also = [v.text for t in parsed.positive for v in t.variants]
    if not parsed.positive:
        return results
    f = dataclasses.replace(filters or ContractFilters(), q="")
    backend = get_backend()
    allowed = _allowed_sql(backend, user, f)
    if allowed is None:
        return results
    if facets:
        # Every ranked match at once: the page is a slice, the facets count them all
        # (by a date, "all of them" is the newest CANDIDATES only when they are all).
        ranked = backend.search_in(parsed, allowed, sort=sort, limit=CANDIDATES)
        page_hits = base.Found(ranked.hits[offset : offset + page_size], ranked.total, ranked.exact)
        if sort != "relevance" and not ranked.exact:
            ranked = backend.search_in(parsed, allowed, limit=CANDIDATES)
        results.facets = _facets_of(user, f, ranked)
    else:
        page_hits = backend.search_in(parsed, allowed, sort=sort, limit=page_size, offset=offset)
    results.total, results.exact = page_hits.total, page_hits.exact
    hits = page_hits.hits
    if not hits:
        return results
    ids = [h.contract_id for h in hits]
    rows = contract_texts(ids)
    pattern = matcher(parsed)
    snippets: dict[int, Snippet | None] = {}
    for pk, row in rows.items():
        fields = row.fields
        if pattern is not None:  # highlight only the fields that match (a quick look)
            if not _may_match("\n".join(t for _n, t in fields), pattern):
                fields = []
            else:
                fields = [(n, t) for n, t in fields if _may_match(t, pattern)]
        snippets[pk] = field_snippet(fields, pattern) if fields else None
    # Documents are decrypted only for the hits of this page whose fields did not match.
    rest = [pk for pk, snip in snippets.items() if snip is None]
    snippet_versions: dict[int, int] = {}
    if rest and pattern is not None:
        # As snippets.document_snippet, but each page is cut to the part around its first
        # match before highlighting: folding a whole document character by character
        # cost more than the rest of the search together (bench/search.py).
        for pk, versions in latest_texts(rest).items():
            for version in versions:
                if version.text_sha256 is None:
                    continue
                try:
                    pages = page_texts(version.text_sha256, version.load_text_blob)
                except Exception:
                    log.exception(
                        "search: cannot read the text of document version %s", version.version_id
                    )
                    continue
                for text_page in pages:
                    window = match_window(text_page.text, pattern, folded=text_page.folded)
                    html = highlight(window, pattern) if window is not None else None
                    if html is not None:
                        where = {
                            "document_id": version.document_id,
                            "document": version.document_title,
                            "version": version.version_number,
                            "page": text_page.number,
                        }
                        snippets[pk] = Snippet(mark_safe(html), where)  # escaped by highlight()
                        snippet_versions[pk] = version.version_id
                        break
                if snippets.get(pk) is not None:
                    break
    for hit in hits:
        found = rows.get(hit.contract_id)
        if found is None:  # deleted since the index was written
            continue
        snip = snippets.get(hit.contract_id) or plain_snippet(found.title)
        results.items.append(
            SearchItem(
                contract_id=hit.contract_id,
                number=found.number,
                title=found.title,
                state=found.state,
                counterparty=found.counterparty,
                score=round(hit.score, 4),
                snippet=str(snip.html),
                where=snip.where,
                version_id=snippet_versions.get(hit.contract_id),
            )
        )
    return results


def hit_contracts(user: Any, results: SearchResults) -> dict[int, Contract]:
    """The contracts of a page of hits, with their type and owner, by id: one query,
    inside ``visible_to`` like the search itself."""
    ids = [item.contract_id for item in results.items]
    contracts = (
        Contract.objects.visible_to(user, "view")
        .filter(pk__in=ids)
        .select_related("contract_type", "owner")
    )
    return {c.pk: c for c in contracts}


@dataclass
class Facets:
    """How many of the hits fall in each state, contract type and department (ids of
    types and departments): of all of them, or of the newest CANDIDATES when more match
    (``partial``), as the search ranks them."""

    states: dict[str, int] = field(default_factory=dict)
    types: dict[int, int] = field(default_factory=dict)
    departments: dict[int, int] = field(default_factory=dict)
    total: int = 0
    partial: bool = False


def _id_list(ids: list[int]) -> RawSQL:
    """``ids`` as one parameter of a subquery: Django compiles an ``IN`` of 10,000 bound
    values in ~0.1 s, longer than the database takes to group them."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (ids,))
    return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(ids),))


def facets_for(user: Any, q: str, filters: ContractFilters | None = None) -> Facets:
    """Counts per state, type and department of the contracts the user may see that match
    ``q`` with ``filters``: the same permission-safe search statement as
    :func:`search_for`, then one grouped count over those hits, again inside
    ``visible_to``. Raises SearchError like :func:`search_for`."""
    parsed = parse(q)
    out = Facets()
    if not parsed.positive:
        return out
    f = dataclasses.replace(filters or ContractFilters(), q="")
    backend = get_backend()
    allowed_sql = _allowed_sql(backend, user, f)
    if allowed_sql is None:
        return out
    return _facets_of(user, f, backend.search_in(parsed, allowed_sql, limit=base.CANDIDATES))


def _facets_of(user: Any, f: ContractFilters, found: base.Found) -> Facets:
    """The facets of the ranked matches ``found`` (all of them, up to CANDIDATES)."""
    out = Facets(total=found.total, partial=not found.exact)
    if not found.hits:
        return out
    allowed = apply_filters(Contract.objects.visible_to(user, "view"), f)
    rows = (
        allowed.filter(pk__in=_id_list([h.contract_id for h in found.hits]))
        .order_by()
        .values_list("state", "contract_type_id", "department_id")
        .annotate(n=Count("pk"))
    )
    for state, type_id, department_id, n in rows:
        out.states[state] = out.states.get(state, 0) + n
        out.types[type_id] = out.types.get(type_id, 0) + n
        if department_id is not None:
            out.departments[department_id] = out.departments.get(department_id, 0) + n
    return out


def query_matcher(q: str) -> re.Pattern[str] | None:
    """The pattern that finds the positive terms of ``q`` in a text, the same one the
    snippets use (folded text: full-width, case, English word forms, CJK substrings);
    None for an empty query or one the search refuses."""
    try:
        parsed = parse(q)
    except SearchError:
        return None
    return matcher(parsed)


def mark_matches(
    text: str, pattern: re.Pattern[str], *, first_id: str = ""
) -> tuple[SafeString, int]:
    """The whole ``text`` escaped, then every match wrapped in ``<mark>`` (the first one
    with ``id=first_id`` if given), and the number of matches."""
    folded, origin = fold_map(text)
    parts: list[str] = []
    pos = count = 0
    for a, b in match_spans(folded, origin, pattern):
        if a < pos:
            continue
        attrs = f' id="{escape(first_id)}"' if first_id and not count else ""
        parts.append(escape(text[pos:a]))
        parts.append(f"<mark{attrs}>{escape(text[a:b])}</mark>")
        pos = b
        count += 1
    parts.append(escape(text[pos:]))
    # Every piece of the text went through escape(); only <mark> is added.
    return mark_safe("".join(parts)), count
