"""Documents. For now the encrypted blob store underneath them (see ``blobs.py``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Blob(models.Model):
    """The stored bytes of one file — a contract's text, an attachment, a signed scan —
    identified by the SHA-256 of its content. Immutable and shared: uploading the same
    bytes twice (another version, another contract) reuses the same blob. The bytes are
    kept only encrypted, under ``storage_name`` in the documents storage, with their own
    data key; ``wrapped_key`` is that data key encrypted by the master key ``key_id``.
    Without the master key nobody can read the blob; without ``wrapped_key`` nobody ever
    can again (crypto-shredding on disposal)."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    size = models.BigIntegerField(_("size (bytes)"))
    storage_name = models.CharField(_("storage name"), max_length=255, unique=True)
    key_id = models.CharField(_("master key id"), max_length=32, db_index=True)
    wrapped_key = models.BinaryField(_("wrapped data key"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("blob")
        verbose_name_plural = _("blobs")

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size} B)"
