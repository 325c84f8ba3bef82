"""Obligations (deliverables, reports, certificates, audits) and, at termination, the
explicit closing or carrying over of everything still open."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.accounts.models import User
from qiyue.audit.actions import record
from qiyue.contracts.models import Contract
from qiyue.lib.dates import add_months
from qiyue.obligations.actions.common import (
    OPEN_OBLIGATION_STATES,
    PLANNING_STATES,
    TITLE_MAX,
    NotAllowed,
    NotFound,
    ObligationError,
    as_id,
    date_of,
    may_manage_obligations,
    not_future,
    text_of,
    visible_contract,
)
from qiyue.obligations.models import (
    RECURRENCE_MONTHS,
    Instalment,
    InstalmentState,
    Obligation,
    ObligationKind,
    ObligationState,
    Recurrence,
)

# -- obligations --------------------------------------------------------------------------


def clean_obligation(actor: User, contract: Contract, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["title"] = text_of(data.get("title"), "title", TITLE_MAX, errors, required=True)
    kind = str(data.get("kind") or ObligationKind.DELIVERABLE)
    if kind not in ObligationKind.values:
        errors["kind"] = _("Choose a kind of obligation.")
    out["kind"] = kind
    recurrence = str(data.get("recurrence") or "")
    if recurrence not in Recurrence.values:
        errors["recurrence"] = _("Choose how often it recurs.")
    out["recurrence"] = recurrence
    out["due_date"] = date_of(data.get("due_date"), "due_date", errors)
    owner_raw = data.get("owner")
    if owner_raw in (None, ""):
        out["owner"] = contract.owner
    else:
        try:
            out["owner"] = User.objects.get(pk=as_id(owner_raw), is_active=True)
        except (ValueError, User.DoesNotExist):
            errors["owner"] = _("Choose an active user.")
        else:
            # The responsible person is reminded of it (in-app, e-mail, calendar feed)
            # with the contract's number: only someone who may see the contract.
            if (
                not Contract.objects.visible_to(out["owner"], "view")
                .filter(pk=contract.pk)
                .exists()
            ):
                errors["owner"] = _("Choose someone who may see this contract.")
    if errors:
        raise ObligationError(errors)
    return out


def add_obligation(*, actor: User, contract: Contract, data: dict[str, Any]) -> Obligation:
    """A duty the contract requires by a date, with the person responsible for it."""
    with transaction.atomic():
        current = visible_contract(actor, contract)
        if not may_manage_obligations(actor, current):
            raise NotAllowed(_("You may not change the obligations of this contract."))
        if current.state not in PLANNING_STATES:
            raise ObligationError(
                _("No new obligations once the contract is %(state)s.")
                % {"state": current.get_state_display()},
                code="state",
            )
        cleaned = clean_obligation(actor, current, data)
        ob = Obligation.objects.create(
            contract=current,
            first_due=cleaned["due_date"],
            created_by=actor,
            **cleaned,
        )
        record(
            actor=actor,
            action="obligation.added",
            target=current,
            data={
                "obligation": ob.pk,
                "title": ob.title,
                "kind": ob.kind,
                "owner": ob.owner_id,
                "due_date": ob.due_date.isoformat(),
                "recurrence": ob.recurrence,
            },
        )
    return ob


def _next_occurrence(ob: Obligation, contract: Contract) -> date | None:
    months = RECURRENCE_MONTHS.get(ob.recurrence)
    if not months:
        return None
    try:
        nxt = add_months(ob.first_due, months * (ob.occurrence + 1))
    except (ValueError, OverflowError):  # past year 9999: the series ends
        return None
    if contract.expiry_date and nxt > contract.expiry_date:
        return None
    return nxt


def complete_obligation(
    *,
    actor: User,
    obligation: Obligation,
    done_on: Any = None,
    evidence: IO[bytes] | Any = None,
    evidence_name: str = "",
) -> Obligation:
    """Mark an obligation done, with its evidence uploaded as a document of the contract
    (checked, encrypted and versioned like any upload). A recurring obligation opens its
    next occurrence. The obligation's owner or the contract's editors may do it."""
    errors: dict[str, str] = {}
    day = date_of(done_on, "done_on", errors, required=False) or timezone.localdate()
    not_future(day, "done_on", errors)
    if errors:
        raise ObligationError(errors)
    contract = visible_contract(actor, obligation.contract_id)
    ob = Obligation.objects.filter(pk=obligation.pk, contract=contract).first()
    if ob is None:
        raise NotFound(_("Obligation not found."))
    if ob.owner_id != actor.pk and not may_manage_obligations(actor, contract):
        raise NotAllowed(_("You may not complete this obligation."))
    if ob.state not in OPEN_OBLIGATION_STATES:
        raise ObligationError(_("This obligation is no longer open."), code="state")
    document = None
    if evidence is not None:
        # The upload checks the file and stores it (its own transaction, outside ours:
        # on SQLite a transaction would hold the write lock while the file is encrypted).
        from qiyue.documents.actions import DocumentError, upload_document
        from qiyue.documents.models import DocumentKind

        try:
            version = upload_document(
                actor=actor,
                contract=contract,
                fileobj=evidence,
                name=evidence_name or getattr(evidence, "name", "") or "evidence",
                kind=DocumentKind.OTHER,
                note=_("Evidence for: %(title)s") % {"title": ob.title},
            )
        except DocumentError as exc:
            raise ObligationError({"evidence": exc.message}, code=exc.code) from exc
        document = version.document
    with transaction.atomic():
        moved = Obligation.objects.filter(pk=ob.pk, state__in=OPEN_OBLIGATION_STATES).update(
            state=ObligationState.DONE, done_on=day, done_by=actor, evidence=document
        )
        if moved != 1:
            raise ObligationError(_("This obligation is no longer open."), code="state")
        nxt = _next_occurrence(ob, contract)
        next_ob = None
        if nxt is not None:
            next_ob = Obligation.objects.create(
                contract=contract,
                kind=ob.kind,
                title=ob.title,
                owner_id=ob.owner_id,
                due_date=nxt,
                recurrence=ob.recurrence,
                first_due=ob.first_due,
                occurrence=ob.occurrence + 1,
                created_by=actor,
            )
        record(
            actor=actor,
            action="obligation.completed",
            target=contract,
            data={
                "obligation": ob.pk,
                "title": ob.title,
                "done_on": day.isoformat(),
                "evidence": document.pk if document else None,
                "next": next_ob.pk if next_ob else None,
                "next_due": nxt.isoformat() if nxt else None,
            },
        )
        ob.refresh_from_db()
    return ob


# -- at termination -----------------------------------------------------------------------

CLOSE, CARRY = "close", "carry"


def open_items(
    contract: Contract,
    *,
    instalments: Iterable[Instalment] | None = None,
    obligations: Iterable[Obligation] | None = None,
) -> tuple[list[Instalment], list[Obligation]]:
    """What is still open on a contract: unpaid instalments and open obligations.
    ``instalments``/``obligations``: the contract's rows already read (in seq and due
    date order), picked from instead of read again."""
    if instalments is None:
        instalments = Instalment.objects.filter(
            contract=contract, state=InstalmentState.OPEN
        ).order_by("seq", "id")
    if obligations is None:
        obligations = Obligation.objects.filter(
            contract=contract, state=ObligationState.OPEN
        ).order_by("due_date", "id")
    return (
        [i for i in instalments if i.state == InstalmentState.OPEN and not i.is_paid],
        [o for o in obligations if o.state == ObligationState.OPEN],
    )


def settle_open_items(
    *,
    contract: Contract,
    instalments: dict[int, str],
    obligations: dict[int, str],
) -> dict[str, dict[str, str]]:
    """Close or carry over every open instalment and obligation, as decided one by one;
    an open item without a decision is refused (nothing is closed silently). Runs inside
    the termination's transaction; returns the decisions for its audit event."""
    open_inst, open_obl = open_items(contract)
    missing: dict[str, str] = {}
    for kind, items, decided in (
        ("instalment", open_inst, instalments),
        ("obligation", open_obl, obligations),
    ):
        for item in items:
            if decided.get(item.pk) not in (CLOSE, CARRY):
                missing[f"{kind}_{item.pk}"] = _(
                    "Decide whether “%(name)s” is closed or carried over."
                ) % {"name": getattr(item, "label", None) or getattr(item, "title", "")}
    if missing:
        raise ObligationError(missing, code="incomplete")
    return {
        "instalments": _settle(
            Instalment, open_inst, instalments, InstalmentState.CLOSED, InstalmentState.CARRIED
        ),
        "obligations": _settle(
            Obligation, open_obl, obligations, ObligationState.CLOSED, ObligationState.CARRIED
        ),
    }


def _settle(
    model: type[Instalment] | type[Obligation],
    items: Iterable[Instalment | Obligation],
    decided: dict[int, str],
    closed: str,
    carried: str,
) -> dict[str, str]:
    """Give each item the state decided for it (one UPDATE per state, not one per item,
    inside the termination's write transaction); the states by id, for the audit event."""
    states = {item.pk: closed if decided[item.pk] == CLOSE else carried for item in items}
    for state in (closed, carried):
        pks = [pk for pk, s in states.items() if s == state]
        if pks:
            model._default_manager.filter(pk__in=pks).update(state=state)
    return {str(pk): str(state) for pk, state in states.items()}
