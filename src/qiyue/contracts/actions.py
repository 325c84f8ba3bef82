"""Writes for contracts: create, edit, transition, share.

Each action is one transaction that also writes its audit event; a refused action
raises :class:`ContractError` (or a subclass) and leaves nothing behind."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from qiyue.accounts.models import Department, User
from qiyue.audit.actions import record
from qiyue.compliance.hooks import recheck_after_commit
from qiyue.contracts.lifecycle import (
    ALWAYS_EDITABLE_FIELDS,
    BY_TARGET,
    EDITABLE_STATES,
    FROZEN_STATES,
    TRANSITIONS,
    Transition,
)
from qiyue.contracts.models import (
    CONFIDENTIALITY_VALUES,
    RELATION_VALUES,
    Contract,
    ContractShare,
    ContractState,
    ContractType,
    Tag,
)
from qiyue.contracts.numbering import allocate_number
from qiyue.lib.errors import FieldErrors
from qiyue.lib.money import CURRENCIES, MoneyError, parse_amount
from qiyue.parties.models import Party
from qiyue.search.hooks import reindex_after_commit


class ContractError(FieldErrors):
    """A refused contract operation. ``errors`` maps field names (or ``__all__``) to
    messages in the user's language; ``code`` is a stable machine-readable reason."""


class StaleEdit(ContractError):
    code = "stale"

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed this contract meanwhile; "
                "reload it and apply your change again."
            )
        )


class NotAllowed(ContractError):
    code = "forbidden"


TEXT_LIMITS = {"title": 200, "payment_terms": 2000, "notes": 5000}
DATE_FIELDS = ("signed_date", "effective_date", "expiry_date")
ALL_FIELDS = (
    "title",
    "contract_type",
    "counterparty",
    "owner",
    "amount",
    "currency",
    "tax_rate",
    *DATE_FIELDS,
    "auto_renew",
    "renewal_term_months",
    "notice_period_days",
    "payment_terms",
    "confidentiality",
    "tags",
    "parent",
    "relation",
    "notes",
)
MAX_TAGS = 20


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if hasattr(value, "pk"):
        return int(value.pk)
    return int(value)


def _bounded_int(value: Any, low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    number = _to_int(value)
    if not low <= number <= high:
        raise ValueError(number)
    return number


def _to_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    parsed = parse_date(str(value))
    if parsed is None:
        raise ValueError(value)
    return parsed


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in {"1", "true", "on", "yes"}:
        return True
    if str(value).lower() in {"0", "false", "off", "no", ""}:
        return False
    raise ValueError(value)


def counterparty_error(party: Party | None) -> str:
    """Why a contract may not name this customer ("" when it may); ``None`` stands for
    a customer that does not exist or that the actor may not see."""
    if party is None:
        return _("Choose a customer you can see.")
    if party.status == Party.Status.BLOCKED:
        return _("This customer is blocked; no new contracts.")
    return ""


def clean_contract_data(
    *, actor: User, data: dict[str, Any], current: Contract | None = None
) -> dict[str, Any]:
    """Check and convert the given fields; raises ContractError naming every bad field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    unknown = sorted(set(data) - set(ALL_FIELDS))
    if unknown:
        errors["__all__"] = _("Unknown fields: %(f)s") % {"f": ", ".join(unknown)}

    for name, limit in TEXT_LIMITS.items():
        if name in data:
            text = "" if data[name] is None else str(data[name]).strip()
            if len(text) > limit:
                errors[name] = _("At most %(n)d characters.") % {"n": limit}
            elif name == "title" and not text:
                errors[name] = _("A contract needs a title.")
            else:
                out[name] = text

    if "contract_type" in data:
        try:
            out["contract_type"] = ContractType.objects.get(
                pk=_to_int(data["contract_type"]), is_active=True
            )
        except (ValueError, TypeError, ContractType.DoesNotExist):
            errors["contract_type"] = _("Choose one of the contract types.")

    if "counterparty" in data:
        try:
            party = Party.objects.visible_to(actor, "view").get(pk=_to_int(data["counterparty"]))
        except (ValueError, TypeError, Party.DoesNotExist):
            errors["counterparty"] = counterparty_error(None)
        else:
            if problem := counterparty_error(party):
                errors["counterparty"] = problem
            out["counterparty"] = party

    if "owner" in data:
        try:
            owner = User.objects.select_related("department").get(
                pk=_to_int(data["owner"]), is_active=True
            )
        except (ValueError, TypeError, User.DoesNotExist):
            errors["owner"] = _("Choose an active user.")
        else:
            same = current is not None and current.owner_id == owner.pk
            if owner.pk != actor.pk and not same and not actor.has_perm_code("admin"):
                errors["owner"] = _("Only administrators may assign contracts to others.")
            out["owner"] = owner

    if "amount" in data:
        if data["amount"] in (None, ""):
            out["amount"] = None
        else:
            try:
                out["amount"] = parse_amount(data["amount"])
            except MoneyError:
                errors["amount"] = _(
                    "Enter a non-negative amount with at most two decimals, below 10^16."
                )

    if "currency" in data:
        if data["currency"] not in CURRENCIES:
            errors["currency"] = _("Unknown currency.")
        else:
            out["currency"] = data["currency"]

    if "tax_rate" in data:
        if data["tax_rate"] in (None, ""):
            out["tax_rate"] = None
        else:
            try:
                rate = Decimal(str(data["tax_rate"]))
                if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(100):
                    raise InvalidOperation
                out["tax_rate"] = rate.quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                errors["tax_rate"] = _("Enter a tax rate between 0 and 100 (percent).")

    for name in DATE_FIELDS:
        if name in data:
            try:
                out[name] = _to_date(data[name])
            except (ValueError, TypeError):
                errors[name] = _("Enter a date as YYYY-MM-DD.")

    if "auto_renew" in data:
        try:
            out["auto_renew"] = _to_bool(data["auto_renew"])
        except ValueError:
            errors["auto_renew"] = _("Enter true or false.")
    for name, high in (("renewal_term_months", 600), ("notice_period_days", 3650)):
        if name in data:
            try:
                out[name] = _bounded_int(data[name], 0 if name == "notice_period_days" else 1, high)
            except (ValueError, TypeError):
                errors[name] = _("Enter a whole number between %(lo)d and %(hi)d.") % {
                    "lo": 0 if name == "notice_period_days" else 1,
                    "hi": high,
                }

    if "confidentiality" in data:
        if data["confidentiality"] not in CONFIDENTIALITY_VALUES:
            errors["confidentiality"] = _("Unknown confidentiality level.")
        else:
            out["confidentiality"] = data["confidentiality"]

    if "tags" in data:
        raw = data["tags"] or []
        if isinstance(raw, str):
            raw = [t for t in raw.replace("，", ",").split(",")]
        tags = sorted({str(t).strip() for t in raw if str(t).strip()})
        if len(tags) > MAX_TAGS or any(len(t) > 50 for t in tags):
            errors["tags"] = _("At most %(n)d tags of at most 50 characters each.") % {
                "n": MAX_TAGS
            }
        else:
            out["tags"] = tags

    if "relation" in data:
        if (data["relation"] or "") not in RELATION_VALUES:
            errors["relation"] = _("Unknown relation.")
        else:
            out["relation"] = data["relation"] or ""
    if "parent" in data:
        if data["parent"] in (None, ""):
            out["parent"] = None
        else:
            try:
                parent = Contract.objects.visible_to(actor, "view").get(pk=_to_int(data["parent"]))
            except (ValueError, TypeError, Contract.DoesNotExist):
                errors["parent"] = _("Choose a related contract you can see.")
            else:
                if current is not None and current.pk in _ancestor_ids(parent):
                    errors["parent"] = _("A contract cannot be related to itself.")
                out["parent"] = parent

    # Cross-field rules, on the values the record will have afterwards.
    def after(name: str) -> Any:
        if name in out:
            return out[name]
        return getattr(current, name) if current is not None else None

    eff, exp, signed = after("effective_date"), after("expiry_date"), after("signed_date")
    if eff and exp and exp < eff and "expiry_date" not in errors:
        errors["expiry_date"] = _("The expiry date must not be before the effective date.")
    if signed and exp and signed > exp and "signed_date" not in errors:
        errors["signed_date"] = _("The signing date must not be after the expiry date.")
    relation, parent = after("relation"), after("parent")
    if relation and parent is None and "parent" not in errors:
        errors["parent"] = _("Choose the contract this one relates to.")
    if parent is not None and not relation and "relation" not in errors:
        errors["relation"] = _("Say how this contract relates to the other one.")

    if errors:
        raise ContractError(errors)
    return out


def _ancestor_ids(contract: Contract, *, limit: int = 100) -> set[int]:
    """The contract and the contracts above it, so that no relation closes a cycle."""
    seen = {contract.pk}
    parent_id = contract.parent_id
    while parent_id is not None and parent_id not in seen and len(seen) < limit:
        seen.add(parent_id)
        parent_id = (
            Contract.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
        )
    return seen


_AS_TEXT = (Decimal, date)  # a tuple: isinstance with a union costs twice as much


def snapshot_value(value: Any) -> Any:
    """A field's value as a contract's audit events hold it (decimals and dates as text)."""
    return str(value) if isinstance(value, _AS_TEXT) else value


def _snapshot(contract: Contract, fields: list[str]) -> dict[str, Any]:
    snap: dict[str, Any] = {}
    for name in fields:
        if name == "tags":
            snap[name] = sorted(t.name for t in contract.tags.all())
        elif name in {"contract_type", "counterparty", "owner", "parent"}:
            snap[name] = getattr(contract, f"{name}_id")
        else:
            snap[name] = snapshot_value(getattr(contract, name))
    return snap


def _set_tags(contract: Contract, names: list[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    for name in names:
        if name not in existing:
            existing[name], _created = Tag.objects.get_or_create(name=name)
    contract.tags.set([existing[n] for n in names])


def create_contract(*, actor: User, data: dict[str, Any]) -> Contract:
    if not actor.has_perm_code("contract.create"):
        raise NotAllowed(_("You may not create contracts."))
    missing = [f for f in ("title", "contract_type", "counterparty") if not data.get(f)]
    if missing:
        raise ContractError({f: _("This field is required.") for f in missing})
    with transaction.atomic():
        cleaned = clean_contract_data(actor=actor, data=data)
        tags = cleaned.pop("tags", [])
        owner = cleaned.pop("owner", actor)
        today = timezone.localdate()
        contract = Contract(
            owner=owner,
            department=owner.department,
            created_by=actor,
            number=allocate_number(cleaned["contract_type"], on=today),
            **cleaned,
        )
        contract.save()
        if tags:
            _set_tags(contract, tags)
        after = _snapshot(contract, [*cleaned.keys(), "owner", "number"])
        if tags:
            after["tags"] = tags
        record(actor=actor, action="contract.created", target=contract, data={"after": after})
        reindex_after_commit(contract.pk)
        recheck_after_commit(contract.pk)
    return contract


def update_contract(
    *, actor: User, contract: Contract, data: dict[str, Any], version: int
) -> Contract:
    """Change fields if ``version`` is still current (compare-and-set); else StaleEdit."""
    with transaction.atomic():
        if not Contract.objects.visible_to(actor, "change").filter(pk=contract.pk).exists():
            raise NotAllowed(_("You may not edit this contract."))
        current = Contract.objects.get(pk=contract.pk)
        if current.version != version:
            raise StaleEdit()
        cleaned = clean_contract_data(actor=actor, data=data, current=current)
        if current.state in FROZEN_STATES:
            raise NotAllowed(_("An archived contract cannot be changed."), code="state")
        if current.state not in EDITABLE_STATES:
            locked = sorted(set(cleaned) - ALWAYS_EDITABLE_FIELDS)
            if locked:
                raise ContractError(
                    {
                        name: _(
                            "Cannot be changed once the contract is %(state)s; "
                            "record an amendment instead."
                        )
                        % {"state": current.get_state_display()}
                        for name in locked
                    },
                    code="state",
                )
        before = _snapshot(current, list(cleaned))
        tags = cleaned.pop("tags", None)
        if "owner" in cleaned:
            cleaned["department"] = cleaned["owner"].department
        updated = Contract.objects.filter(pk=current.pk, version=version).update(
            **cleaned, version=version + 1, updated_at=timezone.now()
        )
        if updated != 1:
            raise StaleEdit()
        current.refresh_from_db()
        if tags is not None:
            _set_tags(current, tags)
        after = _snapshot(current, list(before))
        changed = {k: after[k] for k in before if before[k] != after[k]}
        if changed:
            record(
                actor=actor,
                action="contract.changed",
                target=current,
                data={"before": {k: before[k] for k in changed}, "after": changed},
            )
            reindex_after_commit(current.pk)
            recheck_after_commit(current.pk)
    return current


def transition_contract(
    *,
    actor: User,
    contract: Contract,
    to: str | None = None,
    code: str | None = None,
    comment: str = "",
    signed_date: date | str | None = None,
    version: int | None = None,
) -> Contract:
    """Move the contract to another state, by target state (``to``) or transition code.

    Checks, in this order: the transition exists from the current state, the actor may
    take it, a required comment is present, required fields are filled. The state is
    changed with compare-and-set on the state itself, so two concurrent transitions
    produce exactly one change."""
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ContractError({"comment": _("At most %(n)d characters.") % {"n": 2000}})
    with transaction.atomic():
        current = (
            Contract.objects.visible_to(actor, "view")
            .select_related("counterparty")
            .filter(pk=contract.pk)
            .first()
        )
        if current is None:
            raise NotAllowed(_("Contract not found."), code="not_found")
        if version is not None and current.version != version:
            raise StaleEdit()
        t = _find_transition(current.state, to=to, code=code)
        _check_may(actor, current, t)
        if t.code == "terminate":
            # Open instalments and obligations are closed or carried over explicitly
            # (qiyue.contracts.flows.terminate_contract), never left behind silently.
            from qiyue.obligations.actions import open_items

            if any(items for items in open_items(current)):
                raise ContractError(
                    _(
                        "Open instalments or obligations remain; use “Terminate early” "
                        "to close or carry over each of them."
                    ),
                    code="incomplete",
                )
        if t.comment_required and not comment:
            raise ContractError({"comment": _("Please give a reason.")}, code="comment_required")
        changes: dict[str, Any] = {}
        if t.target in {ContractState.IN_REVIEW, ContractState.APPROVED}:
            _check_complete(current)
        if t.code in {"start_signing", "mark_signed"}:
            # Nothing is signed that was not approved, in its current content.
            from qiyue.approvals.queries import signing_blocker

            blocker = signing_blocker(current)
            if blocker:
                raise ContractError(blocker, code="approval_required")
        if t.code == "mark_signed":
            try:
                signed = _to_date(signed_date) or current.signed_date or timezone.localdate()
            except (ValueError, TypeError):
                raise ContractError({"signed_date": _("Enter a date as YYYY-MM-DD.")}) from None
            if current.expiry_date and signed > current.expiry_date:
                raise ContractError(
                    {"signed_date": _("The signing date must not be after the expiry date.")}
                )
            changes["signed_date"] = signed
            if current.effective_date is None:
                changes["effective_date"] = signed
        move(actor, current, t, note={"comment": comment}, changes=changes)
        if t.code == "submit":
            from qiyue.approvals.actions import ApprovalError, start_instance

            try:
                start_instance(actor=actor, contract=current)
            except ApprovalError as exc:  # e.g. no approver for a step: nothing changes
                raise ContractError(dict(exc.errors), code=exc.code) from None
        if t.code == "mark_signed":
            # Instalments due "N days after signing" get their dates now.
            from qiyue.obligations.actions import resolve_signing

            resolve_signing(actor=actor, contract=current)
        reindex_after_commit(current.pk)
    return current


def workflow_transition(
    *, actor: User | None, contract: Contract, code: str, comment: str = ""
) -> Contract:
    """The contract's state change that results from the approval workflow (approve,
    return, reject, withdraw, reapprove). Only ``qiyue.approvals.actions`` calls this,
    inside its own transaction, after it checked who decided what."""
    t = TRANSITIONS[code]
    assert t.workflow, code
    assert transaction.get_connection().in_atomic_block, "call inside the approval's transaction"
    current = Contract.objects.select_related("counterparty").get(pk=contract.pk)
    if t.code == "approve":
        _check_complete(current)
    if current.state not in t.sources:
        raise ContractError(
            _("This step is not possible from the state %(state)s.")
            % {"state": ContractState(current.state).label},
            code="invalid_transition",
        )
    move(actor, current, t, note={"comment": (comment or "")[:2000]})
    reindex_after_commit(current.pk)
    return current


def move(
    actor: User | None,
    current: Contract,
    t: Transition,
    *,
    note: dict[str, Any],
    changes: dict[str, Any] | None = None,
) -> None:
    """Take transition ``t`` on ``current`` (compare-and-set on its state and version, so
    two concurrent moves make one change; StaleEdit for the loser), refresh it and record
    the event, with ``note`` (a comment; the system's rule and day) beside the states.
    Shared by manual, workflow and scheduled (``flows``) transitions; runs in the
    caller's transaction."""
    changes = changes or {}
    updated = Contract.objects.filter(
        pk=current.pk, state=current.state, version=current.version
    ).update(state=t.target, version=current.version + 1, updated_at=timezone.now(), **changes)
    if updated != 1:
        raise StaleEdit()
    before_state = current.state
    current.refresh_from_db()
    record(
        actor=actor,
        action=f"contract.{t.code}",
        target=current,
        data={
            "before": {"state": before_state},
            "after": {"state": t.target, **{k: str(v) for k, v in changes.items()}},
            **note,
        },
    )


def _workflow_only() -> ContractError:
    return ContractError(
        _(
            "Approvals are decided on approval tasks (My tasks), not on the contract; "
            "submit the contract to start its approval."
        ),
        code="approval_workflow",
    )


def _find_transition(state: str, *, to: str | None, code: str | None) -> Transition:
    if code is not None:
        t = TRANSITIONS.get(code)
        if t is not None and t.workflow:
            raise _workflow_only()
        if t is None or state not in t.sources:
            raise ContractError(
                _("This step is not possible from the state %(state)s.")
                % {"state": ContractState(state).label},
                code="invalid_transition",
            )
        return t
    if to not in ContractState.values:
        raise ContractError(
            {"to": _("Unknown state %(to)s.") % {"to": str(to)[:40]}}, code="unknown_state"
        )
    found = BY_TARGET.get((state, str(to)))
    if found is None and any(
        t.workflow and state in t.sources and t.target == to for t in TRANSITIONS.values()
    ):
        raise _workflow_only()
    if found is None:
        raise ContractError(
            _("A contract cannot go from %(a)s to %(b)s.")
            % {"a": ContractState(state).label, "b": ContractState(str(to)).label},
            code="invalid_transition",
        )
    return found


def _check_may(actor: User, contract: Contract, t: Transition) -> None:
    allowed = Contract.objects.visible_to(actor, t.access).filter(pk=contract.pk).exists()
    if not allowed:
        raise NotAllowed(_("You may not take this step on this contract."))
    if t.code == "approve" and contract.owner_id == actor.pk and not actor.is_superuser:
        raise NotAllowed(_("You cannot approve your own contract."))


def _check_complete(contract: Contract) -> None:
    errors: dict[str, str] = {}
    if contract.amount is None:
        errors["amount"] = _("Enter the amount before submitting.")
    if contract.counterparty.status == Party.Status.BLOCKED:
        errors["counterparty"] = _("This customer is blocked; no new contracts.")
    if errors:
        raise ContractError(errors, code="incomplete")


@transaction.atomic
def share_contract(
    *,
    actor: User,
    contract: Contract,
    user: User | None = None,
    department: Department | None = None,
    can_edit: bool = False,
) -> ContractShare:
    if (user is None) == (department is None):
        raise ContractError(_("Share with either one user or one department."))
    if not Contract.objects.visible_to(actor, "share").filter(pk=contract.pk).exists():
        raise NotAllowed(_("You may not share this contract."))
    share, _created = ContractShare.objects.update_or_create(
        contract=contract,
        user=user,
        department=department,
        defaults={"can_edit": can_edit, "created_by": actor},
    )
    record(
        actor=actor,
        action="contract.shared",
        target=contract,
        data={
            "user": user.pk if user else None,
            "department": department.pk if department else None,
            "can_edit": can_edit,
        },
    )
    return share


@transaction.atomic
def unshare_contract(*, actor: User, share: ContractShare) -> None:
    if not Contract.objects.visible_to(actor, "share").filter(pk=share.contract_id).exists():
        raise NotAllowed(_("You may not share this contract."))
    contract = share.contract
    data = {"user": share.user_id, "department": share.department_id}
    share.delete()
    record(actor=actor, action="contract.unshared", target=contract, data=data)
