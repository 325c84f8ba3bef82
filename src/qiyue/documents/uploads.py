"""The upload size limit, enforced while the request body streams in.

:class:`LimitedUploadHandler` runs before Django's own handlers (``FILE_UPLOAD_HANDLERS``)
and stops a file upload as soon as one file passes ``settings.UPLOAD_MAX_BYTES``: the rest
of the body is read and discarded without being stored, the partial temporary file is
removed, the file is missing from ``request.FILES`` and :func:`upload_too_large` says why.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

FLAG = "_qiyue_upload_too_large"


class LimitedUploadHandler(FileUploadHandler):
    """Counts the bytes of each uploaded file and stops the upload past the limit."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            if self.request is not None:
                setattr(self.request, FLAG, True)
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def upload_too_large(request: HttpRequest) -> bool:
    """Whether a file of this request was cut off by the size limit (parses the body)."""
    if request.method in ("POST", "PUT", "PATCH"):
        request.FILES  # noqa: B018 - parsing the body runs the upload handlers
    return bool(getattr(request, FLAG, False))
