"""Reads of the reminders area: a user only ever sees their own reminders and the
deadlines they own."""

from __future__ import annotations

import hmac
from datetime import date, timedelta

from django.db.models import F, QuerySet
from django.http import Http404

from qiyue.accounts.models import User
from qiyue.contracts.models import Contract
from qiyue.reminders.models import (
    Occurrence,
    OneOffReminder,
    ReminderRule,
    ReminderSettings,
    WebhookEndpoint,
)
from qiyue.reminders.scheduler import deadlines_between, today
from qiyue.reminders.sources import Deadline

UPCOMING_DAYS = 90


def reminders_of(user: User, *, open_only: bool = False) -> QuerySet[Occurrence]:
    """The reminders sent to ``user`` (``open_only``: not acknowledged yet), unordered."""
    rows = Occurrence.objects.filter(user=user)
    return rows.filter(acknowledged_at__isnull=True) if open_only else rows


def occurrences_of(user: User) -> QuerySet[Occurrence]:
    """Newest first, the ones still to acknowledge before the rest."""
    return reminders_of(user).order_by(F("acknowledged_at").asc(nulls_first=True), "-day", "-id")


def occurrence_for(user: User, pk: int) -> Occurrence:
    found = Occurrence.objects.filter(user=user, pk=pk).first()
    if found is None:
        raise Http404
    return found


def deadlines_of(user: User, start: date, end: date) -> list[Deadline]:
    """The deadlines ``user`` owns in ``[start, end]``, soonest first."""
    mine = deadlines_between(start, end, owner_id=user.pk)
    return sorted(mine, key=lambda d: (d.due, d.kind, d.object_key))


def upcoming_deadlines(user: User, days: int = UPCOMING_DAYS) -> list[Deadline]:
    start = today()
    return deadlines_of(user, start, start + timedelta(days=days))


def one_offs_for(user: User, contract: Contract) -> QuerySet[OneOffReminder]:
    return OneOffReminder.objects.filter(user=user, contract=contract).order_by("day", "id")


def one_off_for(user: User, pk: int) -> OneOffReminder:
    found = OneOffReminder.objects.filter(user=user, pk=pk).select_related("contract").first()
    if found is None:
        raise Http404
    return found


def settings_for(user: User) -> ReminderSettings:
    return ReminderSettings.objects.filter(user=user).first() or ReminderSettings(user=user)


# The first characters of a calendar token find its row; the whole token is then
# compared in constant time, so the response time of a guess tells nothing about the
# secret part (an index lookup on the whole token would compare it byte by byte).
TOKEN_LOOKUP_CHARS = 8


def user_for_calendar_token(token: str) -> User | None:
    if not token or len(token) > 64 or len(token) <= TOKEN_LOOKUP_CHARS:
        return None
    candidates = ReminderSettings.objects.filter(
        calendar_token__startswith=token[:TOKEN_LOOKUP_CHARS], user__is_active=True
    ).select_related("user")
    found = None
    for prefs in candidates[:10]:
        stored = prefs.calendar_token or ""
        if hmac.compare_digest(stored.encode(), token.encode()):
            found = prefs.user
    return found


def rules() -> QuerySet[ReminderRule]:
    return ReminderRule.objects.select_related("contract_type")


def rule_for(pk: int) -> ReminderRule:
    found = rules().filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def endpoint_for(pk: int) -> WebhookEndpoint:
    found = endpoints().filter(pk=pk).first()
    if found is None:
        raise Http404
    return found
