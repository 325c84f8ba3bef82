"""The scheduler sends each reminder exactly once, on the right day."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from qiyue.notifications.models import Notification
from qiyue.reminders import actions, scheduler
from qiyue.reminders.models import Occurrence, ReminderRule, SchedulerRun
from tests.reminders.conftest import DAY

pytestmark = pytest.mark.django_db(transaction=True)


def notes(user: Any) -> Any:
    """The user's notifications from reminders (approvals notify too)."""
    return Notification.objects.filter(recipient=user, kind__startswith="reminder.")


def test_reminder_30_days_before_expiry_is_sent_once_however_often_the_scheduler_runs(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    c = active(DAY + timedelta(days=30))
    first = scheduler.run(DAY)
    assert len(first) == 1 and c.number in first[0]
    assert scheduler.run(DAY) == []
    assert scheduler.run(DAY) == []
    assert notes(org.sales1).count() == 1
    assert Occurrence.objects.get().offset == 30


def test_each_stage_is_sent_on_its_day_and_days_between_send_nothing(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    expiry = DAY + timedelta(days=95)
    active(expiry)
    for n in range(0, 100):
        scheduler.run(DAY + timedelta(days=n))
    days = sorted((expiry - o.day).days for o in Occurrence.objects.all())
    assert days == [0, 7, 30, 60, 90]
    assert [o.offset for o in Occurrence.objects.order_by("day")] == [90, 60, 30, 7, 0]


def test_crash_mid_run_then_rerun_sends_everything_once(
    org: Any, rule: ReminderRule, active: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in (7, 30, 60, 90, 0):
        active(DAY + timedelta(days=n))
    expected = 5
    real = scheduler._deliver
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(scheduler, "_deliver", crashing)
    with pytest.raises(RuntimeError):
        scheduler.run(DAY)
    assert Occurrence.objects.count() == 2
    assert not SchedulerRun.objects.filter(finished_at__isnull=False).exists()
    monkeypatch.setattr(scheduler, "_deliver", real)
    rerun = scheduler.run(DAY)
    assert len(rerun) == expected - 2
    assert Occurrence.objects.count() == expected
    assert notes(org.sales1).count() == expected
    assert len(set(notes(org.sales1).values_list("key", flat=True))) == expected
    assert scheduler.run(DAY) == []


def test_email_goes_out_once_per_reminder(org: Any, rule: ReminderRule, active: Any) -> None:
    org.sales1.email = "sales1@example.com"
    org.sales1.save(update_fields=["email"])
    c = active(DAY + timedelta(days=7))
    mail.outbox.clear()
    scheduler.run(DAY)
    scheduler.run(DAY)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["sales1@example.com"]
    assert c.number in mail.outbox[0].subject


def test_days_the_scheduler_missed_are_caught_up(org: Any, rule: ReminderRule, active: Any) -> None:
    scheduler.run(DAY)
    c = active(DAY + timedelta(days=2))  # on the day, overdue in the days missed
    rule.overdue = True
    rule.save(update_fields=["overdue"])
    # Down for four days: the on-the-day reminder (day 2) is caught up on day 4 …
    lines = scheduler.run(DAY + timedelta(days=4))
    assert [o.offset for o in Occurrence.objects.filter(contract=c)] == [-1]
    assert len(lines) == 1


def test_a_deadline_entered_late_gets_its_current_stage_only(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    org.sales1.language = "en"
    org.sales1.save(update_fields=["language"])
    active(DAY + timedelta(days=20))  # the 90-, 60- and 30-day stages are past
    lines = scheduler.run(DAY)
    assert len(lines) == 1
    occ = Occurrence.objects.get()
    assert occ.offset == 30
    assert "in 20 days, on 2027-01-24" in occ.title  # what is really left, not the stage


def test_stale_reminders_of_a_long_past_deadline_are_not_sent(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    scheduler.run(DAY - timedelta(days=1))
    # A contract that expired last month and is still active: no "today" reminder now.
    active(DAY - timedelta(days=30))
    assert scheduler.run(DAY) == []


def test_auto_renewal_reminder_comes_before_the_cancel_by_date_without_notice_period(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    c = active(DAY + timedelta(days=37), auto_renew=True, renewal_term_months=12)
    lines = scheduler.run(DAY)
    # no notice period recorded: cancel-by is the expiry; 30-day stage of both kinds
    assert {o.kind for o in Occurrence.objects.filter(contract=c)} == {
        "contract.expiry",
        "contract.cancel_by",
    }
    assert len(lines) == 2


def test_auto_renewal_reminder_comes_before_the_cancel_by_date_with_notice_period(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    # expiry in 120 days, 90 days' notice: cancel-by in 30 days → reminded today
    c = active(
        DAY + timedelta(days=120), auto_renew=True, renewal_term_months=12, notice_period_days=90
    )
    lines = scheduler.run(DAY)
    occ = Occurrence.objects.get(contract=c)
    assert occ.kind == "contract.cancel_by"
    assert occ.due == DAY + timedelta(days=30) and occ.offset == 30
    assert len(lines) == 1 and c.number in lines[0]


def test_contract_without_auto_renewal_has_no_cancel_by_reminder(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    c = active(DAY + timedelta(days=120), notice_period_days=90)
    scheduler.run(DAY)
    assert not Occurrence.objects.filter(contract=c).exists()


def test_draft_and_expired_contracts_are_not_reminded(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    from tests.factories import make_contract

    make_contract(org.sales1, expiry_date=DAY + timedelta(days=30), effective_date=date(2020, 1, 1))
    assert scheduler.run(DAY) == []


def test_escalation_to_department_head_happens_once_after_n_working_days(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    c = active(DAY + timedelta(days=7))  # Monday: 7-day stage today
    scheduler.run(DAY)
    scheduler.run(DAY + timedelta(days=1))  # Tuesday: 1 working day, no escalation
    assert not notes(org.head1).exists()
    lines = scheduler.run(DAY + timedelta(days=2))  # Wednesday: 2 working days
    assert any("head1" in line for line in lines)
    scheduler.run(DAY + timedelta(days=2))
    scheduler.run(DAY + timedelta(days=3))
    sent = notes(org.head1)
    assert sent.count() == 1
    assert sent.get().contract_id == c.pk
    assert Occurrence.objects.get(contract=c, offset=7).escalated_to == org.head1


def test_acknowledged_reminder_is_not_escalated(org: Any, rule: ReminderRule, active: Any) -> None:
    active(DAY + timedelta(days=7))
    scheduler.run(DAY)
    occ = Occurrence.objects.get()
    assert actions.acknowledge(actor=org.sales1, occurrence=occ) == 1
    scheduler.run(DAY + timedelta(days=5))
    assert not notes(org.head1).exists()


def test_escalation_counts_working_days_of_the_company_calendar(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    from qiyue.workdays import actions as workdays

    friday = date(2027, 9, 17)
    workdays.set_day(org.admin, date(2027, 9, 20), "holiday", "中秋节")
    workdays.set_day(org.admin, date(2027, 9, 21), "holiday", "中秋节")
    workdays.set_day(org.admin, date(2027, 9, 19), "workday", "调休")
    active(friday + timedelta(days=7))
    scheduler.run(friday)
    # Friday + 2 working days: Sunday 9-19 (调休) and Wednesday 9-22 (after the holidays)
    scheduler.run(date(2027, 9, 21))
    assert not notes(org.head1).exists()
    scheduler.run(date(2027, 9, 22))
    assert notes(org.head1).count() == 1


def test_daily_digest_sends_one_notification_for_all_reminders(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    actions.set_digest(actor=org.sales1, enabled=True)
    for n in (7, 30, 60):
        active(DAY + timedelta(days=n))
    lines = scheduler.run(DAY)
    assert len(lines) == 3
    sent = notes(org.sales1)
    assert sent.count() == 1
    assert sent.get().kind == "reminder.digest"
    assert scheduler.run(DAY) == []
    assert notes(org.sales1).count() == 1


def test_dry_run_lists_and_sends_nothing(org: Any, rule: ReminderRule, active: Any) -> None:
    active(DAY + timedelta(days=7))
    assert len(scheduler.run(DAY, dry_run=True)) == 1
    assert not Occurrence.objects.exists()
    assert not notes(org.sales1).exists()
    assert len(scheduler.run(DAY)) == 1


def test_one_off_reminder_fires_on_its_day_without_any_rule(org: Any, active: Any) -> None:
    c = active(DAY + timedelta(days=300))
    r = actions.add_one_off(actor=org.sales1, contract=c, day=DAY + timedelta(days=400), text="x")
    # set in the future relative to the real today; run on its day
    lines = scheduler.run(r.day)
    assert len(lines) == 1 and "x" in lines[0]
    assert scheduler.run(r.day) == []


def test_rule_for_a_contract_type_replaces_the_default_for_its_kinds(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    actions.save_rule(
        actor=org.admin,
        data={
            "name": "销售合同",
            "contract_type": str(org.types["XS"].pk),
            "kinds": ["contract.expiry"],
            "offsets": "14",
            "is_active": "on",
        },
    )
    active(DAY + timedelta(days=30))  # type XS: 30 is not one of its stages
    assert scheduler.run(DAY) == []
    active(DAY + timedelta(days=14))
    assert len(scheduler.run(DAY)) == 1


def test_a_source_not_installed_is_skipped(
    org: Any, rule: ReminderRule, active: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qiyue.reminders import sources

    monkeypatch.setattr(
        sources,
        "SOURCES",
        ["qiyue.reminders.deadlines.contract_deadlines", "qiyue.nowhere.deadlines.deadlines"],
    )
    monkeypatch.setattr(scheduler, "SOURCES", sources.SOURCES)
    active(DAY + timedelta(days=7))
    assert len(scheduler.run(DAY)) == 1


def test_cli_prints_one_line_per_reminder_and_nothing_the_second_time(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    active(DAY + timedelta(days=7))
    active(DAY + timedelta(days=30))
    out = StringIO()
    call_command("reminders", "run", "--now", DAY.isoformat(), stdout=out)
    assert len(out.getvalue().splitlines()) == 2
    out = StringIO()
    call_command("reminders", "run", "--now", DAY.isoformat(), stdout=out)
    assert out.getvalue() == ""


def test_cli_dry_run_and_bad_date(org: Any, rule: ReminderRule, active: Any) -> None:
    from django.core.management.base import CommandError

    active(DAY + timedelta(days=7))
    out = StringIO()
    call_command("reminders", "run", "--now", DAY.isoformat(), "--dry-run", stdout=out)
    assert len(out.getvalue().splitlines()) == 1
    assert not Occurrence.objects.exists()
    with pytest.raises(CommandError):
        call_command("reminders", "run", "--now", "2027-02-30")


def test_periodic_job_sends_from_eight_oclock_company_time(
    org: Any, rule: ReminderRule, active: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from django.utils import timezone

    from qiyue.reminders import tasks

    active(DAY + timedelta(days=7))
    # 23:30 UTC on the 3rd is 07:30 on the 4th in Shanghai: too early
    monkeypatch.setattr(timezone, "now", lambda: datetime(2027, 1, 3, 23, 30, tzinfo=UTC))
    tasks.run_reminders.call_local()
    assert not Occurrence.objects.exists()
    # 00:05 UTC is 08:05 in Shanghai: the reminders of the 4th go out
    monkeypatch.setattr(timezone, "now", lambda: datetime(2027, 1, 4, 0, 5, tzinfo=UTC))
    tasks.run_reminders.call_local()
    assert Occurrence.objects.get().day == DAY
    tasks.run_reminders.call_local()
    assert notes(org.sales1).count() == 1


def test_reminder_jobs_are_registered_with_the_queue() -> None:
    from datetime import UTC, datetime

    from huey.contrib.djhuey import HUEY

    import qiyue.reminders.tasks  # noqa: F401

    due = HUEY.read_periodic(datetime(2027, 1, 4, 0, 0, tzinfo=UTC))
    assert any("run_reminders" in t.name for t in due)


def test_two_runs_at_once_send_each_reminder_once(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    import threading

    from django.db import connection

    for n in (7, 30, 60, 90, 0):
        active(DAY + timedelta(days=n))
    results: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            results.append(scheduler.run(DAY))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(len(r) for r in results) == 5
    assert Occurrence.objects.count() == 5
    assert notes(org.sales1).count() == 5


def test_far_deadline_does_not_escalate_until_the_30_day_reminder_is_ignored(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    c = active(DAY + timedelta(days=90))
    scheduler.run(DAY)  # the 90-day reminder
    scheduler.run(DAY + timedelta(days=5))
    assert not notes(org.head1).exists()
    scheduler.run(DAY + timedelta(days=60))  # the 30-day reminder (a Monday + 60 = Friday)
    scheduler.run(DAY + timedelta(days=64))  # two working days later
    scheduler.run(DAY + timedelta(days=65))
    assert notes(org.head1).count() == 1
    escalated = Occurrence.objects.get(contract=c, escalated_at__isnull=False)
    assert escalated.offset == 30


def test_email_lost_by_a_crash_after_commit_is_sent_by_a_later_run(
    org: Any, rule: ReminderRule, active: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.utils import timezone

    from qiyue.notifications import tasks as note_tasks

    org.sales1.email = "sales1@example.com"
    org.sales1.save(update_fields=["email"])
    active(DAY + timedelta(days=7))
    mail.outbox.clear()
    real = note_tasks.send_notification_email
    monkeypatch.setattr(note_tasks, "send_notification_email", lambda pk: None)  # lost
    scheduler.run(DAY)
    assert mail.outbox == []
    monkeypatch.setattr(note_tasks, "send_notification_email", real)
    scheduler.run(DAY)  # too soon to call it lost: the job may still be queued
    assert mail.outbox == []
    later = timezone.now() + timedelta(minutes=11)
    monkeypatch.setattr(timezone, "now", lambda: later)
    scheduler.run(DAY)
    scheduler.run(DAY)
    assert len(mail.outbox) == 1


def test_crash_before_the_digest_then_rerun_sends_one_digest_with_everything(
    org: Any, rule: ReminderRule, active: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions.set_digest(actor=org.sales1, enabled=True)
    for n in (7, 30):
        active(DAY + timedelta(days=n))
    real = scheduler.Run._send_digests

    def crash(self: Any) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(scheduler.Run, "_send_digests", crash)
    with pytest.raises(RuntimeError):
        scheduler.run(DAY)
    assert Occurrence.objects.filter(sent_at__isnull=True).count() == 2
    assert not notes(org.sales1).exists()
    monkeypatch.setattr(scheduler.Run, "_send_digests", real)
    assert len(scheduler.run(DAY)) == 2
    assert scheduler.run(DAY) == []
    digest = notes(org.sales1).get()
    assert digest.body.count("•") == 2
