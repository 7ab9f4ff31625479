"""FilterSets of workers, cases and stations, shared by the REST API and the HTML pages.

The queryset must already be scoped (selectors); these filters only narrow it. `?branch=` is that branch
and its whole subtree, `?updated_since=` orders by last change (API.md). Date ranges (`opened_from`,
`opened_until`, `resolved_from`, `resolved_until`) are local days (Asia/Shanghai), both ends included, as the
dashboard's per-month case figures count them.
"""

import datetime

import django_filters
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.filters import StrictBooleanFilter, filter_subtree
from core.filters import IsoDateTimeFilter
from services.choices import CasePriority, CaseStatus, IntakeChannel
from services.models import Case, CaseBreach, CaseType, Station, Worker


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight starting the local day `day`, aware (the site's zone)."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_current_timezone())


class LocalDayRangeFilter(django_filters.DateFilter):
    """One end of a range of local days over a time field: `from` keeps times on or after the day's start,
    `until` keeps times before the next day's start (both ends included)."""

    def __init__(self, *, end: str, **kwargs):
        self.end = end
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.end == "from":
            return qs.filter(**{f"{self.field_name}__gte": _day_start(value)})
        return qs.filter(**{f"{self.field_name}__lt": _day_start(value + datetime.timedelta(days=1))})


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
    opened_from = LocalDayRangeFilter(field_name="opened_at", end="from", label=_("Opened on or after (date)"))
    opened_until = LocalDayRangeFilter(field_name="opened_at", end="until", label=_("Opened on or before (date)"))
    resolved_from = LocalDayRangeFilter(
        field_name="resolved_at", end="from", label=_("First resolved on or after (date)")
    )
    resolved_until = LocalDayRangeFilter(
        field_name="resolved_at", end="until", label=_("First resolved on or before (date)")
    )
    breached = StrictBooleanFilter(method="filter_breached", label=_("A deadline breach was recorded"))
    suspected_spam = StrictBooleanFilter(field_name="suspected_spam", label=_("Suspected spam"))

    class Meta:
        model = Case
        fields = []

    def filter_breached(self, queryset, name, value):
        if value is None:
            return queryset
        # Exists, not a join: a case that missed both deadlines is listed once.
        breaches = Exists(CaseBreach.objects.filter(case_id=OuterRef("pk")))
        return queryset.filter(breaches if value else ~breaches)


class StationFilter(_SyncedFilter):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name contains"))

    class Meta:
        model = Station
        fields = []
