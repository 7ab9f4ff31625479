"""Forms of the vote pages: input shape only; the rules live in members/actions/votes.py."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.forms import IndentedSelect
from members.models.votes import VoteKind, VoteOption
from members.voting_rules import ThresholdRule

_DATETIME = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})


class VoteCreateForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=None, label=_("Organisation"))
    kind = forms.ChoiceField(label=_("Kind"), choices=VoteKind.choices, widget=forms.RadioSelect)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("What is being decided"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    secret = forms.BooleanField(
        label=_("Secret ballot"),
        required=False,
        help_text=_("Nothing will link a member to their choice; only the totals are kept."),
    )
    seats = forms.IntegerField(
        label=_("Seats"),
        min_value=1,
        max_value=50,
        initial=1,
        help_text=_("Elections: how many are elected; each member may choose up to this many candidates."),
    )
    candidates = forms.CharField(
        label=_("Candidates"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Elections only: one name per line."),
    )
    opens_at = forms.DateTimeField(label=_("Opens at"), widget=_DATETIME)
    closes_at = forms.DateTimeField(label=_("Closes at"), widget=_DATETIME)
    quorum_rule = forms.ChoiceField(
        label=_("Quorum (of the members entitled to vote)"),
        required=False,
        choices=[("", _("The default for the kind")), *ThresholdRule.choices],
        help_text=_("Default: more than half for decisions, more than four fifths for elections."),
    )
    majority_rule = forms.ChoiceField(
        label=_("Majority (votes for, of the members entitled to vote)"),
        required=False,
        choices=[("", _("The default for the kind")), *ThresholdRule.choices],
    )

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].widget = IndentedSelect()
        self.fields["branch"].widget.choices = self.fields["branch"].choices
        now = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["opens_at"].initial = now
        self.fields["closes_at"].initial = now + datetime.timedelta(days=3)
        self.fields["kind"].initial = VoteKind.DECISION

    def action_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["candidates"] = [line for line in data.pop("candidates", "").splitlines() if line.strip()]
        data["quorum_rule"] = data["quorum_rule"] or None
        data["majority_rule"] = data["majority_rule"] or None
        return data


class _OneChoiceRadio(forms.RadioSelect):
    """Radios whose value arrives as a list, for a multiple-choice field limited to one answer."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)


class BallotForm(forms.Form):
    """The ballot: radio buttons for a decision, check boxes (up to `seats`) for an election."""

    choices = forms.ModelMultipleChoiceField(queryset=VoteOption.objects.none(), label=_("Your choice"))

    def __init__(self, *args, vote, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["choices"]
        field.queryset = vote.options.all()
        field.error_messages["required"] = _("Choose before you submit your ballot.")
        if vote.max_choices == 1:
            # A single answer: radios, whose value arrives as one id; the field still cleans it as a list.
            field.widget = _OneChoiceRadio()
            field.widget.choices = field.choices
            field.label = _("Your answer")
        else:
            field.widget = forms.CheckboxSelectMultiple()
            field.widget.choices = field.choices
            field.label = _("Your candidates")
