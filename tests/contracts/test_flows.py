"""Lifecycle flows after signing: date arithmetic, the daily job (expiry, automatic
renewal, non-renewal notices), renewals, amendments and early termination."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from qiyue.audit.models import AuditEvent
from qiyue.contracts import flows
from qiyue.contracts.actions import ContractError, NotAllowed, update_contract
from qiyue.contracts.models import (
    Amendment,
    AmendmentState,
    Contract,
    ContractState,
    Relation,
    Termination,
)
from qiyue.contracts.queries import history_for
from qiyue.notifications.models import Notification
from qiyue.obligations import actions as money
from qiyue.obligations.models import InstalmentState, ObligationState
from qiyue.obligations.queries import reconcile
from qiyue.web.history import describe
from tests.factories import make_contract

pytestmark = pytest.mark.django_db


def _events(contract: Contract, action: str) -> Any:
    return AuditEvent.objects.filter(
        target_type="contract", target_id=str(contract.pk), action=action
    )


# Date arithmetic -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expiry", "months", "renewed_to"),
    [
        # The same day months later, clamped to short months; month ends stay month ends.
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2027, 1, 30), 1, date(2027, 2, 28)),
        (date(2028, 1, 30), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 2, 28), 12, date(2027, 2, 28)),
        (date(2028, 2, 28), 12, date(2029, 2, 28)),  # not a month end in a leap year
        (date(2027, 2, 28), 1, date(2027, 3, 31)),  # a month end stays a month end
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 12, 31), 12, date(2027, 12, 31)),  # across the year end
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
    ],
)
def test_renewal_term_date_table(expiry: date, months: int, renewed_to: date) -> None:
    assert flows.renewal_expiry(expiry, months) == renewed_to


@pytest.mark.parametrize(
    ("expiry", "notice", "cancel_by"),
    [
        (date(2027, 1, 15), 30, date(2026, 12, 16)),  # across the year end
        (date(2027, 1, 31), 90, date(2026, 11, 2)),
        (date(2028, 3, 1), 1, date(2028, 2, 29)),  # leap day
        (date(2027, 3, 1), 1, date(2027, 2, 28)),
        (date(2027, 1, 1), 0, date(2027, 1, 1)),
        (date(2027, 1, 1), None, date(2027, 1, 1)),
        (date(2028, 12, 31), 366, date(2027, 12, 31)),
    ],
)
def test_cancel_by_date_table(expiry: date, notice: int | None, cancel_by: date) -> None:
    c = Contract(expiry_date=expiry, notice_period_days=notice)
    assert c.cancel_by == cancel_by


# The daily job ---------------------------------------------------------------------------


def _auto(org: Any, *, expiry: str, notice: int = 30, term: int = 12) -> Contract:
    return make_contract(
        org.sales1,
        state="active",
        effective_date="2026-01-01",
        signed_date="2026-01-01",
        expiry_date=expiry,
        auto_renew=True,
        renewal_term_months=term,
        notice_period_days=notice,
    )


def test_active_contract_expires_the_day_after_its_expiry_date(org: Any) -> None:
    c = make_contract(
        org.sales1, state="active", effective_date="2026-01-01", expiry_date="2026-12-31"
    )
    assert flows.run_lifecycle(today=date(2026, 12, 31)) == []
    changes = flows.run_lifecycle(today=date(2027, 1, 1))
    assert [ch.line for ch in changes] == [f"{c.number}: expired (expiry date 2026-12-31 passed)"]
    c.refresh_from_db()
    assert c.state == ContractState.EXPIRED
    event = _events(c, "contract.expire").get()
    assert event.actor is None and event.data["rule"] == "expiry_passed"
    # A second run on the same day changes nothing.
    assert flows.run_lifecycle(today=date(2027, 1, 1)) == []


def test_auto_renewal_extends_when_no_notice_was_given(org: Any) -> None:
    c = _auto(org, expiry="2027-01-15", notice=30)  # cancel-by 2026-12-16
    assert flows.run_lifecycle(today=date(2026, 12, 16)) == []
    changes = flows.run_lifecycle(today=date(2026, 12, 17))
    assert [ch.rule for ch in changes] == ["auto_renewal"]
    c.refresh_from_db()
    assert c.expiry_date == date(2028, 1, 15) and c.state == ContractState.ACTIVE
    note = Notification.objects.get(recipient=org.sales1, kind="contract.auto_renewed")
    assert c.number in note.title and "2028-01-15" in note.title
    event = _events(c, "contract.auto_renewed").get()
    assert event.data["rule"] == "auto_renewal" and event.data["cancel_by"] == "2026-12-16"
    assert event.data["before"] == {"expiry_date": "2027-01-15"}
    assert flows.run_lifecycle(today=date(2026, 12, 17)) == []
    # The history names the rule.
    with translation.override("en"):
        entries = describe(history_for(org.sales1, c), names={})
    assert any("cancel-by date passed" in e.comment for e in entries)


def test_auto_renewal_not_renewed_when_notice_recorded(org: Any) -> None:
    c = _auto(org, expiry="2027-01-15", notice=30)
    flows.record_non_renewal(
        actor=org.sales1, contract=c, given_by="customer", given_on="2026-11-01"
    )
    assert flows.run_lifecycle(today=date(2026, 12, 17)) == []
    changes = flows.run_lifecycle(today=date(2027, 1, 16))
    assert [ch.rule for ch in changes] == ["expiry_passed"]
    c.refresh_from_db()
    assert c.state == ContractState.EXPIRED and c.expiry_date == date(2027, 1, 15)


def test_late_future_or_duplicate_notice_is_refused(org: Any) -> None:
    today = timezone.localdate()
    c = _auto(org, expiry=str(today + timedelta(days=20)), notice=30)  # cancel-by: 10 days ago
    for day, field in [(today, "given_on"), (today + timedelta(days=1), "given_on")]:
        with pytest.raises(ContractError) as exc:
            flows.record_non_renewal(actor=org.sales1, contract=c, given_by="us", given_on=day)
        assert field in exc.value.errors
    last_day = today - timedelta(days=10)
    flows.record_non_renewal(actor=org.sales1, contract=c, given_by="us", given_on=last_day)
    with pytest.raises(ContractError):
        flows.record_non_renewal(actor=org.sales1, contract=c, given_by="us", given_on=last_day)
    with pytest.raises(NotAllowed):
        flows.record_non_renewal(actor=org.sales2, contract=c, given_by="us", given_on=last_day)


def test_missed_runs_catch_up_term_by_term(org: Any) -> None:
    c = _auto(org, expiry="2026-01-31", notice=0, term=1)
    changes = flows.run_lifecycle(today=date(2026, 4, 15))
    c.refresh_from_db()
    # Jan 31 → Feb 28 → Mar 31 → Apr 30: month ends stay month ends.
    assert c.expiry_date == date(2026, 4, 30)
    assert len(changes) == 3 and _events(c, "contract.auto_renewed").count() == 3


def test_dry_run_changes_nothing(org: Any) -> None:
    c = _auto(org, expiry="2027-01-15")
    lines = [ch.line for ch in flows.run_lifecycle(today=date(2027, 2, 1), dry_run=True)]
    assert len(lines) == 1
    c.refresh_from_db()
    assert c.expiry_date == date(2027, 1, 15)


def test_cli_prints_one_line_per_change_and_nothing_the_second_time(org: Any) -> None:
    c = make_contract(
        org.sales1,
        state="active",
        effective_date="2026-01-01",
        signed_date="2026-01-01",
        expiry_date="2026-06-30",
    )
    out = StringIO()
    call_command("lifecycle", "run", "--now", "2026-07-01", "--dry-run", stdout=out)
    assert out.getvalue().count("\n") == 1
    out = StringIO()
    call_command("lifecycle", "run", "--now", "2026-07-01", stdout=out)
    assert out.getvalue() == f"{c.number}: expired (expiry date 2026-06-30 passed)\n"
    out = StringIO()
    call_command("lifecycle", "run", "--now", "2026-07-01", stdout=out)
    assert out.getvalue() == ""


def test_cli_refuses_a_bad_date(org: Any) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("lifecycle", "run", "--now", "2026-02-30")


def test_contract_with_a_live_renewal_becomes_renewed(org: Any) -> None:
    old = make_contract(
        org.sales1, state="active", effective_date="2026-01-01", expiry_date="2026-12-31"
    )
    new = flows.renew_contract(actor=org.sales1, contract=old)
    from tests.factories import advance

    advance(new, "approved", owner=org.sales1, approver=None)
    flows.run_lifecycle(today=date(2027, 1, 1))
    old.refresh_from_db()
    assert old.state == ContractState.RENEWED


# Renewal ---------------------------------------------------------------------------------


def test_renewal_is_a_new_linked_draft_with_fields_copied(org: Any) -> None:
    old = make_contract(
        org.sales1,
        state="active",
        effective_date="2026-02-01",
        expiry_date="2027-01-31",
        tax_rate="6",
        renewal_term_months=12,
        tags=["战略客户"],
    )
    new = flows.renew_contract(actor=org.sales1, contract=old, data={"amount": "120000"})
    assert new.state == ContractState.DRAFT and new.number != old.number
    assert (new.parent_id, new.relation) == (old.pk, Relation.RENEWAL)
    assert (new.effective_date, new.expiry_date) == (date(2027, 2, 1), date(2028, 1, 31))
    assert new.amount == Decimal("120000") and new.tax_rate == Decimal("6")
    assert new.counterparty_id == old.counterparty_id and new.owner_id == old.owner_id
    assert [t.name for t in new.tags.all()] == ["战略客户"]
    assert _events(old, "contract.renewal_created").get().data["renewal"] == new.pk
    with pytest.raises(ContractError):
        flows.renew_contract(actor=org.sales1, contract=old)
    with pytest.raises(NotAllowed):
        flows.renew_contract(actor=org.sales2, contract=old)


def test_draft_cannot_be_renewed(org: Any) -> None:
    with pytest.raises(ContractError):
        flows.renew_contract(actor=org.sales1, contract=make_contract(org.sales1))


# Amendments ------------------------------------------------------------------------------


def test_amendment_changes_the_contract_only_once_approved_by_someone_else(org: Any) -> None:
    c = make_contract(org.sales1, state="active", amount="100000", expiry_date="2026-12-31")
    a = flows.propose_amendment(
        actor=org.sales1,
        contract=c,
        title="补充协议一",
        changes={"amount": "150000", "expiry_date": "2027-12-31"},
        reason="扩大范围",
    )
    c.refresh_from_db()
    assert c.amount == Decimal("100000")
    # The nearest department head who may approve it is told (head1 may not: sales role).
    note = Notification.objects.get(kind="amendment.proposed")
    assert note.recipient == org.manager and "补充协议一" in note.title
    with pytest.raises(NotAllowed):
        flows.approve_amendment(actor=org.sales1, amendment=a)  # not with "approve" access
    a.created_by = org.manager
    Amendment.objects.filter(pk=a.pk).update(created_by=org.manager)
    with pytest.raises(NotAllowed):
        flows.approve_amendment(actor=org.manager, amendment=a)  # the author
    Amendment.objects.filter(pk=a.pk).update(created_by=org.sales1)
    flows.approve_amendment(actor=org.legal, amendment=a, comment="同意")
    c.refresh_from_db()
    assert c.amount == Decimal("150000") and c.expiry_date == date(2027, 12, 31)
    a.refresh_from_db()
    assert a.state == AmendmentState.APPROVED and a.decided_by == org.legal
    assert a.before == {"amount": "100000.00", "expiry_date": "2026-12-31"}
    event = _events(c, "contract.amended").get()
    assert event.actor == org.legal
    assert event.data["before"]["amount"] == "100000.00"
    assert event.data["after"]["amount"] == "150000.00"
    with translation.override("en"):
        (entry,) = [
            e
            for e in describe(history_for(org.sales1, c), names={})
            if e.label == "Amended (amendment approved)"
        ]
    assert ("Amount", "100,000.00", "150,000.00") in entry.changes
    assert entry.actor == str(org.legal)
    with pytest.raises(ContractError):
        flows.approve_amendment(actor=org.legal, amendment=a)  # decided already


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({}, "changes"),
        ({"owner": 1}, "changes"),
        ({"amount": "-1"}, "amount"),
        ({"expiry_date": "2020-01-01"}, "expiry_date"),
        ({"notice_period_days": "99999"}, "notice_period_days"),
    ],
)
def test_bad_amendment_is_refused(org: Any, changes: dict[str, Any], field: str) -> None:
    c = make_contract(org.sales1, state="active", effective_date="2026-01-01")
    with pytest.raises(ContractError) as exc:
        flows.propose_amendment(actor=org.sales1, contract=c, title="x", changes=changes)
    assert field in exc.value.errors
    assert not Amendment.objects.exists()


def test_rejected_amendment_changes_nothing(org: Any) -> None:
    c = make_contract(org.sales1, state="active", amount="100000")
    a = flows.propose_amendment(actor=org.sales1, contract=c, title="x", changes={"amount": "1"})
    with pytest.raises(ContractError):
        flows.reject_amendment(actor=org.legal, amendment=a, comment="")
    flows.reject_amendment(actor=org.legal, amendment=a, comment="不同意")
    c.refresh_from_db()
    assert c.amount == Decimal("100000")


def test_amendment_approved_after_a_concurrent_edit_still_applies_to_current_values(
    org: Any,
) -> None:
    c = make_contract(org.sales1, state="active", amount="100000")
    a = flows.propose_amendment(actor=org.sales1, contract=c, title="x", changes={"amount": "2"})
    update_contract(actor=org.sales1, contract=c, data={"notes": "n"}, version=c.version)
    flows.approve_amendment(actor=org.legal, amendment=a)
    c.refresh_from_db()
    assert c.amount == Decimal("2") and c.notes == "n"


# Termination -----------------------------------------------------------------------------


def test_termination_closes_or_carries_every_open_item_explicitly(org: Any) -> None:
    c = make_contract(org.sales1, state="active", amount="100000", effective_date="2026-01-01")
    today = timezone.localdate()
    a = money.add_instalment(
        actor=org.sales1, contract=c, data={"label": "首付款", "percent": "30", "due_date": today}
    )
    b = money.add_instalment(
        actor=org.sales1, contract=c, data={"label": "尾款", "percent": "70", "due_date": today}
    )
    ob = money.add_obligation(
        actor=org.sales1, contract=c, data={"title": "交付", "due_date": today}
    )
    with pytest.raises(ContractError) as exc:
        flows.terminate_contract(
            actor=org.manager,
            contract=c,
            reason="客户破产",
            effective_date="2026-06-30",
            instalments={a.pk: "carry"},
        )
    assert set(exc.value.errors) == {f"instalment_{b.pk}", f"obligation_{ob.pk}"}
    c.refresh_from_db()
    assert c.state == ContractState.ACTIVE
    flows.terminate_contract(
        actor=org.manager,
        contract=c,
        reason="客户破产",
        effective_date="2026-06-30",
        settlement_notes="首付款仍需支付",
        instalments={a.pk: "carry", b.pk: "close"},
        obligations={ob.pk: "close"},
    )
    c.refresh_from_db()
    a.refresh_from_db()
    b.refresh_from_db()
    ob.refresh_from_db()
    assert c.state == ContractState.TERMINATED
    assert (a.state, b.state, ob.state) == (
        InstalmentState.CARRIED,
        InstalmentState.CLOSED,
        ObligationState.CLOSED,
    )
    t = Termination.objects.get(contract=c)
    assert (t.reason, t.effective_date) == ("客户破产", date(2026, 6, 30))
    assert _events(c, "contract.terminate").get().data["comment"] == "客户破产"
    settled = _events(c, "contract.termination_settled").get().data
    assert settled["instalments"] == {str(a.pk): "carried", str(b.pk): "closed"}
    # The carried instalment is still receivable; the closed one no longer counts.
    r = reconcile(c)
    assert r.outstanding == Decimal("30000") and r.closed == Decimal("70000")


def test_termination_needs_terminate_access_and_a_reason(org: Any) -> None:
    c = make_contract(org.sales1, state="active", effective_date="2026-01-01")
    with pytest.raises(NotAllowed):
        flows.terminate_contract(
            actor=org.sales1, contract=c, reason="x", effective_date="2026-06-30"
        )
    with pytest.raises(ContractError) as exc:
        flows.terminate_contract(actor=org.manager, contract=c, reason=" ", effective_date="bad")
    assert set(exc.value.errors) == {"reason", "effective_date"}
    with pytest.raises(ContractError) as exc:
        flows.terminate_contract(
            actor=org.manager, contract=c, reason="x", effective_date="2025-12-31"
        )
    assert "effective_date" in exc.value.errors
    c.refresh_from_db()
    assert c.state == ContractState.ACTIVE


def test_periodic_job_runs_the_lifecycle_for_today(org: Any) -> None:
    from qiyue.contracts.tasks import lifecycle_job

    yesterday = timezone.localdate() - timedelta(days=1)
    c = make_contract(
        org.sales1,
        state="active",
        effective_date=str(yesterday - timedelta(days=30)),
        signed_date=str(yesterday - timedelta(days=30)),
        expiry_date=str(yesterday),
    )
    lifecycle_job.call_local()
    c.refresh_from_db()
    assert c.state == ContractState.EXPIRED
    assert Notification.objects.filter(recipient=org.sales1, kind="contract.expire").exists()


def test_plain_terminate_step_is_refused_while_items_are_open(org: Any) -> None:
    from qiyue.contracts.actions import transition_contract

    c = make_contract(org.sales1, state="active")
    money.add_obligation(
        actor=org.sales1, contract=c, data={"title": "交付", "due_date": "2026-01-01"}
    )
    with pytest.raises(ContractError) as exc:
        transition_contract(actor=org.manager, contract=c, code="terminate", comment="x")
    assert exc.value.code == "incomplete"
    c.refresh_from_db()
    assert c.state == ContractState.ACTIVE


def test_amendment_rejected_while_being_approved_is_not_applied(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = make_contract(org.sales1, state="active", amount="100000")
    a = flows.propose_amendment(actor=org.sales1, contract=c, title="x", changes={"amount": "1"})
    real = flows._pending

    def rejected_meanwhile(actor: Any, amendment: Amendment) -> Any:
        found = real(actor, amendment)
        Amendment.objects.filter(pk=amendment.pk).update(state=AmendmentState.REJECTED)
        return found

    monkeypatch.setattr(flows, "_pending", rejected_meanwhile)
    with pytest.raises(ContractError):
        flows.approve_amendment(actor=org.legal, amendment=a)
    c.refresh_from_db()
    assert c.amount == Decimal("100000")
    assert not AuditEvent.objects.filter(action="contract.amended").exists()


def test_renewing_a_contract_that_ends_at_the_end_of_the_calendar_is_refused(
    org: Any,
) -> None:
    c = make_contract(org.sales1, state="active", amount="100000")
    Contract.objects.filter(pk=c.pk).update(expiry_date=date(9999, 6, 30))
    c.refresh_from_db()
    with pytest.raises(ContractError):
        flows.renew_contract(actor=org.sales1, contract=c)
    assert not Contract.objects.filter(parent=c).exists()
