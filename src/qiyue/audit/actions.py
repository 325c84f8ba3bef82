"""Writing audit events. Every domain action calls :func:`record` inside its own
transaction, so the event exists if and only if the change does."""

from __future__ import annotations

from typing import Any

from django.db import connection, models

from qiyue.audit.models import AuditEvent


class AuditOutsideTransaction(RuntimeError):
    """An audit event was written outside the transaction of the change it records."""


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction(action)
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.get_username() if actor is not None and actor.pk else "system",
        action=action,
        target_type=target._meta.model_name or "",
        target_id=str(target.pk),
        data=data or {},
    )
