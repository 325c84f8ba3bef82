"""Reads of the working-day calendar."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from qiyue.workdays.models import CalendarDay


def calendar_days() -> QuerySet[CalendarDay]:
    """The listed holidays and make-up working days, latest first."""
    return CalendarDay.objects.order_by("-day")


def calendar_day(pk: int | None) -> CalendarDay:
    """One listed day, or 404."""
    found = CalendarDay.objects.filter(pk=pk or 0).first()
    if found is None:
        raise Http404
    return found
