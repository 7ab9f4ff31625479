"""The notification centre's filter: unread or all, and one kind."""

import django_filters
from django.utils.translation import gettext_lazy as _

from core.models import Notification
from core.notifications.kinds import notification_kinds


def _kind_choices():
    return [(kind.code, kind.label) for kind in notification_kinds().values()]


class NotificationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Show"),
        choices=[("unread", _("Unread"))],
        empty_label=_("All"),
        method="filter_status",
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=_kind_choices, empty_label=_("All kinds"))

    class Meta:
        model = Notification
        fields = ["status", "kind"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(read_at__isnull=True) if value == "unread" else queryset
