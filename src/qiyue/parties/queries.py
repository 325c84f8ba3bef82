"""Reads of customers for users; every one goes through ``visible_to``."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from qiyue.parties.models import Contact, Party


def parties_for(user: Any, *, q: str = "", status: str = "") -> QuerySet[Party]:
    qs = Party.objects.visible_to(user, "view").select_related("owner", "department")
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(short_name__icontains=q) | Q(credit_code__icontains=q)
        )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def party_for(user: Any, pk: int, action: str = "view") -> Party:
    """One customer the user may act on, or 404."""
    party = (
        Party.objects.visible_to(user, action)
        .select_related("owner", "department")
        .annotate(contract_count=Count("contracts", distinct=True))
        .filter(pk=pk)
        .first()
    )
    if party is None:
        raise Http404
    return party


def _offered(user: Any, q: str) -> QuerySet[Party]:
    return parties_for(user, q=q).exclude(status=Party.Status.BLOCKED)


def party_choices_for(user: Any, *, q: str = "", limit: int = 20) -> QuerySet[Party]:
    """Customers offered in pickers and autocomplete."""
    return _offered(user, q)[:limit]


def party_options_for(
    user: Any, *, q: str = "", limit: int = 20, chosen: int | None = None
) -> list[tuple[int, str]]:
    """``(id, name)`` of the customers :func:`party_choices_for` offers, for a list of
    options: two columns, not whole customers with their owners and departments (200 of
    them were most of a search page's time). ``chosen``, when the user may see it, comes
    first if it is not among them, so a filter on an older customer stays chosen."""
    options = list(_offered(user, q).values_list("pk", "name")[:limit])
    if chosen is not None and all(pk != chosen for pk, _name in options):
        options[:0] = parties_for(user).filter(pk=chosen).values_list("pk", "name")
    return options


def may(user: Any, party: Party, action: str) -> bool:
    """Whether the user may take ``action`` on the customer (for showing buttons)."""
    return Party.objects.visible_to(user, action).filter(pk=party.pk).exists()


def contacts_of(party: Party) -> QuerySet[Contact]:
    """The contacts of a customer the caller has already found visible."""
    return Contact.objects.filter(party=party).order_by("id")
