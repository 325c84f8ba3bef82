"""Background jobs of reminders (Huey; discovered by ``huey.contrib.djhuey``).

The scheduler job runs every hour on the hour and sends from :data:`RUN_HOUR` o'clock
company time on: the first run of a day sends the day's reminders, later ones only what
appeared since (a one-off reminder set for today), since a run sends nothing twice. A
server that was down at 08:00 sends when it is back; days it missed are caught up."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from qiyue.reminders import actions, scheduler

log = logging.getLogger(__name__)

RUN_HOUR = 8


def due_now() -> bool:
    """Whether the reminders of today may go out (08:00 company time or later)."""
    return timezone.localtime().hour >= RUN_HOUR


@db_periodic_task(crontab(minute="0"))
def run_reminders() -> None:
    if not due_now():
        return
    sent = scheduler.run()
    if sent:
        log.info("reminders: %d sent", len(sent))


@db_task(retries=5, retry_delay=60)
def deliver_webhook(delivery_id: int) -> None:
    actions.deliver_webhook(delivery_id)
