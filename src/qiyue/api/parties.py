"""Customers (客户) over REST: list, read, create and edit."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router

from qiyue.api.auth import current_user
from qiyue.api.errors import forbidden, invalid
from qiyue.api.etags import etag_of, require_if_match
from qiyue.api.pagination import check_page_size, check_params, decode_cursor, next_link
from qiyue.api.schemas import (
    COMMON_ERRORS,
    IF_MATCH_DESCRIPTION,
    MAX_ID,
    Error,
    PartyCreate,
    PartyDetailOut,
    PartyListParams,
    PartyPage,
    PartyPatch,
)
from qiyue.api.serializers import contact_data, party_data
from qiyue.parties import actions, queries
from qiyue.parties.models import Party

router = Router(tags=["customers"])

ERRORS = COMMON_ERRORS
PartyId = Path(..., ge=1, le=MAX_ID, description="Customer id.")
IfMatch = Header(None, alias="If-Match", description=IF_MATCH_DESCRIPTION)


def _detail(response: HttpResponse, party: Party) -> dict[str, Any]:
    response["ETag"] = etag_of(party.pk, party.version)
    data = party_data(party)
    data["contacts"] = [contact_data(c) for c in queries.contacts_of(party)]
    return data


@router.get("/parties", response={200: PartyPage, **ERRORS}, summary="List customers")
def list_parties(request: HttpRequest, params: Query[PartyListParams]) -> dict[str, Any]:
    """Newest first; `next` is the path of the following page."""
    user = current_user(request)
    check_params(request)
    size = check_page_size(params.page_size)
    after = decode_cursor(params.cursor)
    status = (params.status or "").strip()
    if status and status not in Party.Status.values:
        raise invalid({"status": _("Unknown status.")})
    qs = queries.parties_for(user, q=(params.q or "").strip()[:200], status=status)
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return {
        "items": [party_data(p) for p in rows],
        "next": next_link(request, last_id=rows[-1].pk if rows else None, has_more=more),
    }


@router.post("/parties", response={201: PartyDetailOut, **ERRORS}, summary="Create a customer")
def create_party(
    request: HttpRequest, response: HttpResponse, payload: PartyCreate
) -> tuple[int, dict[str, Any]]:
    """Refused when the credit code or the (normalised) name already exists."""
    user = current_user(request)
    if not user.has_perm_code("party.create"):
        # PartyError carries no reason code; ask first so a refusal is a 403, not a 400.
        raise forbidden(_("You may not create customers."))
    party = actions.create_party(actor=user, data=payload.dict(exclude_unset=True))
    party = queries.party_for(user, party.pk)
    response["Location"] = reverse("api:get_party", kwargs={"id": party.pk})
    return 201, _detail(response, party)


@router.get("/parties/{id}", response={200: PartyDetailOut, **ERRORS}, summary="Read a customer")
def get_party(request: HttpRequest, response: HttpResponse, id: int = PartyId) -> dict[str, Any]:
    """With its contacts. The `ETag` header is what PATCH needs in `If-Match`."""
    user = current_user(request)
    return _detail(response, queries.party_for(user, id))


@router.patch(
    "/parties/{id}",
    response={200: PartyDetailOut, 412: Error, 428: Error, **ERRORS},
    summary="Change a customer",
)
def patch_party(
    request: HttpRequest,
    response: HttpResponse,
    payload: PartyPatch,
    id: int = PartyId,
    if_match: str | None = IfMatch,
) -> dict[str, Any]:
    """Send only the fields to change, with `If-Match: <ETag>` from the last read."""
    user = current_user(request)
    party = queries.party_for(user, id)
    try:
        queries.party_for(user, id, "change")
    except Http404:
        raise forbidden(_("You may not edit this customer.")) from None
    require_if_match(if_match, etag_of(party.pk, party.version))
    actions.update_party(
        actor=user, party=party, data=payload.dict(exclude_unset=True), version=party.version
    )
    return _detail(response, queries.party_for(user, id))
