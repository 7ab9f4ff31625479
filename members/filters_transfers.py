"""The transfer FilterSet, shared by the REST API (/api/v1/transfers/) and the transfer list page."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.filters import filter_subtree
from core.filters import IsoDateTimeFilter
from members.models import Transfer
from members.models.transfers import OPEN_STATUSES, TransferKind, TransferStatus


class TransferFilter(django_filters.FilterSet):
    branch = django_filters.UUIDFilter(method="filter_branch", label=_("Owning branch and everything under it"))
    status = django_filters.MultipleChoiceFilter(choices=TransferStatus.choices, distinct=False, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=TransferKind.choices, label=_("Kind"))
    open = django_filters.BooleanFilter(method="filter_open", label=_("Still under way"))
    member = django_filters.UUIDFilter(field_name="member_id", label=_("Member (by id)"))
    search = django_filters.CharFilter(method="filter_search", label=_("Name or letter number"))
    updated_since = IsoDateTimeFilter(
        method="filter_updated_since", label=_("Changed at or after (ISO 8601 time; oldest first)")
    )

    class Meta:
        model = Transfer
        fields = []

    def filter_branch(self, queryset, name, value):
        return filter_subtree(queryset, value)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)

    def filter_search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(
            Q(member__name__startswith=text) | Q(incoming_name__startswith=text) | Q(letter_number__icontains=text)
        )

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(updated_at__gte=value).order_by("updated_at", "id")
