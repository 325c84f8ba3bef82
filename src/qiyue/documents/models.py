"""Documents of contracts, their versions, and the encrypted blob store underneath them
(see ``blobs.py``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from qiyue.documents.extract import reason_message
from qiyue.documents.sniff import KINDS, FileKind, Kind


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


class DocumentKind(models.TextChoices):
    """What a document is to its contract."""

    MAIN = "main", _("Main text")
    ATTACHMENT = "attachment", _("Attachment")
    SIGNED_SCAN = "signed_scan", _("Signed scan")
    AMENDMENT = "amendment", _("Amendment")
    OTHER = "other", _("Other")


class TextStatus(models.TextChoices):
    """Where the text extraction of a version stands (see ``actions.extract_version``)."""

    PENDING = "pending", _("Text not extracted yet")
    OK = "ok", _("Text extracted")
    EMPTY = "empty", _("No text in the file")
    FAILED = "failed", _("Text extraction failed")
    OCR_UNAVAILABLE = "ocr_unavailable", _("Text not extracted: OCR unavailable")


class Document(models.Model):
    """One document of a contract — its main text, an attachment, the signed scan, an
    amendment — as a series of versions (:class:`DocumentVersion`), newest last. The
    title is the display name of the first upload; the bytes live in the versions'
    blobs. Documents are never deleted (``PROTECT``): the contract's file is its history.
    ``last_number`` is the number of the newest version, advanced with a compare-and-set
    ``UPDATE`` so concurrent uploads get distinct numbers."""

    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="documents",
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=DocumentKind.choices, default=DocumentKind.MAIN
    )
    title = models.CharField(_("title"), max_length=255)
    last_number = models.PositiveIntegerField(_("latest version number"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["contract", "id"]

    def __str__(self) -> str:
        return self.title


class DocumentVersion(models.Model):
    """One uploaded file of a document: who uploaded it, when, why (``note``), and its
    bytes as an encrypted :class:`Blob` (shared with any other upload of the same bytes).

    The file's type was decided from its bytes at upload (``extension`` and ``mime`` are
    the canonical ones of that type, not the uploader's); ``display_name`` is the
    uploader's file name made harmless by ``sniff.safe_display_name`` — metadata shown
    escaped, never used as a path. The extracted text is kept encrypted too, as a blob of
    JSON ``{"pages": [{"number", "text", "method"}], "method": ...}`` in ``text_blob``;
    ``text_status`` says whether that happened (``pending`` until the background job
    ran), ``text_reason_code`` why not or why only partly (``extract.REASONS``)."""

    document = models.ForeignKey(
        Document, verbose_name=_("document"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    blob = models.ForeignKey(
        Blob, verbose_name=_("file"), on_delete=models.PROTECT, related_name="versions"
    )
    display_name = models.CharField(_("file name"), max_length=255)
    extension = models.CharField(_("extension"), max_length=16)
    mime = models.CharField(_("MIME type"), max_length=100)
    size = models.BigIntegerField(_("size (bytes)"))
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    text_status = models.CharField(
        _("text"), max_length=20, choices=TextStatus.choices, default=TextStatus.PENDING
    )
    text_blob = models.ForeignKey(
        Blob,
        verbose_name=_("extracted text"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    text_method = models.CharField(_("extraction method"), max_length=20, blank=True)
    text_reason_code = models.CharField(_("extraction note"), max_length=40, blank=True)
    text_chars = models.PositiveIntegerField(_("characters of text"), default=0)
    extracted_at = models.DateTimeField(_("text extracted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="document_version_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} v{self.number}"

    @property
    def sha256(self) -> str:
        """The SHA-256 of the file's bytes (its blob's)."""
        return self.blob.sha256

    @property
    def file_kind(self) -> FileKind:
        """The sniffed type of the file, from its canonical extension."""
        for kind in KINDS.values():
            if kind.extension == self.extension:
                return kind
        return KINDS[Kind.TEXT]

    @property
    def can_preview(self) -> bool:
        """Whether pages of this version can be rendered in the browser (PDF, images)."""
        return self.file_kind.can_preview

    @property
    def text_reason(self) -> str:
        """Why the text was not (or only partly) extracted, in the active language."""
        if not self.text_reason_code:
            return ""
        return gettext(reason_message(self.text_reason_code))
