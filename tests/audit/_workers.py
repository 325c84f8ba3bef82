"""Work done in other threads or processes by the audit concurrency tests.

No Django model is imported at module level: a spawned process imports this module
before it has called ``django.setup()``."""

from __future__ import annotations

import os
from typing import Any


def append_events(user_pk: int, n: int, label: str) -> str:
    """Append ``n`` events, each in its own transaction; returns "" or the error."""
    from django.db import connections, transaction

    from qiyue.accounts.models import User
    from qiyue.audit.actions import record

    try:
        user = User.objects.get(pk=user_pk)
        for i in range(n):
            with transaction.atomic():
                record(actor=user, action="test.appended", target=user, data={"w": label, "i": i})
        return ""
    except Exception as exc:  # the test reports it
        return repr(exc)
    finally:
        connections.close_all()


def append_events_in_process(env: dict[str, str], args: tuple[int, int, str], queue: Any) -> None:
    """Entry point of a spawned process: set up Django on the test database, append."""
    os.environ.update(env)
    import django

    django.setup()
    queue.put(append_events(*args))
