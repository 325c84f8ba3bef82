"""Lifecycle flows after signing: amendments, renewals, early termination, non-renewal
notices, and the daily job that expires and auto-renews contracts.

Each flow is one transaction that writes its audit event on the main contract, so the
contract's history tells what changed, before and after, and who decided it. The daily
job (:func:`run_lifecycle`) acts as the system (no actor) and names the rule that made
each change; every change it makes removes its own cause, so running it twice on the
same day changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiyue.accounts.models import User
from qiyue.audit.actions import record
from qiyue.contracts.actions import (
    ContractError,
    NotAllowed,
    StaleEdit,
    clean_contract_data,
    create_contract,
    move,
    transition_contract,
)
from qiyue.contracts.lifecycle import TRANSITIONS
from qiyue.contracts.models import (
    Amendment,
    AmendmentState,
    Contract,
    ContractState,
    NonRenewalNotice,
    Relation,
    Termination,
)
from qiyue.lib.dates import add_months
from qiyue.obligations.actions.common import date_of, not_future, text_of
from qiyue.search.hooks import reindex_after_commit

#: Fields an amendment may change on its main contract.
AMENDABLE_FIELDS = (
    "title",
    "amount",
    "tax_rate",
    "effective_date",
    "expiry_date",
    "auto_renew",
    "renewal_term_months",
    "notice_period_days",
    "payment_terms",
)
AMENDABLE_STATES = frozenset({ContractState.APPROVED, ContractState.SIGNING, ContractState.ACTIVE})
RENEWABLE_STATES = frozenset({ContractState.ACTIVE, ContractState.EXPIRED})
#: A renewal in one of these states replaces its predecessor when that one ends.
LIVE_RENEWAL_STATES = (ContractState.APPROVED, ContractState.SIGNING, ContractState.ACTIVE)
TEXT_MAX = 2000
MAX_AUTO_TERMS = 50

#: Rules of the daily job, as stored in its audit events ("rule") and shown in history.
RULES = {
    "expiry_passed": gettext_lazy("The expiry date passed."),
    "renewal_in_force": gettext_lazy("The expiry date passed and a renewal replaces it."),
    "auto_renewal": gettext_lazy(
        "Automatic renewal: the cancel-by date passed without a non-renewal notice."
    ),
}


def _visible(actor: Any, contract: Contract | int, action: str = "view") -> Contract:
    pk = contract if isinstance(contract, int) else contract.pk
    found = Contract.objects.visible_to(actor, "view").filter(pk=pk).first()
    if found is None:
        raise NotAllowed(_("Contract not found."), code="not_found")
    if action != "view" and not Contract.objects.visible_to(actor, action).filter(pk=pk).exists():
        raise NotAllowed(_("You may not take this step on this contract."))
    return found


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def _month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def renewal_expiry(expiry: date, months: int) -> date:
    """The new expiry after extending a term that ends on ``expiry`` by ``months``: the
    same day ``months`` later, the month's last day where that month is shorter (民法典
    第二百零三条: no corresponding day → the month's end), and a term that ends on a
    month's last day keeps ending on one (Jan 31 → Feb 28 → Mar 31 → Apr 30)."""
    new = add_months(expiry, months)
    if _month_end(expiry):
        new = add_months(new.replace(day=1), 1) - timedelta(days=1)
    return new


# -- amendments ---------------------------------------------------------------------------


def _check_amendable(contract: Contract) -> None:
    """Refuse amending a contract that is not approved, signing or active (checked when
    the amendment is proposed and again when it is approved)."""
    if contract.state not in AMENDABLE_STATES:
        raise ContractError(
            _("A contract that is %(state)s cannot be amended.")
            % {"state": contract.get_state_display()},
            code="state",
        )


def propose_amendment(
    *, actor: User, contract: Contract, title: str, changes: dict[str, Any], reason: str = ""
) -> Amendment:
    """Record an amendment (补充协议) changing the named fields of a signed contract. It
    changes nothing until approved by someone other than its author."""
    errors: dict[str, str] = {}
    title = text_of(title, "title", 200, errors, required=True)
    reason = text_of(reason, "reason", TEXT_MAX, errors, required=False)
    unknown = sorted(set(changes) - set(AMENDABLE_FIELDS))
    if unknown:
        errors["changes"] = _("These fields cannot be amended: %(f)s") % {
            "f": ", ".join(unknown)[:200]
        }
    elif not changes:
        errors["changes"] = _("Name at least one field the amendment changes.")
    if errors:
        raise ContractError(errors)
    with transaction.atomic():
        current = _visible(actor, contract, "change")
        _check_amendable(current)
        cleaned = clean_contract_data(actor=actor, data=changes, current=current)
        stored = {k: _plain(v) for k, v in cleaned.items()}
        same = [k for k, v in stored.items() if v == _plain(getattr(current, k))]
        if len(same) == len(stored):
            raise ContractError({"changes": _("The amendment changes nothing.")})
        amendment = Amendment.objects.create(
            contract=current, title=title, reason=reason, changes=stored, created_by=actor
        )
        _notify_approvers(current, amendment, author=actor)
        record(
            actor=actor,
            action="contract.amendment_proposed",
            target=current,
            data={
                "amendment": amendment.pk,
                "title": title,
                "proposed": stored,
                "comment": reason,
            },
        )
    return amendment


def _contract_url(contract: Contract) -> str:
    from django.urls import reverse

    return reverse("web:contract_detail", args=[contract.pk]) + "#money"


def _notify_approvers(contract: Contract, amendment: Amendment, *, author: User) -> None:
    """Tell the nearest department head above the contract who may approve it that an
    amendment waits (legal and management also see it on the contract page)."""
    from qiyue.notifications.actions import notify

    dept, head, hops = contract.department, None, 0
    while dept is not None and hops < 20:
        candidate = dept.head
        if (
            candidate is not None
            and candidate.pk != author.pk
            and Contract.objects.visible_to(candidate, "approve").filter(pk=contract.pk).exists()
        ):
            head = candidate
            break
        dept, hops = dept.parent, hops + 1
    if head is None:
        return
    notify(
        head,
        "amendment.proposed",
        format_lazy(
            gettext_lazy("Amendment “{title}” of {number} awaits approval"),
            title=amendment.title,
            number=contract.number,
        ),
        url=_contract_url(contract),
        contract=contract,
        key=f"amendment:{amendment.pk}:proposed",
    )


def _notify_owner(contract: Contract, kind: str, title: Any, key: str) -> None:
    from qiyue.notifications.actions import notify

    notify(contract.owner, kind, title, url=_contract_url(contract), contract=contract, key=key)


def _pending(actor: User, amendment: Amendment) -> tuple[Contract, Amendment]:
    current = _visible(actor, amendment.contract_id)
    found = Amendment.objects.filter(pk=amendment.pk, contract=current).first()
    if found is None:
        raise NotAllowed(_("Amendment not found."), code="not_found")
    if found.state != AmendmentState.PENDING:
        raise ContractError(_("This amendment was already decided."), code="state")
    if not Contract.objects.visible_to(actor, "approve").filter(pk=current.pk).exists():
        raise NotAllowed(_("You may not approve amendments of this contract."))
    if found.created_by_id == actor.pk:
        raise NotAllowed(_("You cannot approve your own amendment."))
    return current, found


def approve_amendment(*, actor: User, amendment: Amendment, comment: str = "") -> Contract:
    """Apply an amendment to its main contract (compare-and-set on the contract's
    version). The history shows each field before and after, and the approver."""
    errors: dict[str, str] = {}
    comment = text_of(comment, "comment", TEXT_MAX, errors, required=False)
    if errors:
        raise ContractError(errors)
    with transaction.atomic():
        current, found = _pending(actor, amendment)
        _check_amendable(current)
        # Checked again against the contract as it is now (e.g. expiry after effective).
        author = found.created_by
        cleaned = clean_contract_data(actor=author, data=found.changes, current=current)
        before = {k: _plain(getattr(current, k)) for k in cleaned}
        updated = Contract.objects.filter(pk=current.pk, version=current.version).update(
            **cleaned, version=current.version + 1, updated_at=timezone.now()
        )
        if updated != 1:
            raise StaleEdit()
        current.refresh_from_db()
        after = {k: _plain(getattr(current, k)) for k in cleaned}
        changed = {k: after[k] for k in after if after[k] != before[k]}
        now = timezone.now()
        decided = Amendment.objects.filter(pk=found.pk, state=AmendmentState.PENDING).update(
            state=AmendmentState.APPROVED,
            before=before,
            decided_by=actor,
            decided_at=now,
            decision_comment=comment,
        )
        if decided != 1:  # rejected (or approved) meanwhile: undo the contract change
            raise ContractError(_("This amendment was already decided."), code="state")
        record(
            actor=actor,
            action="contract.amended",
            target=current,
            data={
                "amendment": found.pk,
                "title": found.title,
                "author": author.get_username(),
                "approved_by": actor.get_username(),
                "before": {k: before[k] for k in changed},
                "after": changed,
                "comment": comment or found.title,
            },
        )
        reindex_after_commit(current.pk)
    return current


def reject_amendment(*, actor: User, amendment: Amendment, comment: str) -> Amendment:
    errors: dict[str, str] = {}
    comment = text_of(comment, "comment", TEXT_MAX, errors, required=True)
    if errors:
        raise ContractError(errors, code="comment_required")
    with transaction.atomic():
        current, found = _pending(actor, amendment)
        decided = Amendment.objects.filter(pk=found.pk, state=AmendmentState.PENDING).update(
            state=AmendmentState.REJECTED,
            decided_by=actor,
            decided_at=timezone.now(),
            decision_comment=comment,
        )
        if decided != 1:
            raise ContractError(_("This amendment was already decided."), code="state")
        record(
            actor=actor,
            action="contract.amendment_rejected",
            target=current,
            data={"amendment": found.pk, "title": found.title, "comment": comment},
        )
        found.refresh_from_db()
    return found


# -- renewal ------------------------------------------------------------------------------

COPIED_FIELDS = (
    "title",
    "contract_type",
    "counterparty",
    "amount",
    "currency",
    "tax_rate",
    "auto_renew",
    "renewal_term_months",
    "notice_period_days",
    "payment_terms",
    "confidentiality",
)


def renew_contract(
    *, actor: User, contract: Contract, data: dict[str, Any] | None = None
) -> Contract:
    """Create the renewal of an active or expired contract: a new draft contract with
    the fields copied, a new number, linked to this one, starting the day after it
    expires for its renewal term (12 months by default). The new contract goes through
    approval like any other; ``data`` overrides copied fields (amount, dates…)."""
    with transaction.atomic():
        current = _visible(actor, contract, "change")
        if current.state not in RENEWABLE_STATES:
            raise ContractError(
                _("Only an active or expired contract can be renewed."), code="state"
            )
        existing = (
            Contract.objects.filter(parent=current, relation=Relation.RENEWAL)
            .exclude(state__in=[ContractState.TERMINATED, ContractState.ARCHIVED])
            .values_list("number", flat=True)
            .first()
        )
        if existing:
            raise ContractError(
                _("This contract already has a renewal: %(number)s.") % {"number": existing},
                code="state",
            )
        values: dict[str, Any] = {name: _plain(getattr(current, name)) for name in COPIED_FIELDS}
        values["tags"] = [t.name for t in current.tags.all()]
        if current.expiry_date:
            try:
                values["effective_date"] = current.expiry_date + timedelta(days=1)
                values["expiry_date"] = renewal_expiry(
                    current.expiry_date, current.renewal_term_months or 12
                )
            except (ValueError, OverflowError):  # a term ending at the end of the calendar
                raise ContractError(
                    _("The renewed term would end after the year 9999."), code="state"
                ) from None
        if actor.pk == current.owner_id or actor.has_perm_code("admin"):
            values["owner"] = current.owner_id
        values.update(data or {})
        values["parent"] = current.pk
        values["relation"] = Relation.RENEWAL
        renewal = create_contract(actor=actor, data=values)
        record(
            actor=actor,
            action="contract.renewal_created",
            target=current,
            data={"renewal": renewal.pk, "number": renewal.number},
        )
    return renewal


# -- non-renewal notice -------------------------------------------------------------------


def record_non_renewal(
    *,
    actor: User,
    contract: Contract,
    given_by: str,
    given_on: Any,
    note: str = "",
) -> NonRenewalNotice:
    """Record that notice was given that the contract shall not renew automatically at
    the end of its current term. Refused after the cancel-by date: by then the contract
    renews, and only an amendment or a termination ends it."""
    errors: dict[str, str] = {}
    if given_by not in NonRenewalNotice.Party.values:
        errors["given_by"] = _("Say who gave the notice.")
    day = date_of(given_on, "given_on", errors)
    note = text_of(note, "note", 500, errors, required=False)
    not_future(day, "given_on", errors)
    if errors:
        raise ContractError(errors)
    assert day is not None
    with transaction.atomic():
        current = _visible(actor, contract, "change")
        if current.state != ContractState.ACTIVE or not current.auto_renew:
            raise ContractError(
                _("Only an active contract that renews automatically needs this notice."),
                code="state",
            )
        last_day = current.cancel_by
        if last_day is None:
            raise ContractError(_("The contract has no expiry date."), code="state")
        if day > last_day:
            raise ContractError(
                {
                    "given_on": _(
                        "Notice given after the cancel-by date (%(date)s) is too late; "
                        "the contract renews automatically."
                    )
                    % {"date": last_day.isoformat()}
                },
                code="state",
            )
        assert current.expiry_date is not None
        try:
            with transaction.atomic():
                notice = NonRenewalNotice.objects.create(
                    contract=current,
                    given_by=given_by,
                    given_on=day,
                    for_expiry=current.expiry_date,
                    note=note,
                    recorded_by=actor,
                )
        except IntegrityError:
            raise ContractError(
                _("A non-renewal notice is already recorded for this term."), code="state"
            ) from None
        record(
            actor=actor,
            action="contract.non_renewal_noted",
            target=current,
            data={
                "given_by": given_by,
                "given_on": day.isoformat(),
                "for_expiry": current.expiry_date.isoformat(),
                "comment": note,
            },
        )
    return notice


# -- termination --------------------------------------------------------------------------


def terminate_contract(
    *,
    actor: User,
    contract: Contract,
    reason: str,
    effective_date: Any,
    settlement_notes: str = "",
    instalments: dict[int, str] | None = None,
    obligations: dict[int, str] | None = None,
    version: int | None = None,
) -> Contract:
    """End an active contract early: the reason, the date it ends, what was agreed
    (settlement notes), and for every open instalment and obligation whether it is
    closed or carried over (still owed after the end). Nothing open is left undecided."""
    from qiyue.obligations.actions import settle_open_items

    errors: dict[str, str] = {}
    reason = text_of(reason, "reason", TEXT_MAX, errors, required=True)
    notes = text_of(settlement_notes, "settlement_notes", 5000, errors, required=False)
    day = date_of(effective_date, "effective_date", errors)
    if errors:
        raise ContractError(errors)
    assert day is not None
    with transaction.atomic():
        current = _visible(actor, contract, "terminate")
        if current.state != ContractState.ACTIVE:
            raise ContractError(
                _("Only an active contract can be terminated."), code="invalid_transition"
            )
        if current.effective_date and day < current.effective_date:
            raise ContractError(
                {"effective_date": _("The contract cannot end before it took effect.")}
            )
        decided = settle_open_items(
            contract=current, instalments=instalments or {}, obligations=obligations or {}
        )
        current = transition_contract(
            actor=actor, contract=current, code="terminate", comment=reason, version=version
        )
        Termination.objects.create(
            contract=current,
            reason=reason,
            effective_date=day,
            settlement_notes=notes,
            created_by=actor,
        )
        record(
            actor=actor,
            action="contract.termination_settled",
            target=current,
            data={
                "effective_date": day.isoformat(),
                "settlement_notes": notes,
                **decided,
                "comment": notes,
            },
        )
    return current


# -- the daily job ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One change the daily job made (or, in a dry run, would make)."""

    contract_id: int
    number: str
    rule: str
    line: str


def _system_step(contract: Contract, code: str, rule: str, today: date) -> bool:
    """Move the contract by a transition as the system; False if it moved meanwhile."""
    t = TRANSITIONS[code]
    with transaction.atomic():
        try:
            move(None, contract, t, note={"rule": rule, "on": today.isoformat()})
        except StaleEdit:
            return False
        reindex_after_commit(contract.pk)
        _notify_owner(
            contract,
            f"contract.{code}",
            format_lazy(
                gettext_lazy("{number} is now {state}"),
                number=contract.number,
                state=ContractState(t.target).label,
            ),
            key=f"lifecycle:{contract.pk}:{code}:{today.isoformat()}",
        )
    return True


def _extend(contract: Contract, today: date) -> date | None:
    """Extend an auto-renewing contract by its renewal term; the new expiry or None."""
    assert contract.expiry_date is not None and contract.renewal_term_months
    old, old_cancel = contract.expiry_date, contract.cancel_by
    new = renewal_expiry(old, contract.renewal_term_months)
    with transaction.atomic():
        updated = Contract.objects.filter(
            pk=contract.pk, version=contract.version, expiry_date=old, state=ContractState.ACTIVE
        ).update(expiry_date=new, version=contract.version + 1, updated_at=timezone.now())
        if updated != 1:
            return None
        contract.refresh_from_db()
        record(
            actor=None,
            action="contract.auto_renewed",
            target=contract,
            data={
                "before": {"expiry_date": old.isoformat()},
                "after": {"expiry_date": new.isoformat()},
                "rule": "auto_renewal",
                "cancel_by": old_cancel.isoformat() if old_cancel else None,
                "term_months": contract.renewal_term_months,
                "on": today.isoformat(),
            },
        )
        reindex_after_commit(contract.pk)
        _notify_owner(
            contract,
            "contract.auto_renewed",
            format_lazy(
                gettext_lazy("{number} renewed automatically until {date}"),
                number=contract.number,
                date=new.isoformat(),
            ),
            key=f"auto_renewed:{contract.pk}:{new.isoformat()}",
        )
    return new


def _has_notice(contract: Contract) -> bool:
    return NonRenewalNotice.objects.filter(
        contract=contract,
        for_expiry=contract.expiry_date,  # type: ignore[misc]
    ).exists()


def run_lifecycle(*, today: date | None = None, dry_run: bool = False) -> list[Change]:
    """The daily job. For ``today`` (default: the company's date):

    1. an active auto-renewing contract whose cancel-by date is before today and that
       has no non-renewal notice for the current term is extended by its renewal term
       (repeatedly, if the job did not run for a long time);
    2. an active contract whose expiry date is before today becomes *renewed* when a
       renewal of it is approved, signing or active, else *expired*;
    3. instalments due "after signing" or "after the effective date" get their dates.

    Each change is its own transaction; a run that crashes half-way is simply run
    again. Returns the changes, one line each."""
    from qiyue.obligations.actions import sweep_triggers

    today = today or timezone.localdate()
    changes: list[Change] = []
    extended: dict[int, date] = {}
    renewing = Contract.objects.filter(
        state=ContractState.ACTIVE,
        auto_renew=True,
        renewal_term_months__gt=0,
        expiry_date__isnull=False,
        # The cancel-by date is at most 3650 days (the longest notice) before expiry.
        expiry_date__lt=today + timedelta(days=3651),
    ).order_by("id")
    for contract in renewing:
        for _term in range(MAX_AUTO_TERMS):
            last_day = contract.cancel_by
            if last_day is None or last_day >= today or _has_notice(contract):
                break
            assert contract.expiry_date is not None and contract.renewal_term_months
            old = contract.expiry_date
            new = (
                renewal_expiry(old, contract.renewal_term_months)
                if dry_run
                else _extend(contract, today)
            )
            if new is None:
                break
            changes.append(
                Change(
                    contract.pk,
                    contract.number,
                    "auto_renewal",
                    f"{contract.number}: auto-renewed, expiry {old} -> {new} "
                    f"(cancel-by {last_day} passed without notice)",
                )
            )
            extended[contract.pk] = new
            if dry_run:
                contract.expiry_date = new
    ending = Contract.objects.filter(state=ContractState.ACTIVE, expiry_date__lt=today).order_by(
        "id"
    )
    for contract in ending:
        if extended.get(contract.pk, date.min) >= today:
            continue  # extended above (only a dry run still sees the old expiry here)
        renewed = Contract.objects.filter(
            parent=contract, relation=Relation.RENEWAL, state__in=LIVE_RENEWAL_STATES
        ).exists()
        code, rule = ("renew", "renewal_in_force") if renewed else ("expire", "expiry_passed")
        if dry_run or _system_step(contract, code, rule, today):
            word = "renewed" if renewed else "expired"
            changes.append(
                Change(
                    contract.pk,
                    contract.number,
                    rule,
                    f"{contract.number}: {word} (expiry date {contract.expiry_date} passed)",
                )
            )
    for contract, trigger, on in sweep_triggers(today=today, dry_run=dry_run):
        changes.append(
            Change(
                contract.pk,
                contract.number,
                f"instalment_{trigger}",
                f"{contract.number}: instalments due after {trigger} ({on}) dated",
            )
        )
    return changes
