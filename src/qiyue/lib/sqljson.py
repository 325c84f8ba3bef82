"""Values written by the database as the API's JSON writes them: dates and times as
text, and the names of a row's tags as a list.

A list page of the API reads two times and three dates a row. Read as values they are
parsed into ``datetime`` objects, made aware of UTC, and written back to text by
Django's JSON encoder: half of the Python a page of 50 contracts costs. These
expressions have SQLite or PostgreSQL write the same text (``DjangoJSONEncoder``: ISO
8601, UTC as ``Z``, milliseconds only when the time has a fraction of a second), so the
row carries the string the response needs. ``NULL`` stays ``NULL``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Func, JSONField, Subquery


class _Text(Func):
    output_field = CharField()

    def _expression(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return sql, list(params)

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} is written for SQLite and PostgreSQL")


class JsonTime(_Text):
    """A ``DateTimeField`` as ``2026-12-05T21:24:50.628Z`` (or ``…:50Z``)."""

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # Django keeps aware times in SQLite as UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]':
        # its first 23 characters are the date, the time and the milliseconds if any.
        # (One expression instead of a CASE of two: a tenth of a list page's statement.)
        x, params = self._expression(compiler, connection)
        return f"replace(substr({x}, 1, 23), ' ', 'T') || 'Z'", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        x, params = self._expression(compiler, connection)
        utc = f"({x} AT TIME ZONE 'UTC')"
        sql = (
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"CASE WHEN extract(microseconds FROM {utc})::bigint %% 1000000 = 0 THEN '' "
            f"ELSE to_char({utc}, '.MS') END || 'Z'"
        )
        return sql, params * 3


class JsonDate(_Text):
    """A ``DateField`` as ``2026-12-05``."""

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # Kept as that text already; the cast only keeps the column's declared type
        # "date" from having Python's sqlite3 parse it on the way out.
        x, params = self._expression(compiler, connection)
        return f"CAST({x} AS text)", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        x, params = self._expression(compiler, connection)
        return f"to_char({x}, 'YYYY-MM-DD')", params


class JsonList(Subquery):
    """The values of a one-column queryset (correlated with ``OuterRef``) ordered by that
    column, as a JSON list, ``[]`` when there are none: one list per row of the outer
    statement, instead of a second query for the page's rows. The queryset must be
    ordered by its one column (``.order_by("name").values("name")``)."""

    output_field = JSONField()

    def _sql(self, compiler: Any, connection: Any, template: str) -> tuple[str, Any]:
        query = self.query
        names: list[str] = [*query.values_select, *query.annotation_select]
        (column,) = names
        (order,) = query.order_by
        if not isinstance(order, str) or order.lstrip("-") != column:
            raise ValueError(f"JsonList needs its values ordered by {column!r}, not {order!r}")
        sql, params = query.as_sql(compiler, connection)
        return template.format(
            subquery=sql,
            column=connection.ops.quote_name(column),
            direction=" DESC" if order.startswith("-") else "",
        ), params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # The subquery has an ORDER BY, so SQLite does not flatten it into the aggregate
        # and json_group_array sees its rows in that order.
        return self._sql(
            compiler, connection, "(SELECT json_group_array(_v.{column}) FROM {subquery} _v)"
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # jsonb_agg does not keep the subquery's order unless told inside the aggregate.
        return self._sql(
            compiler,
            connection,
            "(SELECT coalesce(jsonb_agg(_v.{column} ORDER BY _v.{column}{direction}), "
            "'[]'::jsonb) FROM {subquery} _v)",
        )
