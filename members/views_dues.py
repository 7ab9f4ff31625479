"""Pages of party dues: a member's dues, assessment, reduction, income and payment forms, arrears, yearly report.

Members are fetched through `dues_member_list(actor=...)` (404 outside the dues scope); a host branch
collecting from a visiting mobile member reaches the member through the payment form's `?member=`
among its open host affiliations. The actions check scope and every rule again.
"""

from io import BytesIO

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from branches.permissions import branch_scope, has_perm_anywhere, in_scope
from branches.views import add_action_error
from core.audit import audit_record
from core.exceptions import Conflict
from core.pagination import InvalidCursor, page_query
from members import actions
from members.choices import AffiliationKind
from members.models import DuesAssessment, Member
from members.models.dues import DuesBaseKind, PaymentMethod, ReductionStatus
from members.selectors_dues import (
    LOOKBACK_MONTHS,
    arrears_band_bounds,
    dues_arrears_page,
    dues_member_list,
    dues_report_total,
    dues_yearly_report,
    member_arrears,
    member_assessments,
    member_payments,
)

_DATE = forms.DateInput(attrs={"type": "date"})
_MONTH = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


class MonthField(forms.DateField):
    """A month as YYYY-MM (the browser's month input), or a full date; kept as the first of the month."""

    widget = _MONTH
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


#
# Forms
#
class AssessForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    base_kind = forms.ChoiceField(label=gettext_lazy("Base"), choices=DuesBaseKind.choices)
    base_amount = forms.DecimalField(
        label=gettext_lazy("Monthly base (元, after tax)"), max_digits=12, decimal_places=2, required=False
    )


class IncomeForm(forms.Form):
    month = MonthField(label=gettext_lazy("Month"))
    amount = forms.DecimalField(label=gettext_lazy("Net income (元)"), max_digits=12, decimal_places=2)


class ReductionForm(forms.Form):
    reduced_amount = forms.DecimalField(
        label=gettext_lazy("Reduced monthly dues (元)"), max_digits=12, decimal_places=2
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)


class PaymentForm(forms.Form):
    period_from = MonthField(label=gettext_lazy("From month"))
    period_to = MonthField(label=gettext_lazy("To month"))
    amount = forms.DecimalField(label=gettext_lazy("Amount (元)"), max_digits=12, decimal_places=2)
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=PaymentMethod.choices)
    receipt_number = forms.CharField(label=gettext_lazy("Receipt number"), max_length=40)
    paid_on = forms.DateField(label=gettext_lazy("Paid on"), widget=_DATE)
    branch = forms.ModelChoiceField(label=gettext_lazy("Collected by"), queryset=None)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Required when paying several months at once (except a quarter for mobile members)."),
    )

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches


class ArrearsFilterForm(forms.Form):
    """Which arrears to list: a dashboard band (`?band=`) and/or at least `?minimum=` months."""

    band = forms.ChoiceField(label=gettext_lazy("Months unpaid"), required=False)
    minimum = forms.IntegerField(
        label=gettext_lazy("At least (months)"), min_value=1, max_value=LOOKBACK_MONTHS, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        warn, limit = min(actions.dues.ARREARS_WARNINGS), actions.dues.ARREARS_LIMIT
        self.fields["band"].choices = [
            ("", _("Any")),
            ("owing", _("%(low)s–%(high)s months") % {"low": 1, "high": warn - 1}),
            ("warned", _("%(low)s–%(high)s months (warned)") % {"low": warn, "high": limit - 1}),
            ("over_limit", _("%(limit)s months or more") % {"limit": limit}),
        ]

    def bounds(self) -> tuple[int, int | None]:
        """(fewest, first excluded) unpaid months; both filters together keep the narrower range."""
        minimum, below = 1, None
        if self.cleaned_data.get("band"):
            minimum, below = arrears_band_bounds(self.cleaned_data["band"])
        if self.cleaned_data.get("minimum"):
            minimum = max(minimum, self.cleaned_data["minimum"])
        return minimum, below


#
# Views
#
def _member_for_dues(user, pk) -> Member:
    """The member in the user's dues scope, or one visiting a host branch in it (for payments)."""
    member = dues_member_list(actor=user).filter(pk=pk).first()
    if member is not None:
        return member
    hosts = branch_scope(user, "dues.view")
    member = (
        Member.objects.filter(
            pk=pk,
            is_mobile=True,
            affiliations__kind=AffiliationKind.HOST,
            affiliations__ended_on__isnull=True,
            affiliations__branch__in=hosts,
        )
        .select_related("branch")
        .distinct()
        .first()
    )
    if member is None:
        raise Http404
    return member


class DuesMemberView(TemplateView):
    """One member's dues: assessments (with reductions), payments, months unpaid, and the forms."""

    template_name = "members/dues/member_dues.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member = get_object_or_404(dues_member_list(actor=self.request.user), pk=kwargs["pk"])
        unpaid, first_unpaid = member_arrears(member=member)
        upper = member.branch.parent
        context.update(
            member=member,
            assessments=member_assessments(member=member),
            payments=member_payments(member=member),
            unpaid=unpaid,
            first_unpaid=first_unpaid,
            can_change=in_scope(self.request.user, "dues.change", member.branch),
            can_decide=upper is not None and in_scope(self.request.user, "dues.change", upper),
            pending=ReductionStatus.PENDING,
        )
        return context


class _DuesFormView(FormView):
    template_name = "members/dues/form.html"
    title = ""
    lead = ""

    def dispatch(self, request, *args, **kwargs):
        self.member = get_object_or_404(dues_member_list(actor=request.user), pk=kwargs["pk"])
        if not in_scope(request.user, "dues.change", self.member.branch):
            raise PermissionDenied(_("You may not manage dues of this organisation."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=self.title,
            lead=self.lead,
            member=self.member,
            cancel_url=reverse("members:dues_member", kwargs={"pk": self.member.pk}),
            **kwargs,
        )

    def run(self, form):
        """Call the action; each subclass names its own."""
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.run(form)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return redirect("members:dues_member", pk=self.member.pk)


class DuesAssessView(_DuesFormView):
    form_class = AssessForm
    title = gettext_lazy("Assess monthly dues")
    lead = gettext_lazy(
        "The monthly dues follow from the base and the dues table. For variable income the base is the previous "
        "quarter's average monthly net income, from the incomes entered."
    )

    def get_initial(self):
        return {"year": timezone.localdate().year}

    def run(self, form):
        actions.dues_assess(actor=self.request.user, member=self.member, **form.cleaned_data)


class MonthlyIncomeView(_DuesFormView):
    form_class = IncomeForm
    title = gettext_lazy("Enter a monthly income")

    def run(self, form):
        actions.monthly_income_record(actor=self.request.user, member=self.member, **form.cleaned_data)


class ReductionRequestView(_DuesFormView):
    form_class = ReductionForm
    title = gettext_lazy("Ask for a reduction")
    lead = gettext_lazy("The full amount stays due until the upper organisation approves the reduction.")

    def run(self, form):
        assessment = DuesAssessment.objects.filter(member=self.member, year=self.kwargs["year"]).first()
        if assessment is None:
            raise ValidationError(_("Assess the member's dues for this year first."))
        actions.dues_reduction_request(actor=self.request.user, assessment=assessment, **form.cleaned_data)


class ReductionDecideView(View):
    """The upper organisation approves or rejects a pending reduction (posted from the member's page)."""

    def post(self, request, pk, year):
        member = get_object_or_404(Member.objects.for_actor(request.user, "dues.view"), pk=pk)
        assessment = get_object_or_404(DuesAssessment, member=member, year=year)
        try:
            actions.dues_reduction_decide(
                actor=request.user, assessment=assessment, approve=request.POST.get("decision") == "approve"
            )
        except (ValidationError, Conflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Decision recorded."))
        return redirect("members:dues_member", pk=member.pk)


class PaymentCreateView(FormView):
    """Record a payment: at the formal branch, or at a host branch for a visiting mobile member."""

    template_name = "members/dues/form.html"
    form_class = PaymentForm

    def dispatch(self, request, *args, **kwargs):
        self.member = _member_for_dues(request.user, kwargs["pk"])
        self.collecting = branch_scope(request.user, "dues.change").filter(is_temporary=False)
        if not self.collecting.exists():
            raise PermissionDenied(_("You may not record dues."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        host_ids = self.member.affiliations.filter(kind=AffiliationKind.HOST, ended_on__isnull=True).values("branch")
        branches = self.collecting.filter(Q(pk=self.member.branch_id) | Q(pk__in=host_ids)).order_by("path")
        today = timezone.localdate()
        initial = {"paid_on": today, "period_from": today.replace(day=1), "period_to": today.replace(day=1)}
        assessment = DuesAssessment.objects.filter(member=self.member, year=today.year).first()
        if assessment:
            initial["amount"] = assessment.effective_amount
        initial["branch"] = branches.first()
        return {**super().get_form_kwargs(), "branches": branches, "initial": initial}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("Record a dues payment"),
            lead=_("Back or advance payment reaches at most 6 months; a month already paid cannot be paid again."),
            member=self.member,
            cancel_url=reverse("members:dues_arrears"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            actions.dues_payment_record(actor=self.request.user, member=self.member, **form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Payment recorded."))
        if dues_member_list(actor=self.request.user).filter(pk=self.member.pk).exists():
            return redirect("members:dues_member", pk=self.member.pk)
        return redirect("members:dues_arrears")


class ArrearsListView(TemplateView):
    """Members with unpaid months in the user's scope, a keyset page at a time, with the warning stages marked.

    Filtered in SQL (`dues_arrears_list`), ordered like the member list (pinyin, id): no count, no offset,
    the same queries on page 1 and page 1,000.
    """

    template_name = "members/dues/arrears_list.html"
    per_page = 50

    def get(self, request, *args, **kwargs):
        """`?branch=` narrows the list to one subtree in the user's dues scope (404 outside it)."""
        self.branch = None
        if request.GET.get("branch"):
            try:
                self.branch = branch_scope(request.user, "dues.view").filter(pk=request.GET["branch"]).first()
            except ValidationError:
                self.branch = None
            if self.branch is None:
                raise Http404
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        form = ArrearsFilterForm(request.GET)
        page = None
        if form.is_valid():
            minimum, below = form.bounds()
            params = {"actor": request.user, "branch": self.branch, "minimum": minimum, "below": below}
            try:
                page = dues_arrears_page(**params, cursor=request.GET.get("cursor"), per_page=self.per_page)
            except InvalidCursor:
                page = dues_arrears_page(**params, cursor=None, per_page=self.per_page)
        context.update(
            branch=self.branch,
            form=form,
            page=page,
            rows=page.object_list if page else [],
            next_url=page_query(request.GET, page.next_cursor) if page and page.has_next else None,
            previous_url=page_query(request.GET, page.previous_cursor) if page and page.has_previous else None,
            limit=actions.dues.ARREARS_LIMIT,
            warn=min(actions.dues.ARREARS_WARNINGS),
            can_view=has_perm_anywhere(request.user, "dues.view"),
        )
        return context


class YearlyReportView(TemplateView):
    """Dues paid per member and year at one branch, for the yearly publication; `?format=xlsx` downloads it."""

    template_name = "members/dues/report.html"

    def get(self, request, *args, **kwargs):
        branches = branch_scope(request.user, "dues.view").order_by("path")
        self.branches = branches
        self.branch = None
        if request.GET.get("branch"):
            try:
                self.branch = branches.filter(pk=request.GET["branch"]).first()
            except ValidationError:
                self.branch = None
            if self.branch is None:
                raise Http404
        try:
            self.year = int(request.GET.get("year") or timezone.localdate().year)
        except ValueError:
            self.year = timezone.localdate().year
        self.rows = dues_yearly_report(actor=request.user, branch=self.branch, year=self.year) if self.branch else []
        if self.branch and request.GET.get("format") == "xlsx":
            return self.xlsx()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            branches=self.branches,
            branch=self.branch,
            year=self.year,
            rows=self.rows,
            total=dues_report_total(self.rows),
        )
        return context

    def xlsx(self) -> HttpResponse:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = str(self.year)
        sheet.append([_("Dues paid in %(year)s: %(branch)s") % {"year": self.year, "branch": self.branch.name}])
        sheet.append([_("Name"), _("Months paid"), _("Amount (元)")])
        for row in self.rows:
            sheet.append([row.member.name, row.months_paid, float(row.amount)])
        sheet.append([_("Total"), sum(r.months_paid for r in self.rows), float(dues_report_total(self.rows))])
        buffer = BytesIO()
        book.save(buffer)
        audit_record(
            actor=self.request.user,
            obj=self.branch,
            action="members.dues.report_exported",
            data={"year": self.year, "rows": len(self.rows)},
        )
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="dues-{self.year}.xlsx"'
        return response
