"""Writes of the approval workflow: workflow definitions, starting an instance when a
contract is submitted, decisions on tasks (approve, reject, return, delegate),
comments, withdrawal, and re-opening approval after a change.

Each action is one transaction with its audit event. Decisions lock the instance row
first (an evaluated ``select_for_update``: SQLite's ``BEGIN IMMEDIATE`` already
serializes writers, PostgreSQL queues them on the row) and then take the task with a
compare-and-set on its state, so of two concurrent decisions exactly one wins and the
other gets :class:`AlreadyDecided`."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiyue.accounts.models import User
from qiyue.accounts.queries import nearest_head
from qiyue.approvals import routing
from qiyue.approvals.definitions import DEFAULT_DEFINITION, DEFAULT_NAME, normalize
from qiyue.approvals.models import (
    ApprovalComment,
    ApprovalInstance,
    ApprovalTask,
    InstanceState,
    InstanceStep,
    Quorum,
    StepState,
    TaskState,
    Workflow,
    WorkflowVersion,
)
from qiyue.approvals.queries import (
    content_snapshot,
    latest_instance,
    may_withdraw,
    not_delegable,
)
from qiyue.audit.actions import record
from qiyue.contracts.models import Contract, ContractState
from qiyue.lib.errors import FieldErrors
from qiyue.notifications.actions import notify

COMMENT_MAX = 2000


class ApprovalError(FieldErrors):
    """A refused approval operation; ``code`` is a stable machine-readable reason."""


class AlreadyDecided(ApprovalError):
    code = "already_decided"

    def __init__(self) -> None:
        super().__init__(_("This task has already been decided."))


class NotFound(ApprovalError):
    code = "not_found"

    def __init__(self) -> None:
        super().__init__(_("Approval task not found."))


# -- workflow definitions ----------------------------------------------------------------


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.has_perm_code("admin"):
        raise ApprovalError(_("Only administrators may edit workflows."), code="forbidden")


def save_workflow(
    *,
    actor: User | None,
    workflow: Workflow | None = None,
    name: str,
    priority: int = 100,
    is_active: bool = True,
    is_default: bool = False,
    definition: Any,
    version: int | None = None,
) -> Workflow:
    """Create a workflow or save a new version of one (compare-and-set on ``version``
    when given: a stale edit is refused). Running instances keep their version."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = _("Give the workflow a name of at most 100 characters.")
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 10000:
        errors["priority"] = _("Enter a priority between 0 and 10000.")
    try:
        checked = normalize(definition)
    except FieldErrors as exc:
        errors.update(exc.errors)
    if errors:
        raise ApprovalError(errors)
    now = timezone.now()
    with transaction.atomic():
        if is_default:
            is_active = True
        if workflow is None:
            workflow = Workflow.objects.create(
                name=name,
                priority=priority,
                is_active=is_active,
                is_default=is_default,
                definition=checked,
                version=1,
                updated_at=now,
            )
            number, before = 1, None
        else:
            current = Workflow.objects.filter(pk=workflow.pk).first()
            if current is None:
                raise ApprovalError(_("The workflow does not exist."), code="not_found")
            if version is not None and current.version != version:
                raise ApprovalError(
                    _(
                        "Someone else changed this workflow meanwhile; "
                        "reload it and apply your change again."
                    ),
                    code="stale",
                )
            if current.is_default and not is_default:
                raise ApprovalError(
                    {"is_default": _("Make another workflow the default first.")}, code="invalid"
                )
            number = current.version + 1
            updated = Workflow.objects.filter(pk=current.pk, version=current.version).update(
                name=name,
                priority=priority,
                is_active=is_active,
                is_default=is_default,
                definition=checked,
                version=number,
                updated_at=now,
            )
            if updated != 1:
                raise ApprovalError(
                    _("Someone else changed this workflow meanwhile."), code="stale"
                )
            before = {"name": current.name, "version": current.version}
            workflow.refresh_from_db()
        if is_default:
            Workflow.objects.filter(is_default=True).exclude(pk=workflow.pk).update(
                is_default=False
            )
        WorkflowVersion.objects.create(
            workflow=workflow,
            number=number,
            name=name,
            definition=checked,
            created_at=now,
            created_by=actor,
        )
        record(
            actor=actor,
            action="approval.workflow_saved",
            target=workflow,
            data={
                "before": before,
                "after": {
                    "name": name,
                    "version": number,
                    "priority": priority,
                    "is_active": is_active,
                    "is_default": is_default,
                    "definition": checked,
                },
            },
        )
    return workflow


def ensure_default_workflow() -> Workflow:
    """The default workflow, created (department head, then legal) when there is none."""
    found = Workflow.objects.filter(is_default=True).first()
    if found is not None:
        return found
    return save_workflow(
        actor=None,
        name=DEFAULT_NAME,
        priority=1000,
        is_default=True,
        definition=DEFAULT_DEFINITION,
    )


# -- instances ---------------------------------------------------------------------------


def _task_url(task: ApprovalTask) -> str:
    return reverse("web:approval_task", args=[task.pk])


def _contract_url(contract: Contract) -> str:
    return reverse("web:contract_detail", args=[contract.pk])


def start_instance(*, actor: User, contract: Contract) -> ApprovalInstance:
    """Start the approval of a submitted contract: choose the workflow, snapshot the
    content, open the first step that runs. Called inside the submit transaction."""
    assert transaction.get_connection().in_atomic_block
    contract = Contract.objects.select_related(
        "contract_type", "counterparty", "owner", "department__parent"
    ).get(pk=contract.pk)
    names = routing.record_names(contract)
    workflow = routing.choose_workflow(contract, names) or ensure_default_workflow()
    wf_version = WorkflowVersion.objects.get(workflow=workflow, number=workflow.version)
    last = latest_instance(contract)
    if last is not None and last.state == InstanceState.PENDING:
        raise ApprovalError(_("This contract is already in approval."), code="pending")
    snapshot = content_snapshot(contract)
    try:
        with transaction.atomic():
            instance = ApprovalInstance.objects.create(
                contract=contract,
                workflow_version=wf_version,
                round=(last.round + 1) if last else 1,
                submitted_by=actor,
                snapshot=snapshot,
            )
    except IntegrityError:
        raise ApprovalError(_("This contract is already in approval."), code="pending") from None
    record(
        actor=actor,
        action="approval.started",
        target=instance,
        data={
            "contract": contract.pk,
            "workflow": workflow.pk,
            "workflow_version": wf_version.number,
            "round": instance.round,
        },
    )
    _extra_compliance_steps(instance, contract)
    _run_from(instance, 0, actor=actor, contract=contract, names=names)
    return instance


def _definition_steps(instance: ApprovalInstance) -> list[dict[str, Any]]:
    steps = list(instance.workflow_version.definition.get("steps") or [])
    steps.extend(instance.snapshot.get("extra_steps") or [])
    return steps


def _extra_compliance_steps(instance: ApprovalInstance, contract: Contract) -> None:
    """Roles the compliance rules require that no step of the workflow names get a
    step of their own at the end."""
    from qiyue.compliance.queries import required_approver_roles

    required = required_approver_roles(contract)
    if not required:
        return
    named = {
        a
        for step in instance.workflow_version.definition.get("steps") or []
        for a in step.get("approvers") or []
    }
    extra = []
    for code in required:
        if f"role:{code}" in named or (code == "legal" and "legal" in named):
            continue
        extra.append(
            {
                "name": str(gettext_lazy("Compliance: %(role)s") % {"role": code}),
                "approvers": [f"role:{code}"],
                "quorum": "any",
                "n": None,
                "sla_days": 2,
                "condition": "",
            }
        )
    if extra:
        instance.snapshot = {**instance.snapshot, "extra_steps": extra}
        instance.save(update_fields=["snapshot"])


def _run_from(
    instance: ApprovalInstance,
    index: int,
    *,
    actor: User | None,
    contract: Contract,
    names: dict[str, Any] | None = None,
) -> None:
    """Open the first step from ``index`` on whose condition holds (skipped ones are
    recorded as skipped); when none is left, the instance is approved. ``names`` are
    the contract's ``routing.record_names`` when the caller already read them."""
    steps = _definition_steps(instance)
    if names is None:
        names = routing.record_names(contract)
    submitter = instance.submitted_by
    now = timezone.now()
    while index < len(steps):
        spec = steps[index]
        runs, note = routing.step_runs(spec, names)
        if not runs:
            InstanceStep.objects.create(
                instance=instance,
                index=index,
                name=spec["name"],
                quorum=spec["quorum"],
                needed=0,
                sla_days=spec.get("sla_days"),
                state=StepState.SKIPPED,
                note=note[:300],
                started_at=now,
                finished_at=now,
            )
            index += 1
            continue
        approvers = routing.resolve_approvers(spec["approvers"], contract, submitter)
        if not approvers:
            approvers = routing.fallback_approvers(contract, submitter)
            note = "fallback"
        if not approvers:
            raise ApprovalError(
                _("Nobody can approve the step %(step)s; ask an administrator.")
                % {"step": spec["name"]},
                code="no_approver",
            )
        quorum = spec["quorum"]
        needed = {Quorum.ALL: len(approvers), Quorum.ANY: 1}.get(
            quorum, min(int(spec.get("n") or 1), len(approvers))
        )
        step = InstanceStep.objects.create(
            instance=instance,
            index=index,
            name=spec["name"],
            quorum=quorum,
            needed=needed,
            sla_days=spec.get("sla_days"),
            state=StepState.ACTIVE,
            note=note[:300],
            started_at=now,
        )
        due = None
        if spec.get("sla_days"):
            from qiyue.workdays.calendar import WorkCalendar

            due = WorkCalendar().deadline(now, int(spec["sla_days"]))
        for user, reason in approvers:
            _open_task(step, user, reason=reason, due=due, contract=contract)
        ApprovalInstance.objects.filter(pk=instance.pk).update(current_step=index)
        instance.current_step = index
        return
    _finish(instance, InstanceState.APPROVED, actor=actor, contract=contract, comment="")


def _open_task(
    step: InstanceStep,
    user: User,
    *,
    reason: str,
    due: Any,
    contract: Contract,
    delegated_from: ApprovalTask | None = None,
) -> ApprovalTask:
    task = ApprovalTask.objects.create(
        instance_id=step.instance_id,
        step=step,
        contract=contract,
        assignee=user,
        reason=reason[:100],
        due_at=due,
        delegated_from=delegated_from,
    )
    notify(
        user,
        "approval.task",
        gettext_lazy("Approval requested: %(number)s %(title)s")
        % {"number": contract.number, "title": contract.title},
        gettext_lazy("Step: %(step)s") % {"step": step.name},
        url=_task_url(task),
        contract=contract,
        key=f"approval.task.{task.pk}",
    )
    return task


def _cancel_open(instance: ApprovalInstance, now: Any) -> None:
    """Tasks and steps still open end with their instance."""
    ApprovalTask.objects.filter(instance=instance, state=TaskState.OPEN).update(
        state=TaskState.CANCELLED, decided_at=now
    )
    InstanceStep.objects.filter(instance=instance, state=StepState.ACTIVE).update(
        state=StepState.CANCELLED, finished_at=now
    )


def _finish(
    instance: ApprovalInstance,
    state: str,
    *,
    actor: User | None,
    contract: Contract,
    comment: str,
) -> None:
    from qiyue.contracts.actions import ContractError, workflow_transition

    now = timezone.now()
    ApprovalInstance.objects.filter(pk=instance.pk).update(
        state=state, finished_at=now, outcome_comment=comment
    )
    instance.state, instance.finished_at = state, now
    _cancel_open(instance, now)
    if state == InstanceState.APPROVED:
        from qiyue.compliance.queries import approval_blockers

        blockers = approval_blockers(contract)
        if blockers:
            raise ApprovalError({"__all__": " ".join(str(b) for b in blockers)}, code="blocked")
        # The content approved is the content now (the signing gate compares with it).
        ApprovalInstance.objects.filter(pk=instance.pk).update(
            snapshot={**instance.snapshot, "approved": content_snapshot(contract)}
        )
    codes: dict[str, str] = {
        InstanceState.APPROVED: "approve",
        InstanceState.RETURNED: "return",
        InstanceState.REJECTED: "reject",
        InstanceState.WITHDRAWN: "withdraw",
    }
    code = codes.get(state)
    if code is not None:
        try:
            workflow_transition(actor=actor, contract=contract, code=code, comment=comment)
        except ContractError as exc:  # e.g. the customer was blocked meanwhile
            raise ApprovalError(dict(exc.errors), code=exc.code) from None
    record(
        actor=actor,
        action="approval.finished",
        target=instance,
        data={"contract": contract.pk, "state": state, "round": instance.round, "comment": comment},
    )
    submitter = instance.submitted_by
    if state != InstanceState.WITHDRAWN or (actor is not None and actor.pk != submitter.pk):
        notify(
            submitter,
            "approval.finished",
            gettext_lazy("Approval %(state)s: %(number)s %(title)s")
            % {
                "state": InstanceState(state).label,
                "number": contract.number,
                "title": contract.title,
            },
            comment,
            url=_contract_url(contract),
            contract=contract,
            key=f"approval.finished.{instance.pk}",
        )


def _clean_comment(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ApprovalError({"comment": _("At most %(n)d characters.") % {"n": COMMENT_MAX}})
    if required and not comment:
        raise ApprovalError({"comment": _("Please give a reason.")}, code="comment_required")
    return comment


def _lock_open_task(actor: User, task_id: int) -> tuple[ApprovalInstance, ApprovalTask]:
    """Lock the task's instance (evaluated here), then the task itself; raises NotFound
    for a task that is not the actor's and AlreadyDecided for one decided meanwhile."""
    row = ApprovalTask.objects.filter(pk=task_id).values("instance_id", "assignee_id").first()
    if row is None or row["assignee_id"] != actor.pk:
        raise NotFound()
    instance = (
        ApprovalInstance.objects.select_for_update()
        .select_related("workflow_version", "submitted_by")
        .get(pk=row["instance_id"])
    )
    task = ApprovalTask.objects.select_related("step").get(pk=task_id)
    if task.state != TaskState.OPEN or instance.state != InstanceState.PENDING:
        raise AlreadyDecided()
    return instance, task


def _take(task: ApprovalTask, state: str, comment: str) -> None:
    """The compare-and-set that makes a decision happen once."""
    now = timezone.now()
    taken = ApprovalTask.objects.filter(pk=task.pk, state=TaskState.OPEN).update(
        state=state, comment=comment, decided_at=now
    )
    if taken != 1:
        raise AlreadyDecided()
    task.state, task.comment, task.decided_at = state, comment, now


# Per decision: the state of the task, of its step once the step ends, and of the
# instance when the decision ends it (approval ends it only after the last step).
OUTCOMES: dict[str, tuple[TaskState, StepState, InstanceState | None]] = {
    "approve": (TaskState.APPROVED, StepState.APPROVED, None),
    "reject": (TaskState.REJECTED, StepState.REJECTED, InstanceState.REJECTED),
    "return": (TaskState.RETURNED, StepState.RETURNED, InstanceState.RETURNED),
}


def decide(
    *,
    actor: User,
    task_id: int,
    decision: str,
    comment: str = "",
    to_step: int | None = None,
) -> ApprovalTask:
    """Approve, reject or return (to the submitter, or with ``to_step`` to an earlier
    step) one of the actor's open tasks. Comments are required on reject and return."""
    if decision not in OUTCOMES:
        raise ApprovalError({"decision": _("Decide approve, reject or return.")})
    comment = _clean_comment(comment, required=decision != "approve")
    with transaction.atomic():
        instance, task = _lock_open_task(actor, task_id)
        step = task.step
        contract = Contract.objects.select_related(
            "contract_type", "counterparty", "owner", "department__parent"
        ).get(pk=task.contract_id)
        if decision == "return" and to_step is not None and not 0 <= to_step < step.index:
            raise ApprovalError(
                {"to_step": _("Return to an earlier step, or to the submitter.")}, code="invalid"
            )
        state, step_state, ends_as = OUTCOMES[decision]
        _take(task, state, comment)
        record(
            actor=actor,
            action=f"approval.{decision}",
            target=task,
            data={
                "contract": contract.pk,
                "instance": instance.pk,
                "step": step.name,
                "comment": comment,
                **({"to_step": to_step} if to_step is not None else {}),
            },
        )
        now = timezone.now()
        step_ends = decision != "approve" or (
            ApprovalTask.objects.filter(step=step, state=TaskState.APPROVED).count() >= step.needed
        )
        back_to = to_step if decision == "return" else None
        if step_ends:
            InstanceStep.objects.filter(pk=step.pk).update(state=step_state, finished_at=now)
            if ends_as is not None and back_to is None:
                _finish(instance, ends_as, actor=actor, contract=contract, comment=comment)
            else:  # on to the next step, or back to the earlier one returned to
                ApprovalTask.objects.filter(step=step, state=TaskState.OPEN).update(
                    state=TaskState.CANCELLED, decided_at=now
                )
                following = step.index + 1 if back_to is None else back_to
                _run_from(instance, following, actor=actor, contract=contract)
        if decision != "approve" or instance.state == InstanceState.PENDING:
            notify(
                instance.submitted_by,
                "approval.decision",
                gettext_lazy("%(who)s decided on %(number)s: %(decision)s")
                % {
                    "who": str(actor),
                    "number": contract.number,
                    "decision": TaskState(state).label,
                },
                comment,
                url=_contract_url(contract),
                contract=contract,
                key=f"approval.decision.{task.pk}",
                email=decision != "approve",
            )
    return task


def delegate(*, actor: User, task_id: int, to: User | None, comment: str = "") -> ApprovalTask:
    """Hand one's open task to a colleague; the new task is theirs, audited."""
    comment = _clean_comment(comment, required=False)
    with transaction.atomic():
        instance, task = _lock_open_task(actor, task_id)
        if to is None or not to.is_active:
            raise ApprovalError({"to": _("Choose an active colleague.")})
        contract = Contract.objects.get(pk=task.contract_id)
        if to.pk in not_delegable(actor, instance, contract):
            raise ApprovalError({"to": _("Choose someone other than yourself or the submitter.")})
        if ApprovalTask.objects.filter(step=task.step, assignee=to, state=TaskState.OPEN).exists():
            raise ApprovalError({"to": _("This colleague already has a task in this step.")})
        _take(task, TaskState.DELEGATED, comment)
        new = _open_task(
            task.step,
            to,
            reason=f"delegated:{actor.pk}",
            due=task.due_at,
            contract=contract,
            delegated_from=task,
        )
        record(
            actor=actor,
            action="approval.delegate",
            target=task,
            data={"contract": contract.pk, "to": to.pk, "new_task": new.pk, "comment": comment},
        )
    return new


def withdraw(*, actor: User, contract: Contract, comment: str = "") -> ApprovalInstance:
    """The submitter (or the contract's owner) takes a pending approval back; the
    contract returns to draft."""
    comment = _clean_comment(comment, required=False)
    with transaction.atomic():
        instance = (
            ApprovalInstance.objects.select_for_update()
            .select_related("workflow_version", "submitted_by")
            .filter(contract_id=contract.pk, state=InstanceState.PENDING)
            .first()
        )
        if instance is None:
            raise ApprovalError(_("There is no approval in progress to withdraw."), code="state")
        current = Contract.objects.get(pk=contract.pk)
        if not may_withdraw(actor, instance, current):
            raise ApprovalError(
                _("Only the submitter may withdraw the approval."), code="forbidden"
            )
        record(
            actor=actor,
            action="approval.withdraw",
            target=instance,
            data={"contract": current.pk, "comment": comment},
        )
        _finish(instance, InstanceState.WITHDRAWN, actor=actor, contract=current, comment=comment)
    return instance


def _check_comment(*, actor: User, instance: ApprovalInstance, text: str) -> str:
    """The cleaned text of a comment ``actor`` may add to ``instance``."""
    text = _clean_comment(text, required=True)
    involved = (
        actor.pk in {instance.submitted_by_id, instance.contract.owner_id}
        or ApprovalTask.objects.filter(instance=instance, assignee=actor).exists()
    )
    if not involved:
        raise NotFound()
    return text


def add_comment(
    *,
    actor: User,
    instance: ApprovalInstance,
    text: str,
    document_version: Any = None,
    attachment: Any = None,
) -> ApprovalComment:
    """A remark on an instance by its submitter, the contract's owner or one of its
    approvers (optionally pointing at an uploaded document version).

    ``attachment`` (an uploaded file) is first stored as an attachment document of the
    contract, under the documents area's rules (who may upload, file types, size), in
    its own transaction; the comment is checked before, so a refused comment leaves no
    document behind."""
    if attachment is not None:
        _check_comment(actor=actor, instance=instance, text=text)
        from qiyue.documents.actions import DocumentError, upload_document
        from qiyue.documents.models import DocumentKind

        try:
            document_version = upload_document(
                actor=actor,
                contract=instance.contract,
                fileobj=attachment,
                name=getattr(attachment, "name", "") or "",
                kind=DocumentKind.ATTACHMENT,
                note=_("Attached to an approval comment"),
            )
        except DocumentError as exc:
            raise ApprovalError({"file": exc.message}) from None
    with transaction.atomic():
        text = _check_comment(actor=actor, instance=instance, text=text)
        if (
            document_version is not None
            and document_version.document.contract_id != instance.contract_id
        ):
            raise ApprovalError({"document": _("This document belongs to another contract.")})
        comment = ApprovalComment.objects.create(
            instance=instance, author=actor, text=text, document_version=document_version
        )
        record(
            actor=actor,
            action="approval.comment",
            target=instance,
            data={
                "contract": instance.contract_id,
                "comment": text,
                "document_version": getattr(document_version, "pk", None),
            },
        )
    return comment


def reopen_after_change(
    *, actor: User | None, contract: Contract, reason: str
) -> ApprovalInstance | None:
    """A change to the approved content (amount, customer, main document) of an approved
    or signing contract re-opens approval: the contract goes back to in review and a
    new round starts. A change during a running approval supersedes that round and
    starts a new one (those who approved the old content approve again). For the
    amendment flow and the upload of a main document; call it inside the transaction
    of the change. Nothing happens in other states."""
    from qiyue.contracts.actions import workflow_transition

    current = Contract.objects.get(pk=contract.pk)
    if current.state == ContractState.IN_REVIEW:
        return _supersede_running(actor=actor, contract=current, reason=reason)
    if current.state not in {ContractState.APPROVED, ContractState.SIGNING}:
        return None
    submitter = actor if actor is not None and actor.is_active else current.owner
    workflow_transition(actor=actor, contract=current, code="reapprove", comment=reason)
    ApprovalInstance.objects.filter(contract=current, state=InstanceState.APPROVED).update(
        state=InstanceState.REOPENED
    )
    return start_instance(actor=submitter, contract=current)


def _supersede_running(
    *, actor: User | None, contract: Contract, reason: str
) -> ApprovalInstance | None:
    """End the pending round of an in-review contract as superseded (its open tasks
    cancelled) and start the next round on the content as it is now."""
    assert transaction.get_connection().in_atomic_block
    running = (
        ApprovalInstance.objects.select_for_update()
        .select_related("submitted_by")
        .filter(contract_id=contract.pk, state=InstanceState.PENDING)
        .first()
    )
    if running is None:
        return None
    now = timezone.now()
    ended = ApprovalInstance.objects.filter(pk=running.pk, state=InstanceState.PENDING).update(
        state=InstanceState.REOPENED, finished_at=now, outcome_comment=reason[:COMMENT_MAX]
    )
    if ended != 1:
        return None
    _cancel_open(running, now)
    record(
        actor=actor,
        action="approval.superseded",
        target=running,
        data={"contract": contract.pk, "round": running.round, "reason": reason[:COMMENT_MAX]},
    )
    submitter = running.submitted_by if running.submitted_by.is_active else contract.owner
    return start_instance(actor=submitter, contract=contract)


def complete_for_tests_and_demo(contract: Contract, *, outcome: str = "approved") -> Contract:
    """Let each open task's assignee decide until the pending instance ends approved
    (or, with ``outcome="returned"``, the first approver returns it). For factories and
    demo data, which walk contracts along the way a person would."""
    for _round in range(50):
        task = (
            ApprovalTask.objects.filter(
                contract=contract, state=TaskState.OPEN, instance__state=InstanceState.PENDING
            )
            .select_related("assignee")
            .order_by("id")
            .first()
        )
        if task is None:
            break
        if outcome == "returned":
            decide(actor=task.assignee, task_id=task.pk, decision="return", comment="请补充")
            break
        decide(actor=task.assignee, task_id=task.pk, decision="approve", comment="")
    return Contract.objects.get(pk=contract.pk)


# -- SLA: reminders and escalation ---------------------------------------------------------


def check_overdue(now: Any = None) -> dict[str, int]:
    """Remind each overdue approver once; one working day later escalate to their
    department head once. Compare-and-set on ``reminded_at`` / ``escalated_at`` and
    notification keys make a second run (or a concurrent one) send nothing again."""
    from qiyue.approvals.queries import overdue_tasks
    from qiyue.workdays.calendar import WorkCalendar

    now = now or timezone.now()
    calendar = WorkCalendar()
    counts = {"reminded": 0, "escalated": 0}
    for task in overdue_tasks(now):
        with transaction.atomic():
            if task.reminded_at is None:
                taken = ApprovalTask.objects.filter(
                    pk=task.pk, state=TaskState.OPEN, reminded_at__isnull=True
                ).update(reminded_at=now)
                if not taken:
                    continue
                notify(
                    task.assignee,
                    "approval.overdue",
                    gettext_lazy("Approval overdue: %(number)s %(title)s")
                    % {"number": task.contract.number, "title": task.contract.title},
                    gettext_lazy("Step %(step)s was due %(due)s.")
                    % {"step": task.step.name, "due": timezone.localtime(task.due_at).date()},
                    url=_task_url(task),
                    contract=task.contract,
                    key=f"approval.overdue.{task.pk}",
                )
                record(
                    actor=None,
                    action="approval.reminded",
                    target=task,
                    data={"contract": task.contract_id, "assignee": task.assignee_id},
                )
                counts["reminded"] += 1
                continue
            if task.due_at is None or now <= calendar.deadline(task.due_at, 1):
                continue  # one more working day before escalating
            head, _name = nearest_head(task.assignee.department, {task.assignee_id})
            taken = ApprovalTask.objects.filter(
                pk=task.pk, state=TaskState.OPEN, escalated_at__isnull=True
            ).update(escalated_at=now)
            if not taken:
                continue
            if head is not None:
                notify(
                    head,
                    "approval.escalated",
                    gettext_lazy("Overdue approval of %(user)s: %(number)s %(title)s")
                    % {
                        "user": str(task.assignee),
                        "number": task.contract.number,
                        "title": task.contract.title,
                    },
                    gettext_lazy("Step %(step)s was due %(due)s.")
                    % {"step": task.step.name, "due": timezone.localtime(task.due_at).date()},
                    url=_contract_url(task.contract),
                    contract=task.contract,
                    key=f"approval.escalated.{task.pk}",
                )
            record(
                actor=None,
                action="approval.escalated",
                target=task,
                data={
                    "contract": task.contract_id,
                    "assignee": task.assignee_id,
                    "head": head.pk if head else None,
                },
            )
            counts["escalated"] += 1
    return counts
