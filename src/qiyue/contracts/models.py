"""The contract record, its types and numbering, tags, relations and shares."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qiyue.accounts.access import CONTRACT_ACTIONS, scope_key, scope_q
from qiyue.lib.money import CURRENCIES


class ContractType(models.Model):
    """A kind of contract (销售合同, 服务合同, 框架协议 …) with its numbering rule."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    number_pattern = models.CharField(
        _("number pattern"),
        max_length=100,
        default="HT-{year}-{seq:05}",
        help_text=_("Fields: {year}, {month}, {code}, {seq} (e.g. {seq:05} for 00001)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("contract type")
        verbose_name_plural = _("contract types")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    def clean(self) -> None:
        from qiyue.contracts.numbering import validate_pattern

        validate_pattern(self.number_pattern)


class NumberSequence(models.Model):
    """The last number handed out for one contract type in one year. Incremented inside
    the creating transaction, so a rolled-back creation leaves no gap."""

    contract_type = models.ForeignKey(ContractType, on_delete=models.PROTECT)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [
            models.UniqueConstraint(fields=["contract_type", "year"], name="sequence_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.contract_type.code} {self.year}: {self.last}"


class Tag(models.Model):
    """A free label on contracts, shared by everyone (e.g. 战略客户, renewal-risk)."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContractState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    RETURNED = "returned", _("Returned")
    APPROVED = "approved", _("Approved")
    SIGNING = "signing", _("Signing")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")
    RENEWED = "renewed", _("Renewed")
    ARCHIVED = "archived", _("Archived")


class Confidentiality(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")
    CONFIDENTIAL = "confidential", _("Confidential")
    SECRET = "secret", _("Secret")


class Relation(models.TextChoices):
    NONE = "", _("None")
    ORDER = "order", _("Order under a framework agreement")
    AMENDMENT = "amendment", _("Amendment to a main contract")
    RENEWAL = "renewal", _("Renewal of a contract")


# The values of the choices above as sets, made once: Django builds a choices class's
# ``values`` anew at every read (4 µs), which counts in a bulk import's rows.
STATE_VALUES = frozenset(ContractState.values)
CONFIDENTIALITY_VALUES = frozenset(Confidentiality.values)
RELATION_VALUES = frozenset(Relation.values)


def cancel_by(expiry: date, notice_days: int | None) -> date:
    """The last day to give notice before an automatic renewal that takes effect after
    ``expiry``: ``notice_days`` before it, or the expiry date itself when no notice
    period is recorded. The one rule behind the contract page, the lifecycle flows and
    the reminders."""
    return expiry - timedelta(days=notice_days or 0)


def _shared_contract_ids(user: Any, editable: bool) -> models.QuerySet[Any]:
    shares = ContractShare.objects.filter(user=user.pk)
    if user.department_id:
        shares = ContractShare.objects.filter(
            models.Q(user=user.pk) | models.Q(department=user.department_id)
        )
    if editable:
        shares = shares.filter(can_edit=True)
    return shares.values("contract_id")


class ContractQuerySet(models.QuerySet["Contract"]):
    def visible_to(self, user: Any, action: str = "view") -> ContractQuerySet:
        q = scope_q(user, action, actions=CONTRACT_ACTIONS, shared=_shared_contract_ids)
        return self.none() if q is None else self.filter(q)


def visibility_key(user: Any, action: str = "view") -> tuple[Any, ...]:
    """Equal for two users (or two requests of one user) whose
    ``Contract.objects.visible_to(user, action)`` compiles to the same SQL and
    parameters (``access.scope_key``)."""
    return scope_key(user, action, actions=CONTRACT_ACTIONS)


class Contract(models.Model):
    """One customer contract, from the first draft to its archiving: who it is with,
    what it is worth, when it runs, and where it is in its lifecycle."""

    number = models.CharField(_("number"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    contract_type = models.ForeignKey(
        ContractType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="contracts"
    )
    counterparty = models.ForeignKey(
        "parties.Party",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_contracts",
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=[(c, c) for c in CURRENCIES], default="CNY"
    )
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    signed_date = models.DateField(_("signed on"), null=True, blank=True)
    effective_date = models.DateField(_("effective from"), null=True, blank=True)
    expiry_date = models.DateField(_("expires on"), null=True, blank=True, db_index=True)
    auto_renew = models.BooleanField(_("renews automatically"), default=False)
    renewal_term_months = models.PositiveIntegerField(
        _("renewal term (months)"), null=True, blank=True
    )
    notice_period_days = models.PositiveIntegerField(
        _("notice period (days)"), null=True, blank=True
    )
    payment_terms = models.TextField(_("payment terms"), blank=True, max_length=2000)
    confidentiality = models.CharField(
        _("confidentiality"),
        max_length=20,
        choices=Confidentiality.choices,
        default=Confidentiality.INTERNAL,
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contracts")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("related contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    relation = models.CharField(
        _("relation"), max_length=20, choices=Relation.choices, default="", blank=True
    )
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=ContractState.choices,
        default=ContractState.DRAFT,
        db_index=True,
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-id"]
        indexes = [
            # By id within a state, an owner, a department: read backwards for the
            # newest first, and forwards (ascending) when a search builds the set of a
            # user's contracts in one index table's ids, which SQLite then inserts into
            # a temporary b-tree: in descending order that cost 1.5 ms more for 9,000
            # ids (decision 0010).
            models.Index(fields=["state", "id"]),
            models.Index(fields=["owner", "id"]),
            models.Index(fields=["department", "id"]),
            # The contract list's default order (newest first): walked, not sorted.
            models.Index(fields=["-created_at", "-id"]),
            # Live contracts by expiry (the home page's 30/60/90-day windows).
            models.Index(fields=["state", "expiry_date"]),
            # The home page's value of active contracts, read from the index alone, with
            # the columns a sales person's or a department's visibility asks about.
            models.Index(fields=["state", "currency", "owner", "department", "amount"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="contract_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_date__isnull=True)
                | models.Q(effective_date__isnull=True)
                | models.Q(expiry_date__gte=models.F("effective_date")),
                name="contract_expiry_after_effective",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'

    @property
    def cancel_by(self) -> date | None:
        """The last day to give notice before an automatic renewal (:func:`cancel_by`)."""
        return cancel_by(self.expiry_date, self.notice_period_days) if self.expiry_date else None


class ContractShare(models.Model):
    """A contract shared with one user or a whole department beyond their data scope."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    can_edit = models.BooleanField(_("may edit"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("contract share")
        verbose_name_plural = _("contract shares")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(department__isnull=True))
                | (models.Q(user__isnull=True) & models.Q(department__isnull=False)),
                name="share_user_xor_department",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} → {self.user_id or self.department_id}"


# -- lifecycle flows after signing (contracts/flows.py) ------------------------------------


class AmendmentState(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved and applied")
    REJECTED = "rejected", _("Rejected")


class Amendment(models.Model):
    """A change to a signed contract (补充协议 / 变更): the named fields and their new
    values. It changes the main contract only once a user with "approve" access who is
    not its author approves it; ``before`` keeps the values it replaced."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="amendments"
    )
    title = models.CharField(_("title"), max_length=200)
    reason = models.TextField(_("reason"), max_length=2000, blank=True)
    changes = models.JSONField(_("changes"), default=dict)
    before = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=AmendmentState.choices, default=AmendmentState.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True, max_length=2000)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["contract", "id"]

    def __str__(self) -> str:
        return self.title


class Termination(models.Model):
    """How a contract ended early: why, from when, and what was agreed about the money
    and duties still open (settlement notes)."""

    contract = models.OneToOneField(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="termination"
    )
    reason = models.TextField(_("reason"), max_length=2000)
    effective_date = models.DateField(_("effective on"))
    settlement_notes = models.TextField(_("settlement notes"), max_length=5000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("termination")
        verbose_name_plural = _("terminations")

    def __str__(self) -> str:
        return f"{self.contract_id} {self.effective_date}"


class NonRenewalNotice(models.Model):
    """A notice that the contract shall not renew automatically, given (by us or by the
    customer) for the term ending on ``for_expiry``. While one exists for the current
    term, the daily job lets the contract expire instead of extending it."""

    class Party(models.TextChoices):
        US = "us", _("We gave notice")
        CUSTOMER = "customer", _("The customer gave notice")

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="non_renewal_notices",
    )
    given_by = models.CharField(_("given by"), max_length=20, choices=Party.choices)
    given_on = models.DateField(_("given on"))
    for_expiry = models.DateField(_("for the term ending on"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("non-renewal notice")
        verbose_name_plural = _("non-renewal notices")
        constraints = [
            models.UniqueConstraint(fields=["contract", "for_expiry"], name="one_notice_per_term")
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.given_on}"
