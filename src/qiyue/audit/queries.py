"""Reading the audit log for users."""

from __future__ import annotations

from django.db.models import QuerySet

from qiyue.audit.models import AuditEvent


def history_of(target_type: str, target_id: int) -> QuerySet[AuditEvent]:
    """Events of one record, oldest first. Callers check the record is visible first."""
    return (
        AuditEvent.objects.filter(target_type=target_type, target_id=str(target_id))
        .select_related("actor")
        .order_by("id")
    )
