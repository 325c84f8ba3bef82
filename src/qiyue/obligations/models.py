"""Money and duties after signing: the payment plan (instalments), received payments
(回款) and their allocation to instalments, invoices (开票), and other obligations."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiyue.contracts.models import ContractState


class Trigger(models.TextChoices):
    """What an instalment's due date hangs on; resolved when the event happens."""

    DATE = "date", _("On a fixed date")
    SIGNING = "signing", _("After signing")
    EFFECTIVE = "effective", _("After the effective date")
    ACCEPTANCE = "acceptance", _("After acceptance")


class InstalmentState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")  # waived or settled at termination
    CARRIED = "carried", _("Carried over")  # kept payable after termination


#: Instalments still owed (carried over ones stay payable after a termination).
OPEN_INSTALMENT_STATES = (InstalmentState.OPEN, InstalmentState.CARRIED)

#: Contract states in which money may be received and invoiced and its deadlines count
#: (after approval, until archiving).
MONEY_STATES = frozenset(
    {
        ContractState.APPROVED,
        ContractState.SIGNING,
        ContractState.ACTIVE,
        ContractState.EXPIRED,
        ContractState.TERMINATED,
        ContractState.RENEWED,
    }
)


class Instalment(models.Model):
    """One line of a contract's payment plan (回款计划): how much is due, and when —
    a fixed date, or a number of days after an event (signing, acceptance). ``received``
    is the sum of the payments allocated to it, kept by the payment actions."""

    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="instalments",
    )
    seq = models.PositiveIntegerField(_("position"), default=1)
    label = models.CharField(_("label"), max_length=100)
    percent = models.DecimalField(
        _("percent of the contract amount"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    trigger = models.CharField(
        _("due"), max_length=20, choices=Trigger.choices, default=Trigger.DATE
    )
    offset_days = models.PositiveIntegerField(_("days after the event"), default=0)
    event_date = models.DateField(_("event happened on"), null=True, blank=True)
    due_date = models.DateField(_("due on"), null=True, blank=True, db_index=True)
    received = models.DecimalField(
        _("received"), max_digits=18, decimal_places=2, default=Decimal(0)
    )
    state = models.CharField(
        _("state"), max_length=20, choices=InstalmentState.choices, default=InstalmentState.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["contract", "seq", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="instalment_amount_ge0"),
            models.CheckConstraint(
                condition=models.Q(received__gte=0), name="instalment_received_ge0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}#{self.seq} {self.label}"

    @property
    def outstanding(self) -> Decimal:
        return max(self.amount - self.received, Decimal(0))

    @property
    def is_paid(self) -> bool:
        return self.received >= self.amount


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    ACCEPTANCE_BILL = "bill", _("Bank acceptance bill")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class Payment(models.Model):
    """Money received from the customer for a contract (回款), as recorded by finance.
    Its amount is allocated to instalments; what is left (an overpayment, or money
    received before any plan exists) stays unallocated and shows on the contract."""

    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    received_on = models.DateField(_("received on"), db_index=True)
    method = models.CharField(
        _("method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    unallocated = models.DecimalField(
        _("unallocated"), max_digits=18, decimal_places=2, default=Decimal(0)
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["contract", "received_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_gt0"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.received_on} {self.amount}"


class Allocation(models.Model):
    """The part of a payment that settles one instalment."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    instalment = models.ForeignKey(Instalment, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_amount_gt0"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id}→{self.instalment_id}: {self.amount}"


class InvoiceKind(models.TextChoices):
    SPECIAL = "special", _("VAT special invoice (增值税专用发票)")
    NORMAL = "normal", _("VAT normal invoice (增值税普通发票)")


class InvoiceState(models.TextChoices):
    PLANNED = "planned", _("To issue")
    ISSUED = "issued", _("Issued")
    VOID = "void", _("Void")


class Invoice(models.Model):
    """An invoice (发票) to the customer for a contract, usually for one instalment.
    ``amount`` includes tax; ``tax`` is the VAT part of it. A planned invoice has no
    number yet; its date is when it should be issued."""

    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    instalment = models.ForeignKey(
        Instalment,
        verbose_name=_("instalment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    number = models.CharField(_("invoice number"), max_length=30, blank=True)
    kind = models.CharField(
        _("invoice type"), max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.SPECIAL
    )
    amount = models.DecimalField(_("amount incl. tax"), max_digits=18, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=18, decimal_places=2, default=Decimal(0))
    issued_on = models.DateField(_("date"), db_index=True)
    state = models.CharField(
        _("status"), max_length=20, choices=InvoiceState.choices, default=InvoiceState.ISSUED
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["contract", "issued_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="invoice_amount_gt0"),
            models.CheckConstraint(
                condition=models.Q(tax__gte=0) & models.Q(tax__lte=models.F("amount")),
                name="invoice_tax_within_amount",
            ),
            models.UniqueConstraint(
                fields=["kind", "number"],
                condition=~models.Q(number=""),
                name="invoice_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class ObligationKind(models.TextChoices):
    DELIVERABLE = "deliverable", _("Deliverable")
    REPORT = "report", _("Report")
    INSURANCE = "insurance", _("Insurance certificate")
    AUDIT = "audit", _("Audit")
    OTHER = "other", _("Other")


class Recurrence(models.TextChoices):
    NONE = "", _("Once")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


RECURRENCE_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


class ObligationState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CLOSED = "closed", _("Closed")  # dropped, e.g. at termination
    CARRIED = "carried", _("Carried over")


#: Obligations still to do.
OPEN_OBLIGATION_STATES = (ObligationState.OPEN, ObligationState.CARRIED)


class Obligation(models.Model):
    """Something a contract requires by a date — a deliverable, a report, an insurance
    certificate, an audit — with the person responsible and the evidence that it was
    done (a document of the contract). A recurring obligation is a series: completing
    one occurrence opens the next, due ``occurrence`` periods after ``first_due`` (so a
    monthly duty that started on Jan 31 falls on Feb 28, then Mar 31)."""

    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="obligations",
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=ObligationKind.choices, default=ObligationKind.DELIVERABLE
    )
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        on_delete=models.PROTECT,
        related_name="obligations",
    )
    due_date = models.DateField(_("due on"), db_index=True)
    recurrence = models.CharField(
        _("recurrence"), max_length=20, choices=Recurrence.choices, default="", blank=True
    )
    first_due = models.DateField(_("first due on"))
    occurrence = models.PositiveIntegerField(default=0)
    state = models.CharField(
        _("state"), max_length=20, choices=ObligationState.choices, default=ObligationState.OPEN
    )
    evidence = models.ForeignKey(
        "documents.Document",
        verbose_name=_("evidence"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        ordering = ["contract", "due_date", "id"]

    def __str__(self) -> str:
        return self.title
