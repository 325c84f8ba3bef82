"""Background jobs of contract review (Huey; discovered by ``huey.contrib.djhuey``)."""

from __future__ import annotations

from django.db import transaction
from huey.contrib.djhuey import db_task

from qiyue.review import actions


@db_task(retries=2, retry_delay=60)
def propose_task(version_id: int) -> None:
    """Read the key terms of a contract's main text and store them as proposals."""
    actions.propose_for_version(version_id)


def propose_after_commit(version_id: int) -> None:
    """Queue :func:`propose_task` once the current transaction (which stored the
    version's text) has committed; at once when there is no transaction."""
    transaction.on_commit(lambda: propose_task(version_id), robust=True)
