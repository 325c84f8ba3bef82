"""A ``.values()`` queryset compiled once and run again with one value changed.

Django compiles a queryset to SQL every time it is evaluated; for a list endpoint that
costs more than the database does (``bench/api_list.py``). :class:`PreparedValues` builds
the queryset twice, with two different probe values for its one changing parameter (a
keyset cursor, say), compiles both and finds that parameter as the only one that differs.
It keeps the SQL, the parameters and the compiler's converters, and afterwards runs the
SQL with the parameter replaced. Rows come back through the same converters, as
``.values()`` would give them.

On SQLite the rows are fetched in one step, as one JSON array built by the statement
(``json_group_array``), when every column is of a type that JSON carries without loss
(``JSON_SAFE``). The ``sqlite3`` module lets go of the GIL and takes it back for every
row it steps to; with other requests running Python in the server's threads each
taking-back waits behind them, and a page of 50 rows cost ~30% of a loaded server's
list throughput (``bench/api_list.py``). The values come back as JSON gives them (dates
and times as text, decimals as numbers) and go through the same converters.

Whoever keeps a prepared query keys it by everything that shapes the queryset (the
user's visibility key, the filters, the page size). The compiler belongs to one
connection, and Django's connections are per thread, so :func:`prepared` keeps its
entries per thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import orjson
from cachetools import LRUCache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from qiyue.lib.sqljson import JsonList

# Two values no cursor takes in practice; any two distinct integers would do.
PROBES = (2**62 - 3, 2**62 - 5)
# "Before every id": a keyset cursor for the first page (the largest 64-bit integer).
NO_CURSOR = 2**63 - 1
CACHE_SIZE = 256
# Field types whose SQLite values a JSON array carries as they are: integers, text, and
# decimals (as REAL, written with the 15 significant digits Django's converter keeps),
# JSON (text in SQLite, carried as a string and parsed by the field's converter; the
# lists of sqljson.JsonList are nested as JSON instead, and arrive parsed).
# Not floats (digits past the 15th would be lost) nor bytes (JSON cannot hold them).
JSON_SAFE = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "BooleanField",
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
        "URLField",
        "DateField",
        "DateTimeField",
        "DecimalField",
        "JSONField",
    }
)


class NotPreparable(ValueError):
    """The queryset did not compile to one SQL with exactly one changing parameter."""


class PreparedValues:
    def __init__(self, build: Callable[[Any], QuerySet[Any]], *, using: str = "default") -> None:
        first, second = build(PROBES[0]), build(PROBES[1])
        compiler = first.query.get_compiler(using)
        self.using = using
        self.empty = False
        query = first.query
        self.names = (*query.extra_select, *query.values_select, *query.annotation_select)
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
        self.compiler = compiler
        columns = [s[0] for s in compiler.select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(columns)
        self.sql_json: str | None = None
        made = _as_one_json_row(sql, self.names, columns, connections[using].vendor)
        if made is not None:
            self.sql_json, nested = made
            # JSON columns arrive parsed, inside the page's JSON: their converter (a
            # json.loads a row) would only parse them again.
            self.converters = {i: c for i, c in self.converters.items() if i not in nested}

    def run(self, value: Any) -> list[dict[str, Any]]:
        """The rows as ``.values()`` gives them, with the parameter set to ``value``."""
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.run_rows(value)]

    def run_rows(self, value: Any) -> list[Any]:
        """The rows as sequences of values in the order of :attr:`names`: what
        :meth:`run` gives without a dict a row, for a caller that reads every column
        (50 dicts of 35 keys were a tenth of an API list request)."""
        if self.empty:
            return []
        params = list(self.params)
        params[self.slot] = value
        rows: Any
        with connections[self.using].cursor() as cursor:
            if self.sql_json is None:
                cursor.execute(self.sql, params)
                rows = cursor.fetchall()
            else:
                cursor.execute(self.sql_json, params)
                rows = orjson.loads(cursor.fetchone()[0])
        if self.converters:
            return list(self.compiler.apply_converters(rows, self.converters))
        return list(rows)


def _as_one_json_row(
    sql: str, names: Sequence[str], columns: list[Any], vendor: str
) -> tuple[str, frozenset[int]] | None:
    """The statement with its rows folded into one JSON array of arrays, in its order
    (SQLite; the subquery has an ORDER BY and a LIMIT, so SQLite runs it as a
    co-routine and the aggregate sees its rows in order), and the columns nested in it
    as JSON rather than as text: the lists of ``sqljson.JsonList``, which SQLite builds
    and which hold a column's values, so they parse as they would one by one. ``None``
    where a column's values would not come back as they are (``JSON_SAFE``) or is not
    named in it."""
    if vendor != "sqlite" or len(names) != len(columns) or " LIMIT " not in sql:
        return None
    nested: set[int] = set()
    for i, column in enumerate(columns):
        field = getattr(column, "output_field", None)
        if field is not None and field.is_relation:
            field = getattr(field, "target_field", None)
        if field is None or field.get_internal_type() not in JSON_SAFE:
            return None
        if isinstance(column, JsonList):
            nested.add(i)
    quoted = [f'"{name}"' for name in names]
    if any(f" AS {q}" not in sql or '"' in name for q, name in zip(quoted, names, strict=True)):
        return None
    items = ", ".join(
        f"json(_page.{q})" if i in nested else f"_page.{q}" for i, q in enumerate(quoted)
    )
    sql_json = f"SELECT json_group_array(json_array({items})) FROM ({sql}) _page"  # noqa: S608
    return sql_json, frozenset(nested)


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
