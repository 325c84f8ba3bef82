"""API of the reminders area: the caller's own reminders and deadlines.

Thin: parse, call ``qiyue.reminders`` queries and actions, render. Another user's
reminder answers 404."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router
from pydantic import BaseModel

from qiyue.api.auth import current_user
from qiyue.api.pagination import keyset_page
from qiyue.api.schemas import COMMON_ERRORS, MAX_ID, Out
from qiyue.reminders import actions, queries
from qiyue.reminders.models import Occurrence, kind_label

router = Router(tags=["reminders"])

ERRORS = COMMON_ERRORS


class ReminderOut(Out):
    id: int
    kind: str = Field(description="contract.expiry, contract.cancel_by, instalment.due, …")
    kind_label: str
    due: date = Field(description="The deadline.")
    days_before: int = Field(
        description="Stage: days before the deadline (0 on the day, -1 overdue)."
    )
    day: date = Field(description="The day the reminder was sent.")
    title: str
    contract_id: int | None
    url: str
    sent: bool = Field(description="False while waiting for the daily digest.")
    acknowledged: bool
    escalated: bool


class ReminderPage(Out):
    items: list[ReminderOut]
    next: str | None = Field(description="Path of the next page, or null on the last.")


class ReminderListParams(BaseModel):
    open: bool | None = Field(None, description="true: only reminders not acknowledged.")
    cursor: str | None = Field(None, description="From the `next` link of the previous page.")
    page_size: int = Field(50, ge=1, description="1 to 200 (QIYUE_API_PAGE_SIZE_MAX).")


class DeadlineOut(Out):
    kind: str
    kind_label: str
    due: date
    title: str
    contract_id: int | None
    url: str


class DeadlineList(Out):
    items: list[DeadlineOut]


class AckOut(Out):
    acknowledged: int = Field(
        description="Reminders acknowledged (with earlier ones about the same deadline)."
    )


def reminder_data(o: Occurrence) -> dict[str, Any]:
    return {
        "id": o.pk,
        "kind": o.kind,
        "kind_label": str(kind_label(o.kind)),
        "due": o.due,
        "days_before": o.offset,
        "day": o.day,
        "title": o.title,
        "contract_id": o.contract_id,
        "url": o.url,
        "sent": o.sent_at is not None,
        "acknowledged": o.acknowledged_at is not None,
        "escalated": o.escalated_at is not None,
    }


@router.get("/reminders", response={200: ReminderPage, **ERRORS}, summary="My reminders")
def list_reminders(request: HttpRequest, params: Query[ReminderListParams]) -> dict[str, Any]:
    """The caller's reminders, newest first."""
    user = current_user(request)
    return keyset_page(
        request,
        queries.reminders_of(user, open_only=bool(params.open)),
        page_size=params.page_size,
        cursor=params.cursor,
        render=reminder_data,
    )


@router.get(
    "/reminders/upcoming",
    response={200: DeadlineList, **ERRORS},
    summary="My upcoming deadlines",
)
def upcoming(
    request: HttpRequest, days: int = Query(queries.UPCOMING_DAYS, ge=1, le=366)
) -> dict[str, Any]:
    """Every deadline the caller owns in the next ``days`` days, soonest first."""
    user = current_user(request)
    return {
        "items": [
            {
                "kind": d.kind,
                "kind_label": str(kind_label(d.kind)),
                "due": d.due,
                "title": str(d.title),
                "contract_id": d.contract_id or None,
                "url": d.url,
            }
            for d in queries.upcoming_deadlines(user, days)
        ]
    }


@router.post(
    "/reminders/{id}/acknowledge",
    response={200: AckOut, **ERRORS},
    summary="Acknowledge a reminder",
)
def acknowledge(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    user = current_user(request)
    occurrence = queries.occurrence_for(user, id)
    return {"acknowledged": actions.acknowledge(actor=user, occurrence=occurrence)}
