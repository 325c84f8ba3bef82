"""Reminder e-mails whose job was lost (process killed between commit and queueing) are
re-queued by the next run: a reminder's only when its rule sends e-mail, digests and
escalations always, nothing older than two days or already e-mailed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from qiyue.notifications import tasks
from qiyue.notifications.models import Notification
from qiyue.reminders import scheduler
from qiyue.reminders.models import Occurrence, ReminderRule
from tests.reminders.conftest import DAY

pytestmark = pytest.mark.django_db


def test_lost_reminder_emails_are_requeued(
    org: Any, rule: ReminderRule, active: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    active(DAY + timedelta(days=7))
    active(DAY + timedelta(days=30))
    scheduler.run(DAY)
    first, second = Occurrence.objects.order_by("due")
    by_key = {n.key: n for n in Notification.objects.filter(key__startswith="rem:")}
    assert set(by_key) == {f"rem:{first.pk}", f"rem:{second.pk}"}
    digest = Notification.objects.create(
        recipient=org.sales1, kind="reminder.digest", title="d", key="rem-digest:1:1"
    )
    other = Notification.objects.create(recipient=org.sales1, kind="x", title="x", key="x:1")
    old = timezone.now() - timedelta(hours=1)
    Notification.objects.filter(
        pk__in=[n.pk for n in by_key.values()] + [digest.pk, other.pk]
    ).update(emailed_at=None, created_at=old)
    Notification.objects.filter(key=f"rem:{second.pk}").update(
        created_at=timezone.now() - timedelta(days=3)
    )
    sent: list[int] = []
    monkeypatch.setattr(tasks, "send_notification_email", sent.append)
    assert scheduler.requeue_lost_emails() == 2
    assert sorted(sent) == sorted([by_key[f"rem:{first.pk}"].pk, digest.pk])

    sent.clear()
    ReminderRule.objects.filter(pk=rule.pk).update(by_email=False)
    assert scheduler.requeue_lost_emails() == 1
    assert sent == [digest.pk]
