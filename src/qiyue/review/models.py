"""What key-term extraction proposes for a contract's record, and what people decided."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ProposalStatus(models.TextChoices):
    """Where a proposal stands: waiting for a person, taken (as is or changed), turned
    down, or replaced by the proposals of a newer version of the contract's text."""

    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    EDITED = "edited", _("Accepted with changes")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded by a newer version")


class ExtractionRun(models.Model):
    """The key-term extraction of one version of a contract's main text: done once per
    version (the background job is safe to run twice), with how many fields it proposed."""

    version = models.OneToOneField(
        "documents.DocumentVersion",
        verbose_name=_("document version"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    proposals = models.PositiveIntegerField(_("proposals"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("extraction run")
        verbose_name_plural = _("extraction runs")

    def __str__(self) -> str:
        return f"extraction of version {self.version_id}"


class Proposal(models.Model):
    """A value for one field of a contract's record, read from a version of its main text
    by the extractor: the value, how sure the rule was, and where in the text it stands
    (``start``/``end``, character offsets into the version's text; ``excerpt`` is the
    sentence around it, starting at offset ``excerpt_start``). A person accepts it (the
    record changes through the normal edit), accepts it changed (``final_value``) or
    rejects it; a newer version's proposals supersede older pending ones."""

    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="proposals",
    )
    version = models.ForeignKey(
        "documents.DocumentVersion",
        verbose_name=_("document version"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    field = models.CharField(_("field"), max_length=40)
    value = models.JSONField(_("proposed value"))
    confidence = models.FloatField(_("confidence"))
    start = models.PositiveIntegerField(_("span start"), default=0)
    end = models.PositiveIntegerField(_("span end"), default=0)
    excerpt = models.TextField(_("excerpt"), blank=True)
    excerpt_start = models.PositiveIntegerField(default=0)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ProposalStatus.choices,
        default=ProposalStatus.PENDING,
    )
    final_value = models.JSONField(_("accepted value"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["id"]
        indexes = [models.Index(fields=["contract", "status"], name="proposal_contract_status")]
        constraints = [
            models.UniqueConstraint(fields=["version", "field"], name="proposal_version_field"),
        ]

    def __str__(self) -> str:
        return f"{self.field} of contract {self.contract_id}"

    @property
    def has_span(self) -> bool:
        return self.end > self.start

    def excerpt_parts(self) -> tuple[str, str, str]:
        """The excerpt as (before, evidence, after); shown escaped, the evidence marked."""
        if not self.has_span or not self.excerpt:
            return self.excerpt, "", ""
        a = max(0, self.start - self.excerpt_start)
        b = max(a, self.end - self.excerpt_start)
        return self.excerpt[:a], self.excerpt[a:b], self.excerpt[b:]
