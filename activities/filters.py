"""FilterSets of activities and attendances, shared by the REST API and the HTML pages.

The queryset must already be scoped (selectors); these filters only narrow it. `?branch=` is the
branch and its whole subtree (the host branch decides), `?updated_since=` orders by last change.
"""

import django_filters
from django.utils.translation import gettext_lazy as _

from activities.choices import ActivityKind, ActivityMode, ActivityStatus, AttendanceMethod
from activities.models import Activity, Attendance
from branches.filters import filter_subtree
from core.filters import IsoDateTimeFilter


def _changed_since(queryset, value):
    return queryset.filter(updated_at__gte=value).order_by("updated_at", "id")


class ActivityFilter(django_filters.FilterSet):
    branch = django_filters.UUIDFilter(method="filter_branch", label=_("Hosted by the organisation or below (by id)"))
    kind = django_filters.ChoiceFilter(choices=ActivityKind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=ActivityStatus.choices, label=_("Status"))
    mode = django_filters.ChoiceFilter(choices=ActivityMode.choices, label=_("Mode"))
    starts_after = IsoDateTimeFilter(
        field_name="starts_at", lookup_expr="gte", label=_("Starts at or after (ISO 8601 time)")
    )
    starts_before = IsoDateTimeFilter(
        field_name="starts_at", lookup_expr="lt", label=_("Starts before (ISO 8601 time)")
    )
    search = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("Title contains"))
    series = django_filters.UUIDFilter(field_name="series_id", label=_("Series (by id)"))
    updated_since = IsoDateTimeFilter(
        method="filter_updated_since", label=_("Changed at or after (ISO 8601 time; oldest first)")
    )

    class Meta:
        model = Activity
        fields = []

    def filter_branch(self, queryset, name, value):
        return filter_subtree(queryset, value)

    def filter_updated_since(self, queryset, name, value):
        return _changed_since(queryset, value)


class AttendanceFilter(django_filters.FilterSet):
    activity = django_filters.UUIDFilter(field_name="activity_id", label=_("Activity (by id)"))
    member = django_filters.UUIDFilter(field_name="member_id", label=_("Member (by id)"))
    branch = django_filters.UUIDFilter(method="filter_branch", label=_("Hosted by the organisation or below (by id)"))
    method = django_filters.ChoiceFilter(choices=AttendanceMethod.choices, label=_("Method"))
    updated_since = IsoDateTimeFilter(
        method="filter_updated_since", label=_("Changed at or after (ISO 8601 time; oldest first)")
    )

    class Meta:
        model = Attendance
        fields = []

    def filter_branch(self, queryset, name, value):
        return filter_subtree(queryset, value)

    def filter_updated_since(self, queryset, name, value):
        return _changed_since(queryset, value)
