"""Approval workflows (审批流程): definitions, their immutable versions, the instances
that run one version for one contract, their steps and the tasks of each approver.

A definition is JSON (``definitions.py`` checks it): conditions that pick the contracts it
applies to and ordered steps, each with approvers, a quorum, an SLA in working days and
an optional condition. Every save of a workflow writes a new :class:`WorkflowVersion`;
an instance keeps the version it started with, so a change never alters running ones."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Workflow(models.Model):
    """A named approval route, e.g. 销售合同审批: which contracts it applies to and who
    approves them, in which order. The first active workflow by ``priority`` (lowest
    first) whose conditions match a contract wins; the default one matches anything."""

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveIntegerField(_("priority"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(_("default workflow"), default=False)
    definition = models.JSONField(_("definition"), default=dict)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("approval workflow")
        verbose_name_plural = _("approval workflows")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    """One saved state of a workflow's definition; never changed afterwards."""

    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=100)
    definition = models.JSONField(_("definition"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("workflow version")
        verbose_name_plural = _("workflow versions")
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="workflow_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class InstanceState(models.TextChoices):
    PENDING = "pending", _("In progress")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for revision")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REOPENED = "reopened", _("Superseded by a change")


class ApprovalInstance(models.Model):
    """One approval round of one contract: started by a submission, running one
    workflow version step by step until it is approved, rejected, returned or withdrawn.
    ``snapshot`` holds the contract's approval-relevant content at the start (amount,
    currency, customer, main document versions) for the diff of the next round and the
    signing gate."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="approval_instances"
    )
    workflow_version = models.ForeignKey(
        WorkflowVersion, on_delete=models.PROTECT, related_name="instances"
    )
    round = models.PositiveIntegerField(_("round"), default=1)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=InstanceState.choices,
        default=InstanceState.PENDING,
        db_index=True,
    )
    current_step = models.PositiveIntegerField(_("current step"), default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    snapshot = models.JSONField(default=dict)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome_comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("approval instance")
        verbose_name_plural = _("approval instances")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "round"], name="approval_round_unique"),
            # At most one running instance per contract, whatever races.
            models.UniqueConstraint(
                fields=["contract"],
                condition=models.Q(state="pending"),
                name="approval_one_pending_per_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} #{self.round}"


class StepState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    ACTIVE = "active", _("In progress")
    APPROVED = "approved", _("Approved")
    SKIPPED = "skipped", _("Skipped")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")


class Quorum(models.TextChoices):
    ALL = "all", _("All approvers")
    ANY = "any", _("Any one approver")
    N = "n", _("N of the approvers")


class InstanceStep(models.Model):
    """One step of an instance as the version defined it. A step returned to runs
    again as a new row with the same ``index``."""

    instance = models.ForeignKey(ApprovalInstance, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    name = models.CharField(_("step"), max_length=100)
    quorum = models.CharField(_("quorum"), max_length=5, choices=Quorum.choices)
    needed = models.PositiveIntegerField(default=1)
    sla_days = models.PositiveIntegerField(_("SLA (working days)"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=StepState.choices, default=StepState.WAITING
    )
    note = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class TaskState(models.TextChoices):
    OPEN = "open", _("Waiting for decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned")
    DELEGATED = "delegated", _("Delegated")
    CANCELLED = "cancelled", _("No longer needed")


class ApprovalTask(models.Model):
    """The decision one approver owes one step (我的待办 while open). The decision is
    taken with a compare-and-set on ``state``: of two concurrent decisions one wins."""

    instance = models.ForeignKey(ApprovalInstance, on_delete=models.CASCADE, related_name="tasks")
    step = models.ForeignKey(InstanceStep, on_delete=models.CASCADE, related_name="tasks")
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="approval_tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.PROTECT,
        related_name="approval_tasks",
    )
    reason = models.CharField(max_length=100, blank=True)  # why this approver (role, head…)
    state = models.CharField(
        _("state"), max_length=20, choices=TaskState.choices, default=TaskState.OPEN
    )
    delegated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("approval task")
        verbose_name_plural = _("approval tasks")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["assignee", "state"], name="approval_task_inbox"),
            models.Index(fields=["state", "due_at"], name="approval_task_due"),
        ]

    def __str__(self) -> str:
        return f"{self.step_id} → {self.assignee_id}"


class ApprovalComment(models.Model):
    """A remark (or an attached document version) on an instance, by its submitter or
    one of its approvers."""

    instance = models.ForeignKey(
        ApprovalInstance, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("comment"), max_length=2000)
    document_version = models.ForeignKey(
        "documents.DocumentVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text[:40]
