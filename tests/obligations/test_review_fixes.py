"""Review fixes of the money actions: unallocated money is spent once under concurrent
plan changes, a percent that rounds to zero is refused, and an obligation's responsible
person must be able to see the contract."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from qiyue.obligations import actions
from qiyue.obligations.actions import ObligationError
from qiyue.obligations.actions import payments as payment_actions
from qiyue.obligations.models import Allocation, Instalment, Obligation, Payment
from tests.factories import make_contract

pytestmark = pytest.mark.django_db


def test_unallocated_money_is_not_spent_twice_by_concurrent_plan_changes(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = make_contract(org.sales1, state="active", amount="100000.00")
    payment = actions.record_payment(
        actor=org.finance, contract=c, amount="30000", received_on=timezone.localdate()
    )
    real = payment_actions._open_instalments

    def meanwhile(contract: Any) -> list[Instalment]:
        # Another transaction allocated this payment's money to its own new instalment
        # after we read the payment.
        Payment.objects.filter(pk=payment.pk).update(unallocated=Decimal(0))
        return real(contract)

    monkeypatch.setattr(payment_actions, "_open_instalments", meanwhile)
    with pytest.raises(ObligationError) as exc:
        actions.add_instalment(
            actor=org.sales1,
            contract=c,
            data={"label": "首付款", "amount": "30000", "due_date": timezone.localdate()},
        )
    assert exc.value.code == "stale"
    assert not Instalment.objects.filter(contract=c).exists()
    assert not Allocation.objects.exists()


@pytest.mark.parametrize("percent", ["0.001", "0.004%"])
def test_percent_that_rounds_to_zero_is_refused(org: Any, percent: str) -> None:
    c = make_contract(org.sales1, state="active", amount="100000.00")
    with pytest.raises(ObligationError) as exc:
        actions.add_instalment(
            actor=org.sales1,
            contract=c,
            data={"label": "x", "percent": percent, "due_date": timezone.localdate()},
        )
    assert "percent" in exc.value.errors
    assert not Instalment.objects.exists()


def test_obligation_owner_must_be_able_to_see_the_contract(org: Any) -> None:
    c = make_contract(org.sales1, state="active", amount="100000.00")
    with pytest.raises(ObligationError) as exc:
        actions.add_obligation(
            actor=org.sales1,
            contract=c,
            data={"title": "交付报告", "owner": org.sales2.pk, "due_date": "2030-01-31"},
        )
    assert "owner" in exc.value.errors
    assert not Obligation.objects.exists()
    ob = actions.add_obligation(
        actor=org.sales1,
        contract=c,
        data={"title": "交付报告", "owner": org.head1.pk, "due_date": "2030-01-31"},
    )
    assert ob.owner == org.head1


def test_schedule_running_past_year_9999_is_refused_not_a_crash(org: Any) -> None:
    c = make_contract(org.sales1, state="active", amount="100000.00")
    with pytest.raises(ObligationError) as exc:
        actions.add_schedule(
            actor=org.sales1,
            contract=c,
            label="分期",
            total="100",
            first_due="9999-06-30",
            count="12",
            every_months="1",
        )
    assert "due_date" in exc.value.errors
    assert not Instalment.objects.exists()


def test_completing_a_recurring_obligation_at_the_end_of_the_calendar_ends_the_series(
    org: Any,
) -> None:
    c = make_contract(org.sales1, state="active", amount="100000.00")
    ob = actions.add_obligation(
        actor=org.sales1,
        contract=c,
        data={"title": "月报", "due_date": "9999-12-15", "recurrence": "monthly"},
    )
    actions.complete_obligation(actor=org.sales1, obligation=ob)
    assert Obligation.objects.filter(contract=c).count() == 1


@pytest.mark.parametrize(("total", "count"), [("2.00", 120), ("0.10", 6), ("100.00", 6)])
def test_schedule_splits_any_total_of_at_least_a_cent_each_and_adds_up(
    org: Any, total: str, count: int
) -> None:
    c = make_contract(org.sales1, state="active", amount="100000.00")
    rows = actions.add_schedule(
        actor=org.sales1,
        contract=c,
        label="分期",
        total=total,
        first_due="2026-01-31",
        count=count,
        every_months=1,
    )
    assert len(rows) == count
    assert all(r.amount > 0 for r in rows)
    assert sum(r.amount for r in rows) == Decimal(total)
