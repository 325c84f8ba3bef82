"""Deadlines that reminders are about, gathered from every area.

A *source* is a function ``(start, end, owner_id=None) -> Iterable[Deadline]`` giving
the deadlines due in ``[start, end]`` (company-time-zone dates), only those of the user
``owner_id`` when given (filtered in the source's query). Areas register theirs in
:data:`SOURCES` (by dotted path, so this module imports nothing from them); the
scheduler and the iCal feed read all of them the same way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


@dataclass(frozen=True)
class Deadline:
    kind: str  # "contract.expiry", "contract.cancel_by", "instalment.due", "instalment.overdue",
    #            "invoice.to_issue", "obligation.due", "reminder.one_off", ...
    due: date
    contract_id: int
    object_key: str  # stable identity of the thing, e.g. "instalment:42"
    owner_id: int  # the user to remind
    title: Any  # a lazy translatable string, rendered in the recipient's language
    url: str = ""  # path in the web UI


class Source(Protocol):
    def __call__(
        self, start: date, end: date, owner_id: int | None = None
    ) -> Iterable[Deadline]: ...


# Dotted paths of source functions; each area appends its own.
SOURCES: list[str] = [
    "qiyue.reminders.deadlines.contract_deadlines",
    "qiyue.obligations.deadlines.deadlines",
]
