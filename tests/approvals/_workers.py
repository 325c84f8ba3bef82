"""Decisions taken in other threads or processes by the concurrency tests.

No Django model is imported at module level: a spawned process imports this module
before it has called ``django.setup()``."""

from __future__ import annotations

import os
from typing import Any


def decide_now(user_pk: int, task_pk: int) -> str:
    """Approve the task; returns "ok" or the name of the error class."""
    from django.db import connections

    from qiyue.accounts.models import User
    from qiyue.approvals import actions

    try:
        user = User.objects.select_related("role", "department").get(pk=user_pk)
        actions.decide(actor=user, task_id=task_pk, decision="approve", comment="同意")
        return "ok"
    except actions.ApprovalError as exc:
        return type(exc).__name__
    except Exception as exc:  # anything else fails the test visibly
        return repr(exc)
    finally:
        connections.close_all()


def decide_in_process(env: dict[str, str], args: tuple[int, int], queue: Any) -> None:
    """Entry point of a spawned process: set up Django on the test database, decide."""
    os.environ.update(env)
    import django

    django.setup()
    queue.put(decide_now(*args))
