"""The audit history of a contract, put into words for its detail page."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiyue.audit.models import AuditEvent
from qiyue.compliance.models import Severity
from qiyue.contracts.lifecycle import TRANSITIONS
from qiyue.contracts.models import Confidentiality, Contract, ContractState, Relation
from qiyue.lib.money import format_amount

CHOICE_LABELS: dict[str, Any] = {
    "state": ContractState,
    "confidentiality": Confidentiality,
    "relation": Relation,
    "risk_level": Severity,
}
# Names in event data that are not fields of a contract.
OTHER_FIELDS = {"risk_level": gettext_lazy("Compliance risk")}


# Details shown for the money events of a contract: (data key, label).
MONEY_DETAILS: dict[str, list[tuple[str, Any]]] = {
    "instalment.planned": [
        ("label", gettext_lazy("Label")),
        ("amount", gettext_lazy("Amount")),
        ("due_date", gettext_lazy("Due on")),
    ],
    "payment.received": [
        ("amount", gettext_lazy("Amount")),
        ("received_on", gettext_lazy("Received on")),
    ],
    "invoice.issued": [
        ("number", gettext_lazy("Invoice number")),
        ("amount", gettext_lazy("Amount")),
    ],
    "invoice.planned": [("amount", gettext_lazy("Amount")), ("date", gettext_lazy("Date"))],
    "invoice.voided": [("number", gettext_lazy("Invoice number"))],
    "obligation.added": [("title", gettext_lazy("Title")), ("due_date", gettext_lazy("Due on"))],
    "obligation.completed": [
        ("title", gettext_lazy("Title")),
        ("done_on", gettext_lazy("Done on")),
    ],
    "contract.amendment_proposed": [
        ("title", gettext_lazy("Title")),
        ("proposed", gettext_lazy("Changes")),
    ],
    "contract.amended": [("title", gettext_lazy("Title")), ("author", gettext_lazy("Author"))],
    "contract.renewal_created": [("number", gettext_lazy("Renewal"))],
    "contract.non_renewal_noted": [("given_on", gettext_lazy("Given on"))],
    "contract.termination_settled": [("effective_date", gettext_lazy("Effective on"))],
}


@dataclass
class Entry:
    at: datetime
    actor: str
    label: str
    comment: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def _field_label(name: str) -> str:
    if name in OTHER_FIELDS:
        return str(OTHER_FIELDS[name])
    try:
        return str(capfirst(getattr(Contract._meta.get_field(name), "verbose_name", name)))
    except FieldDoesNotExist:
        return name


# Dates of the money events' data (MONEY_DETAILS) that are not contract fields.
_OTHER_DATES = frozenset({"due_date", "date"})


@functools.cache
def _kind(name: str) -> str:
    """``"decimal"``, ``"date"`` or ``""`` for a contract field's name (or another name)."""
    if name in _OTHER_DATES:
        return "date"
    try:
        field = Contract._meta.get_field(name)
    except FieldDoesNotExist:
        return ""
    if isinstance(field, models.DecimalField):
        return "decimal"
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return "date"
    return ""


def _localized(name: str, value: Any) -> str | None:
    """An amount or a date as the rest of the page writes it (grouped digits, the
    language's date), or None when ``value`` is not one (an old event's odd value)."""
    kind = _kind(name)
    if kind == "decimal":
        try:
            return format_amount(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return None
    if kind == "date":
        try:
            day = parse_date(str(value))
        except ValueError:
            return None
        return date_format(day) if day is not None else None
    return None


def _value(name: str, value: Any, names: dict[str, dict[str, str]]) -> str:
    if value in (None, "", []):
        return "—"
    if (text := _localized(name, value)) is not None:
        return text
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
        "viewed": _("Viewed"),
        "downloaded": _("Downloaded"),
        "previewed": _("Previewed"),
        "exported": _("Exported"),
        "text_extracted": _("Text extracted"),
        "uploaded": _("Uploaded"),
        # Lifecycle flows and money (qiyue.contracts.flows, qiyue.obligations.actions).
        "amendment_proposed": _("Amendment proposed"),
        "amended": _("Amended (amendment approved)"),
        "amendment_rejected": _("Amendment rejected"),
        "renewal_created": _("Renewal created"),
        "auto_renewed": _("Renewed automatically"),
        "non_renewal_noted": _("Non-renewal notice recorded"),
        "termination_settled": _("Termination settled"),
    }
    action_labels = {
        "instalment.planned": _("Instalment planned"),
        "instalment.scheduled": _("Instalments scheduled"),
        "instalment.removed": _("Instalment removed"),
        "instalment.due_set": _("Instalment due dates set"),
        "payment.received": _("Payment received"),
        "payment.allocated": _("Payment allocated"),
        "invoice.planned": _("Invoice planned"),
        "invoice.issued": _("Invoice issued"),
        "invoice.voided": _("Invoice voided"),
        "obligation.added": _("Obligation added"),
        "obligation.completed": _("Obligation done"),
        "compliance.risk_changed": _("Compliance risk changed"),
    }
    out = []
    for event in events:
        data = event.data or {}
        verb = event.action.split(".", 1)[-1]
        if event.action in action_labels:
            label = action_labels[event.action]
        elif verb in labels:
            label = labels[verb]
        elif verb in TRANSITIONS:
            label = str(TRANSITIONS[verb].label)
        else:
            label = event.action
        before = data.get("before") or {}
        after = data.get("after") or {}
        changes = []
        for name, new in after.items():
            if verb == "created" and new in (None, "", [], False):
                continue
            old = "" if verb == "created" else _value(name, before.get(name), names)
            changes.append((_field_label(name), old, _value(name, new, names)))
        if data.get("rule"):
            from qiyue.contracts.flows import RULES

            rule = RULES.get(str(data["rule"]))
            data = {**data, "comment": str(rule) if rule else str(data["rule"])}
        if event.action in MONEY_DETAILS:
            for key, title in MONEY_DETAILS[event.action]:
                if data.get(key) not in (None, "", {}, []):
                    changes.append((str(title), "", _value(key, data[key], {})))
        if event.action == "document.uploaded":
            changes.append((_("File name"), "", str(data.get("name", ""))))
            changes.append((_("Version"), "", str(data.get("version", ""))))
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


DETAIL_LIMIT = 200


def _short(value: Any) -> str:
    if value in (None, ""):
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


def details(event: AuditEvent) -> list[tuple[str, str, str]]:
    """Any event's data as (field, before, after) rows, field names as stored: for the
    audit log, which shows events of every kind of record."""
    data = event.data or {}
    before: dict[str, Any] = data["before"] if isinstance(data.get("before"), dict) else {}
    after: dict[str, Any] = data["after"] if isinstance(data.get("after"), dict) else {}
    rows = [
        (str(name), _short(before.get(name)), _short(after.get(name)))
        for name in dict.fromkeys([*before, *after])
    ]
    rows += [
        (str(name), "", _short(value))
        for name, value in data.items()
        if name not in {"before", "after"} or not isinstance(value, dict)
    ]
    return rows
