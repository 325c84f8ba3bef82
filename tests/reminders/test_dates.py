"""Date arithmetic of reminders: month ends, leap days, notice across year ends, the
company time zone and the working-day calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from qiyue.lib.dates import add_months
from qiyue.reminders.deadlines import cancel_by
from qiyue.reminders.scheduler import current_stage, stage_day, today
from qiyue.workdays.calendar import WorkCalendar, local_day

STAGES = [90, 60, 30, 7, 0, -1]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),  # Jan 31 + 1 month: end of February
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # … in a leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # a leap day + 1 year
        (date(2028, 2, 29), 48, date(2032, 2, 29)),  # … + 4 years
        (date(2026, 12, 31), 2, date(2027, 2, 28)),  # across the year end
        (date(2027, 3, 31), -1, date(2027, 2, 28)),  # backwards to a short month
        (date(2027, 8, 31), 1, date(2027, 9, 30)),
    ],
)
def test_months_clamp_to_the_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("expiry", "notice", "expected"),
    [
        (date(2027, 1, 15), 30, date(2026, 12, 16)),  # notice period across the year end
        (date(2027, 1, 1), 1, date(2026, 12, 31)),
        (date(2028, 3, 1), 1, date(2028, 2, 29)),  # leap day
        (date(2027, 3, 1), 1, date(2027, 2, 28)),  # not a leap year
        (date(2028, 3, 31), 31, date(2028, 2, 29)),
        (date(2027, 6, 30), 0, date(2027, 6, 30)),
        (date(2027, 6, 30), None, date(2027, 6, 30)),  # no notice recorded: the expiry
        (date(2029, 1, 1), 366, date(2028, 1, 1)),  # a leap year of notice
    ],
)
def test_cancel_by_is_expiry_minus_notice(expiry: date, notice: int | None, expected: date) -> None:
    assert cancel_by(expiry, notice) == expected


@pytest.mark.parametrize(
    ("due", "offset", "expected"),
    [
        (date(2027, 3, 31), 30, date(2027, 3, 1)),
        (date(2028, 3, 30), 30, date(2028, 2, 29)),  # lands on a leap day
        (date(2027, 3, 30), 30, date(2027, 2, 28)),
        (date(2027, 1, 5), 7, date(2026, 12, 29)),  # across the year end
        (date(2027, 2, 28), -1, date(2027, 3, 1)),  # overdue: the day after a month end
        (date(2028, 2, 28), -1, date(2028, 2, 29)),
        (date(2026, 12, 31), -1, date(2027, 1, 1)),
    ],
)
def test_stage_day(due: date, offset: int, expected: date) -> None:
    assert stage_day(due, offset) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 1, 1), None),  # more than 90 days ahead
        (date(2027, 1, 10), 90),
        (date(2027, 2, 6), 90),  # before the 60-day stage: still 90
        (date(2027, 2, 7), 60),
        (date(2027, 3, 31), 30),
        (date(2027, 4, 1), 7),
        (date(2027, 4, 7), 7),
        (date(2027, 4, 8), 0),  # the day itself
        (date(2027, 4, 9), -1),  # the day after: overdue
        (date(2027, 6, 1), -1),
    ],
)
def test_current_stage(day: date, expected: int | None) -> None:
    assert current_stage(STAGES, date(2027, 4, 8), day) == expected


def test_a_utc_time_late_in_the_day_is_the_next_day_in_shanghai(settings: object) -> None:
    late = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 01:30 on 1 January in Shanghai
    with timezone.override("Asia/Shanghai"):
        assert local_day(late) == date(2027, 1, 1)
    assert local_day(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == date(2026, 12, 31)


def test_scheduler_today_is_the_company_date(monkeypatch: pytest.MonkeyPatch) -> None:
    moment = datetime(2028, 2, 28, 16, 0, tzinfo=UTC)  # 00:00 on the leap day in Shanghai
    monkeypatch.setattr(timezone, "now", lambda: moment)
    assert today() == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # National Day week is skipped
        (date(2026, 9, 30), 2, date(2026, 10, 9)),
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Saturday 10-10 is a 调休 workday
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Saturday 2-14 too
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # then Spring Festival
        (date(2027, 1, 1), 1, date(2027, 1, 4)),  # Friday → Monday
    ],
)
def test_working_days_for_escalation(start: date, days: int, expected: date) -> None:
    from qiyue.workdays.calendar import CN_2026

    holidays = {date.fromisoformat(d) for d, k, _n in CN_2026 if k == "holiday"}
    workdays = {date.fromisoformat(d) for d, k, _n in CN_2026 if k == "workday"}
    cal = WorkCalendar(holidays=holidays, workdays=workdays)
    assert cal.add_working_days(start, days) == expected
