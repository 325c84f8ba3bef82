"""lib.sqljson: the database writes dates and times as the API's JSON encoder does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import DateTimeField, Value

from qiyue.contracts.models import Contract
from qiyue.lib.sqljson import JsonDate, JsonTime
from tests.factories import make_contract

pytestmark = pytest.mark.django_db

TIMES = [
    datetime(2026, 12, 5, 21, 24, 50, 628996, tzinfo=UTC),
    datetime(2026, 12, 5, 21, 24, 50, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, 0, 500, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
    # Shanghai time is written in UTC, as the encoder writes it after Django reads it.
    datetime(2026, 3, 1, 7, 30, 0, 120000, tzinfo=timezone(timedelta(hours=8))),
]
DATES = [date(2026, 2, 28), date(2024, 2, 29), date(1999, 12, 31)]


def _encoded(value: object) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
    return DjangoJSONEncoder().default(value)


def test_times_and_dates_read_from_rows_are_the_encoders_text(org: SimpleNamespace) -> None:
    made = []
    for n, at in enumerate(TIMES):
        contract = make_contract(org.sales1)
        day = DATES[n % len(DATES)] if n < len(TIMES) - 1 else None
        Contract.objects.filter(pk=contract.pk).update(created_at=at, expiry_date=day)
        made.append((contract.pk, at, day))
    rows = {
        r["id"]: r
        for r in Contract.objects.values(
            "id", created=JsonTime("created_at"), expiry=JsonDate("expiry_date")
        )
    }
    for pk, at, day in made:
        assert rows[pk]["created"] == _encoded(at)
        assert rows[pk]["expiry"] == (None if day is None else _encoded(day))


def test_a_time_given_as_a_parameter_and_null(org: SimpleNamespace) -> None:
    make_contract(org.sales1)
    at = TIMES[0]
    row = Contract.objects.values(
        t=JsonTime(Value(at, output_field=DateTimeField())),
        none=JsonTime(Value(None, output_field=DateTimeField())),
    )[0]
    assert row == {"t": "2026-12-05T21:24:50.628Z", "none": None}


def test_tag_names_as_a_list_in_the_order_the_relation_gives(org: SimpleNamespace) -> None:
    from django.db.models import OuterRef

    from qiyue.contracts.models import Tag
    from qiyue.lib.sqljson import JsonList

    tagged = make_contract(org.sales1, tags=["续约", "a", "B", "战略客户", "b", "Zeta"])
    bare = make_contract(org.sales1)
    names = Tag.objects.filter(contracts=OuterRef("pk"))
    rows = {
        r["id"]: r
        for r in Contract.objects.values(
            "id",
            up=JsonList(names.order_by("name").values("name")),
            down=JsonList(names.order_by("-name").values("name")),
        )
    }
    expected = [t.name for t in tagged.tags.all()]
    assert rows[tagged.pk]["up"] == expected
    assert rows[tagged.pk]["down"] == expected[::-1]
    assert rows[bare.pk]["up"] == [] and rows[bare.pk]["down"] == []
    with pytest.raises(ValueError, match="ordered by"):
        list(Contract.objects.values(x=JsonList(names.order_by("id").values("name"))))
