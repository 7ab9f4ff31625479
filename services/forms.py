"""Forms of the services pages: input shape only; the rules live in services/actions."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from branches.choices import Role
from branches.selectors import branch_ancestors
from core.models import User
from members.validators import validate_phone
from services.choices import AidKind, Amenity, CasePriority, IntakeChannel, PartnerKind, ReferralStatus
from services.models import CaseType, Station


class IntakeForm(forms.Form):
    """The public request form (/help/), for a phone screen."""

    case_type = forms.ModelChoiceField(
        queryset=CaseType.objects.filter(is_active=True), label=_("What do you need help with?"), empty_label=None
    )
    description = forms.CharField(
        label=_("Tell us what happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5})
    )
    phone = forms.CharField(
        label=_("Your phone number"),
        max_length=20,
        help_text=_("We call you back on it. The last four digits also open your tracking page."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    name = forms.CharField(label=_("How should we call you? (optional)"), max_length=100, required=False)
    station = forms.ModelChoiceField(
        queryset=Station.objects.filter(is_active=True).order_by("name"),
        label=_("Nearest service station (optional)"),
        required=False,
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that the service centre keeps my phone number and this request to handle it, and shares it "
            "only with the partners who help solve it (for example the labour bureau or legal aid)."
        ),
        error_messages={"required": _("We can only help if you agree to this.")},
    )
    # Spam traps: a field people never see, and the signed time the form was shown.
    website = forms.CharField(required=False, label=_("Leave this empty"))
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_phone(self):
        return validate_phone(self.cleaned_data["phone"])


class TrackForm(forms.Form):
    code = forms.CharField(label=_("Tracking code"), max_length=20)
    last4 = forms.CharField(
        label=_("Last four digits of your phone"),
        min_length=4,
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with the outcome?"),
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything to add? (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Assign to"))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        branches = [*branch_ancestors(branch=case.branch), case.branch]
        self.fields["assignee"].queryset = (
            User.objects.filter(
                is_active=True,
                role_assignments__branch__in=branches,
                role_assignments__role__in=[Role.CASEWORKER, Role.OFFICER, Role.ADMIN],
            )
            .distinct()
            .order_by("username")
        )


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    is_public = forms.BooleanField(label=_("Show to the worker on the tracking page"), required=False)


class WaitForm(forms.Form):
    on = forms.ChoiceField(
        label=_("Waiting on"),
        choices=[("waiting_worker", _("the worker")), ("waiting_partner", _("a partner"))],
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class ResolveForm(forms.Form):
    summary = forms.CharField(
        label=_("Resolution summary (the worker sees it)"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why reopen?"), max_length=2000, required=False)


class ReferForm(forms.Form):
    partner_kind = forms.ChoiceField(label=_("Partner"), choices=PartnerKind.choices)
    partner_name = forms.CharField(label=_("Partner name"), max_length=200)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class AttachForm(forms.Form):
    file = forms.FileField(label=_("Photo or PDF"))
    is_public = forms.BooleanField(label=_("Show to the worker"), required=False)


class ReviewForm(forms.Form):
    genuine = forms.TypedChoiceField(choices=[("1", _("Genuine")), ("0", _("Spam"))], coerce=lambda v: v == "1")


def clean_last4(value: str) -> str:
    if not value.isdigit():
        raise ValidationError(_("Enter four digits."))
    return value


#
# Staff forms: stations, wishes, visits, hardship aid, opening and editing cases
#
class StationForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=None, label=_("Running organisation"))
    name = forms.CharField(label=_("Name"), max_length=100)
    address = forms.CharField(label=_("Address"), max_length=300)
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False
    )
    hours = forms.CharField(label=_("Opening hours"), max_length=100, required=False)
    amenities = forms.MultipleChoiceField(
        label=_("Amenities"), choices=Amenity.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    is_active = forms.BooleanField(label=_("Open"), required=False, initial=True)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches


class VisitForm(forms.Form):
    purpose = forms.CharField(label=_("Purpose of the visit"), max_length=100, required=False)


class WishForm(forms.Form):
    title = forms.CharField(label=_("Wish"), max_length=200)
    description = forms.CharField(
        label=_("Details"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class WishClaimForm(forms.Form):
    claimed_by = forms.CharField(label=_("Who fulfils it"), max_length=100)


class AidForm(forms.Form):
    """Aid for a worker, found by the exact phone number (keyed hash; the number travels only in POST)."""

    branch = forms.ModelChoiceField(queryset=None, label=_("Organisation"))
    phone = forms.CharField(
        label=_("Worker's phone number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=AidKind.choices)
    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    granted_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches

    def clean_phone(self):
        return validate_phone(self.cleaned_data["phone"])


class AidDecideForm(forms.Form):
    approve = forms.TypedChoiceField(
        choices=[("1", _("Approve")), ("0", _("Reject"))], coerce=lambda v: v == "1", label=_("Decision")
    )


class CaseCreateForm(forms.Form):
    """A case opened by staff (phone call, station visit …). The worker is found by the exact phone number
    (keyed hash, POST only), or created with it; or given by id when opened from the worker's page."""

    branch = forms.ModelChoiceField(queryset=None, label=_("Responsible organisation"))
    phone = forms.CharField(
        label=_("Worker's phone number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("A known worker is found by the exact number; a new number creates a worker."),
    )
    name = forms.CharField(label=_("Worker's name (for a new worker)"), max_length=100, required=False)
    case_type = forms.ModelChoiceField(queryset=CaseType.objects.filter(is_active=True), label=_("Case type"))
    description = forms.CharField(label=_("Description"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    channel = forms.ChoiceField(label=_("Intake channel"), choices=IntakeChannel.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=CasePriority.choices, initial=CasePriority.NORMAL)
    station = forms.ModelChoiceField(queryset=None, label=_("Station"), required=False)

    def __init__(self, *args, branches, stations, worker=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.worker = worker
        self.fields["branch"].queryset = branches
        self.fields["station"].queryset = stations
        if worker is not None:
            del self.fields["phone"], self.fields["name"]
        else:
            self.fields["phone"].required = True

    def clean_phone(self):
        return validate_phone(self.cleaned_data["phone"])


class CaseEditForm(forms.Form):
    case_type = forms.ModelChoiceField(queryset=CaseType.objects.filter(is_active=True), label=_("Case type"))
    priority = forms.ChoiceField(label=_("Priority"), choices=CasePriority.choices)


class ReferralStatusForm(forms.Form):
    referral = forms.UUIDField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Partner's status"), choices=ReferralStatus.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)
