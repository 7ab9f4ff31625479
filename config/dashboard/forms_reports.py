"""Input of the annual summary: which organisation and which year (the dashboard export reuses DashboardForm).

Only the shape is checked here (dates, order, the year's range); whether the organisation is in the
user's scope is decided by the view through `branch_scope`, which answers 404 outside it.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The earliest year a summary can be asked for when the organisation has no founding date.
FIRST_YEAR = 2000


class AnnualSummaryForm(forms.Form):
    """?branch=&year= of a branch's annual summary. The branch's founding date is checked in `check_year`."""

    branch = forms.UUIDField(label=_("Organisation"), required=False)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=FIRST_YEAR, max_value=2100)

    def clean_year(self):
        year = self.cleaned_data.get("year")
        if year is None:
            return timezone.localdate().year
        if year > timezone.localdate().year:
            raise forms.ValidationError(_("The year %(year)s has not begun yet."), params={"year": year})
        return year

    def check_year(self, branch) -> bool:
        """Add an error when the organisation did not exist yet in the chosen year; True when the year is fine."""
        year = self.cleaned_data.get("year")
        founded = getattr(branch, "founded_on", None)
        if year is not None and founded is not None and year < founded.year:
            self.add_error(
                "year",
                _("%(branch)s was founded in %(founded)s; choose %(founded)s or a later year.")
                % {"branch": branch.name, "founded": founded.year},
            )
            return False
        return True
