"""Receivables per contract, customer and department, as far as each user may see, and
the deadlines this area gives the reminders."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone, translation

from qiyue.obligations import actions
from qiyue.obligations.deadlines import deadlines
from qiyue.obligations.queries import receivables_for, receivables_summary
from tests.factories import make_contract

pytestmark = pytest.mark.django_db

D = Decimal


def _contract_with_plan(org: Any, owner: Any, due: date, amount: str = "100000") -> Any:
    c = make_contract(owner, state="active", amount=amount)
    actions.add_instalment(
        actor=owner, contract=c, data={"label": "全款", "percent": "100", "due_date": due}
    )
    return c


def test_receivables_per_customer_and_department_only_what_the_user_sees(org: Any) -> None:
    today = timezone.localdate()
    mine = _contract_with_plan(org, org.sales1, today - timedelta(days=5))
    theirs = _contract_with_plan(org, org.sales2, today + timedelta(days=5), amount="50000")
    actions.record_payment(actor=org.finance, contract=mine, amount="40000", received_on=today)

    rows = list(receivables_for(org.finance, by="customer"))
    assert [(r["contract__counterparty_id"], r["outstanding"], r["overdue"]) for r in rows] == [
        (mine.counterparty_id, D("60000"), D("60000")),
        (theirs.counterparty_id, D("50000"), D(0)),
    ]
    by_dept = {
        r["contract__department__name"]: r for r in receivables_for(org.finance, by="department")
    }
    assert by_dept["销售一部"]["received_sum"] == D("40000")
    assert by_dept["销售二部"]["planned"] == D("50000")
    # The owner sees only their own; the outsider sees nothing of the owner's.
    assert [r["contract_id"] for r in receivables_for(org.sales1, by="contract")] == [mine.pk]
    assert [r["contract_id"] for r in receivables_for(org.sales2, by="contract")] == [theirs.pk]
    summary = receivables_summary(org.finance)
    assert summary["outstanding"] == D("110000") and summary["overdue"] == D("60000")
    assert summary["received_this_month"] == D("40000")
    assert [r["contract_id"] for r in summary["top_overdue"]] == [mine.pk]


def test_receivables_list_is_one_query(org: Any, django_assert_num_queries: Any) -> None:
    today = timezone.localdate()
    for _ in range(3):
        _contract_with_plan(org, org.sales1, today)
    with django_assert_num_queries(1):
        assert len(list(receivables_for(org.finance, by="contract"))) == 3


def test_deadlines_give_due_overdue_invoice_and_obligation(org: Any) -> None:
    c = make_contract(org.sales1, state="active")
    due = date(2026, 3, 31)
    inst = actions.add_instalment(
        actor=org.sales1, contract=c, data={"label": "首付款", "amount": "1000", "due_date": due}
    )
    ob = actions.add_obligation(
        actor=org.sales1,
        contract=c,
        data={"title": "保险凭证", "kind": "insurance", "due_date": due, "owner": org.head1.pk},
    )
    found = {(d.kind, d.due, d.object_key, d.owner_id) for d in deadlines(due, due)}
    assert found == {
        ("instalment.due", due, f"instalment:{inst.pk}", org.sales1.pk),
        ("invoice.to_issue", due, f"instalment-invoice:{inst.pk}", org.sales1.pk),
        ("obligation.due", due, f"obligation:{ob.pk}", org.head1.pk),
    }
    overdue = list(deadlines(due + timedelta(days=1), due + timedelta(days=1)))
    assert [(d.kind, d.due) for d in overdue] == [("instalment.overdue", date(2026, 4, 1))]
    with translation.override("en"):
        assert str(overdue[0].title).startswith("Payment “首付款” of")
    with translation.override("zh-hans"):
        assert str(overdue[0].title)  # renders lazily in any language
    assert overdue[0].url.endswith(f"/contracts/{c.pk}/money/")


def test_deadlines_of_one_owner_are_filtered_in_the_query(org: Any) -> None:
    due = date(2026, 3, 31)
    for owner in (org.sales1, org.sales2):
        c = make_contract(owner, state="active")
        actions.add_instalment(
            actor=owner, contract=c, data={"label": "首付款", "amount": "1000", "due_date": due}
        )
    mine = make_contract(org.sales1, state="active")
    actions.add_obligation(
        actor=org.sales1,
        contract=mine,
        data={"title": "报告", "kind": "report", "due_date": due, "owner": org.head1.pk},
    )
    everyone = list(deadlines(due, due + timedelta(days=1)))
    for user in (org.sales1, org.sales2, org.head1, org.finance):
        own = list(deadlines(due, due + timedelta(days=1), owner_id=user.pk))
        assert sorted(map(repr, own)) == sorted(repr(d) for d in everyone if d.owner_id == user.pk)
    assert {d.kind for d in deadlines(due, due, owner_id=org.head1.pk)} == {"obligation.due"}


def test_paid_invoiced_done_and_draft_items_give_no_deadline(org: Any) -> None:
    due = timezone.localdate()
    c = make_contract(org.sales1, state="active")
    inst = actions.add_instalment(
        actor=org.sales1, contract=c, data={"label": "全款", "amount": "1000", "due_date": due}
    )
    actions.record_payment(actor=org.finance, contract=c, amount="1000", received_on=due)
    inv = actions.record_invoice(
        actor=org.finance,
        contract=c,
        number="99990001",
        amount="1000",
        issued_on=due,
        instalment=inst,
    )
    ob = actions.add_obligation(
        actor=org.sales1, contract=c, data={"title": "交付", "due_date": due}
    )
    actions.complete_obligation(actor=org.sales1, obligation=ob)
    draft = make_contract(org.sales1)
    actions.add_instalment(
        actor=org.sales1, contract=draft, data={"label": "全款", "amount": "1", "due_date": due}
    )
    assert list(deadlines(due, due)) == []
    # Voiding the invoice makes the instalment "to invoice" again.
    actions.void_invoice(actor=org.finance, invoice=inv, reason="红冲")
    assert [d.kind for d in deadlines(due, due)] == ["invoice.to_issue"]


def test_planned_invoice_is_a_deadline_on_its_date(org: Any) -> None:
    c = make_contract(org.sales1, state="active")
    day = timezone.localdate() + timedelta(days=3)
    inv = actions.record_invoice(
        actor=org.finance, contract=c, amount="500", issued_on=day, planned=True
    )
    assert [(d.kind, d.object_key) for d in deadlines(day, day)] == [
        ("invoice.to_issue", f"invoice:{inv.pk}")
    ]
    assert list(deadlines(day, day - timedelta(days=1))) == []
