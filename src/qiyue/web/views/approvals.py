"""Approval pages: the inbox (我的待办), a task with its contract and decision forms,
withdrawal and comments, and the administrators' workflow editor and calendar."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qiyue.accounts.queries import active_users, departments, roles
from qiyue.approvals import actions, queries
from qiyue.approvals.definitions import APPROVER_KINDS, MAX_STEPS, RISK_LEVELS
from qiyue.approvals.expressions import NAMES
from qiyue.approvals.models import Quorum, TaskState, Workflow
from qiyue.compliance.models import Severity
from qiyue.contracts.models import Confidentiality
from qiyue.contracts.queries import contract_for, contract_types
from qiyue.lib.errors import FieldErrors
from qiyue.web.views.common import PAGE_SIZES, as_id, flash_errors, paginate, require_admin
from qiyue.workdays import actions as calendar_actions
from qiyue.workdays import queries as calendar_queries
from qiyue.workdays.models import CalendarDay

INBOX_STATES = ("open", "all")


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    state = request.GET.get("state", "open")
    if state not in INBOX_STATES:
        state = "open"
    page = paginate(request, queries.inbox_for(user, state=state))
    return render(
        request,
        "web/approvals/inbox.html",
        {"page": page, "tasks": page.object_list, "state": state, "page_sizes": PAGE_SIZES},
    )


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    task = queries.task_for(user, pk)
    instance = task.instance
    contract = task.contract
    mine = task.assignee_id == user.pk and task.state == TaskState.OPEN
    instances = queries.instances_of(contract)
    current = next((i for i in instances if i.pk == instance.pk), instance)
    colleagues = queries.delegates_for(user, instance, contract) if mine else []
    return render(
        request,
        "web/approvals/task_detail.html",
        {
            "task": task,
            "c": contract,
            "instance": current,
            "instances": instances,
            "mine": mine,
            "documents": queries.task_documents(task),
            "diff": queries.diff_since_last_round(instance, instances=instances),
            "earlier_steps": queries.return_targets(current, task.step),
            "colleagues": colleagues,
        },
    )


@login_required
@require_POST
def task_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    task = queries.task_for(user, pk)
    decision = request.POST.get("decision", "")[:20]
    to_step = as_id(request.POST.get("to_step"))
    try:
        actions.decide(
            actor=user,
            task_id=task.pk,
            decision=decision,
            comment=request.POST.get("comment", ""),
            to_step=to_step,
        )
    except actions.ApprovalError as exc:
        flash_errors(request, exc.errors)
        return redirect("web:approval_task", pk=task.pk)
    labels = {"approve": _("Approved."), "reject": _("Rejected."), "return": _("Returned.")}
    messages.success(request, labels.get(decision, _("Done.")))
    return redirect("web:approval_inbox")


@login_required
@require_POST
def task_delegate(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    task = queries.task_for(user, pk)
    to_id = as_id(request.POST.get("to"))
    to = active_users().filter(pk=to_id).first() if to_id is not None else None
    try:
        actions.delegate(
            actor=user, task_id=task.pk, to=to, comment=request.POST.get("comment", "")
        )
    except actions.ApprovalError as exc:
        flash_errors(request, exc.errors)
        return redirect("web:approval_task", pk=task.pk)
    messages.success(request, _("Delegated to %(user)s.") % {"user": to})
    return redirect("web:approval_inbox")


@login_required
@require_GET
def task_version_download(request: HttpRequest, pk: int, version_pk: int) -> HttpResponseBase:
    """A document of the task's contract, for its approver even outside their scope."""
    from qiyue.documents import content
    from qiyue.documents.actions import DocumentError

    user: Any = request.user
    task = queries.task_for(user, pk)
    version = queries.task_version(task, version_pk)
    try:
        return content.download_response(user, version)
    except DocumentError as exc:
        messages.error(request, exc.message)
        return redirect("web:approval_task", pk=task.pk)


@login_required
@require_POST
def instance_comment(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    instance = queries.instance_for(user, pk)
    try:
        actions.add_comment(
            actor=user,
            instance=instance,
            text=request.POST.get("text", ""),
            attachment=request.FILES.get("file"),
        )
    except actions.ApprovalError as exc:
        flash_errors(request, exc.errors)
    else:
        messages.success(request, _("Comment added."))
    back = request.POST.get("task")
    task_id = as_id(back)
    if task_id is not None:
        return redirect("web:approval_task", pk=task_id)
    return redirect(reverse("web:contract_detail", args=[instance.contract_id]) + "#approval")


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    contract = contract_for(user, pk)
    try:
        actions.withdraw(actor=user, contract=contract, comment=request.POST.get("comment", ""))
    except actions.ApprovalError as exc:
        flash_errors(request, exc.errors)
    else:
        messages.success(request, _("Approval withdrawn; the contract is a draft again."))
    return redirect("web:contract_detail", pk=contract.pk)


# -- administrators: workflows -------------------------------------------------------------


@login_required
def workflow_list(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    return render(
        request, "web/approvals/workflow_list.html", {"workflows": list(queries.workflows())}
    )


def approver_options() -> list[tuple[str, str]]:
    """Every approver token the editor offers, with its label."""
    options = [
        ("dept_head", str(APPROVER_KINDS["dept_head"])),
        ("parent_dept_head", str(APPROVER_KINDS["parent_dept_head"])),
        ("legal", str(APPROVER_KINDS["legal"])),
    ]
    for role in roles():
        options.append((f"role:{role.code}", f"{APPROVER_KINDS['role']}: {role.display_name}"))
    for dept in departments():
        options.append((f"dept:{dept.pk}", f"{APPROVER_KINDS['dept']}: {dept.name}"))
    for u in active_users().order_by("username"):
        options.append((f"user:{u.pk}", f"{APPROVER_KINDS['user']}: {u} ({u.username})"))
    return options


def _definition_from_post(post: Any) -> dict[str, Any]:
    steps = []
    for i in range(MAX_STEPS):
        prefix = f"step-{i}-"
        if f"{prefix}name" not in post:
            break
        name = post.get(f"{prefix}name", "").strip()
        approvers = post.getlist(f"{prefix}approvers")
        if not name and not approvers:
            continue  # a blank row
        if post.get(f"{prefix}delete"):
            continue
        steps.append(
            {
                "name": name,
                "approvers": approvers,
                "quorum": post.get(f"{prefix}quorum", "all"),
                "n": post.get(f"{prefix}n") or None,
                "sla_days": post.get(f"{prefix}sla_days") or None,
                "condition": post.get(f"{prefix}condition", ""),
            }
        )
    return {
        "conditions": {
            "types": post.getlist("types"),
            "amount_min": post.get("amount_min") or None,
            "amount_max": post.get("amount_max") or None,
            "departments": post.getlist("departments"),
            "confidentiality": post.getlist("confidentiality"),
            "risk": post.getlist("risk"),
            "expression": post.get("expression", ""),
        },
        "steps": steps,
    }


_FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "priority": gettext_lazy("Priority"),
    "conditions.types": gettext_lazy("Types"),
    "conditions.departments": gettext_lazy("Departments"),
    "conditions.confidentiality": gettext_lazy("Confidentiality"),
    "conditions.risk": gettext_lazy("Risk level"),
    "conditions.amount_min": gettext_lazy("Amount from (CNY equivalent)"),
    "conditions.amount_max": gettext_lazy("Amount up to (CNY equivalent)"),
    "conditions.expression": gettext_lazy("Custom condition"),
    "steps": gettext_lazy("Steps, in order"),
}
_STEP_LABELS = {
    "name": gettext_lazy("Step"),
    "quorum": gettext_lazy("Quorum"),
    "n": "N",
    "sla_days": gettext_lazy("SLA (working days)"),
    "approvers": gettext_lazy("Approvers"),
    "condition": gettext_lazy("Only when"),
}


def _labelled(errors: dict[str, str]) -> list[tuple[str, str]]:
    """The definition's errors named by the form's own labels ("Step 2 · Approvers"),
    not by the definition's paths (``steps.1.approvers``) that the API reports."""
    out = []
    for path, message in errors.items():
        parts = path.split(".")
        if parts[0] == "steps" and len(parts) == 3 and parts[1].isdigit():
            label = f"{_('Step')} {int(parts[1]) + 1} · {_STEP_LABELS.get(parts[2], parts[2])}"
        elif path == "__all__":
            label = ""
        else:
            label = str(_FIELD_LABELS.get(path, path))
        out.append((label, message))
    return out


@login_required
@require_http_methods(["GET", "POST"])
def workflow_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = require_admin(request)
    workflow: Workflow | None = queries.workflow_for(user, pk) if pk is not None else None
    errors: dict[str, str] = {}
    form: dict[str, Any]
    if workflow is not None:
        form = {
            "name": workflow.name,
            "priority": workflow.priority,
            "is_active": workflow.is_active,
            "is_default": workflow.is_default,
            "version": workflow.version,
        }
        definition = workflow.definition
    else:
        form = {"name": "", "priority": 100, "is_active": True, "is_default": False, "version": 0}
        definition = {"conditions": {}, "steps": []}
    status = 200
    if request.method == "POST":
        definition = _definition_from_post(request.POST)
        raw_priority = request.POST.get("priority", "")
        priority = as_id(raw_priority)
        form = {
            "name": request.POST.get("name", ""),
            "priority": raw_priority,
            "is_active": request.POST.get("is_active") == "on",
            "is_default": request.POST.get("is_default") == "on",
            "version": as_id(request.POST.get("version")) or 0,
        }
        try:
            saved = actions.save_workflow(
                actor=user,
                workflow=workflow,
                name=form["name"],
                priority=priority if priority is not None else -1,
                is_active=form["is_active"],
                is_default=form["is_default"],
                definition=definition,
                version=form["version"] if workflow is not None else None,
            )
        except FieldErrors as exc:
            errors = exc.errors
            status = 409 if exc.code == "stale" else 200
        else:
            messages.success(request, _("Workflow saved (version %(n)d).") % {"n": saved.version})
            return redirect("web:workflow_edit", pk=saved.pk)
    steps = list(definition.get("steps") or [])
    # Two blank rows to add steps without JavaScript.
    rows = [*steps, {}, {}][:MAX_STEPS]
    return render(
        request,
        "web/approvals/workflow_form.html",
        {
            "workflow": workflow,
            "form": form,
            "cond": definition.get("conditions") or {},
            "rows": rows,
            "errors": _labelled(errors),
            "types": contract_types(),
            "departments": departments(),
            "confidentiality": Confidentiality.choices,
            "risks": [(r, Severity(r).label) for r in RISK_LEVELS],
            "quorums": Quorum.choices,
            "approver_options": approver_options(),
            "names": NAMES,
            "versions": queries.versions_of(workflow)[:20] if workflow else [],
        },
        status=status,
    )


# -- administrators: working-day calendar ------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    user = require_admin(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "add":
                calendar_actions.set_day(
                    user,
                    request.POST.get("day", ""),
                    request.POST.get("kind", ""),
                    request.POST.get("name", ""),
                )
                messages.success(request, _("Calendar day saved."))
            elif op == "delete":
                day = calendar_queries.calendar_day(as_id(request.POST.get("id")))
                calendar_actions.delete_day(user, day)
                messages.success(request, _("Calendar day removed."))
            elif op == "load":
                added = calendar_actions.load_builtin(user)
                messages.success(request, _("%(n)d built-in holiday days added.") % {"n": added})
        except calendar_actions.CalendarError as exc:
            errors = exc.errors
        else:
            return redirect("web:workday_calendar")
    page = paginate(request, calendar_queries.calendar_days())
    return render(
        request,
        "web/approvals/calendar.html",
        {
            "page": page,
            "days": page.object_list,
            "kinds": CalendarDay.Kind.choices,
            "errors": errors,
            "post": request.POST if request.method == "POST" else {},
            "page_sizes": PAGE_SIZES,
        },
        status=200,
    )
