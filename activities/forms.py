"""Forms of the activity pages. They check the shape of the input only; rules live in activities/actions.py."""

import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from activities.choices import ActivityKind, ActivityMode, AttendanceMethod, SeriesScope
from members.filters import NoCitizenIdField

_DATETIME = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})

#: Form fields passed to activity_create / activity_update as they are.
ACTIVITY_FORM_FIELDS = [
    "kind",
    "title",
    "agenda",
    "mode",
    "venue",
    "online_link",
    "starts_at",
    "ends_at",
    "capacity",
    "credited_hours",
    "reminder_offsets",
]


class OffsetsField(forms.CharField):
    """Reminder offsets in minutes, written "1440, 60"."""

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return []
        try:
            values = [int(part) for part in text.replace("，", ",").split(",") if part.strip()]
        except ValueError as exc:
            raise ValidationError(_("Enter whole numbers of minutes separated by commas."), code="invalid") from exc
        if any(v < 0 or v > 43200 for v in values):
            raise ValidationError(_("Each reminder is from 0 to 43200 minutes before the start."), code="invalid")
        return values

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value


class ActivityForm(forms.Form):
    """An activity's own fields; on create an optional recurrence rule makes it a series."""

    branch = forms.ModelChoiceField(queryset=None, label=_("Host organisation"))
    co_hosts = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label=_("Co-hosting organisations"),
        help_text=_("Their members are invited too. Hold Ctrl (or ⌘) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    kind = forms.ChoiceField(choices=ActivityKind.choices, label=_("Kind"), initial=ActivityKind.STUDY)
    title = forms.CharField(max_length=200, label=_("Title"))
    agenda = forms.CharField(required=False, label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 3}))
    mode = forms.ChoiceField(choices=ActivityMode.choices, label=_("Mode"), initial=ActivityMode.OFFLINE)
    venue = forms.CharField(max_length=300, required=False, label=_("Venue"))
    online_link = forms.URLField(max_length=500, required=False, label=_("Online link"), assume_scheme="https")
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=_DATETIME)
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=_DATETIME)
    capacity = forms.IntegerField(min_value=1, required=False, label=_("Capacity"))
    credited_hours = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, initial=0, label=_("Credited study hours")
    )
    reminder_offsets = OffsetsField(
        required=False,
        initial="1440, 60",
        label=_("Reminders (minutes before)"),
        help_text=_("e.g. 1440, 60 for one day and one hour before."),
    )

    def __init__(self, *args, branches, co_host_branches, is_series: bool = False, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["co_hosts"].queryset = co_host_branches
        if creating:
            self.fields["rrule"] = forms.CharField(
                max_length=500,
                required=False,
                label=_("Repeat (RFC 5545 rule)"),
                help_text=_(
                    "Leave empty for a single activity. e.g. FREQ=WEEKLY;BYDAY=WE;COUNT=10 or "
                    "FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20261231. It must end within two years."
                ),
            )
        else:
            self.fields["branch"].disabled = True
        if is_series:
            self.fields["scope"] = forms.ChoiceField(
                choices=SeriesScope.choices, initial=SeriesScope.THIS, label=_("Apply to"), widget=forms.RadioSelect
            )

    def action_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ACTIVITY_FORM_FIELDS}
        data["agenda"] = data["agenda"] or ""
        return data


class AttendanceMarkForm(forms.Form):
    member = forms.ModelChoiceField(queryset=None, label=_("Member"))
    method = forms.ChoiceField(
        choices=[
            (AttendanceMethod.MANUAL, AttendanceMethod.MANUAL.label),
            (AttendanceMethod.ONLINE, AttendanceMethod.ONLINE.label),
        ],
        label=_("How"),
    )
    duration_minutes = forms.IntegerField(min_value=0, required=False, label=_("Minutes online"))

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


class MakeupForm(forms.Form):
    member = forms.ModelChoiceField(queryset=None, label=_("Absentee"))
    duration_minutes = forms.IntegerField(min_value=1, label=_("Minutes spent"))
    note = forms.CharField(max_length=300, required=False, label=_("How (e.g. watched the recording)"))

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, label=_("Reason"))


class HeldForm(forms.Form):
    minutes = forms.CharField(required=False, label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 6}))


class LeaveRequestForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class LeaveDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        choices=[("1", _("Approve")), ("0", _("Refuse"))], coerce=lambda v: v == "1", label=_("Decision")
    )
    note = forms.CharField(max_length=300, required=False, label=_("Note"))


class InviteSearchForm(forms.Form):
    """The named-invitee search on the detail page (GET): the member list's search, never an ID number."""

    q = NoCitizenIdField(
        max_length=100,
        required=True,
        label=_("Find a member"),
        help_text=_("Name, pinyin or initials, or the last digits of the phone number."),
    )


def _attachment_help() -> str:
    """Formatted when shown, not at import, so it follows the user's language."""
    return _("PDF, images, Office documents or text; at most %(mb)d MB.") % {
        "mb": settings.ACTIVITIES_ATTACHMENT_MAX_BYTES // (1024 * 1024)
    }


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=lazy(_attachment_help, str)())


class MonthForm(forms.Form):
    month = forms.CharField(required=False)

    def month_start(self) -> datetime.date:
        today = timezone.localdate().replace(day=1)
        if not self.is_valid() or not self.cleaned_data["month"]:
            return today
        try:
            return datetime.datetime.strptime(self.cleaned_data["month"], "%Y-%m").date()  # noqa: DTZ007
        except ValueError:
            return today
