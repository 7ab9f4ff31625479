"""REST API of the notification centre for the signed-in user (members' phone apps): /api/v1/notifications/.

A caller only ever reaches its own notifications (`notification_list(user=...)`): someone else's id is a
404, as on the /notifications/ pages, which share the reads, writes and FilterSet (core/notifications/).
Notifications are not synced records: no envelope, no change feed; ids are the centre's own numbers.
Marking read is idempotent: a notification already read keeps its first `read_at`.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api.idempotency import IdempotencyMixin
from core.api.schema import error_responses
from core.models import Notification
from core.notifications import notification_list, notifications_mark_read, unread_count
from core.notifications.filters import NotificationFilter

NOTIFICATION_ORDERING = ("-created_at", "-id")
#: `kind` as documented: a dotted code registered by some app (core/notifications/kinds.py); others are a 400
KIND_PARAMETER = OpenApiParameter(
    "kind",
    str,
    OpenApiParameter.QUERY,
    pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$",
    description=_("One kind of notification, by its dotted code (e.g. members.dues_arrears)."),
)
#: the path's id, documented as the number it is (the route only matches digits)
NOTIFICATION_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description=_("Id of the notification."))


class StrictBooleanField(forms.NullBooleanField):
    """`true`/`false` (or 1/0), absent for no filter; anything else is a 400, not silently ignored."""

    widget = forms.TextInput

    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if text == "":
            return None
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValidationError(_("Enter true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class NotificationApiFilter(NotificationFilter):
    """The centre page's filter (`status=unread`, `kind`) plus `unread=true|false` for apps."""

    unread = StrictBooleanFilter(
        field_name="read_at", lookup_expr="isnull", label=_("Unread only (true) or read only (false)")
    )

    class Meta(NotificationFilter.Meta):
        fields = ["status", "kind", "unread"]


class NotificationOutputSerializer(serializers.ModelSerializer):
    """One notification; `kind` is the sender's dotted code (labels are translated in the pages only)."""

    unread = serializers.SerializerMethodField(help_text=_("True until the user has read it."))

    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "body", "url", "created_at", "read_at", "unread")
        read_only_fields = fields
        extra_kwargs = {"url": {"help_text": _("Path on this site the notification points to; may be empty.")}}

    def get_unread(self, obj) -> bool:
        return obj.read_at is None


_MARKED = inline_serializer(
    "NotificationsMarkedSerializer",
    {"marked": serializers.IntegerField(help_text=_("How many notifications were unread and are read now."))},
)
_UNREAD = inline_serializer(
    "NotificationUnreadCountSerializer",
    {"unread": serializers.IntegerField(help_text=_("How many of the user's notifications are unread."))},
)


@extend_schema_view(
    list=extend_schema(
        summary=_("List my notifications"),
        description=_(
            "The signed-in user's own notifications, newest first. `unread=true` keeps the unread ones, `kind` "
            "one kind of notification."
        ),
        parameters=[KIND_PARAMETER],
        responses={200: NotificationOutputSerializer(many=True), **error_responses(400, 401)},
    ),
    retrieve=extend_schema(
        summary=_("Get one of my notifications"),
        parameters=[NOTIFICATION_ID],
        responses={200: NotificationOutputSerializer, **error_responses(401, 404)},
    ),
)
class NotificationViewSet(IdempotencyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The current user's notifications: list, detail, mark one or all read, the unread count."""

    serializer_class = NotificationOutputSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = NotificationApiFilter
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a user
            return Notification.objects.none()
        return notification_list(user=self.request.user)

    def get_cursor_ordering(self) -> tuple[str, ...]:
        return NOTIFICATION_ORDERING

    def filter_queryset(self, queryset):
        # Filters narrow the list only: a detail or an action must not 400 because of stray query params.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(
        summary=_("Mark one of my notifications read"),
        description=_("Idempotent: a notification already read keeps the time it was first read."),
        parameters=[NOTIFICATION_ID],
        request=None,
        responses={200: NotificationOutputSerializer, **error_responses(401, 404)},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, *args, **kwargs):
        notification = self.get_object()
        notifications_mark_read(user=request.user, pks=[notification.pk])
        notification.refresh_from_db(fields=["read_at"])
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        summary=_("Mark all my notifications read"),
        description=_("Idempotent: `marked` counts only those that were still unread."),
        request=None,
        responses={200: _MARKED, **error_responses(401)},
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request, *args, **kwargs):
        return Response({"marked": notifications_mark_read(user=request.user)})

    @extend_schema(
        summary=_("Count my unread notifications"),
        description=_("The number on the app's badge (one indexed count); with `kind`, of that kind only."),
        parameters=[KIND_PARAMETER],
        responses={200: _UNREAD, **error_responses(400, 401)},
    )
    @action(detail=False, methods=["get"], url_path="unread-count", filterset_class=None, pagination_class=None)
    def unread_count(self, request, *args, **kwargs):
        kind = request.query_params.get("kind")
        if kind is None:
            return Response({"unread": unread_count(user=request.user)})
        # the list's FilterSet checks the kind (400 for one no app registered) and narrows to it
        filterset = NotificationApiFilter({"kind": kind, "unread": "true"}, queryset=self.get_queryset())
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return Response({"unread": filterset.qs.count()})
