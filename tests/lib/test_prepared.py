"""lib.prepared: one compile, many runs with the one changing parameter replaced; rows
as ``.values()`` gives them (converters applied); refusal of querysets it cannot run."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from qiyue.contracts.models import Contract
from qiyue.lib.prepared import NO_CURSOR, NotPreparable, PreparedValues, clear, prepared
from tests.factories import make_contract

pytestmark = pytest.mark.django_db

FIELDS = ("id", "number", "amount", "signed_date", "created_at", "counterparty__name")


def test_runs_give_what_the_orm_gives_for_each_value(org: SimpleNamespace) -> None:
    for n in range(5):
        make_contract(org.sales1, title=f"c{n}", amount=Decimal(f"{n}000.50"))

    def build(cursor: int):
        return Contract.objects.filter(id__lt=cursor).order_by("-id").values(*FIELDS)[:3]

    p = PreparedValues(build)
    ids = list(Contract.objects.order_by("-id").values_list("id", flat=True))
    for cursor in (NO_CURSOR, ids[1], ids[-1]):
        assert p.run(cursor) == list(build(cursor))
    row = p.run(NO_CURSOR)[0]
    assert isinstance(row["amount"], Decimal) and row["created_at"].tzinfo is not None


def test_querysets_without_exactly_one_changing_parameter_are_refused() -> None:
    with pytest.raises(NotPreparable):
        PreparedValues(lambda _v: Contract.objects.values("id"))
    with pytest.raises(NotPreparable):
        PreparedValues(
            lambda v: Contract.objects.filter(id__lt=v, counterparty_id__lt=v).values("id")
        )


def test_an_empty_queryset_runs_to_no_rows_and_entries_are_kept_per_key() -> None:
    clear()
    p = prepared(("none",), lambda v: Contract.objects.none().filter(id__lt=v).values("id"))
    assert p.run(5) == []
    assert prepared(("none",), lambda v: 1 / 0) is p  # kept: not built again


def test_on_sqlite_a_page_is_fetched_as_one_json_row_with_the_same_values(
    org: SimpleNamespace,
) -> None:
    from django.db import connection

    for n in range(7):
        make_contract(
            org.sales1,
            title=f'<c{n}> 合同 "quoted" \\ back',
            amount=Decimal(f"{n}234567.89") if n % 3 else None,
            tax_rate=Decimal("0.06"),
            auto_renew=bool(n % 2),
            notes="" if n % 2 else "备注\nline",
        )
    Contract.objects.filter(pk=Contract.objects.order_by("id")[0].pk).update(
        expiry_date=None, signed_date="2024-02-29"
    )
    fields = (
        *FIELDS,
        "title",
        "tax_rate",
        "auto_renew",
        "notes",
        "expiry_date",
        "updated_at",
        "owner__username",
        "department_id",
    )

    def build(cursor: int):
        return Contract.objects.filter(id__lt=cursor).order_by("-id").values(*fields)[:5]

    p = PreparedValues(build)
    assert (p.sql_json is not None) == (connection.vendor == "sqlite")
    ids = list(Contract.objects.order_by("-id").values_list("id", flat=True))
    for cursor in (NO_CURSOR, ids[2], ids[-1]):
        assert p.run(cursor) == list(build(cursor))


def test_floats_are_not_fetched_through_json() -> None:
    from django.db.models import FloatField, Value

    def build(cursor: int):
        return (
            Contract.objects.filter(id__lt=cursor)
            .annotate(ratio=Value(0.1, output_field=FloatField()))
            .order_by("-id")
            .values("id", "ratio")[:5]
        )

    assert PreparedValues(build).sql_json is None


def test_json_lists_arrive_parsed_and_equal_to_the_orm_s(org: SimpleNamespace) -> None:
    from django.db import connection
    from django.db.models import OuterRef

    from qiyue.contracts.models import Tag
    from qiyue.lib.sqljson import JsonList

    tags = [Tag.objects.create(name=n) for n in ('重点 "客户"', "a\\b", "Zeta", "éclair")]
    for n in range(4):
        c = make_contract(org.sales1, title=f"t{n}")
        c.tags.set(tags[:n])
    names = JsonList(Tag.objects.filter(contracts=OuterRef("pk")).order_by("name").values("name"))

    def build(cursor: int):
        return (
            Contract.objects.filter(id__lt=cursor)
            .order_by("-id")
            .values("id", "title", tag_names=names)[:10]
        )

    p = PreparedValues(build)
    rows = p.run(NO_CURSOR)
    assert rows == list(build(NO_CURSOR))
    assert sorted(len(r["tag_names"]) for r in rows) == [0, 1, 2, 3]
    if connection.vendor == "sqlite":  # nested in the page's JSON: no converter left
        assert 'json(_page."tag_names")' in (p.sql_json or "")
        assert 2 not in p.converters
