"""Forms of the member pages. They check the shape of the input only; the rules (ID number checks, dates,
uniqueness, scope) live in members/actions.py and members/models.py and come back as ValidationError.

A full citizen ID or phone number only ever travels in a POST body: these forms are posted, the list's
search box refuses an ID-like value before the browser sends it (HTML `pattern`), and the filters refuse it
on the server (members/filters.py).
"""

from django import forms
from django.contrib.auth import get_user_model
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from branches.forms import IndentedSelect
from members.choices import AffiliationKind
from members.filters import MemberFilter
from members.models import Affiliation, Member
from members.validators import validate_citizen_id, validate_phone

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})

#: Member fields edited as they are (same names as the model, the API and the actions).
MEMBER_PLAIN_FIELDS = [
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "education",
    "category",
    "joined_on",
    "full_member_on",
    "job_title",
    "address",
    "status",
    "lost_contact",
    "lost_contact_since",
    "is_mobile",
    "mobile_destination",
    "occupation",
    "shows_identity",
    "under_probation_discipline",
]

MEMBER_FIELDSETS = [
    (_("Identity"), ["name", "citizen_id", "sex", "birth_date", "ethnicity", "education"]),
    (
        _("Party membership"),
        ["branch", "category", "joined_on", "full_member_on", "status", "under_probation_discipline"],
    ),
    (
        _("Contact"),
        ["phone", "clear_phone", "address", "lost_contact", "lost_contact_since", "is_mobile", "mobile_destination"],
    ),
    (_("Work"), ["job_title", "occupation", "unit", "platforms", "shows_identity"]),
    (_("Account"), ["username"]),
]

#: An ID-like search text (15–18 characters, digits and a final X) is refused by the browser before it
#: reaches a URL. The `v`-flag regex of the HTML pattern attribute must match the whole value.
SEARCH_PATTERN = r"(?!\s*\d{15,17}[\dXx]\s*$).*"


class MemberForm(forms.Form):
    """A member's record, for member_create (all of it) and member_update (what changed).

    On edit the citizen ID and phone fields start empty (the stored mask is shown as help): the full
    numbers are only put in a page when someone asks to see them, which is audited.
    """

    def __init__(self, *args, branches, units, platforms, base_depth: int = 0, member: Member | None = None, **kwargs):
        self.member = member
        super().__init__(*args, **kwargs)
        editing = member is not None
        model_fields = fields_for_model(
            Member,
            fields=MEMBER_PLAIN_FIELDS,
            widgets={
                "birth_date": _DATE,
                "joined_on": _DATE,
                "full_member_on": _DATE,
                "lost_contact_since": _DATE,
            },
        )
        fields = {
            "branch": forms.ModelChoiceField(
                queryset=branches,
                label=_("Formal branch"),
                widget=IndentedSelect(base_depth=base_depth),
                help_text=_("The one branch that holds the member's formal membership."),
            ),
            "citizen_id": forms.CharField(
                label=_("Citizen ID number"),
                max_length=30,
                required=not editing,
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
            ),
            "phone": forms.CharField(
                label=_("Phone"),
                max_length=30,
                required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off", "type": "tel"}),
            ),
            "unit": forms.ModelChoiceField(queryset=units, required=False, label=_("Employing unit")),
            "platforms": forms.ModelMultipleChoiceField(
                queryset=platforms,
                required=False,
                label=_("Platforms worked for"),
                widget=forms.CheckboxSelectMultiple,
            ),
            "username": forms.CharField(
                label=_("Login account"),
                max_length=150,
                required=False,
                help_text=_("User name of the member's own account, so that they can see their record."),
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            ),
        }
        self.fields.update(model_fields)
        self.fields.update(fields)
        self.fields["branch"].widget.choices = self.fields["branch"].choices
        self.fields["name"].widget.attrs["autofocus"] = True
        for name in ("sex", "birth_date"):
            self.fields[name].required = False
            self.fields[name].help_text = _("Leave empty to take it from the citizen ID number.")
        self.fields["sex"].choices = [("", _("From the ID number")), *self.fields["sex"].choices[1:]]
        self.fields["status"].initial = "normal"
        if editing:
            self.fields["citizen_id"].help_text = _("Now %(masked)s. Leave empty to keep it.") % {
                "masked": member.citizen_id_masked
            }
            if member.phone_masked:
                self.fields["phone"].help_text = _("Now %(masked)s. Leave empty to keep it.") % {
                    "masked": member.phone_masked
                }
                self.fields["clear_phone"] = forms.BooleanField(label=_("Remove the phone number"), required=False)

    @property
    def fieldsets(self) -> list[tuple[str, list]]:
        return [(legend, [self[name] for name in names if name in self.fields]) for legend, names in MEMBER_FIELDSETS]

    def clean_citizen_id(self):
        """Checked here too (same validator as the action) so every error shows in one round."""
        value = self.cleaned_data["citizen_id"].strip()
        return validate_citizen_id(value) if value else value

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        return validate_phone(value) if value else value

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active user account has this user name."), code="unknown_user")
        return user

    def action_data(self) -> dict:
        """Keyword arguments of member_create / member_update.

        Empty sex or birth date means "take it from the ID number"; on edit an empty ID or phone field
        keeps the stored value.
        """
        data = {name: self.cleaned_data[name] for name in MEMBER_PLAIN_FIELDS}
        for name in ("sex", "birth_date"):
            if data[name] in ("", None):
                data[name] = None
        data.update(
            branch=self.cleaned_data["branch"],
            unit=self.cleaned_data["unit"],
            platforms=list(self.cleaned_data["platforms"]),
            user=self.cleaned_data["username"],
        )
        if self.member is not None and data["unit"] == self.member.unit:
            # Unchanged: not sent, so a unit outside the user's unit scope stays without being re-checked.
            del data["unit"]
        citizen_id = self.cleaned_data["citizen_id"].strip()
        if citizen_id or self.member is None:
            data["citizen_id"] = citizen_id
        phone = self.cleaned_data["phone"].strip()
        if phone or self.member is None:
            data["phone"] = phone
        elif self.cleaned_data.get("clear_phone"):
            data["phone"] = ""
        return data


class MemberSelfForm(forms.Form):
    """What a member may change in their own record: phone and address, nothing else."""

    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    address = forms.CharField(
        label=_("Home address"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )


class AffiliationAddForm(forms.Form):
    """Another branch the member takes part in; it may lie outside the user's scope (a host branch)."""

    branch = forms.ModelChoiceField(queryset=None, label=_("Branch"))
    kind = forms.ChoiceField(choices=AffiliationKind.choices, label=_("Kind"))
    started_on = forms.DateField(label=_("From"), widget=_DATE)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].widget = IndentedSelect()
        self.fields["branch"].widget.choices = self.fields["branch"].choices


class AffiliationEndForm(forms.Form):
    affiliation = forms.ModelChoiceField(queryset=Affiliation.objects.none(), widget=forms.HiddenInput)
    ended_on = forms.DateField(
        label=_("Last day"), required=False, widget=_DATE, help_text=_("Today when left empty.")
    )

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["affiliation"].queryset = member.affiliations.filter(ended_on__isnull=True)


class MemberLookupForm(forms.Form):
    """Find one member by full citizen ID number; posted, so the number stays out of URLs and logs."""

    citizen_id = forms.CharField(
        label=_("Full citizen ID number"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


#
# The list page's filters
#
SORTS = {
    "name": (_("Name (pinyin A–Z)"), ("name_pinyin", "id")),
    "-name": (_("Name (pinyin Z–A)"), ("-name_pinyin", "-id")),
    "-joined_on": (_("Joined, newest first"), ("-joined_on", "-id")),
    "joined_on": (_("Joined, oldest first"), ("joined_on", "id")),
    "-updated": (_("Recently changed"), ("-updated_at", "-id")),
    "updated": (_("Least recently changed"), ("updated_at", "id")),
}
DEFAULT_SORT = "name"

_YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]

#: Filters shown on the page, in this order; the others (exact name, pinyin, last digits…) still work in a link.
LIST_FILTERS = [
    "branch",
    "unit",
    "category",
    "status",
    "voting",
    "occupation",
    "platform",
    "sex",
    "education",
    "lost_contact",
    "is_mobile",
    "shows_identity",
    "born_from",
    "born_until",
]


class MemberListFilter(MemberFilter):
    """MemberFilter with widgets for a page: selects of the user's branches, units and the platforms."""

    def __init__(self, data, queryset=None, *, request=None, branches=(), units=(), platforms=()):
        super().__init__(data, queryset, request=request)
        base = min((b.depth for b in branches), default=0)
        branch_choices = [("", _("All in my scope"))] + [
            (str(b.pk), "\u00a0\u00a0" * max(b.depth - base, 0) + b.name) for b in branches
        ]
        extra = {
            "branch": {"widget": forms.Select(choices=branch_choices)},
            "unit": {"widget": forms.Select(choices=[("", _("Any unit"))] + [(str(u.pk), u.name) for u in units])},
            "platform": {
                "widget": forms.Select(choices=[("", _("Any platform"))] + [(p.code, p.name) for p in platforms])
            },
            "status": {"widget": forms.CheckboxSelectMultiple},
            "occupation": {"widget": forms.CheckboxSelectMultiple},
            "search": {
                "widget": forms.TextInput(
                    attrs={
                        "type": "search",
                        "autocomplete": "off",
                        "pattern": SEARCH_PATTERN,
                        "title": _("Search for a full ID number with “Find by full ID number” instead."),
                        "placeholder": _("Name, pinyin, initials (zs), last digits"),
                    }
                )
            },
        }
        for name in ("voting", "lost_contact", "is_mobile", "shows_identity"):
            extra[name] = {"widget": forms.Select(choices=_YES_NO)}
        for name in ("born_from", "born_until"):
            extra[name] = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        for name, options in extra.items():
            self.filters[name].extra.update(options)
        for name in ("category", "sex", "education"):
            self.filters[name].extra["empty_label"] = _("Any")

    @property
    def shown_fields(self) -> list:
        return [self.form[name] for name in LIST_FILTERS]

    @property
    def active_count(self) -> int:
        """How many of the shown filters are set (the "More filters" box opens when any is)."""
        return sum(1 for name in LIST_FILTERS if any(self.data.getlist(name)))


class MemberSortForm(forms.Form):
    sort = forms.ChoiceField(
        choices=[(key, label) for key, (label, _ordering) in SORTS.items()], required=False, label=_("Sort by")
    )

    def ordering(self) -> tuple[str, ...]:
        key = self.cleaned_data.get("sort") if self.is_valid() else None
        return SORTS[key or DEFAULT_SORT][1]
