"""Approvals over REST: the caller's tasks, decisions on them, and workflow definitions
(administrators only; anyone else gets 404 as for anything they may not see)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema
from pydantic import BaseModel

from qiyue.accounts.models import User
from qiyue.accounts.queries import active_users
from qiyue.api.auth import current_user
from qiyue.api.errors import ApiError, invalid, not_found
from qiyue.api.pagination import keyset_page
from qiyue.api.schemas import COMMON_ERRORS, MAX_ID, Error, Id, Str100, Str2000, Strict
from qiyue.approvals import actions, queries
from qiyue.approvals.models import ApprovalTask, Workflow

router = Router(tags=["approvals"])

ERRORS = {**COMMON_ERRORS, 409: Error}
TaskId = Path(..., ge=1, le=MAX_ID, description="Task id.")
WorkflowId = Path(..., ge=1, le=MAX_ID, description="Workflow id.")


class TaskOut(BaseModel):
    id: int
    state: str
    step: str
    contract: dict[str, Any]
    assignee: dict[str, Any]
    submitted_by: dict[str, Any]
    instance: int
    round: int
    due_at: datetime | None
    decided_at: datetime | None
    comment: str


class TaskPage(BaseModel):
    items: list[TaskOut]
    next: str | None


class TaskParams(Schema):
    assignee: Literal["me"] = Field("me", description="Whose tasks: only `me` is supported.")
    state: Literal["open", "approved", "rejected", "returned", "delegated", "cancelled", "all"] = (
        Field("open", description="Task state, or `all`.")
    )
    page_size: int = Field(50, description="Tasks per page.")
    cursor: str | None = Field(None, max_length=40, description="From the `next` link.")


class DecisionIn(Strict):
    decision: Literal["approve", "reject", "return", "delegate"]
    comment: Str2000 = Field("", description="Required to reject or return.")
    to_step: int | None = Field(
        None,
        ge=0,
        le=100,
        description="Return to this earlier step (0-based) instead of the submitter.",
    )
    delegate_to: Id | None = Field(None, description="The colleague's user id, to delegate.")


class WorkflowIn(Strict):
    name: Str100
    priority: int = Field(100, ge=0, le=10000)
    is_active: bool = True
    is_default: bool = False
    definition: dict[str, Any]
    version: int | None = Field(None, description="The version read, to refuse stale edits.")


class WorkflowOut(BaseModel):
    id: int
    name: str
    priority: int
    is_active: bool
    is_default: bool
    version: int
    definition: dict[str, Any]


def _user_ref(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username, "name": str(user)}


def task_data(task: ApprovalTask) -> dict[str, Any]:
    c = task.contract
    return {
        "id": task.pk,
        "state": task.state,
        "step": task.step.name,
        "contract": {
            "id": c.pk,
            "number": c.number,
            "title": c.title,
            "state": c.state,
            "amount": None if c.amount is None else str(c.amount),
            "currency": c.currency,
        },
        "assignee": _user_ref(task.assignee),
        "submitted_by": _user_ref(task.instance.submitted_by),
        "instance": task.instance_id,
        "round": task.instance.round,
        "due_at": task.due_at,
        "decided_at": task.decided_at,
        "comment": task.comment,
    }


def _refusal(exc: actions.ApprovalError) -> ApiError:
    errors = dict(exc.errors)
    message = errors.pop("__all__", "") or _("Please correct the fields marked in errors.")
    if exc.code == "not_found":
        return not_found()
    status = {"already_decided": 409, "stale": 409, "blocked": 409, "forbidden": 403}.get(
        exc.code, 400
    )
    return ApiError(status, exc.code, message, errors)


@router.get("/approvals/tasks", response={200: TaskPage, **ERRORS}, summary="My approval tasks")
def list_tasks(request: HttpRequest, params: Query[TaskParams]) -> dict[str, Any]:
    """The caller's tasks (open ones by default), newest first, keyset-paged."""
    user = current_user(request)
    qs = queries.inbox_for(user, state=params.state).select_related("assignee")
    return keyset_page(
        request, qs, page_size=params.page_size, cursor=params.cursor, render=task_data
    )


@router.get("/approvals/tasks/{id}", response={200: TaskOut, **ERRORS}, summary="One task")
def get_task(request: HttpRequest, id: int = TaskId) -> dict[str, Any]:
    user = current_user(request)
    return task_data(queries.task_for(user, id))


@router.post(
    "/approvals/tasks/{id}/decision",
    response={200: TaskOut, **ERRORS},
    summary="Decide on a task",
)
def decide(request: HttpRequest, body: DecisionIn, id: int = TaskId) -> dict[str, Any]:
    """Approve, reject, return (to the submitter or `to_step`) or delegate one of the
    caller's open tasks. A task already decided answers 409 `already_decided`."""
    user = current_user(request)
    task = queries.task_for(user, id)
    try:
        if body.decision == "delegate":
            to = active_users().filter(pk=body.delegate_to).first() if body.delegate_to else None
            if to is None:
                raise invalid({"delegate_to": _("Choose an active colleague.")})
            actions.delegate(actor=user, task_id=task.pk, to=to, comment=body.comment)
        else:
            actions.decide(
                actor=user,
                task_id=task.pk,
                decision=body.decision,
                comment=body.comment,
                to_step=body.to_step,
            )
    except actions.ApprovalError as exc:
        raise _refusal(exc) from None
    # The caller just decided it: they see the outcome even outside their data scope.
    return task_data(queries.task_as_decided(task.pk))


def workflow_data(wf: Workflow) -> dict[str, Any]:
    return {
        "id": wf.pk,
        "name": wf.name,
        "priority": wf.priority,
        "is_active": wf.is_active,
        "is_default": wf.is_default,
        "version": wf.version,
        "definition": wf.definition,
    }


def _save_workflow(user: User, body: WorkflowIn, workflow: Workflow | None = None) -> Workflow:
    """Create a workflow (``workflow`` None) or save a new version of it; a refusal
    answers in the API's error shape."""
    try:
        return actions.save_workflow(
            actor=user,
            workflow=workflow,
            name=body.name,
            priority=body.priority,
            is_active=body.is_active,
            is_default=body.is_default,
            definition=body.definition,
            version=body.version if workflow is not None else None,
        )
    except actions.ApprovalError as exc:
        raise _refusal(exc) from None


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not user.has_perm_code("admin"):
        raise not_found()
    return user


@router.get(
    "/approvals/workflows", response={200: list[WorkflowOut], **ERRORS}, summary="Workflows"
)
def list_workflows(request: HttpRequest) -> list[dict[str, Any]]:
    """Every workflow, default last (administrators only)."""
    _admin(request)
    return [workflow_data(w) for w in queries.workflows()]


@router.get(
    "/approvals/workflows/{id}", response={200: WorkflowOut, **ERRORS}, summary="One workflow"
)
def get_workflow(request: HttpRequest, id: int = WorkflowId) -> dict[str, Any]:
    user = _admin(request)
    return workflow_data(queries.workflow_for(user, id))


@router.post(
    "/approvals/workflows", response={201: WorkflowOut, **ERRORS}, summary="Create a workflow"
)
def create_workflow(request: HttpRequest, body: WorkflowIn) -> tuple[int, dict[str, Any]]:
    return 201, workflow_data(_save_workflow(_admin(request), body))


@router.put(
    "/approvals/workflows/{id}",
    response={200: WorkflowOut, **ERRORS},
    summary="Save a new version of a workflow",
)
def update_workflow(request: HttpRequest, body: WorkflowIn, id: int = WorkflowId) -> dict[str, Any]:
    """Running approvals keep the version they started with."""
    user = _admin(request)
    return workflow_data(_save_workflow(user, body, queries.workflow_for(user, id)))
