"""Work done in other threads or processes by the concurrency tests.

No Django model is imported at module level: a spawned process imports this module
before it has called ``django.setup()``."""

from __future__ import annotations

import os
from typing import Any


def create_contract_now(user_pk: int, party_pk: int, type_pk: int) -> tuple[str | None, str]:
    """Create one contract; returns (number, "") or (None, error)."""
    from django.db import connections

    from qiyue.accounts.models import User
    from qiyue.contracts import actions

    try:
        user = User.objects.select_related("role", "department").get(pk=user_pk)
        contract = actions.create_contract(
            actor=user,
            data={
                "title": "并发合同",
                "contract_type": type_pk,
                "counterparty": party_pk,
                "amount": "1",
            },
        )
        return contract.number, ""
    except Exception as exc:  # the test reports it
        return None, repr(exc)
    finally:
        connections.close_all()


def create_contracts_in_process(
    env: dict[str, str], args: tuple[int, int, int], queue: Any
) -> None:
    """Entry point of a spawned process: set up Django on the test database, create."""
    os.environ.update(env)
    import django

    django.setup()
    queue.put(create_contract_now(*args))


def approve_now(user_pk: int, contract_pk: int) -> str:
    """Approve the user's task on the contract; returns "ok" or the error class name."""
    from django.db import connections

    from qiyue.accounts.models import User
    from qiyue.approvals import actions
    from qiyue.approvals.models import ApprovalTask

    try:
        user = User.objects.select_related("role", "department").get(pk=user_pk)
        task = ApprovalTask.objects.get(contract_id=contract_pk, assignee=user)
        actions.decide(actor=user, task_id=task.pk, decision="approve")
        return "ok"
    except actions.ApprovalError as exc:
        return type(exc).__name__
    except Exception as exc:  # anything else fails the test visibly
        return repr(exc)
    finally:
        connections.close_all()
