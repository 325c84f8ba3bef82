"""Reads for accounts."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Model, QuerySet

from qiyue.accounts.access import remember_headed_paths
from qiyue.accounts.models import ApiToken, Department, Role, User


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def departments() -> QuerySet[Department]:
    return Department.objects.select_related("head", "parent").order_by("path")


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).select_related("department", "role")


def user_with_role(pk: int) -> User | None:
    return User.objects.select_related("role", "department").filter(pk=pk).first()


def nearest_head(department: Department | None, exclude: set[int]) -> tuple[User | None, str]:
    """The nearest active head at or above ``department`` who is not in ``exclude``, and
    the name of the department they head; ``(None, "")`` when the tree has none. One
    query per level walked, for the parent and its head (not cached on the objects)."""
    dept = department
    seen = 0
    while dept is not None and seen < 50:
        if dept.head_id and dept.head_id not in exclude and dept.head and dept.head.is_active:
            return dept.head, dept.name
        dept = dept.parent
        seen += 1
    return None, ""


def roles() -> QuerySet[Role]:
    """Every role, by code (pickers in the workflow and compliance rule editors)."""
    return Role.objects.order_by("code")


class TokenOwner(NamedTuple):
    token_id: int
    last_used_at: datetime | None
    user: User


@functools.cache
def _token_statement(vendor: str) -> tuple[str, tuple[tuple[type[Model], tuple[Any, ...]], ...]]:
    """The statement behind :func:`token_owner` and, per model it reads (token, user,
    role, department), its fields in column order with their database converters."""
    q = connection.ops.quote_name
    parts: list[tuple[type[Model], tuple[Any, ...]]] = []
    columns: list[str] = []
    for model, alias, names in (
        (ApiToken, "t", ("id", "last_used_at")),
        (User, "u", None),
        (Role, "r", None),
        (Department, "d", None),
    ):
        fields = tuple(
            f for f in model._meta.concrete_fields if names is None or f.attname in names
        )
        parts.append((model, tuple((f, *_converters(f)) for f in fields)))
        columns += [f"{alias}.{q(f.column)}" for f in fields]
    dept = q(Department._meta.db_table)
    path, head = q("path"), q(Department._meta.get_field("head").column)
    joined = "group_concat(h.{0}, ',')" if vendor == "sqlite" else "string_agg(h.{0}, ',')"
    headed = f"(SELECT {joined.format(path)} FROM {dept} h WHERE h.{head} = u.{q('id')})"  # noqa: S608
    user_fk = lambda model, name: q(model._meta.get_field(name).column)  # noqa: E731
    sql = (
        f"SELECT {', '.join(columns)}, {headed} "  # noqa: S608
        f"FROM {q(ApiToken._meta.db_table)} t "
        f"JOIN {q(User._meta.db_table)} u ON u.{q('id')} = t.{user_fk(ApiToken, 'user')} "
        f"LEFT JOIN {q(Role._meta.db_table)} r ON r.{q('id')} = u.{user_fk(User, 'role')} "
        f"LEFT JOIN {dept} d ON d.{q('id')} = u.{user_fk(User, 'department')} "
        f"WHERE t.{q('token_hash')} = %s AND t.{q('revoked_at')} IS NULL"
    )
    return sql, tuple(parts)


def token_owner(token_hash: str) -> TokenOwner | None:
    """The unrevoked token with this hash and its user, with the user's role, department
    and headed departments (``access.headed_paths``) loaded: one plain statement, since
    compiling the same ``select_related`` through the ORM cost more than the rest of an
    API list request (``bench/api_list.py``). Values go through the fields' own
    database converters, as the ORM would read them."""
    sql, parts = _token_statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    loaded: list[Model | None] = []
    at = 0
    for model, fields in parts:
        values = []
        for _field, col, converters in fields:
            value = row[at]
            at += 1
            for convert in converters:
                value = convert(value, col, connection)
            values.append(value)
        if model is ApiToken:
            token_id, last_used_at = values
        elif values[model._meta.concrete_fields.index(model._meta.pk)] is None:
            loaded.append(None)  # no role, or no department
        else:
            names = [f.attname for f, _col, _conv in fields]
            loaded.append(model.from_db(connection.alias, names, values))
    user, role, department = loaded
    assert isinstance(user, User)
    user.role = role  # type: ignore[assignment]
    user.department = department  # type: ignore[assignment]
    headed = row[at]
    remember_headed_paths(user, headed.split(",") if headed else [])
    return TokenOwner(int(token_id), last_used_at, user)


def _converters(field: Any) -> tuple[Any, list[Any]]:
    """A column of ``field`` and its database converters (the backend's, then the
    field's own), as the ORM's compiler applies them."""
    col = field.get_col(field.model._meta.db_table)
    return col, [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]
