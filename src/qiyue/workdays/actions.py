"""Writes to the working-day calendar (admins only), each audited."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from qiyue.accounts.models import User
from qiyue.audit.actions import record
from qiyue.lib.errors import FieldErrors
from qiyue.workdays.calendar import CN_2026
from qiyue.workdays.models import CalendarDay


class CalendarError(FieldErrors):
    """A refused calendar edit; ``errors`` maps fields to translated messages."""


def _require_admin(actor: User) -> None:
    if not actor.has_perm_code("admin"):
        raise CalendarError({"__all__": _("Only administrators may edit the calendar.")})


def set_day(actor: User, day: date | str, kind: str, name: str = "") -> CalendarDay:
    _require_admin(actor)
    try:
        parsed = parse_date(day) if isinstance(day, str) else day
    except ValueError:  # well formed but impossible, e.g. 2026-13-40
        parsed = None
    errors: dict[str, str] = {}
    if parsed is None:
        errors["day"] = _("Enter a date as YYYY-MM-DD.")
    if kind not in CalendarDay.Kind.values:
        errors["kind"] = _("Choose holiday or make-up working day.")
    name = (name or "").strip()
    if len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    if errors:
        raise CalendarError(errors)
    assert parsed is not None
    with transaction.atomic():
        entry, created = CalendarDay.objects.update_or_create(
            day=parsed, defaults={"kind": kind, "name": name}
        )
        record(
            action="calendar.day_set",
            actor=actor,
            target=entry,
            data={"day": parsed.isoformat(), "kind": kind, "name": name, "created": created},
        )
    return entry


def delete_day(actor: User, day: CalendarDay) -> None:
    _require_admin(actor)
    with transaction.atomic():
        record(action="calendar.day_deleted", actor=actor, target=day, data={"day": str(day.day)})
        day.delete()


def load_builtin(actor: User | None = None) -> int:
    """Load the built-in Chinese public holidays; existing days are kept. Returns how
    many days were added."""
    added = 0
    with transaction.atomic():
        first = None
        for iso, kind, name in CN_2026:
            entry, created = CalendarDay.objects.get_or_create(
                day=date.fromisoformat(iso), defaults={"kind": kind, "name": name}
            )
            added += created
            first = first or entry
        if added and first is not None:
            record(
                action="calendar.loaded",
                actor=actor,
                target=first,
                data={"added": added, "set": "CN-2026"},
            )
    return added
