"""The member FilterSet, shared by the REST API and the HTML pages.

Use as `MemberFilter(request.GET, queryset=member_list(actor=user), request=request).qs`; the
queryset is already scoped, these filters only narrow it. Every filter that a list page uses often
is served by an index (see the docstring of members/models.py): prefix matches on name and pinyin,
equality on the last four digits, the branch subtree through the branches' path index.

A full citizen ID number never travels in a URL: `citizen_id` (exact match by keyed hash) is meant
for data sent in a request body (the API's `POST /members/lookup/`, a page's POST form); in a query
string, it and a `search` that looks like an ID number are refused.
"""

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from branches.filters import StrictBooleanFilter, filter_subtree
from core.filters import IsoDateTimeFilter
from members import crypto
from members.choices import Education, MemberCategory, MemberStatus, Occupation, Sex
from members.models import Member
from members.pinyin import normalize_query
from members.validators import normalize_citizen_id

_ID_LIKE = re.compile(r"^\d{15,17}[\dX]$")
_TAIL = re.compile(r"^\d{0,3}[\dX]$")


def looks_like_citizen_id(text: str) -> bool:
    return bool(_ID_LIKE.match(normalize_citizen_id(text)))


def _citizen_id_in_url_error() -> ValidationError:
    return ValidationError(
        _("Do not put a citizen ID number in a URL; search for it with POST /api/v1/members/lookup/."),
        code="citizen_id_in_url",
    )


class NoCitizenIdField(forms.CharField):
    """Free text that must not be a full ID number (query strings end up in access logs)."""

    def validate(self, value):
        super().validate(value)
        if value and looks_like_citizen_id(value):
            raise _citizen_id_in_url_error()


class CitizenIdTailField(NoCitizenIdField):
    def clean(self, value):
        value = normalize_citizen_id(super().clean(value))
        if value and not _TAIL.match(value):
            raise ValidationError(_("Enter up to four characters: digits, the last may be X."), code="invalid")
        return value


class DigitsField(forms.CharField):
    def clean(self, value):
        value = re.sub(r"\s", "", super().clean(value) or "")
        if value and not value.isdigit():
            raise ValidationError(_("Enter digits only."), code="invalid")
        return value


class CitizenIdField(forms.CharField):
    """A full ID number, normalised; refused when the data comes from a URL (see MemberFilter)."""

    def __init__(self, *, refuse: bool = True, **kwargs):
        self.refuse = refuse
        super().__init__(**kwargs)

    def clean(self, value):
        value = normalize_citizen_id(super().clean(value))
        if value and self.refuse:
            raise _citizen_id_in_url_error()
        return value


class CitizenIdFilter(django_filters.CharFilter):
    field_class = CitizenIdField


class SearchFilter(django_filters.CharFilter):
    field_class = NoCitizenIdField


class CitizenIdTailFilter(django_filters.CharFilter):
    field_class = CitizenIdTailField


class DigitsFilter(django_filters.CharFilter):
    field_class = DigitsField


def _tail_filter(field: str, digits: str) -> Q:
    """Last digits: equality on the stored last four when four are given, a suffix match otherwise."""
    if len(digits) >= 4:
        return Q(**{field: digits[-4:]})
    return Q(**{f"{field}__endswith": digits})


class MemberFilter(django_filters.FilterSet):
    search = SearchFilter(
        method="filter_search", label=_("Name, pinyin, initials, or the last digits of phone or ID number")
    )
    name = django_filters.CharFilter(field_name="name", lookup_expr="startswith", label=_("Name starts with"))
    pinyin = django_filters.CharFilter(method="filter_pinyin", label=_("Pinyin or initials start with"))
    phone_last4 = DigitsFilter(method="filter_phone_last4", label=_("Phone number ends with"))
    citizen_id_last4 = CitizenIdTailFilter(method="filter_citizen_id_last4", label=_("ID number ends with"))
    citizen_id = CitizenIdFilter(method="filter_citizen_id", label=_("Citizen ID number (exact)"))
    branch = django_filters.UUIDFilter(method="filter_branch", label=_("Formal branch and everything under it"))
    unit = django_filters.UUIDFilter(field_name="unit_id", label=_("Employing unit (by id)"))
    # distinct=False: these are plain columns, and DISTINCT over every column would sort the whole table.
    occupation = django_filters.MultipleChoiceFilter(choices=Occupation.choices, distinct=False, label=_("Occupation"))
    platform = django_filters.CharFilter(method="filter_platform", label=_("Works for platform (code)"))
    category = django_filters.ChoiceFilter(choices=MemberCategory.choices, label=_("Category"))
    status = django_filters.MultipleChoiceFilter(
        choices=MemberStatus.choices, distinct=False, label=_("Membership status")
    )
    sex = django_filters.ChoiceFilter(choices=Sex.choices, label=_("Sex"))
    education = django_filters.ChoiceFilter(choices=Education.choices, label=_("Education"))
    lost_contact = StrictBooleanFilter(field_name="lost_contact", label=_("Lost contact"))
    is_mobile = StrictBooleanFilter(field_name="is_mobile", label=_("Mobile member"))
    shows_identity = StrictBooleanFilter(field_name="shows_identity", label=_("Shows party identity"))
    voting = StrictBooleanFilter(method="filter_voting", label=_("Has a vote at the formal branch"))
    # Both ends included, as the dashboard's age bands are built (members.stats.AGE_BANDS).
    born_from = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte", label=_("Born on or after"))
    born_until = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte", label=_("Born on or before"))
    updated_since = IsoDateTimeFilter(
        method="filter_updated_since", label=_("Changed at or after (ISO 8601 time; oldest first)")
    )

    class Meta:
        model = Member
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, allow_citizen_id: bool = False):
        """`allow_citizen_id=True` only for data from a request body, never from a query string."""
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.filters["citizen_id"].extra["refuse"] = not allow_citizen_id

    def filter_search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        condition = Q(name__startswith=text)
        key = normalize_query(text)
        if key.isdigit():
            condition |= _tail_filter("phone_last4", key) | _tail_filter("citizen_id_last4", key)
        elif _TAIL.match(text.upper()):  # digits ending in X: the tail of an ID number
            condition |= _tail_filter("citizen_id_last4", text.upper())
        elif key:
            condition |= Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key)
        return queryset.filter(condition)

    def filter_pinyin(self, queryset, name, value):
        key = normalize_query(value)
        if not key:
            return queryset
        return queryset.filter(Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key))

    def filter_phone_last4(self, queryset, name, value):
        return queryset.filter(_tail_filter("phone_last4", value)) if value else queryset

    def filter_citizen_id_last4(self, queryset, name, value):
        return queryset.filter(_tail_filter("citizen_id_last4", value)) if value else queryset

    def filter_citizen_id(self, queryset, name, value):
        return queryset.filter(citizen_id_hash=crypto.lookup_hash(value)) if value else queryset

    def filter_branch(self, queryset, name, value):
        return filter_subtree(queryset, value)

    def filter_platform(self, queryset, name, value):
        codes = [c.strip() for c in value.split(",") if c.strip()]
        if not codes:
            return queryset
        # Exists, not a join: a member on two of the platforms is listed once.
        links = Member.platforms.through.objects.filter(member_id=OuterRef("pk"), platform__code__in=codes)
        return queryset.filter(Exists(links))

    def filter_voting(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.voting()
        return queryset.exclude(pk__in=Member.objects.voting().values("pk"))

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(updated_at__gte=value).order_by("updated_at", "id")
