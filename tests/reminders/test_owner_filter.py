"""A user's deadlines (My reminders, the upcoming API, the iCal feed) are filtered by
owner in each source's query, not by reading every deadline of the company."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from qiyue.reminders import actions, queries, scheduler, sources
from qiyue.reminders.deadlines import contract_deadlines
from qiyue.reminders.sources import Deadline
from tests.factories import make_contract
from tests.reminders.conftest import DAY

pytestmark = pytest.mark.django_db

END = DAY + timedelta(days=90)


@pytest.fixture
def two_owners(org: Any, active: Any) -> tuple[Any, Any]:
    mine = active(DAY + timedelta(days=30), auto_renew=True, notice_period_days=10)
    theirs = make_contract(
        org.sales2, state="active", effective_date=date(2020, 1, 1), expiry_date=DAY
    )
    actions.add_one_off(actor=org.sales1, contract=mine, day=DAY.isoformat(), text="call")
    return mine, theirs


def test_contract_source_filters_by_owner(org: Any, two_owners: Any) -> None:
    mine, theirs = two_owners
    everyone = list(contract_deadlines(DAY, END))
    assert {d.contract_id for d in everyone} == {mine.pk, theirs.pk}
    own = list(contract_deadlines(DAY, END, owner_id=org.sales1.pk))
    assert {d.kind for d in own} == {"contract.expiry", "contract.cancel_by", "reminder.one_off"}
    assert {d.owner_id for d in own} == {org.sales1.pk}
    assert sorted(map(repr, own)) == sorted(
        repr(d) for d in everyone if d.owner_id == org.sales1.pk
    )
    assert list(contract_deadlines(DAY, END, owner_id=org.colleague.pk)) == []


def test_a_source_without_owner_parameter_is_filtered_for_it(
    org: Any, two_owners: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def legacy(start: date, end: date) -> Iterator[Deadline]:
        yield from contract_deadlines(start, end)

    monkeypatch.setattr(sources, "SOURCES", ["legacy"])
    monkeypatch.setattr(scheduler, "SOURCES", sources.SOURCES)
    monkeypatch.setattr(scheduler, "import_string", lambda path: legacy)
    _mine, theirs = two_owners
    found = queries.deadlines_of(org.sales2, DAY, END)
    assert [(d.contract_id, d.kind) for d in found] == [(theirs.pk, "contract.expiry")]
    assert len(scheduler.deadlines_between(DAY, END)) == 4
