"""The notice FilterSet, shared by the REST API (/api/v1/notices/) and the managing list page (/notices/manage/)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from branches.filters import filter_subtree
from core.filters import IsoDateTimeFilter
from members.models import Notice
from members.models.notices import NoticeAudience, NoticeCategory, NoticeStatus


class NoticeFilter(django_filters.FilterSet):
    branch = django_filters.UUIDFilter(method="filter_branch", label=_("Organisation and everything under it"))
    status = django_filters.ChoiceFilter(choices=NoticeStatus.choices, label=_("Status"))
    category = django_filters.ChoiceFilter(choices=NoticeCategory.choices, label=_("Category"))
    audience = django_filters.ChoiceFilter(choices=NoticeAudience.choices, label=_("Audience"))
    search = django_filters.CharFilter(method="filter_search", label=_("Title contains"))
    updated_since = IsoDateTimeFilter(
        method="filter_updated_since", label=_("Changed at or after (ISO 8601 time; oldest first)")
    )

    class Meta:
        model = Notice
        fields = []

    def filter_branch(self, queryset, name, value):
        return filter_subtree(queryset, value)

    def filter_search(self, queryset, name, value):
        text = value.strip()
        return queryset.filter(title__icontains=text) if text else queryset

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(updated_at__gte=value).order_by("updated_at", "id")
