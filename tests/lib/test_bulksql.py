"""lib.bulksql: many rows in chunks under the parameter limit, the new rows given back."""

from __future__ import annotations

from typing import Any

import pytest

from qiyue.contracts.models import Tag
from qiyue.lib import bulksql

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("limit", [1, 7, None])
def test_rows_are_inserted_in_chunks_and_given_back(monkeypatch: Any, limit: int | None) -> None:
    from django.db import connection

    if limit is not None:  # a tiny limit makes one chunk per row or per few rows
        monkeypatch.setattr(bulksql, "max_params", lambda _conn: limit)
    names = [f"标签{n}" for n in range(25)]
    back = bulksql.insert_rows(
        connection, Tag._meta.db_table, ["name"], [[n] for n in names], returning=("name", "id")
    )
    assert sorted(name for name, _id in back) == sorted(names)
    assert dict(back) == dict(Tag.objects.filter(name__in=names).values_list("name", "id"))


def test_nothing_to_insert_and_nothing_wanted_back() -> None:
    from django.db import connection

    assert bulksql.insert_rows(connection, Tag._meta.db_table, ["name"], []) == []
    assert bulksql.insert_rows(connection, Tag._meta.db_table, ["name"], [["x"], ["y"]]) == []
    assert Tag.objects.filter(name__in=["x", "y"]).count() == 2


def test_the_sqlite_limit_is_the_library_one_not_djangos() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert bulksql.max_params(connection) >= 999
