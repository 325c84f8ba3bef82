"""Working-day arithmetic over the company calendar (:class:`CalendarDay`).

``WorkCalendar`` loads the listed days once and answers in memory, so a scheduler run
that checks thousands of deadlines reads the table once. Dates are calendar dates in
the company time zone (``settings.TIME_ZONE``); convert datetimes with
:func:`local_day` first."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from qiyue.workdays.models import CalendarDay


def local_day(moment: datetime | None = None) -> date:
    """The calendar date of ``moment`` (default: now) in the company time zone."""
    return timezone.localdate(moment or timezone.now())


class WorkCalendar:
    def __init__(self, holidays: set[date] | None = None, workdays: set[date] | None = None):
        if holidays is None and workdays is None:
            holidays, workdays = set(), set()
            for day, kind in CalendarDay.objects.values_list("day", "kind"):
                (holidays if kind == CalendarDay.Kind.HOLIDAY else workdays).add(day)
        self.holidays = holidays or set()
        self.workdays = workdays or set()

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted);
        with 0, ``start`` if it is a working day, else the next working day."""
        if days < 0:
            raise ValueError("days must be >= 0")
        current = start
        if days == 0:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            return current
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def deadline(self, start: datetime, days: int) -> datetime:
        """An SLA deadline: the end (23:59:59 local) of the ``days``-th working day after
        ``start``."""
        end_day = self.add_working_days(local_day(start), days)
        tz = timezone.get_current_timezone()
        return datetime.combine(end_day, datetime.max.time().replace(microsecond=0), tz)


# The State Council's 2026 arrangement (国务院办公厅关于2026年部分节假日安排的通知), loaded by
# the demo and by ``qiyue workdays load-cn``; admins edit or extend it in the UI.
CN_2026: list[tuple[str, str, str]] = [
    *[(f"2026-01-0{d}", "holiday", "元旦") for d in (1, 2, 3)],
    ("2026-01-04", "workday", "元旦调休"),
    ("2026-02-14", "workday", "春节调休"),
    *[(f"2026-02-{d}", "holiday", "春节") for d in range(15, 24)],
    ("2026-02-28", "workday", "春节调休"),
    *[(f"2026-04-0{d}", "holiday", "清明节") for d in (4, 5, 6)],
    *[(f"2026-05-0{d}", "holiday", "劳动节") for d in (1, 2, 3, 4, 5)],
    ("2026-05-09", "workday", "劳动节调休"),
    *[(f"2026-06-{d}", "holiday", "端午节") for d in (19, 20, 21)],
    ("2026-09-20", "workday", "国庆节调休"),
    *[(f"2026-09-{d}", "holiday", "中秋节") for d in (25, 26, 27)],
    *[(f"2026-10-0{d}", "holiday", "国庆节") for d in range(1, 8)],
    ("2026-10-10", "workday", "国庆节调休"),
]
