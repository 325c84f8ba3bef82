"""Compliance rules (合规规则), the blocklist of counterparties, and what checking a
contract against them found: findings and the contract's risk level."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


#: Severity (and risk level) order, lowest first.
SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


class RuleKind(models.TextChoices):
    REQUIRED_CLAUSE = "required_clause", _("Required clause present")
    PROHIBITED_TERM = "prohibited_term", _("Prohibited term")
    AMOUNT_LIMIT = "amount_limit", _("Amount above a limit needs an approver")
    PAYMENT_DAYS = "payment_days", _("Payment terms longer than N days")
    REQUIRED_FIELDS = "required_fields", _("Required fields filled in")
    BLOCKLIST = "blocklist", _("Counterparty on the blocklist")
    CREDIT_CODE = "credit_code", _("Counterparty's credit code valid")
    RENEWAL_NOTICE = "renewal_notice", _("Auto-renewal needs a notice period")
    CURRENCY = "currency", _("Currency in the allowed list")


class Rule(models.Model):
    """One compliance rule the company checks contracts against — for one contract type
    or all — and how grave a breach is. Which of the parameters count depends on the
    ``kind``; disabled rules are kept (their history stays readable) but not checked."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=RuleKind.choices)
    contract_type = models.ForeignKey(
        "contracts.ContractType",
        verbose_name=_("contract type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: every contract type."),
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    message = models.CharField(_("message"), max_length=300, blank=True)
    #: Keywords, one per line (required clause: any one present; prohibited: each found).
    keywords = models.TextField(_("keywords"), blank=True, max_length=2000)
    pattern = models.CharField(_("pattern (regular expression)"), max_length=300, blank=True)
    extracted_field = models.CharField(_("extracted field"), max_length=40, blank=True)
    #: Confidentiality levels the rule applies to (empty: all).
    confidentiality_levels = models.JSONField(
        _("only for confidentiality levels"), default=list, blank=True
    )
    amount_limit = models.DecimalField(
        _("amount limit"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    approver_role = models.CharField(_("approver role"), max_length=50, blank=True)
    max_days = models.PositiveIntegerField(_("maximum days"), null=True, blank=True)
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    allowed_currencies = models.JSONField(_("allowed currencies"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("compliance rule")
        verbose_name_plural = _("compliance rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.splitlines() if k.strip()]


class BlocklistEntry(models.Model):
    """A company the company does not contract with (黑名单), by name and/or unified
    social credit code, and why."""

    name = models.CharField(_("name"), max_length=200, blank=True)
    normalized_name = models.CharField(max_length=200, blank=True, db_index=True, editable=False)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, db_index=True
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("blocklist entry")
        verbose_name_plural = _("blocklist entries")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name or self.credit_code


class ContractRisk(models.Model):
    """The outcome of the last compliance check of a contract: its risk level (the
    gravest finding's severity, low when nothing was found) and whether legal has
    acknowledged a high risk. A new or changed high finding clears the acknowledgement."""

    contract = models.OneToOneField(
        "contracts.Contract",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="risk",
    )
    level = models.CharField(_("risk level"), max_length=10, choices=Severity.choices)
    computed_at = models.DateTimeField(_("checked at"), default=timezone.now)
    #: A digest of the high findings, to tell whether what legal acknowledged changed.
    high_digest = models.CharField(max_length=64, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract risk")
        verbose_name_plural = _("contract risks")

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.level}"

    @property
    def needs_acknowledgement(self) -> bool:
        return self.level == Severity.HIGH and self.acknowledged_at is None


class Finding(models.Model):
    """One breach of a rule found in a contract by the last check: how grave, what, and
    — when it comes from the text — the evidence with its span in the version's text
    (the pages joined by newlines)."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="findings"
    )
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="findings")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    #: What was found (a key of ``checks.MESSAGES``) and its details, rendered in the
    #: reader's language by :attr:`message`.
    code = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    evidence = models.CharField(_("evidence"), max_length=500, blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    page = models.PositiveIntegerField(null=True, blank=True)
    document_version = models.ForeignKey(
        "documents.DocumentVersion",
        verbose_name=_("document version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("found at"), default=timezone.now)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["contract", "id"]
        indexes = [models.Index(fields=["contract", "severity"])]

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        from qiyue.compliance.checks import finding_message

        return finding_message(self.code, self.params)
