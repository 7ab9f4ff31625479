"""Writes of party dues (党费): monthly incomes, yearly assessments, reductions, payments, arrears warnings.

Amounts are Decimal throughout and rounded half-up to 0.01 元. Each write checks "dues.change" at the
branch concerned, refuses temporary branches, and is audited. Reductions wait for an officer of the
upper organisation (someone holding "dues.change" at the branch's parent) to approve them.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.choices import Role
from branches.models import Branch, RoleAssignment
from branches.permissions import in_scope
from core.audit import audit_record
from core.exceptions import Conflict
from core.notifications import deliver
from members.actions.mobility import member_contact_touch
from members.choices import AffiliationKind
from members.models import DuesAssessment, DuesBracket, DuesPaidMonth, DuesPayment, Member, MonthlyIncome
from members.models.dues import BRACKET_KIND, DuesBaseKind, PaymentMethod, ReductionStatus

CENT = Decimal("0.01")
#: Back or advance payment reaches at most this many months from the month of payment.
MAX_MONTHS_AWAY = 6
#: Months a mobile member may pay together (quarterly payment).
QUARTER = 3
#: A single payment above this is refused as a typing error (10,000 times the largest usual monthly amount).
MAX_PAYMENT = Decimal("100000.00")
#: Consecutive unpaid months at which a warning goes out (6 = treated as having left the party).
ARREARS_WARNINGS = (3, 5)
ARREARS_LIMIT = 6


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """First days of the months from `first` to `last`, inclusive."""
    out, month = [], month_start(first)
    while month <= last:
        out.append(month)
        month += relativedelta(months=1)
    return out


def _require_dues(actor, branch: Branch, *, collecting: bool = True) -> None:
    from members.permissions import require_member_scope

    if actor is not None and not in_scope(actor, "dues.change", branch):
        require_member_scope(actor, "dues.view", branch)  # 404 outside the view scope
        raise PermissionDenied(_("You may not manage dues of this organisation."))
    if collecting and branch.is_temporary:
        raise ValidationError({"branch": [_("A temporary branch cannot collect dues.")]})


#
# The amount
#
def previous_quarter(day: datetime.date) -> list[datetime.date]:
    """The three months of the quarter before the one `day` falls in."""
    quarter_start = datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    first = quarter_start - relativedelta(months=3)
    return [first + relativedelta(months=i) for i in range(3)]


def dues_monthly_amount(*, base_kind: str, base_amount: Decimal) -> Decimal:
    """The monthly dues for a base, from the bracket table (DuesBracket), rounded to 0.01 元."""
    if base_amount < 0:
        raise ValidationError({"base_amount": [_("The base cannot be negative.")]})
    kind = BRACKET_KIND[base_kind]
    for bracket in DuesBracket.objects.filter(base_kind=kind).order_by("lower"):
        above = base_amount > bracket.lower or bracket.lower == 0
        below = bracket.upper is None or base_amount <= bracket.upper
        if above and below:
            if bracket.amount is not None:
                return bracket.amount.quantize(CENT, rounding=ROUND_HALF_UP)
            return (base_amount * bracket.rate).quantize(CENT, rounding=ROUND_HALF_UP)
    raise ValidationError({"base_kind": [_("The dues table has no bracket for this base.")]})


@transaction.atomic
def monthly_income_record(*, actor, member: Member, month: datetime.date, amount: Decimal) -> MonthlyIncome:
    """Enter (or correct) a member's net income for a month, for the variable-income base."""
    _require_dues(actor, member.branch, collecting=False)
    if amount < 0:
        raise ValidationError({"amount": [_("An income cannot be negative.")]})
    if month_start(month) > month_start(timezone.localdate()):
        raise ValidationError({"month": [_("This month has not begun yet.")]})
    income, _created = MonthlyIncome.objects.update_or_create(
        member=member, month=month_start(month), defaults={"amount": amount}
    )
    audit_record(
        actor=actor,
        obj=member,
        action="members.dues.income_recorded",
        data={"month": income.month.isoformat(), "amount": str(amount)},
    )
    return income


@transaction.atomic
def dues_assess(
    *,
    actor,
    member: Member,
    year: int,
    base_kind: str,
    base_amount: Decimal | None = None,
    as_of: datetime.date | None = None,
) -> DuesAssessment:
    """Set a member's monthly dues for `year` from the base (yearly base, DOMAIN.md §3).

    Variable income: the base is the previous quarter's average monthly net income (all three months
    entered), the quarter before `as_of` (today). Fixed low: no base. A re-assessment keeps a pending
    or approved reduction only if it is still below the new amount.
    """
    _require_dues(actor, member.branch)
    if base_kind not in DuesBaseKind.values:
        raise ValidationError({"base_kind": [_("Unknown base kind.")]})
    if year < 2000 or year > timezone.localdate().year + 1:
        raise ValidationError({"year": [_("Give a year no later than next year.")]})
    if base_kind == DuesBaseKind.VARIABLE:
        months = previous_quarter(as_of or timezone.localdate())
        incomes = dict(MonthlyIncome.objects.filter(member=member, month__in=months).values_list("month", "amount"))
        missing = [m for m in months if m not in incomes]
        if missing:
            raise ValidationError(
                {
                    "base_amount": [
                        _("Enter the net income of %(months)s first.")
                        % {"months": ", ".join(m.strftime("%Y-%m") for m in missing)}
                    ]
                }
            )
        base_amount = (sum(incomes.values(), Decimal("0")) / 3).quantize(CENT, rounding=ROUND_HALF_UP)
    elif base_kind == DuesBaseKind.FIXED_LOW:
        base_amount = Decimal("0")
    elif base_amount is None:
        raise ValidationError({"base_amount": [_("Give the monthly base.")]})
    if base_amount < 0:
        raise ValidationError({"base_amount": [_("The base cannot be negative.")]})
    if base_amount > MAX_PAYMENT:
        raise ValidationError({"base_amount": [_("This base is not plausible; check the figure.")]})
    amount = dues_monthly_amount(base_kind=base_kind, base_amount=base_amount)
    assessment = DuesAssessment.objects.select_for_update().filter(member=member, year=year).first()
    before = None
    if assessment is None:
        assessment = DuesAssessment(member=member, year=year)
    else:
        before = {"base_kind": assessment.base_kind, "base_amount": str(assessment.base_amount)}
    assessment.base_kind = base_kind
    assessment.base_amount = base_amount
    assessment.monthly_amount = amount
    assessment.assessed_by = actor if getattr(actor, "is_authenticated", False) else None
    assessment.updated_at = timezone.now()
    if assessment.reduced_amount is not None and assessment.reduced_amount >= amount:
        assessment.reduced_amount = None
        assessment.reduction_status = ReductionStatus.NONE
        assessment.reduction_reason = ""
    assessment.save()
    audit_record(
        actor=actor,
        obj=member,
        action="members.dues.assessed",
        before=before,
        after={"year": year, "base_kind": base_kind, "base_amount": str(base_amount), "monthly_amount": str(amount)},
    )
    return assessment


@transaction.atomic
def dues_reduction_request(*, actor, assessment: DuesAssessment, reduced_amount: Decimal, reason: str):
    """Ask for a hardship reduction; it stays pending (the full amount is owed) until approved."""
    _require_dues(actor, assessment.member.branch)
    assessment = DuesAssessment.objects.select_for_update().get(pk=assessment.pk)
    if reduced_amount < 0 or reduced_amount >= assessment.monthly_amount:
        raise ValidationError(
            {"reduced_amount": [_("A reduced amount lies between 0 and the monthly dues, exclusive of the latter.")]}
        )
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the reduction.")]})
    assessment.reduced_amount = reduced_amount.quantize(CENT, rounding=ROUND_HALF_UP)
    assessment.reduction_reason = reason.strip()
    assessment.reduction_status = ReductionStatus.PENDING
    assessment.reduction_decided_by = None
    assessment.reduction_decided_at = None
    assessment.updated_at = timezone.now()
    assessment.save()
    audit_record(
        actor=actor,
        obj=assessment.member,
        action="members.dues.reduction_requested",
        data={"year": assessment.year, "reduced_amount": str(reduced_amount), "reason": assessment.reduction_reason},
    )
    return assessment


@transaction.atomic
def dues_reduction_decide(*, actor, assessment: DuesAssessment, approve: bool) -> DuesAssessment:
    """The upper organisation approves or rejects a pending reduction (not the branch that asked)."""
    assessment = (
        DuesAssessment.objects.select_for_update(of=("self",)).select_related("member__branch").get(pk=assessment.pk)
    )
    branch = assessment.member.branch
    upper = Branch.objects.filter(pk=branch.parent_id).first()
    if actor is not None and (upper is None or not in_scope(actor, "dues.change", upper)):
        raise PermissionDenied(_("A reduction is approved by the upper organisation."))
    if assessment.reduction_status != ReductionStatus.PENDING:
        raise Conflict(_("There is no reduction waiting for a decision."))
    assessment.reduction_status = ReductionStatus.APPROVED if approve else ReductionStatus.REJECTED
    assessment.reduction_decided_by = actor if getattr(actor, "is_authenticated", False) else None
    assessment.reduction_decided_at = timezone.now()
    assessment.updated_at = timezone.now()
    assessment.save()
    audit_record(
        actor=actor,
        obj=assessment.member,
        action="members.dues.reduction_approved" if approve else "members.dues.reduction_rejected",
        data={"year": assessment.year, "reduced_amount": str(assessment.reduced_amount)},
    )
    return assessment


#
# Payments
#
def _collecting_branch_ok(member: Member, branch: Branch, on_date: datetime.date) -> bool:
    if branch.pk == member.branch_id:
        return True
    return (
        member.is_mobile
        and member.affiliations.filter(
            branch=branch, kind=AffiliationKind.HOST, started_on__lte=on_date, ended_on__isnull=True
        ).exists()
    )


@transaction.atomic
def dues_payment_record(
    *,
    actor,
    member: Member,
    period_from: datetime.date,
    period_to: datetime.date,
    amount: Decimal,
    method: str,
    receipt_number: str,
    paid_on: datetime.date | None = None,
    branch: Branch | None = None,
    note: str = "",
) -> DuesPayment:
    """Record dues paid by `member` for the months `period_from`..`period_to`.

    Refused: months already paid; amounts not positive, below what the months are assessed at, or
    absurd; months more than 6 away from the month of payment; several months at once without a
    reason, except a quarter for mobile members. `branch` is the collecting branch: the formal one
    (default) or, for a mobile member, an open host affiliation's; the payment is credited to the member.
    """
    branch = branch or member.branch
    _require_dues(actor, branch)
    member = Member.objects.select_for_update(of=("self",)).select_related("branch").get(pk=member.pk)
    paid_on = paid_on or timezone.localdate()
    errors: dict[str, list] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    if paid_on > timezone.localdate():
        add("paid_on", _("The payment date cannot be in the future."))
    if not _collecting_branch_ok(member, branch, paid_on):
        add("branch", _("Dues are paid at the formal branch, or by a mobile member at a host branch."))
    if method not in PaymentMethod.values:
        add("method", _("Unknown payment method."))
    receipt_number = (receipt_number or "").strip()
    if not receipt_number:
        add("receipt_number", _("This field is required."))
    first, last = month_start(period_from), month_start(period_to)
    if last < first:
        add("period_to", _("The last month cannot come before the first."))
    if amount <= 0:
        add("amount", _("The amount must be more than zero."))
    elif amount > MAX_PAYMENT or amount != amount.quantize(CENT):
        add("amount", _("This amount is not plausible; check the figure."))
    if errors:
        raise ValidationError(errors)

    months = months_between(first, last)
    this_month = month_start(paid_on)
    if first < this_month - relativedelta(months=MAX_MONTHS_AWAY):
        add("period_from", _("Back payment reaches at most %(n)s months back.") % {"n": MAX_MONTHS_AWAY})
    if last > this_month + relativedelta(months=MAX_MONTHS_AWAY):
        add("period_to", _("Advance payment reaches at most %(n)s months ahead.") % {"n": MAX_MONTHS_AWAY})
    if first < month_start(member.joined_on):
        add("period_from", _("The member joined on %(date)s.") % {"date": member.joined_on.isoformat()})
    if len(months) > 1 and not note.strip():
        quarterly_ok = member.is_mobile and len(months) <= QUARTER
        if not quarterly_ok:
            add(
                "note",
                _("Dues are paid monthly (mobile members may pay a quarter): give the reason for paying several."),
            )
    paid = sorted(DuesPaidMonth.objects.filter(member=member, month__in=months).values_list("month", flat=True))
    if paid:
        add(
            "period_from",
            _("Already paid: %(months)s.") % {"months": ", ".join(m.strftime("%Y-%m") for m in paid)},
        )
    if errors:
        raise ValidationError(errors)

    assessments = {a.year: a for a in DuesAssessment.objects.filter(member=member, year__in={m.year for m in months})}
    missing_years = sorted({m.year for m in months} - set(assessments))
    if missing_years:
        add("period_from", _("Assess the member's dues for %(years)s first.") % {"years": missing_years[0]})
        raise ValidationError(errors)
    due = sum((assessments[m.year].effective_amount for m in months), Decimal("0"))
    if amount < due:
        add("amount", _("The dues for these months are %(due)s 元.") % {"due": due})
    if due and amount > due * 100:
        add("amount", _("This amount is not plausible; check the figure."))
    if errors:
        raise ValidationError(errors)

    payment = DuesPayment(
        member=member,
        branch=branch,
        period_from=first,
        period_to=last,
        amount=amount,
        method=method,
        receipt_number=receipt_number,
        receipt_year=paid_on.year,
        paid_on=paid_on,
        note=note.strip(),
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if DuesPayment.objects.filter(branch=branch, receipt_year=paid_on.year, receipt_number=receipt_number).exists():
        raise ValidationError({"receipt_number": [_("This receipt number is already used by this branch this year.")]})
    try:
        with transaction.atomic():
            payment.save()
            DuesPaidMonth.objects.bulk_create([DuesPaidMonth(member=member, month=m, payment=payment) for m in months])
    except IntegrityError as exc:
        if "receipt" in str(exc):
            raise ValidationError(
                {"receipt_number": [_("This receipt number is already used by this branch this year.")]}
            ) from None
        raise ValidationError({"period_from": [_("Some of these months have just been paid.")]}) from None
    member_contact_touch(member=member, on=paid_on, kind="dues")
    audit_record(
        actor=actor,
        obj=payment,
        action="members.dues_payment.recorded",
        after={
            "member": str(member.pk),
            "branch": str(branch.pk),
            "period_from": first.isoformat(),
            "period_to": last.isoformat(),
            "amount": str(amount),
            "method": method,
            "receipt_number": receipt_number,
        },
    )
    return payment


@transaction.atomic
def dues_payment_void(*, actor, payment: DuesPayment, reason: str) -> DuesPayment:
    """Cancel a payment entered by mistake: its months become unpaid again."""
    _require_dues(actor, payment.branch, collecting=False)
    payment = DuesPayment.objects.select_for_update().get(pk=payment.pk)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    DuesPaidMonth.objects.filter(payment=payment).delete()
    payment.soft_delete()
    audit_record(actor=actor, obj=payment, action="members.dues_payment.voided", data={"reason": reason.strip()})
    return payment


#
# Arrears warnings
#
def _arrears_recipients(member: Member) -> list:
    users = {
        ra.user
        for ra in RoleAssignment.objects.filter(branch_id=member.branch_id, role=Role.SECRETARY).select_related("user")
    }
    if member.user_id:
        users.add(member.user)
    return sorted((u for u in users if u.is_active), key=lambda u: u.pk)


def dues_reminder_send(*, member_id, today: datetime.date | None = None) -> int:
    """Warn about one member's arrears if a stage (3 or 5 unpaid months) is reached; each warning once.

    The arrears are computed again here (a payment recorded since the sweep sends nothing), and each
    (member, recipient, first unpaid month, stage) log row is claimed with a conditional update.
    """
    from members.selectors_dues import member_arrears

    today = today or timezone.localdate()
    member = Member.objects.filter(pk=member_id).select_related("branch", "user").first()
    if member is None or member.branch.is_temporary:
        return 0
    unpaid, first_unpaid = member_arrears(member=member, today=today)
    stages = [s for s in ARREARS_WARNINGS if unpaid >= s]
    if not stages or unpaid >= ARREARS_LIMIT:
        return 0
    stage = stages[-1]
    from members.models import DuesReminderLog

    sent = 0
    for user in _arrears_recipients(member):
        log, _created = DuesReminderLog.objects.get_or_create(
            member=member, recipient=user, month=first_unpaid, stage=stage
        )
        if not DuesReminderLog.objects.filter(pk=log.pk, sent_at__isnull=True).update(sent_at=timezone.now()):
            continue
        try:
            _arrears_message(member, user, unpaid, first_unpaid)
        except Exception:
            DuesReminderLog.objects.filter(pk=log.pk).update(sent_at=None)
            raise
        sent += 1
    return sent


def _arrears_message(member: Member, user, unpaid: int, first_unpaid: datetime.date) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        title = _("%(name)s has not paid dues for %(n)s months") % {"name": member.name, "n": unpaid}
        body = _(
            "Dues are unpaid since %(month)s. After %(limit)s consecutive months unpaid without a reason, a "
            "member is treated as having left the party."
        ) % {"month": first_unpaid.strftime("%Y-%m"), "limit": ARREARS_LIMIT}
    url = reverse("members:dues_member", kwargs={"pk": member.pk})
    deliver(recipients=[user], kind="members.dues_arrears", title=title, body=body, url=url)


__all__ = [
    "dues_assess",
    "dues_monthly_amount",
    "dues_payment_record",
    "dues_payment_void",
    "dues_reduction_decide",
    "dues_reduction_request",
    "dues_reminder_send",
    "monthly_income_record",
]
