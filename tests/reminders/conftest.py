"""Fixtures of the reminder tests: rules, and active contracts with deadlines."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from qiyue.reminders import actions
from qiyue.reminders.models import ReminderRule
from tests.factories import make_contract

DAY = date(2027, 1, 4)  # a Monday


@pytest.fixture
def rule(org: Any) -> ReminderRule:
    """The default rule: expiry and cancel-by, 90/60/30/7 days before and on the day,
    escalated after 2 working days."""
    return actions.save_rule(
        actor=org.admin,
        data={
            "name": "默认",
            "kinds": ["contract.expiry", "contract.cancel_by"],
            "offsets": "90, 60, 30, 7",
            "on_the_day": "on",
            "by_email": "on",
            "escalate_after_days": "2",
            "is_active": "on",
        },
    )


@pytest.fixture
def active(org: Any) -> Any:
    """``active(expiry, **fields)`` — an active contract of sales1 expiring then."""

    def make(expiry: date, **fields: Any) -> Any:
        fields.setdefault("effective_date", date(2020, 1, 1))
        # Signed before it expires whatever today is (signing defaults to today).
        fields.setdefault("signed_date", date(2020, 1, 1))
        return make_contract(org.sales1, state="active", expiry_date=expiry, **fields)

    return make
