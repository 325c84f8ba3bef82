"""Background jobs of approvals (Huey): the periodic SLA check."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from qiyue.approvals import actions


@db_periodic_task(crontab(minute="*/15"))
def check_overdue_approvals() -> dict[str, int]:
    """Remind overdue approvers, then escalate to their department heads (each once)."""
    return actions.check_overdue()
