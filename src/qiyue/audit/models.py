"""The audit log: one append-only, hash-chained row per change and per read."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiyue.audit.triggers import MESSAGE


class AuditEvent(models.Model):
    """Something that happened: who did what to which record, with the values before
    and after. Written by every action in the same transaction as the change itself;
    never updated or deleted."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64)
    target_id = models.CharField(_("target id"), max_length=64)
    data = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # The chain (see ``audit.chain``): the previous event's hash, and this event's.
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["id"]
        indexes = [models.Index(fields=["target_type", "target_id", "id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action}"

    # The database refuses UPDATE and DELETE too (triggers, migration 0002); these
    # only fail earlier and more clearly for code that tries it through the model.
    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly(MESSAGE)
        if self.pk is None or not self.hash:
            # The id and the hash come from the head of the chain, under its lock.
            raise AppendOnly("audit events are written by qiyue.audit.actions.record()")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly(MESSAGE)


class AppendOnly(RuntimeError):
    """Something tried to change or delete an audit event."""
