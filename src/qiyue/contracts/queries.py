"""Reads of contracts for users; every one goes through ``visible_to``.

List filters are parsed once here for the browser UI, the API and exports alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from qiyue.audit.models import AuditEvent
from qiyue.audit.queries import history_of
from qiyue.contracts.lifecycle import FROZEN_STATES, transitions_from
from qiyue.contracts.models import (
    STATE_VALUES,
    Contract,
    ContractShare,
    ContractState,
    ContractType,
    Tag,
    visibility_key,
)
from qiyue.lib.errors import FieldErrors
from qiyue.lib.money import MoneyError, parse_amount
from qiyue.lib.prepared import NO_CURSOR, prepared
from qiyue.lib.sqljson import JsonDate, JsonList, JsonTime
from qiyue.lib.text import as_id

SORTS = {
    "number": "number",
    "title": "title",
    "amount": "amount",
    "expiry": "expiry_date",
    "signed": "signed_date",
    "created": "created_at",
    "updated": "updated_at",
}


class FilterError(FieldErrors):
    """A list filter that cannot be applied."""


@dataclass
class ContractFilters:
    q: str = ""
    state: list[str] = field(default_factory=list)
    contract_type: int | None = None
    customer: int | None = None
    owner: int | None = None
    department: int | None = None
    tag: str = ""
    expiry_from: date | None = None
    expiry_to: date | None = None
    signed_from: date | None = None
    signed_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    sort: str = "-created"

    def as_query(self) -> dict[str, str]:
        """The filters as query-string values, to build links to other pages."""
        out: dict[str, str] = {}
        for key, value in self.__dict__.items():
            if value in (None, "", []) or (key == "sort" and value == "-created"):
                continue
            out[key] = ",".join(value) if isinstance(value, list) else str(value)
        return out


def parse_filters(params: Mapping[str, Any], *, user: Any = None) -> ContractFilters:
    """Filters from query parameters; raises FilterError naming each bad one."""
    errors: dict[str, str] = {}
    f = ContractFilters()

    def get(name: str) -> str:
        value = params.get(name)
        return "" if value is None else str(value).strip()

    f.q = get("q")[:200]
    states = [s for s in get("state").split(",") if s]
    bad = [s for s in states if s not in STATE_VALUES]
    if bad:
        errors["state"] = _("Unknown state: %(s)s") % {"s": ", ".join(bad)[:80]}
    f.state = states
    for name in ("contract_type", "customer", "department"):
        raw = get(name) or (get("type") if name == "contract_type" else "")
        if raw:
            if as_id(raw) is not None:
                setattr(f, name, int(raw))
            elif name == "contract_type":
                found = ContractType.objects.filter(code=raw).values_list("pk", flat=True).first()
                if found is None:
                    errors[name] = _("Unknown contract type.")
                f.contract_type = found
            else:
                errors[name] = _("Expected a number.")
    owner = get("owner")
    if owner == "me" and user is not None:
        f.owner = user.pk
    elif as_id(owner) is not None:
        f.owner = int(owner)
    elif owner:
        errors["owner"] = _("Expected a number or 'me'.")
    f.tag = get("tag")[:50]
    for name in ("expiry_from", "expiry_to", "signed_from", "signed_to"):
        raw = get(name)
        if raw:
            try:
                parsed = parse_date(raw)
            except ValueError:
                parsed = None
            if parsed is None:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
            setattr(f, name, parsed)
    for name in ("amount_min", "amount_max"):
        raw = get(name)
        if raw:
            try:
                setattr(f, name, parse_amount(raw))
            except MoneyError:
                errors[name] = _("Enter a non-negative amount.")
    sort = get("sort") or "-created"
    if sort.lstrip("-") not in SORTS:
        errors["sort"] = _("Unknown sort order.")
    else:
        f.sort = sort
    if errors:
        raise FilterError(errors)
    return f


def _list_queryset(user: Any, action: str = "view") -> QuerySet[Contract]:
    return (
        Contract.objects.visible_to(user, action)
        .select_related("contract_type", "counterparty", "owner", "department")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )


def apply_filters(qs: QuerySet[Contract], f: ContractFilters) -> QuerySet[Contract]:
    if f.q:
        qs = qs.filter(
            Q(title__icontains=f.q)
            | Q(number__icontains=f.q)
            | Q(counterparty__name__icontains=f.q)
            | Q(counterparty__short_name__icontains=f.q)
        )
    if f.state:
        qs = qs.filter(state__in=f.state)
    if f.contract_type:
        qs = qs.filter(contract_type_id=f.contract_type)
    if f.customer:
        qs = qs.filter(counterparty_id=f.customer)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.department:
        qs = qs.filter(department_id=f.department)
    if f.tag:
        qs = qs.filter(
            pk__in=Contract.tags.through.objects.filter(tag__name=f.tag).values("contract_id")
        )
    if f.expiry_from:
        qs = qs.filter(expiry_date__gte=f.expiry_from)
    if f.expiry_to:
        qs = qs.filter(expiry_date__lte=f.expiry_to)
    if f.signed_from:
        qs = qs.filter(signed_date__gte=f.signed_from)
    if f.signed_to:
        qs = qs.filter(signed_date__lte=f.signed_to)
    if f.amount_min is not None:
        qs = qs.filter(amount__gte=f.amount_min)
    if f.amount_max is not None:
        qs = qs.filter(amount__lte=f.amount_max)
    return qs


def contracts_for(user: Any, filters: ContractFilters | None = None) -> QuerySet[Contract]:
    """The user's contract list, filtered and sorted (ties broken by id)."""
    f = filters or ContractFilters()
    qs = apply_filters(_list_queryset(user), f)
    key = SORTS[f.sort.lstrip("-")]
    desc = f.sort.startswith("-")
    return qs.order_by(f"-{key}" if desc else key, "-id" if desc else "id")


def contract_for(user: Any, pk: int, action: str = "view") -> Contract:
    """One contract the user may act on, or 404."""
    contract = _list_queryset(user, action).select_related("parent").filter(pk=pk).first()
    if contract is None:
        raise Http404
    return contract


def related_for(user: Any, contract: Contract) -> QuerySet[Contract]:
    """Orders, amendments and renewals under a contract, as far as the user may see."""
    return (
        Contract.objects.visible_to(user, "view")
        .filter(parent=contract)
        .select_related("contract_type")
        .order_by("id")
    )


def history_for(user: Any, contract: Contract) -> QuerySet[AuditEvent]:
    contract_for(user, contract.pk)
    return history_of("contract", contract.pk)


def shares_of(contract: Contract) -> QuerySet[ContractShare]:
    return contract.shares.select_related("user", "department").order_by("id")


def available_transitions(user: Any, contract: Contract) -> list[Any]:
    """The steps the user could take on the contract now, for buttons and the API."""
    out = []
    # Several steps share an access action (approve and return both need "approve"):
    # ask the access policy once per distinct action, not once per step.
    access: dict[str, bool] = {}
    for t in transitions_from(contract.state):
        if t.access not in access:
            access[t.access] = may(user, contract, t.access)
        allowed = access[t.access]
        if t.code == "approve" and contract.owner_id == user.pk and not user.is_superuser:
            allowed = False
        if allowed:
            out.append(t)
    return out


def dashboard_for(user: Any) -> dict[str, Any]:
    """Figures for the home page, all within what the user may see."""
    visible = Contract.objects.visible_to(user, "view")
    today = timezone.localdate()
    by_state = dict(visible.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    live = visible.filter(state=ContractState.ACTIVE, expiry_date__gte=today)
    # One range of the (state, expiry_date) index, counted three ways.
    windows = (30, 60, 90)
    counts = live.filter(expiry_date__lte=today + timedelta(days=max(windows))).aggregate(
        **{
            f"d{days}": Count("id", filter=Q(expiry_date__lte=today + timedelta(days=days)))
            for days in windows
        }
    )
    expiring = {days: counts[f"d{days}"] for days in windows}
    active_value = visible.filter(state=ContractState.ACTIVE, currency="CNY").aggregate(
        s=Sum("amount")
    )["s"] or Decimal(0)
    listing = _list_queryset(user)
    return {
        "by_state": [(s, by_state.get(s.value, 0)) for s in ContractState],
        "total": sum(by_state.values()),
        "expiring": expiring,
        "active_value_cny": active_value,
        "my_drafts": list(
            listing.filter(
                owner=user, state__in=[ContractState.DRAFT, ContractState.RETURNED]
            ).order_by("-updated_at")[:10]
        ),
        "awaiting_me": _awaiting(user),
        "expiring_soon": list(
            live.filter(expiry_date__lte=today + timedelta(days=90))
            .select_related("counterparty", "contract_type")
            .order_by("expiry_date", "id")[:10]
        ),
    }


def _awaiting(user: Any) -> list[Contract]:
    """Contracts whose approval task waits for ``user`` (oldest due first), each with
    ``task_url`` (an approver outside the contract's data scope reaches it that way)."""
    from qiyue.approvals.queries import inbox_for  # approvals builds on contracts

    rows = []
    for task in inbox_for(user)[:10]:
        contract = task.contract
        contract.task_url = reverse("web:approval_task", args=[task.pk])  # type: ignore[attr-defined]
        rows.append(contract)
    return rows


def contract_types() -> QuerySet[ContractType]:
    return ContractType.objects.filter(is_active=True).order_by("sort_order", "code")


def may(user: Any, contract: Contract, action: str) -> bool:
    """Whether the user may take ``action`` on the contract (for showing buttons)."""
    return Contract.objects.visible_to(user, action).filter(pk=contract.pk).exists()


def may_edit(user: Any, contract: Contract) -> bool:
    """Whether the user may edit the contract's record now (not archived, change access)."""
    return contract.state not in FROZEN_STATES and may(user, contract, "change")


def contract_choices_for(user: Any, *, q: str = "", limit: int = 20) -> QuerySet[Contract]:
    """Contracts offered in pickers (the related contract of a new one)."""
    qs = Contract.objects.visible_to(user, "view")
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(number__icontains=q))
    return qs.only("id", "number", "title").order_by("-id")[:limit]


def contracts_for_export(user: Any, filters: ContractFilters) -> QuerySet[Contract]:
    """What the user may export, filtered like the list; ordered for a stable file."""
    qs = apply_filters(
        Contract.objects.visible_to(user, "export").select_related(
            "contract_type", "counterparty", "owner", "department"
        ),
        filters,
    )
    return qs.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name"))).order_by(
        "-id"
    )


# Columns of a contract list row read as plain values: the API's list builds no model
# instances (five per row with their relations), which is most of its cost.
LIST_VALUES = (
    "id",
    "number",
    "title",
    "state",
    "contract_type_id",
    "contract_type__code",
    "contract_type__name",
    "contract_type__name_en",
    "counterparty_id",
    "counterparty__name",
    "owner_id",
    "owner__username",
    "owner__display_name",
    "owner__first_name",
    "owner__last_name",
    "department_id",
    "department__name",
    "amount",
    "currency",
    "tax_rate",
    "auto_renew",
    "renewal_term_months",
    "notice_period_days",
    "payment_terms",
    "confidentiality",
    "parent_id",
    "relation",
    "notes",
    "version",
)


# Dates and times of a list row, read as the text the API writes (``lib.sqljson``): as
# values they would be parsed, made aware and written back, half of a page's Python.
LIST_TEXTS = {
    "signed_date_text": JsonDate("signed_date"),
    "effective_date_text": JsonDate("effective_date"),
    "expiry_date_text": JsonDate("expiry_date"),
    "created_at_text": JsonTime("created_at"),
    "updated_at_text": JsonTime("updated_at"),
}


_TAG_NAMES = JsonList(Tag.objects.filter(contracts=OuterRef("pk")).order_by("name").values("name"))


def contract_values_page_after(
    user: Any, filters: ContractFilters, *, after_id: int | None, size: int
) -> tuple[tuple[str, ...], list[Any], bool]:
    """Keyset page as rows of values in the order of the names given with them
    (LIST_VALUES, LIST_TEXTS and ``tag_names``, the names in order), newest id first;
    whether there are more; one query.

    The page's statement is compiled once per visibility key, filters and size (in this
    thread) and run again with the cursor changed (``lib.prepared``)."""

    def build(cursor: int) -> QuerySet[Contract]:
        qs = apply_filters(Contract.objects.visible_to(user, "view"), filters)
        page = qs.filter(id__lt=cursor).order_by("-id")
        return page.values(*LIST_VALUES, **LIST_TEXTS, tag_names=_TAG_NAMES)[: size + 1]

    key = ("contract_values_page", visibility_key(user, "view"), repr(filters), size)
    page = prepared(key, build)
    rows = page.run_rows(NO_CURSOR if after_id is None else after_id)
    return page.names, rows[:size], len(rows) > size
