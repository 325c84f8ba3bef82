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
