"""The scheduler's queries grow by a fixed few per reminder sent: no row is loaded per
reminder beyond what it writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qiyue.reminders import scheduler
from qiyue.reminders.models import ReminderRule
from tests.reminders.conftest import DAY

pytestmark = pytest.mark.django_db

# Per reminder, in a savepoint: the occurrence; the notification (its key checked,
# written in its own savepoint); the audit event (chain head read, row written).
QUERIES_PER_REMINDER = 9


def test_each_reminder_costs_the_same_few_queries_however_many_are_sent(
    org: Any, rule: ReminderRule, active: Any
) -> None:
    active(DAY + timedelta(days=7))
    with CaptureQueriesContext(connection) as one:
        assert len(scheduler.run(DAY)) == 1
    for _n in range(5):
        active(DAY + timedelta(days=8))
    with CaptureQueriesContext(connection) as five:
        assert len(scheduler.run(DAY + timedelta(days=1))) == 5
    assert len(five.captured_queries) - len(one.captured_queries) == 4 * QUERIES_PER_REMINDER
