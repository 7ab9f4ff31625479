"""Pages for mobile and lost-contact members: activity cards, report-ins, and the lost-contact report per branch.

Members are fetched through `member_list(actor=...)` (404 outside the scope); the write pages need
members.change (403), and the actions check again.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from branches.forms import IndentedSelect
from branches.models import Branch
from branches.permissions import branch_scope, has_perm_anywhere, in_scope
from branches.views import add_action_error
from core.exceptions import Conflict
from members.actions import mobility as mobility_actions
from members.models import LostContactCase
from members.models.mobility import ReportInChannel
from members.selectors import member_list
from members.selectors_mobility import (
    activity_card_list,
    lost_contact_report,
    lost_contact_stage,
    report_in_list,
    report_in_missing,
)

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
PER_PAGE = 200


class ActivityCardForm(forms.Form):
    host_branch = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Host branch"))
    destination = forms.CharField(label=gettext_lazy("Destination"), max_length=200)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)
    starts_on = forms.DateField(label=gettext_lazy("From"), widget=_DATE)
    ends_on = forms.DateField(label=gettext_lazy("Until"), required=False, widget=_DATE)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host_branch"].queryset = branches
        self.fields["host_branch"].widget = IndentedSelect()
        self.fields["host_branch"].widget.choices = self.fields["host_branch"].choices


class ReportInForm(forms.Form):
    reported_on = forms.DateField(label=gettext_lazy("Date"), widget=_DATE)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=ReportInChannel.choices)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)


class _MemberChange:
    """Loads `self.member` in the user's scope (404) and requires members.change at its branch (403)."""

    def dispatch(self, request, *args, **kwargs):
        self.member = get_object_or_404(member_list(actor=request.user), pk=kwargs["pk"])
        if not in_scope(request.user, "members.change", self.member.branch):
            raise PermissionDenied(_("You may not change this member's record."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "member": self.member}


#
# Activity cards
#
@method_decorator(never_cache, name="dispatch")
class ActivityCardListView(TemplateView):
    template_name = "members/mobility/activity_card_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["cards"] = list(activity_card_list(actor=user)[:PER_PAGE])
        context["can_change"] = has_perm_anywhere(user, "members.change")
        return context


class ActivityCardCreateView(_MemberChange, FormView):
    template_name = "members/mobility/activity_card_form.html"
    form_class = ActivityCardForm

    def get_form_kwargs(self):
        branches = (
            Branch.objects.exclude(pk=self.member.branch_id).order_by("path").only("id", "name", "path", "depth")
        )
        return {**super().get_form_kwargs(), "branches": branches, "initial": {"starts_on": timezone.localdate()}}

    def form_valid(self, form):
        try:
            mobility_actions.activity_card_create(actor=self.request.user, member=self.member, **form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Activity card issued to %(name)s.") % {"name": self.member.name})
        return redirect("members:activity_card_list")


class ActivityCardEndView(View):
    def post(self, request, pk):
        card = get_object_or_404(activity_card_list(actor=request.user), pk=pk)
        try:
            mobility_actions.activity_card_end(actor=request.user, card=card)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The activity card has ended."))
        return redirect("members:activity_card_list")


#
# Report-ins
#
@method_decorator(never_cache, name="dispatch")
class ReportInListView(TemplateView):
    """This year's report-ins of the user's scope, and the mobile members who have not reported yet."""

    template_name = "members/mobility/report_in_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, year = self.request.user, timezone.localdate().year
        context.update(
            {
                "year": year,
                "reports": list(report_in_list(actor=user, year=year)[:PER_PAGE]),
                "missing": list(report_in_missing(year=year, actor=user).select_related("branch")[:PER_PAGE]),
                "can_change": has_perm_anywhere(user, "members.change"),
            }
        )
        return context


class ReportInCreateView(_MemberChange, FormView):
    template_name = "members/mobility/report_in_form.html"
    form_class = ReportInForm

    def get_initial(self):
        return {"reported_on": timezone.localdate()}

    def form_valid(self, form):
        try:
            mobility_actions.report_in_record(actor=self.request.user, member=self.member, **form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Report-in of %(name)s recorded.") % {"name": self.member.name})
        return redirect("members:report_in_list")


#
# Lost contact
#
@method_decorator(never_cache, name="dispatch")
class LostContactReportView(TemplateView):
    """Per branch (the user's scope, or ?branch=<id>'s subtree): warnings, flags, proposals, suspensions."""

    template_name = "members/mobility/lost_contact_report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if not has_perm_anywhere(user, "members.view"):
            raise PermissionDenied(_("You may not see members."))
        branch = None
        if self.request.GET.get("branch"):
            try:
                branch = branch_scope(user, "members.view").filter(pk=self.request.GET["branch"]).first()
            except ValidationError:
                branch = None
            if branch is None:
                raise Http404
        today = timezone.localdate()
        rows = []
        for member in lost_contact_report(actor=user, branch=branch, today=today)[:PER_PAGE]:
            case = member.open_cases[0] if member.open_cases else None
            rows.append(
                {
                    "member": member,
                    "stage": lost_contact_stage(member, today),
                    "case": case,
                    "can_change": in_scope(user, "members.change", member.branch),
                    "can_approve": mobility_actions.may_approve_suspension(user, member.branch),
                }
            )
        context.update({"rows": rows, "branch": branch, "today": today})
        return context


class LostContactCaseView(View):
    """POST propose / approve / close on a case."""

    def post(self, request, pk, action):
        functions = {
            "propose": mobility_actions.lost_contact_propose,
            "approve": mobility_actions.lost_contact_approve,
            "close": mobility_actions.lost_contact_close,
        }
        if action not in functions:
            raise Http404
        members = member_list(actor=request.user)
        case = get_object_or_404(LostContactCase.objects.filter(member__in=members), pk=pk)
        try:
            functions[action](actor=request.user, case=case)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Saved."))
        return redirect("members:lost_contact_report")
