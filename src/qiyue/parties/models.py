"""Customers and other counterparties (客户, 相对方) and their contacts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiyue.accounts.access import PARTY_ACTIONS, scope_q


class PartyQuerySet(models.QuerySet["Party"]):
    def visible_to(self, user: Any, action: str = "view") -> PartyQuerySet:
        q = scope_q(user, action, actions=PARTY_ACTIONS)
        return self.none() if q is None else self.filter(q)


class Party(models.Model):
    """A company (or person) Qiyue's user signs contracts with: usually a customer. Its
    unified social credit code identifies a Chinese company; a foreign registration
    number identifies one abroad."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("customer status", "Active")
        INACTIVE = "inactive", pgettext_lazy("customer status", "Inactive")
        BLOCKED = "blocked", pgettext_lazy("customer status", "Blocked")

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    normalized_name = models.CharField(max_length=200, db_index=True, editable=False)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, db_index=True
    )
    foreign_registration = models.CharField(
        _("foreign registration number"), max_length=64, blank=True
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_parties",
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="parties",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = PartyQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~models.Q(credit_code=""),
                name="party_unique_credit_code",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at a counterparty whom sales, legal or finance deal with."""

    party = models.ForeignKey(
        Party, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
