"""Keyset pagination: newest id first, an opaque cursor, and a ``next`` link that keeps
the caller's filters. A page costs the same queries whatever its size and position."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from qiyue.api.errors import invalid
from qiyue.api.schemas import MAX_ID

CURSOR_PREFIX = "id:"


def encode_cursor(last_id: int) -> str:
    raw = f"{CURSOR_PREFIX}{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a page continues after; a cursor that was not ours is a 400."""
    if not cursor:
        return None
    bad = invalid({"cursor": _("Invalid cursor; use the next link of the previous page.")})
    if len(cursor) > 40:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise bad from None
    number = raw.removeprefix(CURSOR_PREFIX)
    if not raw.startswith(CURSOR_PREFIX) or not (number.isascii() and number.isdigit()):
        raise bad
    value = int(number)
    if not 1 <= value <= MAX_ID:
        raise bad
    return value


def check_page_size(page_size: int) -> int:
    limit = int(settings.API_PAGE_SIZE_MAX)
    if not 1 <= page_size <= limit:
        raise invalid({"page_size": _("Enter a page size between 1 and %(max)d.") % {"max": limit}})
    return page_size


def check_params(request: HttpRequest) -> None:
    """Refuse NUL characters in the query string before they reach the database."""
    bad = sorted(
        {key for key, values in request.GET.lists() for v in values if "\x00" in key + str(v)}
    )
    if bad:
        raise invalid({key.replace("\x00", ""): _("Enter a valid value.") for key in bad})


def next_link(request: HttpRequest, *, last_id: int | None, has_more: bool) -> str | None:
    """The path of the next page: the same query with the cursor moved on."""
    if not has_more or last_id is None:
        return None
    params = [(k, v) for k, values in request.GET.lists() if k != "cursor" for v in values]
    params.append(("cursor", encode_cursor(last_id)))
    return f"{request.path}?{urlencode(params)}"


def keyset_page(
    request: HttpRequest,
    qs: QuerySet[Any],
    *,
    page_size: int,
    cursor: str | None,
    render: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """``{"items", "next"}``: ``page_size`` rows of ``qs`` after the cursor, newest id
    first, each through ``render``; one query whatever the page's size and position."""
    check_params(request)
    size = check_page_size(page_size)
    after = decode_cursor(cursor)
    qs = qs.order_by("-id")
    if after is not None:
        qs = qs.filter(id__lt=after)
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return {
        "items": [render(r) for r in rows],
        "next": next_link(request, last_id=rows[-1].pk if rows else None, has_more=more),
    }
