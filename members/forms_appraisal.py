"""Forms of the appraisal pages: input shape only; the rules live in members/actions/appraisal.py."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.forms import IndentedSelect
from members.models.appraisal import AppraisalGrade

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class AppraisalRoundForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=None, label=_("Branch"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    self_assessment_due = forms.DateField(label=_("Self-assessments due"), widget=_DATE)
    rating_due = forms.DateField(label=_("Peer ratings due"), widget=_DATE)
    excellent_cap_percent = forms.IntegerField(
        label=_("Cap on “excellent” (percent of those appraised)"),
        min_value=0,
        max_value=100,
        help_text=_("Grading warns when more members than this share are graded excellent; it does not block."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].widget = IndentedSelect()
        self.fields["branch"].widget.choices = self.fields["branch"].choices
        self.fields["year"].initial = timezone.localdate().year


class SelfAssessmentForm(forms.Form):
    self_assessment = forms.CharField(
        label=_("My self-assessment"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Your study, work and conduct this year, what you did well and what you will improve."),
    )


class GradeForm(forms.Form):
    grade = forms.ChoiceField(label=_("Final grade"), choices=[("", "—"), *AppraisalGrade.choices])
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for “unqualified”."),
    )

    def __init__(self, *args, subject=None, **kwargs):
        # One form per row on the round sheet: the row's id keeps the inputs' ids unique on the page.
        if subject is not None:
            kwargs.setdefault("prefix", f"g{subject.pk.hex}")
            kwargs.setdefault("initial", {"grade": subject.final_grade, "reason": subject.grade_reason})
        super().__init__(*args, **kwargs)


class RatingSheetForm(forms.Form):
    """One optional radio group per peer, named `r-<subject id>`; a blank row leaves that rating unchanged."""

    def __init__(self, *args, sheet, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for peer, given in sheet:
            name = f"r-{peer.pk}"
            self.fields[name] = forms.ChoiceField(
                label=peer.member.name,
                choices=AppraisalGrade.choices,
                required=False,
                initial=given,
                widget=forms.RadioSelect,
            )
            self.rows.append((peer, name))

    def ratings(self) -> dict:
        """{ratee subject id: grade} of the rows that have a grade."""
        return {peer.pk: self.cleaned_data[name] for peer, name in self.rows if self.cleaned_data.get(name)}

    def bound_rows(self):
        return [(peer, self[name]) for peer, name in self.rows]
