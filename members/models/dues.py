"""Party dues (党费, DOMAIN.md §3): brackets, yearly assessments, monthly incomes, payments, reminders.

A payment covers a run of months; each month it covers is a `DuesPaidMonth` row, unique per member,
so "a period already paid" is refused by the database as well as by the action, and arrears are a
plain look at which months have no row.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import SyncedModel


class DuesBaseKind(models.TextChoices):
    SALARY = "salary", _("Salary (after tax)")
    PENSION = "pension", _("Pension")
    VARIABLE = "variable", _("Variable income: previous quarter's monthly average")
    FIXED_LOW = "fixed_low", _("Fixed low amount (students, unemployed, low-income allowance)")


#: Which bracket table each base kind uses: variable income uses the salary brackets.
BRACKET_KIND = {
    DuesBaseKind.SALARY: DuesBaseKind.SALARY,
    DuesBaseKind.VARIABLE: DuesBaseKind.SALARY,
    DuesBaseKind.PENSION: DuesBaseKind.PENSION,
    DuesBaseKind.FIXED_LOW: DuesBaseKind.FIXED_LOW,
}


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    TRANSFER = "transfer", _("Bank transfer")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


class ReductionStatus(models.TextChoices):
    NONE = "", _("No reduction")
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


_MONEY = {"max_digits": 12, "decimal_places": 2}


class DuesBracket(models.Model):
    """One row of the dues table: for bases above `lower` up to `upper` (none: no limit), `rate` of the base.

    A fixed-low row has `amount` instead of a rate. Edited in the admin; seeded with DOMAIN.md §3.
    """

    base_kind = models.CharField(_("base kind"), max_length=20, choices=DuesBaseKind.choices)
    lower = models.DecimalField(_("above"), default=Decimal("0"), **_MONEY)
    upper = models.DecimalField(_("up to"), null=True, blank=True, **_MONEY)
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(_("fixed monthly amount"), null=True, blank=True, **_MONEY)

    class Meta:
        verbose_name = _("dues bracket")
        verbose_name_plural = _("dues brackets")
        ordering = ["base_kind", "lower"]
        constraints = [
            models.UniqueConstraint(fields=["base_kind", "lower"], name="duesbracket_unique_lower"),
            models.CheckConstraint(
                condition=Q(upper__isnull=True) | Q(upper__gt=F("lower")), name="duesbracket_range"
            ),
            models.CheckConstraint(
                condition=Q(rate__isnull=False, amount__isnull=True) | Q(rate__isnull=True, amount__isnull=False),
                name="duesbracket_rate_or_amount",
            ),
        ]

    def __str__(self):
        what = f"{self.rate * 100:.2f}%" if self.rate is not None else f"{self.amount}"
        return f"{self.get_base_kind_display()} {self.lower}–{self.upper or '∞'}: {what}"


class MonthlyIncome(models.Model):
    """A member's net income for one month, entered for the variable-income base."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="monthly_incomes")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(_("net income"), validators=[MinValueValidator(Decimal("0"))], **_MONEY)

    class Meta:
        verbose_name = _("monthly income")
        verbose_name_plural = _("monthly incomes")
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(fields=["member", "month"], name="monthlyincome_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="monthlyincome_not_negative"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.month:%Y-%m} {self.amount}"


class DuesAssessment(models.Model):
    """A member's monthly dues for one year: the base, its kind, the amount, and any approved reduction."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="dues_assessments")
    year = models.PositiveSmallIntegerField(_("year"))
    base_kind = models.CharField(_("base kind"), max_length=20, choices=DuesBaseKind.choices)
    base_amount = models.DecimalField(_("monthly base"), **_MONEY)
    monthly_amount = models.DecimalField(_("monthly dues"), **_MONEY)
    reduced_amount = models.DecimalField(_("reduced monthly dues"), null=True, blank=True, **_MONEY)
    reduction_reason = models.CharField(_("reason for the reduction"), max_length=300, blank=True)
    reduction_status = models.CharField(
        _("reduction"), max_length=20, choices=ReductionStatus.choices, default=ReductionStatus.NONE, blank=True
    )
    reduction_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reduction_decided_at = models.DateTimeField(null=True, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("dues assessment")
        verbose_name_plural = _("dues assessments")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["member", "year"], name="duesassessment_once_a_year"),
            models.CheckConstraint(condition=Q(base_amount__gte=0), name="duesassessment_base_not_negative"),
            models.CheckConstraint(condition=Q(monthly_amount__gte=0), name="duesassessment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(reduced_amount__isnull=True)
                | Q(reduced_amount__gte=0, reduced_amount__lt=F("monthly_amount")),
                name="duesassessment_reduction_below_amount",
            ),
        ]

    def __str__(self):
        return f"{self.member} {self.year}: {self.effective_amount}"

    @property
    def effective_amount(self) -> Decimal:
        """What the member owes each month: the reduced amount only once the reduction is approved."""
        if self.reduction_status == ReductionStatus.APPROVED and self.reduced_amount is not None:
            return self.reduced_amount
        return self.monthly_amount


class DuesPaymentQuerySet(models.QuerySet):
    def for_actor(self, user, perm: str = "dues.view"):
        """Payments collected by, or credited to a member of, a branch in the actor's scope."""
        from branches.permissions import branch_scope

        scope = branch_scope(user, perm)
        return self.filter(Q(branch__in=scope) | Q(member__branch__in=scope))


class DuesPaymentManager(models.Manager.from_queryset(DuesPaymentQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class DuesPayment(SyncedModel):
    """Dues paid by a member for months `period_from`..`period_to` (first days of months), at `branch`.

    `branch` is the collecting branch: the formal one, or the host branch of a mobile member; the
    payment is credited to the member either way. The receipt number is unique per branch and year.
    """

    sync_type = "dues_payment"

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="dues_payments")
    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("collected by"), on_delete=models.PROTECT, related_name="dues_payments"
    )
    period_from = models.DateField(_("from month"))
    period_to = models.DateField(_("to month"))
    amount = models.DecimalField(_("amount"), **_MONEY)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    receipt_number = models.CharField(_("receipt number"), max_length=40)
    receipt_year = models.PositiveSmallIntegerField(editable=False)
    paid_on = models.DateField(_("paid on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = DuesPaymentManager()

    class Meta:
        verbose_name = _("dues payment")
        verbose_name_plural = _("dues payments")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "receipt_year", "receipt_number"],
                condition=Q(deleted_at__isnull=True),
                name="duespayment_receipt_unique",
                violation_error_message=_("This receipt number is already used by this branch this year."),
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="duespayment_amount_positive"),
            models.CheckConstraint(condition=Q(period_to__gte=F("period_from")), name="duespayment_period_ordered"),
            models.CheckConstraint(condition=Q(method__in=PaymentMethod.values), name="duespayment_method_valid"),
            models.UniqueConstraint(
                fields=["external_ref"],
                condition=Q(external_ref__isnull=False),
                name="duespayment_external_ref_unique",
            ),
        ]

    def __str__(self):
        return f"{self.member} {self.period_from:%Y-%m}–{self.period_to:%Y-%m} {self.amount}"


class DuesPaidMonth(models.Model):
    """One month covered by a payment; unique per member, so no month is paid twice."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    payment = models.ForeignKey(DuesPayment, on_delete=models.CASCADE, related_name="months")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "month"], name="duespaidmonth_once")]

    def __str__(self):
        return f"{self.member_id} {self.month:%Y-%m}"


class DuesReminderLog(models.Model):
    """One arrears warning to one person: per member, run of arrears (its first unpaid month) and stage.

    The unique key means each warning is sent once; a new run of arrears (after a payment) starts afresh.
    """

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    stage = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "recipient", "month", "stage"], name="duesreminder_once"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.month:%Y-%m} {self.stage}"
