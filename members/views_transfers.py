"""Transfer pages: list (with the receiving side's inbox), new, detail with the state changes, and the printed letter.

Every transfer is fetched through `transfer_list(actor=...)`, so one outside both sides' scopes is a
404; the buttons shown follow `may_act`, and the actions check side and state again (409 → a message).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from branches.forms import IndentedSelect
from branches.models import Branch
from branches.permissions import branch_scope, has_perm_anywhere
from branches.views import add_action_error
from core.exceptions import Conflict
from members.actions import transfers as transfer_actions
from members.choices import MemberCategory
from members.filters_transfers import TransferFilter
from members.models import Member
from members.selectors_transfers import transfer_list, transfers_awaiting

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
PER_PAGE = 100


#
# Forms
#
class TransferCreateForm(forms.Form):
    """A member moving within or out of the system, or a person coming in from outside."""

    member = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Member"), required=False)
    to_branch = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Receiving branch"), required=False)
    to_outside = forms.CharField(label=gettext_lazy("Or an organisation outside the system"), required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)
    from_outside = forms.CharField(label=gettext_lazy("Coming from (organisation outside the system)"), required=False)
    incoming_name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)
    incoming_citizen_id = forms.CharField(label=gettext_lazy("Citizen ID number"), max_length=30, required=False)
    incoming_category = forms.ChoiceField(
        label=gettext_lazy("Category"), choices=[("", "—"), *MemberCategory.choices], required=False
    )
    incoming_joined_on = forms.DateField(label=gettext_lazy("Joined the party on"), required=False, widget=_DATE)

    def __init__(self, *args, members, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["to_branch"].queryset = branches
        self.fields["to_branch"].widget = IndentedSelect()
        self.fields["to_branch"].widget.choices = self.fields["to_branch"].choices

    def action_data(self) -> dict:
        data = self.cleaned_data
        if data["member"] is not None:
            return {
                "member": data["member"],
                "to_branch": data["to_branch"],
                "to_outside": data["to_outside"],
                "reason": data["reason"],
            }
        return {
            "to_branch": data["to_branch"],
            "from_outside": data["from_outside"],
            "reason": data["reason"],
            "incoming": {
                "name": data["incoming_name"],
                "citizen_id": data["incoming_citizen_id"],
                "category": data["incoming_category"],
                "joined_on": data["incoming_joined_on"],
            },
        }


class TransferIssueForm(forms.Form):
    valid_days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, required=False)
    dues_paid_until = forms.DateField(label=gettext_lazy("Dues paid up to (month)"), required=False, widget=_DATE)
    letter_number = forms.CharField(label=gettext_lazy("Number of the letter received"), required=False)


class TransferReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)


#
# Pages
#
@method_decorator(never_cache, name="dispatch")
class TransferListView(TemplateView):
    template_name = "members/transfers/transfer_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if not has_perm_anywhere(user, "transfers.view"):
            raise PermissionDenied(_("You may not see transfers."))
        filterset = TransferFilter(self.request.GET, queryset=transfer_list(actor=user).order_by("-created_at"))
        rows = list(filterset.qs[:PER_PAGE]) if filterset.is_valid() else []
        context.update(
            {
                "filterset": filterset,
                "transfers": rows,
                "awaiting": list(transfers_awaiting(actor=user)[:PER_PAGE]),
                "can_add": has_perm_anywhere(user, "transfers.change"),
            }
        )
        return context


@method_decorator([never_cache, sensitive_post_parameters("incoming_citizen_id")], name="dispatch")
class TransferCreateView(FormView):
    template_name = "members/transfers/transfer_form.html"
    form_class = TransferCreateForm

    def dispatch(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "transfers.change"):
            raise PermissionDenied(_("You may not handle transfers."))
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"member": self.request.GET.get("member")}

    def get_form_kwargs(self):
        scope = branch_scope(self.request.user, "transfers.change")
        members = Member.objects.filter(branch__in=scope.values("pk")).order_by("name", "pk")
        branches = Branch.objects.filter(is_temporary=False).order_by("path").only("id", "name", "path", "depth")
        return {**super().get_form_kwargs(), "members": members, "branches": branches}

    def form_valid(self, form):
        try:
            transfer = transfer_actions.transfer_create(actor=self.request.user, **form.action_data())
        except (ValidationError, Conflict) as exc:
            _form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Transfer drafted. Issue the letter when it is ready."))
        return redirect("members:transfer_detail", pk=transfer.pk)


def _form_error(form, exc) -> None:
    """Action errors on the form; the incoming person's fields carry the `incoming_` prefix here."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        renamed = {}
        for field, errors in exc.error_dict.items():
            target = f"incoming_{field}" if f"incoming_{field}" in form.fields and field not in form.fields else field
            renamed[target] = errors
        exc = ValidationError(renamed)
    add_action_error(form, exc)


@method_decorator(never_cache, name="dispatch")
class TransferDetailView(TemplateView):
    template_name = "members/transfers/transfer_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        transfer = get_object_or_404(transfer_list(actor=user), pk=kwargs["pk"])
        can = {name: transfer_actions.may_act(user, transfer, name) for name in ACTIONS}
        context.update(
            {
                "transfer": transfer,
                "can": can,
                "issue_form": TransferIssueForm(
                    initial={"valid_days": transfer_actions.transfer_rules()["validity_default_days"]}
                ),
                "today": timezone.localdate(),
            }
        )
        return context


#: Page action name → (action function, form class or None, success message).
ACTIONS = {
    "issue": (transfer_actions.transfer_issue, TransferIssueForm, gettext_lazy("Letter issued.")),
    "accept": (transfer_actions.transfer_accept, None, gettext_lazy("Transfer accepted; the member is now yours.")),
    "reject": (transfer_actions.transfer_reject, TransferReasonForm, gettext_lazy("Transfer rejected.")),
    "return_receipt": (transfer_actions.transfer_return_receipt, None, gettext_lazy("Receipt recorded.")),
    "complete": (transfer_actions.transfer_complete, None, gettext_lazy("Transfer completed.")),
    "cancel": (transfer_actions.transfer_cancel, TransferReasonForm, gettext_lazy("Transfer cancelled.")),
}


class TransferActionView(View):
    """POST one state change from the detail page; refusals come back as messages."""

    def post(self, request, pk, action):
        if action not in ACTIONS:
            raise Http404
        transfer = get_object_or_404(transfer_list(actor=request.user), pk=pk)
        function, form_class, done = ACTIONS[action]
        data = {}
        if form_class is not None:
            form = form_class(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
                return redirect("members:transfer_detail", pk=pk)
            data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
            if action in ("reject", "cancel"):
                data["reason"] = form.cleaned_data.get("reason", "")
        try:
            function(actor=request.user, transfer=transfer, **data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, str(done))
        return redirect("members:transfer_detail", pk=pk)


@method_decorator(never_cache, name="dispatch")
class TransferPrintView(TemplateView):
    """The three-part letter (stub, letter, receipt) for printing; only once it has been issued."""

    template_name = "members/transfers/transfer_print.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        transfer = get_object_or_404(
            transfer_list(actor=self.request.user).filter(~Q(letter_number="")), pk=kwargs["pk"]
        )
        context["transfer"] = transfer
        return context
