"""Reminder rules, one-off reminders, the occurrences the scheduler sent, webhook
endpoints and each user's reminder settings.

An :class:`Occurrence` is one reminder about one deadline at one stage (e.g. "30 days
before the expiry of contract 42 due 2027-03-31"); its ``key`` is unique, so the
scheduler can run any number of times for a day and each reminder exists once."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_OFFSET_DAYS = 366
MAX_ESCALATION_DAYS = 60


class DeadlineKind(models.TextChoices):
    CONTRACT_EXPIRY = "contract.expiry", _("Contract expiry")
    CONTRACT_CANCEL_BY = "contract.cancel_by", _("Cancel-by date before automatic renewal")
    INSTALMENT_DUE = "instalment.due", _("Instalment due")
    INSTALMENT_OVERDUE = "instalment.overdue", _("Instalment overdue")
    INVOICE_TO_ISSUE = "invoice.to_issue", _("Invoice to issue")
    OBLIGATION_DUE = "obligation.due", _("Obligation due")
    APPROVAL_OVERDUE = "approval.overdue", _("Approval task overdue")
    ONE_OFF = "reminder.one_off", _("One-off reminder")


def kind_label(kind: str) -> Any:
    try:
        return DeadlineKind(kind).label
    except ValueError:
        return kind


def new_token() -> str:
    return secrets.token_urlsafe(32)


class ReminderRule(models.Model):
    """When to remind about which deadlines of one contract type (or of every type when
    no type is set: the default rule). Offsets are calendar days before the deadline;
    reminders always appear in-app (the bell), optionally also by e-mail and webhook."""

    name = models.CharField(_("name"), max_length=100)
    contract_type = models.ForeignKey(
        "contracts.ContractType",
        verbose_name=_("contract type"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminder_rules",
        help_text=_("Empty: the default rule for every type without a rule of its own."),
    )
    kinds = models.JSONField(_("deadlines"), default=list)
    offsets = models.JSONField(_("days before"), default=list)
    on_the_day = models.BooleanField(_("on the day"), default=True)
    overdue = models.BooleanField(_("the day after, if overdue"), default=False)
    by_email = models.BooleanField(_("by e-mail"), default=True)
    by_webhook = models.BooleanField(_("by webhook"), default=False)
    escalate_after_days = models.PositiveIntegerField(
        _("escalate after (working days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ESCALATION_DAYS)],
        help_text=_("Notify the owner's department head when not acknowledged in time."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["contract_type__sort_order", "contract_type__code", "id"]

    def __str__(self) -> str:
        return self.name

    def stages(self) -> list[int]:
        """Days before the deadline at which to remind, latest stage last (0 = on the
        day, -1 = the day after when overdue)."""
        days = {int(n) for n in self.offsets if int(n) > 0}
        if self.on_the_day:
            days.add(0)
        if self.overdue:
            days.add(-1)
        return sorted(days, reverse=True)


class OneOffReminder(models.Model):
    """A reminder a user set on a contract for one date ("call the customer about the
    price review")."""

    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        related_name="one_off_reminders",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="one_off_reminders",
    )
    day = models.DateField(_("date"))
    text = models.CharField(_("text"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("one-off reminder")
        verbose_name_plural = _("one-off reminders")
        ordering = ["day", "id"]
        indexes = [models.Index(fields=["day"], name="oneoff_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.text}"


class Occurrence(models.Model):
    """One reminder sent (or due to be sent in a digest) about one deadline at one stage.
    ``key`` = rule/kind/object/offset/due date: unique, which makes sending exactly-once."""

    key = models.CharField(max_length=200, unique=True)
    rule = models.ForeignKey(
        ReminderRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="reminder_occurrences",
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("deadline"), max_length=40)
    object_key = models.CharField(max_length=80)
    due = models.DateField(_("due on"))
    offset = models.IntegerField(_("days before"))
    day = models.DateField(_("reminder day"), db_index=True)
    title = models.CharField(_("title"), max_length=300)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    digest = models.BooleanField(default=False)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalate_after_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-day", "-id"]
        indexes = [
            models.Index(fields=["user", "-day"], name="occurrence_user_day"),
            models.Index(fields=["acknowledged_at", "escalated_at"], name="occurrence_open"),
        ]

    def __str__(self) -> str:
        return self.key


class SchedulerRun(models.Model):
    """One completed scheduler run for a day; the next run catches up from the last one."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reminder run")
        verbose_name_plural = _("reminder runs")
        ordering = ["-day"]

    def __str__(self) -> str:
        return str(self.day)


class ReminderSettings(models.Model):
    """A user's reminder preferences: one daily digest instead of one notification per
    reminder, and the secret token of their calendar (iCal) feed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_settings"
    )
    daily_digest = models.BooleanField(_("daily digest"), default=False)
    calendar_token = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("reminder settings")
        verbose_name_plural = _("reminder settings")

    def __str__(self) -> str:
        return str(self.user_id)


class WebhookEndpoint(models.Model):
    """An outside system told about every reminder sent by a rule with the webhook
    channel: a JSON POST signed with HMAC-SHA256 of the body under ``secret``."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=100, default=new_token)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One reminder to post to one endpoint; delivered by a job with retries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "occurrence"], name="delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint_id}:{self.occurrence_id}"
