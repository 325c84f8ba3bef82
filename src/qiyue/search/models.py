"""Search keeps its index in tables of its own (see ``backends``); the one model here is
the progress of a full rebuild, so a crashed ``qiyue search reindex`` resumes."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IndexRebuild(models.Model):
    """A full rebuild of the search index into the shadow tables: the last contract id
    done, so it resumes after a crash. While it runs, every index update is written to
    both the live and the shadow index; the row is deleted when the shadow is swapped in."""

    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    last_contract_id = models.BigIntegerField(_("last contract indexed"), default=0)
    done = models.PositiveIntegerField(_("contracts indexed"), default=0)

    class Meta:
        verbose_name = _("search index rebuild")
        verbose_name_plural = _("search index rebuilds")

    def __str__(self) -> str:
        return f"rebuild from {self.started_at:%Y-%m-%d %H:%M} at contract {self.last_contract_id}"
