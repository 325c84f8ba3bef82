"""Writes for customers. Duplicates are refused on the credit code and on the
normalised name, whether or not the user can see the existing record."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.accounts.models import User
from qiyue.audit.actions import record
from qiyue.compliance.hooks import recheck_party_after_commit
from qiyue.lib.errors import FieldErrors
from qiyue.lib.text import normalize_company_name
from qiyue.lib.uscc import is_valid_uscc, normalize_uscc
from qiyue.parties.models import Contact, Party
from qiyue.search.hooks import reindex_party_after_commit


class PartyError(FieldErrors):
    """Invalid customer data; ``errors`` maps field names to messages."""


class StaleEdit(PartyError):
    def __init__(self) -> None:
        super().__init__(
            {"version": _("Someone else changed this customer meanwhile; reload and retry.")}
        )


class NotAllowed(PartyError):
    """The actor may not change this customer (delivery layers answer 404 or 403)."""

    def __init__(self) -> None:
        super().__init__({"__all__": _("You may not edit this customer.")})


def _check_may_change(actor: User, party: Party) -> None:
    # The delivery layers ask first, but the action is the rule: no write without access.
    if not Party.objects.visible_to(actor, "change").filter(pk=party.pk).exists():
        raise NotAllowed()


PARTY_FIELDS = (
    "name",
    "short_name",
    "credit_code",
    "foreign_registration",
    "address",
    "industry",
    "status",
    "notes",
)
MAX_LENGTHS: dict[str, int] = {
    f.name: int(f.max_length or 0)
    for f in Party._meta.concrete_fields
    if getattr(f, "max_length", None)
}


def _clean(data: dict[str, Any], *, exclude_pk: int | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for field in PARTY_FIELDS:
        if field not in data:
            continue
        value = data[field]
        value = "" if value is None else str(value).strip()
        limit = MAX_LENGTHS.get(field)
        if limit and len(value) > limit:
            errors[field] = _("At most %(n)d characters.") % {"n": limit}
            continue
        cleaned[field] = value
    if "name" in cleaned and not cleaned["name"]:
        errors["name"] = _("A customer needs a name.")
    if cleaned.get("credit_code"):
        code = normalize_uscc(cleaned["credit_code"])
        if not is_valid_uscc(code):
            errors["credit_code"] = _(
                "Not a valid unified social credit code (18 characters with a check digit)."
            )
        else:
            cleaned["credit_code"] = code
            dup = Party.objects.filter(credit_code=code)
            if exclude_pk:
                dup = dup.exclude(pk=exclude_pk)
            if dup.exists():
                errors["credit_code"] = _("A customer with this credit code already exists.")
    if "status" in cleaned and cleaned["status"] not in Party.Status.values:
        errors["status"] = _("Unknown status.")
    if cleaned.get("name"):
        key = normalize_company_name(cleaned["name"])
        cleaned["normalized_name"] = key
        dup = Party.objects.filter(normalized_name=key)
        if exclude_pk:
            dup = dup.exclude(pk=exclude_pk)
        if key and dup.exists():
            errors["name"] = _("A customer with this name already exists.")
    if errors:
        raise PartyError(errors)
    return cleaned


def create_party(*, actor: User, data: dict[str, Any], owner: User | None = None) -> Party:
    if not actor.has_perm_code("party.create"):
        raise PartyError({"__all__": _("You may not create customers.")})
    if not data.get("name"):
        raise PartyError({"name": _("A customer needs a name.")})
    owner = owner or actor
    try:
        with transaction.atomic():
            cleaned = _clean(data, exclude_pk=None)
            party = Party.objects.create(owner=owner, department=owner.department, **cleaned)
            record(actor=actor, action="party.created", target=party, data={"after": cleaned})
            return party
    except IntegrityError:
        # Two people adding the same credit code at once: the constraint decides.
        raise PartyError(
            {"credit_code": _("A customer with this credit code already exists.")}
        ) from None


def update_party(*, actor: User, party: Party, data: dict[str, Any], version: int) -> Party:
    with transaction.atomic():
        _check_may_change(actor, party)
        cleaned = _clean(data, exclude_pk=party.pk)
        before = {k: getattr(party, k) for k in cleaned}
        changes = {k: v for k, v in cleaned.items() if before.get(k) != v}
        updated = Party.objects.filter(pk=party.pk, version=version).update(
            **changes, version=version + 1, updated_at=timezone.now()
        )
        if updated != 1:
            raise StaleEdit()
        party.refresh_from_db()
        if changes:
            record(
                actor=actor,
                action="party.changed",
                target=party,
                data={"before": {k: before[k] for k in changes}, "after": changes},
            )
        if {"name", "short_name"} & changes.keys():
            reindex_party_after_commit(party.pk)
        if {"name", "credit_code", "foreign_registration", "status"} & changes.keys():
            recheck_party_after_commit(party.pk)
        return party


@transaction.atomic
def add_contact(*, actor: User, party: Party, data: dict[str, Any]) -> Contact:
    _check_may_change(actor, party)
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise PartyError({"name": _("A contact needs a name of at most 100 characters.")})
    contact = Contact(
        party=party,
        name=name,
        title=str(data.get("title") or "").strip()[:100],
        phone=str(data.get("phone") or "").strip()[:40],
        email=str(data.get("email") or "").strip(),
    )
    from django.core.exceptions import ValidationError

    try:
        contact.full_clean(exclude=["party"])
    except ValidationError as exc:
        raise PartyError({k: " ".join(v) for k, v in exc.message_dict.items()}) from None
    contact.save()
    record(actor=actor, action="party.contact_added", target=party, data={"contact": name})
    return contact
