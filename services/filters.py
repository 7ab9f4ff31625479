"""FilterSets of workers, cases and stations, shared by the REST API and the HTML pages.

The queryset must already be scoped (selectors); these filters only narrow it. `?branch=` is that branch
and its whole subtree, `?updated_since=` orders by last change (API.md).
"""

import django_filters
from django.utils.translation import gettext_lazy as _

from branches.filters import filter_subtree
from core.filters import IsoDateTimeFilter
from services.choices import CasePriority, CaseStatus, IntakeChannel
from services.models import Case, CaseType, Station, Worker


class _SyncedFilter(django_filters.FilterSet):
    branch = django_filters.UUIDFilter(method="filter_branch", label=_("Organisation and everything under it (by id)"))
    updated_since = IsoDateTimeFilter(
        method="filter_updated_since", label=_("Changed at or after (ISO 8601 time; oldest first)")
    )

    def filter_branch(self, queryset, name, value):
        return filter_subtree(queryset, value)

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(updated_at__gte=value).order_by("updated_at", "id")


class WorkerFilter(_SyncedFilter):
    search = django_filters.CharFilter(method="filter_search", label=_("Name, or last four digits of the phone"))

    class Meta:
        model = Worker
        fields = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if value.isdigit() and len(value) == 4:
            return queryset.filter(phone_last4=value)
        return queryset.filter(name__icontains=value)


class CaseFilter(_SyncedFilter):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, label=_("Status"))
    priority = django_filters.ChoiceFilter(choices=CasePriority.choices, label=_("Priority"))
    channel = django_filters.ChoiceFilter(choices=IntakeChannel.choices, label=_("Intake channel"))
    case_type = django_filters.ModelChoiceFilter(
        queryset=CaseType.objects.all(), to_field_name="code", label=_("Case type (code)")
    )
    worker = django_filters.UUIDFilter(field_name="worker_id", label=_("Worker (by id)"))

    class Meta:
        model = Case
        fields = []


class StationFilter(_SyncedFilter):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name contains"))

    class Meta:
        model = Station
        fields = []
