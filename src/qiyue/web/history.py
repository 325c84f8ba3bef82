"""The audit history of a contract, put into words for its detail page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from qiyue.audit.models import AuditEvent
from qiyue.contracts.lifecycle import TRANSITIONS
from qiyue.contracts.models import Confidentiality, Contract, ContractState, Relation

CHOICE_LABELS: dict[str, Any] = {
    "state": ContractState,
    "confidentiality": Confidentiality,
    "relation": Relation,
}


@dataclass
class Entry:
    at: datetime
    actor: str
    label: str
    comment: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def _field_label(name: str) -> str:
    try:
        return str(capfirst(getattr(Contract._meta.get_field(name), "verbose_name", name)))
    except FieldDoesNotExist:
        return name


def _value(name: str, value: Any, names: dict[str, dict[str, str]]) -> str:
    if value in (None, "", []):
        return "—"
    if name in CHOICE_LABELS:
        try:
            return str(CHOICE_LABELS[name](value).label)
        except ValueError:
            return str(value)
    if name in names:
        return names[name].get(str(value), f"#{value}")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe(events: Iterable[AuditEvent], *, names: dict[str, dict[str, str]]) -> list[Entry]:
    """``names`` maps a field to {id: display name} for the ids the page knows."""
    labels = {
        "created": _("Created"),
        "changed": _("Changed"),
        "shared": _("Shared"),
        "unshared": _("Share removed"),
    }
    out = []
    for event in events:
        verb = event.action.split(".", 1)[-1]
        if verb in labels:
            label = labels[verb]
        elif verb in TRANSITIONS:
            label = str(TRANSITIONS[verb].label)
        else:
            label = event.action
        data = event.data or {}
        before = data.get("before") or {}
        after = data.get("after") or {}
        changes = []
        for name, new in after.items():
            if verb == "created" and new in (None, "", [], False):
                continue
            old = "" if verb == "created" else _value(name, before.get(name), names)
            changes.append((_field_label(name), old, _value(name, new, names)))
        if verb in {"shared", "unshared"}:
            who = data.get("user") and _("user #%(id)s") % {"id": data["user"]}
            who = who or _("department #%(id)s") % {"id": data.get("department")}
            changes.append((_("with"), "", str(who)))
        out.append(
            Entry(
                at=event.at,
                actor=str(event.actor) if event.actor else event.actor_name,
                label=label,
                comment=str(data.get("comment") or ""),
                changes=changes,
            )
        )
    return out
