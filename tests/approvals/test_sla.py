"""SLA: due dates in working days (weekends, holidays, 调休), one reminder, then one
escalation to the approver's department head, however often the check runs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from qiyue.approvals import actions
from qiyue.approvals.models import ApprovalTask
from qiyue.notifications.models import Notification
from qiyue.workdays import actions as calendar_actions
from tests.factories import make_contract

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), SHANGHAI).replace(
        hour=hour
    )


@pytest.fixture
def holidays(org: Any) -> None:
    calendar_actions.load_builtin(org.admin)


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        ("2026-03-02", "2026-03-04"),  # Monday + 2 working days = Wednesday
        ("2026-03-05", "2026-03-09"),  # Thursday + 2 skips the weekend
        ("2026-09-30", "2026-10-09"),  # 国庆: Oct 1-7 off, then Thursday 8, Friday 9
        ("2026-02-13", "2026-02-24"),  # 春节: Saturday 14 is worked (调休), 15-23 off
        ("2026-05-08", "2026-05-11"),  # Friday, then Saturday 9 worked (调休), Monday 11
    ],
)
def test_task_due_date_counts_working_days(
    org: Any, holidays: None, submitted: str, due: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: at(submitted))
    contract = make_contract(org.sales1, state="in_review")
    task = ApprovalTask.objects.get(contract=contract, state="open")
    assert timezone.localtime(task.due_at).date() == date.fromisoformat(due)


def test_overdue_task_reminds_once_then_escalates_once(
    org: Any, holidays: None, monkeypatch: Any
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: at("2026-03-02"))
    contract = make_contract(org.sales1, state="in_review")
    task = ApprovalTask.objects.get(contract=contract, state="open")
    assert task.assignee == org.head1
    # Not due yet (due Wednesday 23:59:59).
    assert actions.check_overdue(at("2026-03-04", 18)) == {"reminded": 0, "escalated": 0}
    # Thursday: overdue, reminded; running again sends nothing more.
    assert actions.check_overdue(at("2026-03-05", 9)) == {"reminded": 1, "escalated": 0}
    assert actions.check_overdue(at("2026-03-05", 12)) == {"reminded": 0, "escalated": 0}
    # Friday: one more working day passed since the due date → escalate to the head of
    # the approver's department (head1 heads 销售一部 himself: the head above, manager).
    assert actions.check_overdue(at("2026-03-06", 9)) == {"reminded": 0, "escalated": 1}
    assert actions.check_overdue(at("2026-03-09", 9)) == {"reminded": 0, "escalated": 0}
    assert Notification.objects.filter(kind="approval.overdue", recipient=org.head1).count() == 1
    assert (
        Notification.objects.filter(kind="approval.escalated", recipient=org.manager).count() == 1
    )


def test_decided_tasks_are_neither_reminded_nor_escalated(org: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(timezone, "now", lambda: at("2026-03-02"))
    contract = make_contract(org.sales1, state="in_review")
    task = ApprovalTask.objects.get(contract=contract, state="open")
    actions.decide(actor=org.head1, task_id=task.pk, decision="approve")
    result = actions.check_overdue(at("2026-03-02") + timedelta(days=30))
    # legal's task (opened on the same frozen day) is the only one overdue
    assert result == {"reminded": 1, "escalated": 0}
    assert not Notification.objects.filter(kind="approval.overdue", recipient=org.head1).exists()


def test_periodic_job_runs_the_check(org: Any) -> None:
    from qiyue.approvals.tasks import check_overdue_approvals

    make_contract(org.sales1, state="in_review")
    check_overdue_approvals.call_local()
