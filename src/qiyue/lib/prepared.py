"""A ``.values()`` queryset compiled once and run again with one value changed.

Django compiles a queryset to SQL every time it is evaluated; for a list endpoint that
costs more than the database does (``bench/api_list.py``). :class:`PreparedValues` builds
the queryset twice, with two different probe values for its one changing parameter (a
keyset cursor, say), compiles both and finds that parameter as the only one that differs.
It keeps the SQL, the parameters and the compiler's converters, and afterwards runs the
SQL with the parameter replaced. Rows come back through the same converters, as
``.values()`` would give them.

Whoever keeps a prepared query keys it by everything that shapes the queryset (the
user's visibility key, the filters, the page size). The compiler belongs to one
connection, and Django's connections are per thread, so :func:`prepared` keeps its
entries per thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import LRUCache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

# Two values no cursor takes in practice; any two distinct integers would do.
PROBES = (2**62 - 3, 2**62 - 5)
# "Before every id": a keyset cursor for the first page (the largest 64-bit integer).
NO_CURSOR = 2**63 - 1
CACHE_SIZE = 256


class NotPreparable(ValueError):
    """The queryset did not compile to one SQL with exactly one changing parameter."""


class PreparedValues:
    def __init__(self, build: Callable[[Any], QuerySet[Any]], *, using: str = "default") -> None:
        first, second = build(PROBES[0]), build(PROBES[1])
        compiler = first.query.get_compiler(using)
        self.using = using
        self.empty = False
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # a none() queryset: nothing to run
            self.empty = True
            return
        sql_b, params_b = second.query.get_compiler(using).as_sql()
        changing = [i for i, (a, b) in enumerate(zip(params, params_b, strict=False)) if a != b]
        if sql != sql_b or len(params) != len(params_b) or len(changing) != 1:
            raise NotPreparable(sql)
        self.sql = sql
        self.params = list(params)
        self.slot = changing[0]
        query = first.query
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        self.compiler = compiler
        self.converters = compiler.get_converters(
            [s[0] for s in compiler.select[0 : compiler.col_count]]
        )

    def run(self, value: Any) -> list[dict[str, Any]]:
        if self.empty:
            return []
        params = list(self.params)
        params[self.slot] = value
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows: Any = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in rows]


_local = threading.local()


def prepared(key: Hashable, build: Callable[[Any], QuerySet[Any]]) -> PreparedValues:
    """The prepared query kept under ``key`` in this thread, made with ``build`` the
    first time (the ``CACHE_SIZE`` most recently used are kept)."""
    cache: LRUCache[Hashable, PreparedValues] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = LRUCache(CACHE_SIZE)
    found = cache.get(key)
    if found is None:
        found = cache[key] = PreparedValues(build)
    return found


def clear() -> None:
    """Forget this thread's prepared queries (tests)."""
    cache = getattr(_local, "cache", None)
    if cache is not None:
        cache.clear()
