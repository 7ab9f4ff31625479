"""The dashboard's period and organisation form. Business rules stay in figures.py; this checks input shape."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.dashboard.figures import period_check


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """This year so far: 1 January to today."""
    today = today or timezone.localdate()
    return today.replace(month=1, day=1), today


class DashboardForm(forms.Form):
    """Start and end dates (both included) and the organisation whose subtree is shown.

    `branches` are the organisations offered in the picker (the view has already checked the chosen one
    against the user's scope and answers 404 outside it, so an id missing here is only a picker limit).
    """

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    branch = forms.ChoiceField(label=_("Organisation"))

    def __init__(self, data=None, *, branches=(), **kwargs):
        super().__init__(data, **kwargs)
        base = min((b.depth for b in branches), default=0)
        self.fields["branch"].choices = [
            (str(b.pk), "\u00a0\u00a0" * max(b.depth - base, 0) + b.name) for b in branches
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            try:
                period_check(start, end)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        self.add_error(field, error)
        return cleaned
