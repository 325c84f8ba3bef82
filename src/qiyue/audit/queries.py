"""Reading the audit log for users. Callers check that the user may see the record (or
is an administrator, for the whole log) first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from qiyue.audit.models import AuditEvent
from qiyue.lib.errors import FieldErrors

# Verbs of events that record a read, not a change. They belong on the audit pages,
# not in a record's history of changes.
READ_VERBS = ("viewed", "downloaded", "previewed", "exported")


def _reads() -> Q:
    q = Q()
    for verb in READ_VERBS:
        q |= Q(action__endswith=f".{verb}")
    return q


def history_of(target_type: str, target_id: int) -> QuerySet[AuditEvent]:
    """The changes of one record, oldest first (reads left out)."""
    return (
        AuditEvent.objects.filter(target_type=target_type, target_id=str(target_id))
        .exclude(_reads())
        .select_related("actor")
        .order_by("id")
    )


def events_of(target_type: str, target_id: int) -> QuerySet[AuditEvent]:
    """Every event of one record, reads included, newest first."""
    return AuditEvent.objects.filter(target_type=target_type, target_id=str(target_id)).order_by(
        "-id"
    )


class AuditFilterError(FieldErrors):
    """A list filter that cannot be applied."""


@dataclass
class AuditFilters:
    actor: str = ""  # username, exact
    action: str = ""  # prefix: "contract." or "contract.viewed"
    target_type: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in (None, "")}


def parse_filters(params: Mapping[str, Any]) -> AuditFilters:
    """Filters from query parameters; raises AuditFilterError naming each bad one."""
    errors: dict[str, str] = {}

    def get(name: str, limit: int) -> str:
        value = params.get(name)
        return "" if value is None else str(value).strip()[:limit]

    f = AuditFilters(
        actor=get("actor", 150), action=get("action", 64), target_type=get("target_type", 64)
    )
    for name in ("date_from", "date_to"):
        raw = get(name, 20)
        if raw:
            try:
                parsed = parse_date(raw)
            except ValueError:
                parsed = None
            if parsed is None:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
            setattr(f, name, parsed)
    if errors:
        raise AuditFilterError(errors)
    return f


def _start_of(day: date) -> datetime:
    """Midnight of ``day`` in the current (the user's) time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_log(filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The whole log, newest first, for administrators."""
    f = filters or AuditFilters()
    qs = AuditEvent.objects.all()
    if f.actor:
        qs = qs.filter(actor_name=f.actor)
    if f.action:
        qs = qs.filter(action__startswith=f.action)
    if f.target_type:
        qs = qs.filter(target_type=f.target_type)
    if f.date_from:
        qs = qs.filter(at__gte=_start_of(f.date_from))
    if f.date_to:
        qs = qs.filter(at__lt=_start_of(f.date_to + timedelta(days=1)))
    return qs.order_by("-id")
