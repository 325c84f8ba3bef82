"""Payment plans, payments, invoices and obligations: who may, what adds up, what is
refused."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone, translation

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract
from qiyue.obligations import actions
from qiyue.obligations.actions import NotAllowed, NotFound, ObligationError
from qiyue.obligations.models import (
    Instalment,
    InstalmentState,
    Invoice,
    InvoiceState,
    Obligation,
    ObligationState,
    Payment,
    Trigger,
)
from qiyue.obligations.queries import reconcile
from tests.factories import make_contract

pytestmark = pytest.mark.django_db

D = Decimal


def _active(org: Any, amount: str = "100000.00", **data: Any) -> Contract:
    return make_contract(org.sales1, state="active", amount=amount, **data)


def _plan(org: Any, contract: Contract, *parts: tuple[str, str]) -> list[Instalment]:
    today = timezone.localdate()
    return [
        actions.add_instalment(
            actor=org.sales1,
            contract=contract,
            data={"label": label, "percent": pct, "due_date": today + timedelta(days=30 * i)},
        )
        for i, (label, pct) in enumerate(parts)
    ]


def _pay(org: Any, contract: Contract, amount: str, **kw: Any) -> Payment:
    kw.setdefault("received_on", timezone.localdate())
    return actions.record_payment(actor=org.finance, contract=contract, amount=amount, **kw)


# Plans -----------------------------------------------------------------------------------


def test_owner_plans_instalments_by_percent_and_amount(org: Any) -> None:
    c = _active(org)
    a = actions.add_instalment(
        actor=org.sales1,
        contract=c,
        data={"label": "首付款", "percent": "30", "due_date": "2026-01-31"},
    )
    b = actions.add_instalment(
        actor=org.sales1,
        contract=c,
        data={"label": "尾款", "amount": "70000", "trigger": "acceptance", "offset_days": "30"},
    )
    assert (a.amount, a.percent, a.seq) == (D("30000.00"), D("30.00"), 1)
    assert (b.amount, b.due_date, b.seq) == (D("70000.00"), None, 2)
    assert reconcile(c).flags == []
    assert AuditEvent.objects.filter(action="instalment.planned", target_id=str(c.pk)).count() == 2


def test_outsider_gets_not_found_and_colleague_with_view_only_is_refused(org: Any) -> None:
    c = _active(org)
    with pytest.raises(NotFound):
        actions.add_instalment(
            actor=org.sales2,
            contract=c,
            data={"label": "x", "amount": "1", "due_date": "2026-01-01"},
        )
    with pytest.raises(NotAllowed):
        actions.add_instalment(
            actor=org.viewer,
            contract=c,
            data={"label": "x", "amount": "1", "due_date": "2026-01-01"},
        )
    with pytest.raises(NotAllowed):
        actions.record_payment(
            actor=org.sales1, contract=c, amount="100", received_on=timezone.localdate()
        )
    assert not Instalment.objects.exists() and not Payment.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"label": "", "amount": "1", "due_date": "2026-01-01"}, "label"),
        ({"label": "x", "due_date": "2026-01-01"}, "amount"),
        ({"label": "x", "amount": "1", "percent": "5", "due_date": "2026-01-01"}, "amount"),
        ({"label": "x", "amount": "-5", "due_date": "2026-01-01"}, "amount"),
        ({"label": "x", "amount": "0", "due_date": "2026-01-01"}, "amount"),
        ({"label": "x", "percent": "101", "due_date": "2026-01-01"}, "percent"),
        ({"label": "x", "percent": "abc", "due_date": "2026-01-01"}, "percent"),
        ({"label": "x", "amount": "1", "due_date": "2026-02-30"}, "due_date"),
        ({"label": "x", "amount": "1"}, "due_date"),
        ({"label": "x", "amount": "1", "trigger": "moon"}, "trigger"),
        ({"label": "x", "amount": "1", "trigger": "signing", "offset_days": "-3"}, "offset_days"),
        ({"label": "x" * 101, "amount": "1", "due_date": "2026-01-01"}, "label"),
    ],
)
def test_bad_instalment_is_refused_and_changes_nothing(
    org: Any, data: dict[str, str], field: str
) -> None:
    c = _active(org)
    with pytest.raises(ObligationError) as exc:
        actions.add_instalment(actor=org.sales1, contract=c, data=data)
    assert field in exc.value.errors
    assert not Instalment.objects.exists()


def test_percent_needs_a_contract_amount(org: Any) -> None:
    c = make_contract(org.sales1, amount="")
    with pytest.raises(ObligationError) as exc:
        actions.add_instalment(
            actor=org.sales1,
            contract=c,
            data={"label": "x", "percent": "10", "due_date": "2026-1-1"},
        )
    assert "percent" in exc.value.errors


def test_signing_trigger_resolved_when_the_contract_is_signed(org: Any) -> None:
    c = make_contract(org.sales1, state="approved")
    inst = actions.add_instalment(
        actor=org.sales1,
        contract=c,
        data={"label": "预付款", "percent": "20", "trigger": "signing", "offset_days": "10"},
    )
    assert inst.due_date is None
    from qiyue.contracts.actions import transition_contract

    transition_contract(actor=org.sales1, contract=c, code="mark_signed", signed_date="2026-03-01")
    inst.refresh_from_db()
    assert inst.due_date == date(2026, 3, 11)
    assert inst.event_date == date(2026, 3, 1)


def test_acceptance_trigger_resolved_when_acceptance_recorded(org: Any) -> None:
    c = _active(org)
    inst = actions.add_instalment(
        actor=org.sales1,
        contract=c,
        data={"label": "验收款", "percent": "100", "trigger": "acceptance", "offset_days": "30"},
    )
    actions.record_acceptance(actor=org.sales1, contract=c, accepted_on="2026-01-31")
    inst.refresh_from_db()
    assert inst.due_date == date(2026, 3, 2)
    # A second recording has nothing left to resolve.
    with pytest.raises(ObligationError):
        actions.record_acceptance(actor=org.sales1, contract=c, accepted_on="2026-02-01")


def test_quarterly_schedule_splits_the_total_and_keeps_month_ends(org: Any) -> None:
    c = _active(org)
    rows = actions.add_schedule(
        actor=org.sales1,
        contract=c,
        label="服务费",
        total="100000",
        first_due="2026-01-31",
        count=3,
    )
    assert [r.due_date for r in rows] == [date(2026, 1, 31), date(2026, 4, 30), date(2026, 7, 31)]
    assert [r.amount for r in rows] == [D("33333.33"), D("33333.33"), D("33333.34")]
    assert sum(r.amount for r in rows) == D("100000")


# Payments --------------------------------------------------------------------------------


def test_partial_payment_leaves_the_rest_open(org: Any) -> None:
    c = _active(org)
    first, _second = _plan(org, c, ("首付款", "30"), ("尾款", "70"))
    _pay(org, c, "10000")
    first.refresh_from_db()
    assert first.received == D("10000") and first.outstanding == D("20000")
    r = reconcile(c)
    assert (r.received, r.outstanding, r.unallocated) == (D("10000"), D("90000"), D(0))


def test_payment_settles_instalments_in_due_order_and_early(org: Any) -> None:
    c = _active(org)
    first, second = _plan(org, c, ("首付款", "30"), ("尾款", "70"))
    p = _pay(org, c, "50000")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_paid and second.received == D("20000")  # the second is not due yet
    assert {a.instalment_id: a.amount for a in p.allocations.all()} == {
        first.pk: D("30000"),
        second.pk: D("20000"),
    }


def test_payment_to_a_named_instalment_goes_there_first(org: Any) -> None:
    c = _active(org)
    first, second = _plan(org, c, ("首付款", "30"), ("尾款", "70"))
    _pay(org, c, "70000", instalment=second.pk)
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.is_paid and first.received == 0


def test_overpayment_stays_unallocated_and_is_flagged(org: Any) -> None:
    c = _active(org)
    _plan(org, c, ("全款", "100"))
    p = _pay(org, c, "120000")
    assert p.unallocated == D("20000")
    r = reconcile(c)
    assert r.outstanding == 0
    assert len(r.flags) == 2  # unallocated, and received above the contract amount


def test_money_received_before_the_plan_goes_to_it_when_planned(org: Any) -> None:
    c = _active(org)
    p = _pay(org, c, "30000")
    assert p.unallocated == D("30000")
    assert any("no payment plan" in str(f) or "回款计划" in str(f) for f in reconcile(c).flags)
    (inst,) = _plan(org, c, ("首付款", "30"))
    p.refresh_from_db()
    assert inst.received == D("30000") and p.unallocated == 0


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1e30"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1", "received_on": "tomorrow"}, "received_on"),
        ({"amount": "1", "method": "bitcoin"}, "method"),
        ({"amount": "1", "instalment": "99999"}, "instalment"),
        ({"amount": "1", "instalment": "x"}, "instalment"),
    ],
)
def test_bad_payment_is_refused_and_changes_nothing(
    org: Any, kw: dict[str, Any], field: str
) -> None:
    c = _active(org)
    _plan(org, c, ("全款", "100"))
    kw.setdefault("received_on", timezone.localdate())
    with pytest.raises(ObligationError) as exc:
        actions.record_payment(actor=org.finance, contract=c, **kw)
    assert field in exc.value.errors
    assert not Payment.objects.exists()


def test_payment_dated_in_the_future_is_refused(org: Any) -> None:
    c = _active(org)
    with pytest.raises(ObligationError) as exc:
        _pay(org, c, "1", received_on=timezone.localdate() + timedelta(days=1))
    assert "received_on" in exc.value.errors


def test_no_payment_on_a_draft(org: Any) -> None:
    c = make_contract(org.sales1)
    with pytest.raises(ObligationError) as exc:
        _pay(org, c, "1")
    assert exc.value.code == "state"


# Invoices --------------------------------------------------------------------------------


def test_invoice_tax_from_the_contract_rate_and_number_unique(org: Any) -> None:
    c = _active(org, tax_rate="13")
    (inst,) = _plan(org, c, ("全款", "100"))
    inv = actions.record_invoice(
        actor=org.finance,
        contract=c,
        number="12345678",
        amount="113000",
        issued_on=timezone.localdate(),
        instalment=inst.pk,
    )
    assert inv.tax == D("13000.00") and inv.state == InvoiceState.ISSUED
    with pytest.raises(ObligationError) as exc:
        actions.record_invoice(
            actor=org.finance, contract=c, number="12345678", amount="1", issued_on="2026-01-01"
        )
    assert "number" in exc.value.errors
    # The other type may use the same number (separate number ranges).
    actions.record_invoice(
        actor=org.finance,
        contract=c,
        number="12345678",
        kind="normal",
        amount="1",
        issued_on="2026-01-01",
    )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"number": "", "amount": "1"}, "number"),
        ({"number": "12<script>", "amount": "1"}, "number"),
        ({"number": "1234", "amount": "1"}, "number"),
        ({"number": "12345678", "amount": "0"}, "amount"),
        ({"number": "12345678", "amount": "10", "tax": "11"}, "tax"),
        ({"number": "12345678", "amount": "10", "kind": "fake"}, "kind"),
    ],
)
def test_bad_invoice_is_refused(org: Any, kw: dict[str, Any], field: str) -> None:
    c = _active(org)
    with pytest.raises(ObligationError) as exc:
        actions.record_invoice(actor=org.finance, contract=c, issued_on="2026-01-01", **kw)
    assert field in exc.value.errors
    assert not Invoice.objects.exists()


def test_planned_invoice_is_issued_later_and_void_ones_do_not_count(org: Any) -> None:
    c = _active(org)
    inv = actions.record_invoice(
        actor=org.finance,
        contract=c,
        amount="50000",
        issued_on=timezone.localdate() + timedelta(days=10),
        planned=True,
    )
    assert inv.state == InvoiceState.PLANNED and reconcile(c).invoiced == 0
    actions.issue_invoice(
        actor=org.finance, invoice=inv, number="00011122", issued_on=timezone.localdate()
    )
    assert reconcile(c).invoiced == D("50000")
    actions.void_invoice(actor=org.finance, invoice=inv, reason="开错")
    assert reconcile(c).invoiced == 0
    with pytest.raises(ObligationError):
        actions.void_invoice(actor=org.finance, invoice=inv, reason="again")


# Reconciliation --------------------------------------------------------------------------


def test_reconciliation_flags_a_plan_that_does_not_match_the_amount(org: Any) -> None:
    c = _active(org)
    _plan(org, c, ("首付款", "30"), ("尾款", "60"))
    with translation.override("en"):
        flags = reconcile(c).flags
    assert flags == ["The plan is 10,000.00 short of the contract amount."]


def test_reconciliation_adds_up_plan_received_and_invoiced(org: Any) -> None:
    c = _active(org, tax_rate="6")
    _plan(org, c, ("首付款", "30"), ("尾款", "70"))
    _pay(org, c, "30000")
    actions.record_invoice(
        actor=org.finance, contract=c, number="88880001", amount="30000", issued_on="2026-01-02"
    )
    actions.record_invoice(
        actor=org.finance, contract=c, number="88880002", amount="70000", issued_on="2026-01-02"
    )
    r = reconcile(c)
    assert r.contract_amount == r.planned == D("100000")
    assert (r.received, r.allocated, r.invoiced, r.outstanding) == (
        D("30000"),
        D("30000"),
        D("100000"),
        D("70000"),
    )
    assert r.invoiced_tax == D("1698.11") + D("3962.26")
    assert r.flags == []
    # Invoicing beyond the contract amount is flagged.
    actions.record_invoice(
        actor=org.finance, contract=c, number="88880003", amount="1", issued_on="2026-01-02"
    )
    assert len(reconcile(c).flags) == 1


# Obligations -----------------------------------------------------------------------------


def test_owner_adds_obligation_and_completes_it_with_evidence(org: Any) -> None:
    c = _active(org)
    ob = actions.add_obligation(
        actor=org.sales1,
        contract=c,
        data={"title": "提交季度报告", "kind": "report", "due_date": "2026-01-31"},
    )
    assert ob.owner == org.sales1
    pdf = io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    done = actions.complete_obligation(
        actor=org.sales1, obligation=ob, done_on="2026-01-30", evidence=pdf, evidence_name="r.pdf"
    )
    assert done.state == ObligationState.DONE and done.evidence is not None
    assert done.evidence.contract_id == c.pk


def test_recurring_obligation_opens_the_next_one_on_the_month_end(org: Any) -> None:
    c = _active(org, expiry_date="2027-12-31")
    ob = actions.add_obligation(
        actor=org.sales1,
        contract=c,
        data={"title": "月度报告", "due_date": "2026-01-31", "recurrence": "monthly"},
    )
    dues = [ob.due_date]
    for _ in range(3):
        actions.complete_obligation(actor=org.sales1, obligation=ob, done_on="2026-01-01")
        ob = Obligation.objects.filter(contract=c, state="open").get()
        dues.append(ob.due_date)
    assert dues == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_obligation_with_script_title_is_stored_as_text_and_bad_owner_refused(org: Any) -> None:
    c = _active(org)
    ob = actions.add_obligation(
        actor=org.sales1, contract=c, data={"title": "<script>x</script>", "due_date": "2026-01-01"}
    )
    assert ob.title == "<script>x</script>"
    with pytest.raises(ObligationError) as exc:
        actions.add_obligation(
            actor=org.sales1,
            contract=c,
            data={"title": "t", "due_date": "2026-01-01", "owner": "zz"},
        )
    assert "owner" in exc.value.errors
    with pytest.raises(NotFound):
        actions.add_obligation(
            actor=org.sales2, contract=c, data={"title": "t", "due_date": "2026-01-01"}
        )


def test_completing_twice_is_refused(org: Any) -> None:
    c = _active(org)
    ob = actions.add_obligation(
        actor=org.sales1, contract=c, data={"title": "交付", "due_date": "2026-01-01"}
    )
    actions.complete_obligation(actor=org.sales1, obligation=ob)
    with pytest.raises(ObligationError):
        actions.complete_obligation(actor=org.sales1, obligation=ob)


def test_unsupported_evidence_file_leaves_the_obligation_open(org: Any) -> None:
    c = _active(org)
    ob = actions.add_obligation(
        actor=org.sales1, contract=c, data={"title": "交付", "due_date": "2026-01-01"}
    )
    with pytest.raises(ObligationError) as exc:
        actions.complete_obligation(
            actor=org.sales1,
            obligation=ob,
            evidence=io.BytesIO(b"MZ\x90\x00"),
            evidence_name="a.exe",
        )
    assert "evidence" in exc.value.errors
    ob.refresh_from_db()
    assert ob.state == ObligationState.OPEN


def test_instalment_states_for_termination(org: Any) -> None:
    c = _active(org)
    a, b = _plan(org, c, ("首付款", "30"), ("尾款", "70"))
    with pytest.raises(ObligationError) as exc:
        actions.settle_open_items(contract=c, instalments={a.pk: "close"}, obligations={})
    assert f"instalment_{b.pk}" in exc.value.errors
    actions.settle_open_items(
        contract=c, instalments={a.pk: "close", b.pk: "carry"}, obligations={}
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.state, b.state) == (InstalmentState.CLOSED, InstalmentState.CARRIED)
    assert a.trigger == Trigger.DATE


def test_settling_open_items_is_one_update_per_state_whatever_their_number(
    org: Any, django_assert_num_queries: Any
) -> None:
    def settle(n: int) -> None:
        c = _active(org, amount="1200")
        plan = actions.add_schedule(
            actor=org.sales1, contract=c, label="款", total="1200", first_due="2026-01-31", count=n
        )
        decided = {i.pk: ("close" if k % 2 else "carry") for k, i in enumerate(plan)}
        # Two reads (open instalments, open obligations) and one update per state.
        with django_assert_num_queries(4):
            out = actions.settle_open_items(contract=c, instalments=decided, obligations={})
        assert out["instalments"] == {
            str(pk): "closed" if d == "close" else "carried" for pk, d in decided.items()
        }
        assert Instalment.objects.filter(contract=c, state=InstalmentState.CLOSED).count() == n // 2

    settle(2)
    settle(12)


@pytest.mark.parametrize("state", ["draft", "approved", "active", "expired", "archived"])
def test_money_rights_answer_like_the_single_checks(org: Any, state: str) -> None:
    from qiyue.contracts.queries import may

    c = make_contract(org.sales1, state=state, amount="1000")
    for user in (org.sales1, org.finance, org.legal, org.manager, org.viewer, org.head1):
        seen = Contract.objects.visible_to(user, "view").filter(pk=c.pk).exists()
        if not seen:  # the panel answers 404 before asking
            continue
        assert actions.money_rights(user, c) == {
            "may_change": may(user, c, "change"),
            "may_plan": actions.may_plan(user, c) and c.state in actions.PLANNING_STATES,
            "may_record": actions.may_record(user, c) and c.state in actions.MONEY_STATES,
            "may_obligations": actions.may_manage_obligations(user, c)
            and c.state in actions.PLANNING_STATES,
        }, user.username
