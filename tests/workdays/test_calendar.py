"""Working-day arithmetic across weekends, public holidays and 调休 make-up days, and
the audited calendar actions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from qiyue.audit.models import AuditEvent
from qiyue.workdays import actions
from qiyue.workdays.calendar import CN_2026, WorkCalendar
from qiyue.workdays.models import CalendarDay


def d(text: str) -> date:
    return date.fromisoformat(text)


CN = WorkCalendar(
    holidays={d(day) for day, kind, _n in CN_2026 if kind == "holiday"},
    workdays={d(day) for day, kind, _n in CN_2026 if kind == "workday"},
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-03-02", True),  # Monday
        ("2026-03-07", False),  # Saturday
        ("2026-03-08", False),  # Sunday
        ("2026-10-01", False),  # 国庆节
        ("2026-10-10", True),  # Saturday worked (国庆节调休)
        ("2026-02-14", True),  # Saturday worked (春节调休)
        ("2026-02-16", False),  # Monday in 春节
        ("2026-01-04", True),  # Sunday worked (元旦调休)
    ],
)
def test_is_working_day(day: str, working: bool) -> None:
    assert CN.is_working_day(d(day)) is working


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        ("2026-03-02", 0, "2026-03-02"),
        ("2026-03-07", 0, "2026-03-09"),  # a Saturday: the next working day
        ("2026-03-06", 1, "2026-03-09"),  # Friday + 1 = Monday
        ("2026-03-02", 5, "2026-03-09"),
        ("2026-09-30", 1, "2026-10-08"),  # over 国庆
        ("2026-10-09", 1, "2026-10-10"),  # the make-up Saturday counts
        ("2026-02-13", 2, "2026-02-24"),  # Saturday 14 worked, 15-23 off
        ("2025-12-31", 1, "2026-01-04"),  # 元旦 1-3 off, Sunday 4 worked
    ],
)
def test_add_working_days(start: str, days: int, end: str) -> None:
    assert CN.add_working_days(d(start), days) == d(end)


def test_working_days_between_counts_both_ways() -> None:
    assert CN.working_days_between(d("2026-09-30"), d("2026-10-09")) == 2
    assert CN.working_days_between(d("2026-10-09"), d("2026-09-30")) == -2
    with pytest.raises(ValueError):
        CN.add_working_days(d("2026-03-02"), -1)


def test_deadline_is_the_end_of_the_working_day_in_company_time() -> None:
    start = datetime(2026, 9, 30, 23, 30, tzinfo=ZoneInfo("UTC"))  # Oct 1 07:30 in Shanghai
    end = CN.deadline(start, 1)
    local = end.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.date(), local.hour, local.minute) == (d("2026-10-08"), 23, 59)


def test_calendar_reads_the_table(org: Any) -> None:
    actions.set_day(org.admin, "2026-03-03", "holiday", "公司纪念日")
    actions.set_day(org.admin, "2026-03-07", "workday", "补班")
    cal = WorkCalendar()
    assert not cal.is_working_day(d("2026-03-03"))
    assert cal.is_working_day(d("2026-03-07"))
    assert cal.add_working_days(d("2026-03-02"), 1) == d("2026-03-04")


def test_set_day_updates_an_existing_day_and_is_audited(org: Any) -> None:
    actions.set_day(org.admin, "2026-03-03", "holiday", "A")
    entry = actions.set_day(org.admin, d("2026-03-03"), "workday", "B")
    assert CalendarDay.objects.get().kind == "workday" == entry.kind
    assert AuditEvent.objects.filter(action="calendar.day_set").count() == 2


@pytest.mark.parametrize(
    ("day", "kind", "name", "field"),
    [
        ("not a date", "holiday", "", "day"),
        ("2026-03-03", "weekend", "", "kind"),
        ("2026-03-03", "holiday", "x" * 101, "name"),
    ],
)
def test_bad_days_are_refused_and_nothing_saved(
    org: Any, day: str, kind: str, name: str, field: str
) -> None:
    with translation.override("en"), pytest.raises(actions.CalendarError) as err:
        actions.set_day(org.admin, day, kind, name)
    assert field in err.value.errors
    assert not CalendarDay.objects.exists()


@pytest.mark.parametrize("persona", ["manager", "sales1", "legal"])
def test_only_admins_edit_the_calendar(org: Any, persona: str) -> None:
    with pytest.raises(actions.CalendarError):
        actions.set_day(getattr(org, persona), "2026-03-03", "holiday")
    day = actions.set_day(org.admin, "2026-03-03", "holiday")
    with pytest.raises(actions.CalendarError):
        actions.delete_day(getattr(org, persona), day)
    assert CalendarDay.objects.count() == 1


def test_delete_day_is_audited(org: Any) -> None:
    day = actions.set_day(org.admin, "2026-03-03", "holiday")
    actions.delete_day(org.admin, day)
    assert not CalendarDay.objects.exists()
    assert AuditEvent.objects.filter(action="calendar.day_deleted").count() == 1


def test_load_builtin_adds_once_and_keeps_edited_days(org: Any) -> None:
    actions.set_day(org.admin, "2026-10-01", "workday", "自定")
    added = actions.load_builtin(org.admin)
    assert added == len(CN_2026) - 1
    assert CalendarDay.objects.get(day=d("2026-10-01")).name == "自定"
    assert actions.load_builtin(org.admin) == 0
    assert AuditEvent.objects.filter(action="calendar.loaded").count() == 1
