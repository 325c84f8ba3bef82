"""Reads of approval workflows and tasks.

An approver sees the contract of a task while the task is theirs (open), even outside
their data scope: :func:`task_for` grants that through the task, without widening
``Contract.objects.visible_to``. Anyone else sees a task only when they may see its
contract; otherwise 404."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from qiyue.accounts.queries import active_users
from qiyue.approvals.models import (
    ApprovalComment,
    ApprovalInstance,
    ApprovalTask,
    InstanceState,
    InstanceStep,
    StepState,
    TaskState,
    Workflow,
    WorkflowVersion,
)

# Fields whose change after approval re-opens it (with the main document's versions).
GATED_FIELDS = ("amount", "currency", "counterparty")
SNAPSHOT_FIELDS = (
    "title",
    "amount",
    "currency",
    "tax_rate",
    "counterparty",
    "effective_date",
    "expiry_date",
    "auto_renew",
    "renewal_term_months",
    "notice_period_days",
    "payment_terms",
    "confidentiality",
)


def open_task_count(user: Any) -> int:
    """How many approval tasks wait for ``user`` (the header's 我的待办 count); one query."""
    return ApprovalTask.objects.filter(assignee=user.pk, state=TaskState.OPEN).count()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def content_snapshot(contract: Any) -> dict[str, Any]:
    """The approval-relevant content of a contract now: its fields and the version
    number of each main document ({document id: last version number})."""
    from qiyue.documents.models import Document, DocumentKind

    fields = {}
    for name in SNAPSHOT_FIELDS:
        if name == "counterparty":
            fields[name] = contract.counterparty_id
        else:
            fields[name] = _plain(getattr(contract, name))
    main = dict(
        Document.objects.filter(contract_id=contract.pk, kind=DocumentKind.MAIN).values_list(
            "pk", "last_number"
        )
    )
    return {"fields": fields, "main": {str(k): v for k, v in sorted(main.items())}}


def _gated(snapshot: dict[str, Any]) -> tuple[Any, ...]:
    fields = snapshot.get("fields") or {}
    return (*(fields.get(n) for n in GATED_FIELDS), snapshot.get("main") or {})


def latest_instance(contract: Any) -> ApprovalInstance | None:
    return ApprovalInstance.objects.filter(contract_id=contract.pk).order_by("-round").first()


def signing_blocker(
    contract: Any, *, instances: list[ApprovalInstance] | None = None
) -> str | None:
    """Why ``contract`` may not go to signing or active now, or None: its latest
    approval must have completed, and nothing approved may have changed since.
    ``instances`` are its rounds newest first (:func:`instances_of`) when already read."""
    latest = latest_instance(contract) if instances is None else next(iter(instances), None)
    if latest is None or latest.state != InstanceState.APPROVED:
        return _("The contract needs a completed approval before signing.")
    approved = latest.snapshot.get("approved")
    if approved is None or _gated(approved) != _gated(content_snapshot(contract)):
        return _(
            "The contract changed after its approval (amount, customer or main document); "
            "it must be approved again before signing."
        )
    return None


def inbox_for(user: Any, *, state: str = TaskState.OPEN) -> QuerySet[ApprovalTask]:
    """The user's tasks (open ones by default), oldest due first. A task no longer open
    is listed only while the user may see its contract: the access a task gives ends
    with it (as on the task page)."""
    from qiyue.contracts.models import Contract

    qs = ApprovalTask.objects.filter(assignee=user.pk)
    if state != "all":
        qs = qs.filter(state=state)
    if state != TaskState.OPEN:
        visible = Contract.objects.visible_to(user, "view").values("pk")
        qs = qs.filter(Q(state=TaskState.OPEN) | Q(contract__in=visible))
    return qs.select_related("step", "contract__counterparty", "instance__submitted_by").order_by(
        "due_at", "id"
    )


def may_withdraw(user: Any, instance: ApprovalInstance, contract: Any) -> bool:
    """Whether ``user`` may take the pending ``instance`` back: its submitter or the
    contract's owner."""
    return user.pk in {instance.submitted_by_id, contract.owner_id}


def not_delegable(user: Any, instance: ApprovalInstance, contract: Any) -> set[int]:
    """Ids of those ``user`` may not hand a task of ``instance`` to: themselves, the
    submitter and the contract's owner (who never approve their own contract)."""
    return {user.pk, instance.submitted_by_id, contract.owner_id}


def delegates_for(user: Any, instance: ApprovalInstance, contract: Any) -> QuerySet[Any]:
    """The colleagues ``user`` may hand a task of ``instance`` to."""
    return active_users().exclude(pk__in=not_delegable(user, instance, contract))


def may_see_contract(user: Any, contract_id: int) -> bool:
    from qiyue.contracts.models import Contract

    return Contract.objects.visible_to(user, "view").filter(pk=contract_id).exists()


def task_for(user: Any, pk: int) -> ApprovalTask:
    """A task the user may open: their own open task, or any task of a contract they
    may see. Anything else is 404."""
    task = (
        ApprovalTask.objects.select_related(
            "step",
            "assignee",
            "instance__submitted_by",
            "instance__workflow_version",
            "contract__counterparty",
            "contract__contract_type",
            "contract__owner",
            "contract__department",
        )
        .filter(pk=pk)
        .first()
    )
    if task is None:
        raise Http404
    if task.assignee_id == user.pk and task.state == TaskState.OPEN:
        return task
    if may_see_contract(user, task.contract_id):
        return task
    raise Http404


def approver_may_see(user: Any, contract_id: int) -> bool:
    """Whether ``user`` has an open task on the contract (access through the task)."""
    return ApprovalTask.objects.filter(
        assignee=user.pk, contract_id=contract_id, state=TaskState.OPEN
    ).exists()


def instances_of(contract: Any) -> list[ApprovalInstance]:
    """The contract's approval rounds, newest first, with steps, tasks and comments."""
    return list(
        ApprovalInstance.objects.filter(contract_id=contract.pk)
        .select_related("submitted_by", "workflow_version")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=InstanceStep.objects.order_by("id").prefetch_related(
                    Prefetch(
                        "tasks",
                        queryset=ApprovalTask.objects.select_related("assignee").order_by("id"),
                    )
                ),
            ),
            Prefetch(
                "comments",
                queryset=ApprovalComment.objects.select_related(
                    "author", "document_version"
                ).order_by("id"),
            ),
        )
        .order_by("-round")
    )


def diff_since_last_round(
    instance: ApprovalInstance, *, instances: list[ApprovalInstance] | None = None
) -> list[tuple[str, Any, Any]]:
    """(field, before, after) of what changed since the previous round's snapshot,
    including main-document versions; empty for the first round. ``instances`` are the
    contract's rounds newest first (:func:`instances_of`) when already read."""
    if instances is None:
        previous = (
            ApprovalInstance.objects.filter(
                contract_id=instance.contract_id, round__lt=instance.round
            )
            .order_by("-round")
            .first()
        )
    else:
        previous = next((i for i in instances if i.round < instance.round), None)
    if previous is None:
        return []
    before, after = previous.snapshot, instance.snapshot
    out: list[tuple[str, Any, Any]] = []
    from django.utils.text import capfirst

    from qiyue.contracts.models import Contract
    from qiyue.parties.models import Party

    bf, af = before.get("fields") or {}, after.get("fields") or {}
    for name in SNAPSHOT_FIELDS:
        old, new = bf.get(name), af.get(name)
        if old == new:
            continue
        if name == "counterparty":
            names: dict[Any, str] = dict(
                Party.objects.filter(pk__in=[old, new]).values_list("pk", "name")
            )
            old, new = names.get(old, old), names.get(new, new)
        label = str(capfirst(getattr(Contract._meta.get_field(name), "verbose_name", name)))
        out.append((label, old, new))
    bm, am = before.get("main") or {}, after.get("main") or {}
    for doc in sorted(set(bm) | set(am)):
        if bm.get(doc) != am.get(doc):
            label = _("Main text (version)")
            out.append((label, bm.get(doc), am.get(doc)))
    return out


def return_targets(instance: ApprovalInstance, step: InstanceStep) -> list[InstanceStep]:
    """The earlier steps of ``instance`` an approver of ``step`` may return it to, each
    index once (a step run again has several rows), skipped ones left out. Reads the
    instance's prefetched steps (:func:`instances_of`)."""
    targets: dict[int, InstanceStep] = {}
    for earlier in instance.steps.all():
        if earlier.index < step.index and earlier.state != StepState.SKIPPED:
            targets.setdefault(earlier.index, earlier)
    return list(targets.values())


def workflows() -> QuerySet[Workflow]:
    return Workflow.objects.order_by("is_default", "priority", "id")


def workflow_for(user: Any, pk: int) -> Workflow:
    """A workflow for an administrator; 404 for anyone else or an unknown id."""
    if not user.has_perm_code("admin"):
        raise Http404
    found = Workflow.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def versions_of(workflow: Workflow) -> QuerySet[WorkflowVersion]:
    return workflow.versions.select_related("created_by").order_by("-number")


def overdue_tasks(now: Any) -> QuerySet[ApprovalTask]:
    """Open tasks past due that still owe a reminder or an escalation."""
    return (
        ApprovalTask.objects.filter(state=TaskState.OPEN, due_at__lt=now)
        .filter(Q(reminded_at__isnull=True) | Q(escalated_at__isnull=True))
        .select_related("assignee__department__head", "contract", "step")
        .order_by("id")
    )


def task_documents(task: ApprovalTask) -> list[Any]:
    """The documents of a task's contract, each with ``latest`` set (for the approver,
    who may see them through the task); two queries."""
    from qiyue.documents.queries import contract_documents

    return contract_documents(task.contract_id)


def task_version(task: ApprovalTask, version_pk: int) -> Any:
    """A document version of the task's contract, or 404."""
    from qiyue.documents.models import DocumentVersion

    version = (
        DocumentVersion.objects.filter(pk=version_pk, document__contract_id=task.contract_id)
        .select_related("document__contract", "blob", "uploaded_by")
        .first()
    )
    if version is None:
        raise Http404
    return version


def instance_for(user: Any, pk: int) -> ApprovalInstance:
    """An instance whose contract the user may see or has an open task on; else 404."""
    instance = ApprovalInstance.objects.select_related("contract").filter(pk=pk).first()
    if instance is None:
        raise Http404
    if approver_may_see(user, instance.contract_id) or may_see_contract(user, instance.contract_id):
        return instance
    raise Http404


def task_as_decided(pk: int) -> ApprovalTask:
    """A task just decided by its approver, for the answer to that decision."""
    return ApprovalTask.objects.select_related(
        "step", "contract", "assignee", "instance__submitted_by"
    ).get(pk=pk)
