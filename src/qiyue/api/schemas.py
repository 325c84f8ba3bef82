"""Request and response shapes of the REST API (they are also the OpenAPI document).

Request bodies forbid unknown fields, bound every id and string, and refuse NUL
characters (PostgreSQL cannot store them); the domain actions check the rest and
answer in the user's language.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator, BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr

MAX_ID = 2**63 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL character")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text = Annotated[StrictStr, AfterValidator(_no_nul)]
Str3 = Annotated[StrictStr, Field(max_length=3), AfterValidator(_no_nul)]
Str20 = Annotated[StrictStr, Field(max_length=20), AfterValidator(_no_nul)]
Str40 = Annotated[StrictStr, Field(max_length=40), AfterValidator(_no_nul)]
Str64 = Annotated[StrictStr, Field(max_length=64), AfterValidator(_no_nul)]
Str100 = Annotated[StrictStr, Field(max_length=100), AfterValidator(_no_nul)]
Str200 = Annotated[StrictStr, Field(max_length=200), AfterValidator(_no_nul)]
Str300 = Annotated[StrictStr, Field(max_length=300), AfterValidator(_no_nul)]
Str2000 = Annotated[StrictStr, Field(max_length=2000), AfterValidator(_no_nul)]
Str5000 = Annotated[StrictStr, Field(max_length=5000), AfterValidator(_no_nul)]
# An amount as a decimal string ("1200000.00") or a JSON number; the action parses it.
Amount = StrictInt | StrictFloat | Str40


class Out(BaseModel):
    """A response shape. Plain pydantic: the endpoints hand over dicts, so ninja's
    attribute-reading ``Schema`` (several times slower on long lists) is not needed."""


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- shared pieces of responses -------------------------------------------------------


class Error(Out):
    code: str = Field(description="Stable reason: invalid, not_found, stale, …")
    message: str = Field(description="For people, in the user's language.")
    errors: dict[str, str] = Field(description="Field name → message.")


class UserRef(Out):
    id: int
    username: str
    display_name: str


class DepartmentRef(Out):
    id: int
    name: str


class TypeRef(Out):
    id: int
    code: str
    name: str


class PartyRef(Out):
    id: int
    name: str


class RoleRef(Out):
    code: str
    name: str
    data_scope: str


# --- contracts ------------------------------------------------------------------------


class ContractOut(Out):
    id: int
    number: str
    title: str
    state: str
    contract_type: TypeRef
    counterparty: PartyRef
    owner: UserRef
    department: DepartmentRef | None
    amount: str | None = Field(description='A decimal string such as "1200000.00".')
    currency: str
    tax_rate: str | None = Field(description='Percent, as a decimal string such as "13.00".')
    signed_date: date | None
    effective_date: date | None
    expiry_date: date | None
    auto_renew: bool
    renewal_term_months: int | None
    notice_period_days: int | None
    payment_terms: str
    confidentiality: str
    tags: list[str]
    parent: int | None
    relation: str
    notes: str
    version: int
    created_at: datetime
    updated_at: datetime


class ContractDetailOut(ContractOut):
    transitions: list[str] = Field(
        description="The states the caller may move the contract to now."
    )


class ContractPage(Out):
    items: list[ContractOut]
    next: str | None = Field(description="Path of the next page, or null on the last.")


class ContractFields(Strict):
    """The fields of a contract a client may set; all optional on PATCH."""

    title: Str200 | None = None
    contract_type: Id | None = Field(None, description="Id from GET /contract-types.")
    counterparty: Id | None = Field(None, description="Id of a customer (GET /parties).")
    owner: Id | None = Field(None, description="User id; only administrators assign others.")
    amount: Amount | None = None
    currency: Str3 | None = Field(None, description="CNY, USD, EUR, HKD, JPY or GBP.")
    tax_rate: Amount | None = Field(None, description="Percent, 0 to 100.")
    signed_date: date | None = None
    effective_date: date | None = None
    expiry_date: date | None = None
    auto_renew: bool | None = None
    renewal_term_months: int | None = None
    notice_period_days: int | None = None
    payment_terms: Str2000 | None = None
    confidentiality: Str20 | None = Field(
        None, description="public, internal, confidential or secret."
    )
    tags: list[Str100] | None = Field(None, max_length=100)
    parent: Id | None = Field(None, description="The related contract (with relation).")
    relation: Str20 | None = Field(None, description='"", order, amendment or renewal.')
    notes: Str5000 | None = None


class ContractCreate(ContractFields):
    title: Str200
    contract_type: Id = Field(description="Id from GET /contract-types.")
    counterparty: Id = Field(description="Id of a customer (GET /parties).")


class ContractPatch(ContractFields):
    pass


class TransitionIn(Strict):
    to: Str40 = Field(
        description="The target state: draft, in_review, returned, approved, signing, "
        "active, expired, terminated, renewed or archived."
    )
    comment: Str2000 = Field("", description="Required to return or terminate.")
    signed_date: date | None = Field(
        None, description="When moving to active: the signing date (default today)."
    )


class ContractTypeOut(Out):
    id: int
    code: str
    name: str


class ContractTypeList(Out):
    items: list[ContractTypeOut]
    next: str | None


# --- parties --------------------------------------------------------------------------


class ContactOut(Out):
    id: int
    name: str
    title: str
    phone: str
    email: str


class PartyOut(Out):
    id: int
    name: str
    short_name: str
    credit_code: str
    foreign_registration: str
    address: str
    industry: str
    status: str
    owner: UserRef
    department: DepartmentRef | None
    notes: str
    version: int
    created_at: datetime
    updated_at: datetime


class PartyDetailOut(PartyOut):
    contacts: list[ContactOut]


class PartyPage(Out):
    items: list[PartyOut]
    next: str | None


class PartyFields(Strict):
    name: Str200 | None = None
    short_name: Str100 | None = None
    credit_code: Str40 | None = Field(None, description="统一社会信用代码, 18 characters.")
    foreign_registration: Str64 | None = None
    address: Str300 | None = None
    industry: Str100 | None = None
    status: Str20 | None = Field(None, description="active, inactive or blocked.")
    notes: Str5000 | None = None


class PartyCreate(PartyFields):
    name: Str200


class PartyPatch(PartyFields):
    pass


# --- who am I -------------------------------------------------------------------------


class MeOut(Out):
    id: int
    username: str
    display_name: str
    email: str
    language: str
    department: DepartmentRef | None
    role: RoleRef | None
    is_admin: bool
    permissions: list[str]


# --- list query parameters (documented here; parsed by the domain's own parsers) ------


class ContractFilterParams(BaseModel):
    """The contract list filters, shared by the list and search routes."""

    state: str | None = Field(None, description="Comma-separated states, e.g. draft,active.")
    type: str | None = Field(None, description="Contract type code or id.")
    customer: str | None = Field(None, description="Customer id.")
    owner: str | None = Field(None, description='User id or "me".')
    department: str | None = Field(None, description="Department id.")
    tag: str | None = None
    expiry_from: str | None = Field(None, description="YYYY-MM-DD")
    expiry_to: str | None = Field(None, description="YYYY-MM-DD")
    signed_from: str | None = Field(None, description="YYYY-MM-DD")
    signed_to: str | None = Field(None, description="YYYY-MM-DD")
    amount_min: str | None = None
    amount_max: str | None = None


class ContractListParams(ContractFilterParams):
    q: str | None = Field(None, description="Words in the title, number or customer name.")
    cursor: str | None = Field(None, description="From the `next` link of the previous page.")
    page_size: int = Field(50, ge=1, description="1 to 200 (QIYUE_API_PAGE_SIZE_MAX).")


class PartyListParams(BaseModel):
    q: str | None = Field(None, description="Words in the name, short name or credit code.")
    status: str | None = Field(None, description="active, inactive or blocked.")
    cursor: str | None = Field(None, description="From the `next` link of the previous page.")
    page_size: int = Field(50, ge=1, description="1 to 200 (QIYUE_API_PAGE_SIZE_MAX).")


# Shared by every router: the error responses each route documents, and the If-Match
# header of optimistic edits.
COMMON_ERRORS: dict[int, type[BaseModel]] = {400: Error, 401: Error, 403: Error, 404: Error}
IF_MATCH_DESCRIPTION = 'The ETag from the last read, e.g. "12-3".'
