"""Optimistic edits over HTTP: GET gives an ``ETag``, PATCH must send it back in
``If-Match``; a stale one is refused with 412 and nothing changes."""

from __future__ import annotations

from django.utils.translation import gettext as _

from qiyue.api.errors import ApiError


def etag_of(pk: int, version: int) -> str:
    return f'"{pk}-{version}"'


def _tags(header: str) -> list[str]:
    tags = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if part:
            tags.append(part)
    return tags


def stale() -> ApiError:
    return ApiError(
        412,
        "stale",
        _("Someone else changed this record meanwhile; fetch it again and reapply your change."),
    )


def require_if_match(header: str | None, current: str) -> None:
    """The edit may go ahead: ``If-Match`` names the current ETag. Missing → 428."""
    if not (header or "").strip():
        raise ApiError(
            428,
            "precondition_required",
            _(
                "Send the If-Match header with the ETag from your last GET of this record, "
                "so a change made meanwhile is not overwritten."
            ),
        )
    check_if_match(header, current)


def check_if_match(header: str | None, current: str) -> None:
    """If the caller sent ``If-Match``, it must name the current ETag."""
    header = (header or "").strip()
    if header and current not in _tags(header):
        raise stale()
