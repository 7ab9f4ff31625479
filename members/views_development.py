"""Pages of the development pipeline: applicants, their timeline with warnings, step and vote forms, due list.

Applicants are fetched through `applicant_list(actor=...)` (404 outside the scope); writes need
"members.change" at the applicant's branch (403), and the actions check everything again. The forms
live here since they serve these pages only; they check input shape, the actions the rules.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from branches.permissions import branch_scope, has_perm_anywhere, in_scope
from branches.views import add_action_error
from core.exceptions import Conflict
from members import actions
from members.choices import Occupation
from members.models.development import (
    DOCUMENT_EXTENSIONS,
    STEP_REQUIRES,
    VOTE_STEPS,
    ApplicantStatus,
    StepCode,
    VotePurpose,
)
from members.selectors_development import applicant_list, applicant_warnings, development_due, intervals

_DATE = forms.DateInput(attrs={"type": "date"})


#
# Forms
#
class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the action (type and size)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ",".join(f".{e}" for e in DOCUMENT_EXTENSIONS)})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ApplicantForm(forms.Form):
    branch = forms.ModelChoiceField(label=gettext_lazy("Branch"), queryset=None)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    citizen_id = forms.CharField(label=gettext_lazy("Citizen ID number"), max_length=18)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    occupation = forms.ChoiceField(
        label=gettext_lazy("Occupation"), choices=[("", "—"), *Occupation.choices], required=False
    )
    applied_on = forms.DateField(label=gettext_lazy("Applied on"), widget=_DATE)
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches


class StepForm(forms.Form):
    code = forms.ChoiceField(label=gettext_lazy("Step"))
    done_on = forms.DateField(label=gettext_lazy("Date"), widget=_DATE)
    actor_name = forms.CharField(label=gettext_lazy("Done by"), max_length=100, required=False)
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    documents = MultipleFileField(label=gettext_lazy("Documents (PDF, image, Word; at most 10 MB each)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [(c, label) for c, label in StepCode.choices if c not in VOTE_STEPS]


class VoteForm(forms.Form):
    purpose = forms.ChoiceField(label=gettext_lazy("Vote on"), choices=VotePurpose.choices)
    held_on = forms.DateField(label=gettext_lazy("Held on"), widget=_DATE)
    attendance = forms.IntegerField(label=gettext_lazy("Voting members present"), min_value=0)
    yes = forms.IntegerField(label=gettext_lazy("Yes"), min_value=0)
    no = forms.IntegerField(label=gettext_lazy("No"), min_value=0)
    abstain = forms.IntegerField(label=gettext_lazy("Abstain"), min_value=0)
    adopted = forms.TypedChoiceField(
        label=gettext_lazy("Result"),
        choices=[("yes", gettext_lazy("Adopted")), ("no", gettext_lazy("Not adopted"))],
        coerce=lambda v: v == "yes",
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ExtendForm(forms.Form):
    months = forms.IntegerField(label=gettext_lazy("Extend by (months)"), min_value=1, max_value=24)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)


class EndForm(forms.Form):
    decided_on = forms.DateField(label=gettext_lazy("Decided on"), widget=_DATE)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)


#
# Views
#
class ApplicantListView(TemplateView):
    """Applicants in the user's scope, newest application first; `?status=` narrows (open by default)."""

    template_name = "members/development/applicant_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "open")
        rows = applicant_list(actor=self.request.user).order_by("-applied_on", "name")
        if status == "open":
            rows = rows.filter(status__in=[ApplicantStatus.IN_PROGRESS, ApplicantStatus.PROBATION])
        elif status in ApplicantStatus.values:
            rows = rows.filter(status=status)
        lengths = intervals()
        rows = list(rows[:500])
        context.update(
            rows=[(a, applicant_warnings(a, lengths=lengths)) for a in rows],
            status=status,
            statuses=[("open", _("Under way")), *ApplicantStatus.choices, ("all", _("All"))],
            can_add=has_perm_anywhere(self.request.user, "members.change"),
        )
        return context


class ApplicantCreateView(FormView):
    template_name = "members/development/form.html"
    form_class = ApplicantForm

    def dispatch(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "members.change"):
            raise PermissionDenied(_("You may not record applicants."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        branches = branch_scope(self.request.user, "members.change").filter(is_temporary=False).order_by("path")
        return {**super().get_form_kwargs(), "branches": branches, "initial": {"applied_on": timezone.localdate()}}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("New applicant"),
            lead=_("Record an application for party membership (step 1). The applicant must be at least 18."),
            cancel_url=reverse("members:applicant_list"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            applicant = actions.applicant_create(actor=self.request.user, **form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("The application of %(name)s is recorded.") % {"name": applicant.name})
        return redirect("members:applicant_detail", pk=applicant.pk)


class ApplicantMixin:
    """Loads `self.applicant` from the user's scope (404 outside); `change=True` also needs change rights."""

    change = True

    def dispatch(self, request, *args, **kwargs):
        self.applicant = get_object_or_404(applicant_list(actor=request.user), pk=kwargs["pk"])
        self.can_change = in_scope(request.user, "members.change", self.applicant.branch)
        if self.change and not self.can_change:
            raise PermissionDenied(_("You may not change this applicant's record."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(applicant=self.applicant, can_change=self.can_change)
        return context

    def back(self):
        return redirect("members:applicant_detail", pk=self.applicant.pk)


class ApplicantDetailView(ApplicantMixin, TemplateView):
    """The applicant's timeline (every step with its documents), votes, warnings and what is next."""

    template_name = "members/development/applicant_detail.html"
    change = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        applicant = self.applicant
        done = {s.code for s in applicant.steps.all()}
        labels = dict(StepCode.choices)
        next_steps = [labels[c] for c in StepCode.values if c not in done and all(r in done for r in STEP_REQUIRES[c])]
        context.update(
            steps=applicant.steps.all(),
            votes=applicant.votes.all(),
            warnings=applicant_warnings(applicant),
            next_steps=next_steps if applicant.is_open else [],
        )
        return context


class _ApplicantFormView(ApplicantMixin, FormView):
    template_name = "members/development/form.html"
    title = ""
    lead = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=self.title,
            lead=self.lead,
            cancel_url=reverse("members:applicant_detail", kwargs={"pk": self.applicant.pk}),
            multipart=True,
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
        return self.back()


class StepRecordView(_ApplicantFormView):
    form_class = StepForm
    title = gettext_lazy("Record a step")
    lead = gettext_lazy("Steps follow the prescribed order; a step that is not possible yet is refused.")

    def get_initial(self):
        return {"done_on": timezone.localdate(), "code": self.request.GET.get("code", "")}

    def run(self, form):
        actions.development_step_record(actor=self.request.user, applicant=self.applicant, **form.cleaned_data)


class VoteRecordView(_ApplicantFormView):
    form_class = VoteForm
    title = gettext_lazy("Record a branch assembly vote")
    lead = gettext_lazy(
        "Quorum: more than half of the members entitled to vote present. Adopted: yes votes from more than "
        "half of those entitled. Only full members in normal standing at the branch are entitled."
    )

    def get_initial(self):
        purpose = VotePurpose.FULL if self.applicant.member_id else VotePurpose.ADMISSION
        return {"held_on": timezone.localdate(), "purpose": purpose}

    def run(self, form):
        actions.assembly_vote_record(actor=self.request.user, applicant=self.applicant, **form.cleaned_data)


class ProbationExtendView(_ApplicantFormView):
    form_class = ExtendForm
    title = gettext_lazy("Extend probation")
    lead = gettext_lazy("Probation may be extended once, by 6 to 12 months.")

    def run(self, form):
        actions.probation_extend(actor=self.request.user, applicant=self.applicant, **form.cleaned_data)


class ProbationCancelView(_ApplicantFormView):
    form_class = EndForm
    title = gettext_lazy("Cancel the probationary membership")
    lead = gettext_lazy("The member record ends as no longer a member; the history is kept.")

    def get_initial(self):
        return {"decided_on": timezone.localdate()}

    def run(self, form):
        actions.probation_cancel(actor=self.request.user, applicant=self.applicant, **form.cleaned_data)


class ApplicantCloseView(ProbationCancelView):
    title = gettext_lazy("End the development")
    lead = gettext_lazy("For someone not yet admitted: withdrew, not chosen, moved away.")

    def run(self, form):
        actions.applicant_close(actor=self.request.user, applicant=self.applicant, **form.cleaned_data)


class DevelopmentDueView(TemplateView):
    """Deadlines due soon or overdue in the user's scope: talks, reviews, probations ending, approvals."""

    template_name = "members/development/due_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        branch = None
        branch_id = self.request.GET.get("branch")
        if branch_id:
            try:
                branch = branch_scope(self.request.user, "members.view").filter(pk=branch_id).first()
            except ValidationError:
                branch = None
        context.update(
            due=development_due(actor=self.request.user, branch=branch),
            branch=branch,
            today=timezone.localdate(),
            horizon_days=(timezone.localdate() + intervals()["due_soon"] - timezone.localdate()).days,
        )
        return context
