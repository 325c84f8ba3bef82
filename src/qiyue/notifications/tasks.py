"""Background jobs of notifications (Huey)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from qiyue.notifications import actions


@db_task(retries=3, retry_delay=60)
def send_notification_email(note_id: int) -> None:
    actions.send_email(note_id)
