"""Forms of the organisation pages. They check the shape of the input only; rules live in branches/actions.py."""

from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from branches.actions import BRANCH_FIELDS
from branches.models import Branch

#: Branch fields a person edits on the pages (the same names as the model and the API).
BRANCH_FORM_FIELDS = [name for name in BRANCH_FIELDS if name != "external_ref"]

BRANCH_FIELDSETS = [
    (_("Organisation"), ["name", "kind", "basis", "is_joint", "is_temporary", "is_functional", "units"]),
    (_("Location"), ["address", "latitude", "longitude"]),
    (_("Term"), ["founded_on", "elected_on", "term_years", "term_extension_months"]),
]

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class BranchForm(forms.Form):
    """A branch's own fields plus the units it covers (chosen among the units the user may see)."""

    def __init__(self, *args, units_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(
                Branch,
                fields=BRANCH_FORM_FIELDS,
                widgets={
                    "founded_on": _DATE,
                    "elected_on": _DATE,
                    "latitude": forms.NumberInput(attrs={"step": "0.000001"}),
                    "longitude": forms.NumberInput(attrs={"step": "0.000001"}),
                },
                help_texts={
                    "term_years": _("Leave empty for the usual term: 5 years for a committee, 3 for a branch."),
                    "term_extension_months": _("An approved extension of the term, at most 12 months."),
                },
            )
        )
        self.fields["name"].widget.attrs["autofocus"] = True
        self.fields["units"] = forms.ModelMultipleChoiceField(
            queryset=units_queryset,
            required=False,
            label=_("Units covered"),
            help_text=_("Hold Ctrl (or ⌘) to choose several."),
            widget=forms.SelectMultiple(attrs={"size": 6}),
        )

    @property
    def fieldsets(self) -> list[tuple[str, list]]:
        """(legend, bound fields) groups for the page; every field appears once."""
        return [(legend, [self[name] for name in names]) for legend, names in BRANCH_FIELDSETS]

    def action_data(self) -> dict:
        """Cleaned values as keyword arguments of branch_create/branch_update (units apart)."""
        return {name: self.cleaned_data[name] for name in BRANCH_FORM_FIELDS}


class IndentedSelect(forms.Select):
    """A select of branches indented by depth, with some options shown but disabled."""

    def __init__(self, *args, disabled_ids=(), base_depth=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_ids = set(disabled_ids)
        self.base_depth = base_depth

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        branch = getattr(value, "instance", None)
        if branch is not None:
            option["label"] = "\u00a0\u00a0" * max(branch.depth - self.base_depth, 0) + option["label"]
            if branch.pk in self.disabled_ids:
                option["attrs"]["disabled"] = True
        return option


class BranchMoveForm(forms.Form):
    """Choice of a new parent among the branches the user may change."""

    parent = forms.ModelChoiceField(queryset=Branch.objects.none(), label=_("New parent organisation"))

    def __init__(self, *args, parent_queryset, disabled_ids=(), base_depth=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parent_queryset
        self.fields["parent"].widget = IndentedSelect(disabled_ids=disabled_ids, base_depth=base_depth)
        self.fields["parent"].widget.choices = self.fields["parent"].choices


class BranchDissolveForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit trail."),
    )
