"""Contracts over REST: list, read, create, edit and move through the lifecycle.

Thin: parse, call the queries and actions of ``qiyue.contracts``, render. A contract the
caller may not see answers 404 on every route, whatever the method."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router

from qiyue.accounts.models import User
from qiyue.api.auth import current_user
from qiyue.api.errors import forbidden
from qiyue.api.etags import check_if_match, require_if_match
from qiyue.api.pagination import check_page_size, check_params, decode_cursor, next_link
from qiyue.api.rendering import render_json
from qiyue.api.schemas import (
    COMMON_ERRORS,
    IF_MATCH_DESCRIPTION,
    MAX_ID,
    ContractCreate,
    ContractDetailOut,
    ContractListParams,
    ContractPage,
    ContractPatch,
    ContractTypeList,
    Error,
    TransitionIn,
)
from qiyue.api.serializers import contract_data, contract_rows_data, type_ref
from qiyue.contracts import actions, queries
from qiyue.contracts.models import Contract

router = Router(tags=["contracts"])

ERRORS = COMMON_ERRORS
ContractId = Path(..., ge=1, le=MAX_ID, description="Contract id.")
IfMatch = Header(None, alias="If-Match", description=IF_MATCH_DESCRIPTION)


def detail_data(user: User, contract: Contract) -> dict[str, Any]:
    data = contract_data(contract)
    targets: list[str] = []
    for t in queries.available_transitions(user, contract):
        if str(t.target) not in targets:
            targets.append(str(t.target))
    data["transitions"] = targets
    return data


def _respond(response: HttpResponse, user: User, pk: int) -> dict[str, Any]:
    """The contract as the caller now sees it, with its ETag and location."""
    contract = queries.contract_for(user, pk)
    response["ETag"] = contract.etag
    response["Location"] = reverse("api:get_contract", kwargs={"id": contract.pk})
    return detail_data(user, contract)


@router.get("/contracts", response={200: ContractPage, **ERRORS}, summary="List contracts")
def list_contracts(request: HttpRequest, params: Query[ContractListParams]) -> HttpResponse:
    """Newest first. Filters combine; `next` is the path of the following page."""
    user = current_user(request)
    check_params(request)
    size = check_page_size(params.page_size)
    after = decode_cursor(params.cursor)
    filters = queries.parse_filters(request.GET, user=user)
    names, rows, more = queries.contract_values_page_after(user, filters, after_id=after, size=size)
    items = contract_rows_data(names, rows)
    page = {
        "items": items,
        "next": next_link(request, last_id=items[-1]["id"] if items else None, has_more=more),
    }
    # Rendered here rather than validated against ContractPage on the way out: the rows
    # come from one fixed column list (tests compare them with the validated detail), and
    # re-validating fifty nested items was a third of the request.
    return render_json(request, page)


@router.post(
    "/contracts",
    response={201: ContractDetailOut, **ERRORS},
    summary="Create a contract",
)
def create_contract(
    request: HttpRequest, response: HttpResponse, payload: ContractCreate
) -> tuple[int, dict[str, Any]]:
    """A new draft, numbered by its type's rule. Answers the contract and its ETag."""
    user = current_user(request)
    contract = actions.create_contract(actor=user, data=payload.dict(exclude_unset=True))
    return 201, _respond(response, user, contract.pk)


@router.get(
    "/contracts/{id}",
    response={200: ContractDetailOut, **ERRORS},
    summary="Read a contract",
)
def get_contract(
    request: HttpRequest, response: HttpResponse, id: int = ContractId
) -> dict[str, Any]:
    """With `transitions`: the states the caller may move it to now. The `ETag` header
    is what PATCH needs in `If-Match`."""
    user = current_user(request)
    contract = queries.contract_for(user, id)
    response["ETag"] = contract.etag
    return detail_data(user, contract)


@router.patch(
    "/contracts/{id}",
    response={200: ContractDetailOut, 412: Error, 428: Error, 409: Error, **ERRORS},
    summary="Change a contract",
)
def patch_contract(
    request: HttpRequest,
    response: HttpResponse,
    payload: ContractPatch,
    id: int = ContractId,
    if_match: str | None = IfMatch,
) -> dict[str, Any]:
    """Send only the fields to change, with `If-Match: <ETag>` from the last read.
    Most fields are fixed once the contract left draft; notes, tags and
    confidentiality stay editable."""
    user = current_user(request)
    contract = queries.contract_for(user, id)
    try:
        queries.contract_for(user, id, "change")
    except Http404:
        raise forbidden(_("You may not edit this contract.")) from None
    require_if_match(if_match, contract.etag)
    actions.update_contract(
        actor=user,
        contract=contract,
        data=payload.dict(exclude_unset=True),
        version=contract.version,
    )
    return _respond(response, user, contract.pk)


@router.post(
    "/contracts/{id}/transitions",
    response={200: ContractDetailOut, 409: Error, 412: Error, **ERRORS},
    summary="Move a contract to another state",
)
def transition_contract(
    request: HttpRequest,
    response: HttpResponse,
    payload: TransitionIn,
    id: int = ContractId,
    if_match: str | None = IfMatch,
) -> dict[str, Any]:
    """`{"to": "approved"}`; `to` is one of the detail's `transitions`. Returning and
    terminating need a `comment`. With `If-Match`, a changed contract is refused (412)."""
    user = current_user(request)
    contract = queries.contract_for(user, id)
    check_if_match(if_match, contract.etag)
    actions.transition_contract(
        actor=user,
        contract=contract,
        to=payload.to,
        comment=payload.comment,
        signed_date=payload.signed_date,
        version=contract.version if (if_match or "").strip() else None,
    )
    return _respond(response, user, contract.pk)


@router.get(
    "/contract-types",
    response={200: ContractTypeList, 401: Error},
    summary="List contract types",
)
def list_contract_types(request: HttpRequest) -> dict[str, Any]:
    """The active types; `id` is what a contract's `contract_type` takes."""
    current_user(request)
    return {"items": [type_ref(t) for t in queries.contract_types()], "next": None}
