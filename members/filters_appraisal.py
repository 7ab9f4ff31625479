"""FilterSet of appraisal rounds (the API's; the pages list a secretary's few rounds unfiltered)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from branches.filters import filter_subtree
from core.filters import IsoDateTimeFilter
from members.models import AppraisalRound
from members.models.appraisal import AppraisalStatus


class AppraisalRoundFilter(django_filters.FilterSet):
    branch = django_filters.UUIDFilter(method="filter_branch", label=_("Organisation and everything under it"))
    year = django_filters.NumberFilter(field_name="year", label=_("Year"))
    status = django_filters.ChoiceFilter(choices=AppraisalStatus.choices, label=_("Status"))
    updated_since = IsoDateTimeFilter(
        method="filter_updated_since", label=_("Changed at or after (ISO 8601 time; oldest first)")
    )

    class Meta:
        model = AppraisalRound
        fields = []

    def filter_branch(self, queryset, name, value):
        return filter_subtree(queryset, value)

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(updated_at__gte=value).order_by("updated_at", "id")
