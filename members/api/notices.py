"""REST API of notices (党务公开): /api/v1/notices/ (list, detail, attachment download); read-only.

Managers (tokens and people holding "notices.view") see the notices of the branches in their scope in
every state, with `read_count`; a member's account sees what the member may read now (their branch's
and those above it, inside the window; `read_count` is null). Everyone else is 403. Notices are written
on the pages (members/views_notices.py); the envelope of API.md applies as to every synced record.
"""

import uuid

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.reverse import reverse

from branches.permissions import has_perm_anywhere
from core.api.schema import error_responses, etag_header
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer
from core.api.viewsets import SyncedRecordViewSet
from core.uploads import attachment_response
from members.filters_notices import NoticeFilter
from members.models import Notice, NoticeAttachment
from members.models.notices import NoticeAudience, NoticeCategory, NoticeStatus
from members.selectors import member_of_user
from members.selectors_notices import member_notice_list, notice_list


class NoticeAttachmentOutputSerializer(serializers.ModelSerializer):
    """A file attached to a notice; `url` downloads it through the API (same scope as the notice)."""

    url = serializers.SerializerMethodField(help_text=_("Download address (needs the same authentication)."))

    class Meta:
        model = NoticeAttachment
        fields = ("id", "name", "size", "content_type", "url")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        return reverse(
            "api:notice-attachment",
            kwargs={"pk": obj.notice_id, "attachment_pk": obj.pk},
            request=self.context.get("request"),
        )


class NoticeOutputSerializer(SyncedOutputSerializer):
    """A notice; `branch` is the owning organisation, whose subtree (or the public) it speaks to."""

    category = serializers.ChoiceField(choices=NoticeCategory.choices, read_only=True)
    audience = serializers.ChoiceField(choices=NoticeAudience.choices, read_only=True)
    status = serializers.ChoiceField(choices=NoticeStatus.choices, read_only=True)
    attachments = NoticeAttachmentOutputSerializer(many=True, read_only=True)
    read_count = serializers.SerializerMethodField(
        help_text=_("How many people have read it; for managers only (null for members).")
    )

    class Meta(SyncedOutputSerializer.Meta):
        model = Notice
        fields = (
            *ENVELOPE_FIELDS,
            "title",
            "body",
            "category",
            "audience",
            "status",
            "publish_from",
            "publish_until",
            "published_at",
            "withdrawn_at",
            "attachments",
            "read_count",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_read_count(self, obj) -> int | None:
        return getattr(obj, "read_count", None)


class NoticeReadPermission(BasePermission):
    """Managers of notices somewhere, or people with a member record (who read their own notices)."""

    def has_permission(self, request, view):
        user = request.user
        return has_perm_anywhere(user, "notices.view") or member_of_user(user=user) is not None


@extend_schema_view(
    list=extend_schema(
        summary=_("List notices"),
        description=_(
            "Managers: notices of the organisations in their scope, in every state, with `read_count`. Members: "
            "the published notices of their branch and of those above it, inside their window."
        ),
        responses={200: NoticeOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get a notice"),
        parameters=[etag_header(200)],
        responses={200: NoticeOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class NoticeViewSet(SyncedRecordViewSet):
    serializer_class = NoticeOutputSerializer
    permission_classes = [IsAuthenticated, NoticeReadPermission]
    filterset_class = NoticeFilter
    scope_area = "notices"

    def get_queryset(self):
        user = self.request.user
        if has_perm_anywhere(user, "notices.view"):
            return notice_list(actor=user)
        member = member_of_user(user=user)
        if member is None:
            return Notice.objects.none()
        return member_notice_list(member=member, user=user).order_by()

    @extend_schema(
        summary=_("Download a notice's attachment"),
        description=_("The file itself, for those who may see the notice (404 otherwise)."),
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description=_("The file.")),
            **error_responses(401, 403, 404),
        },
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_pk>[0-9a-f-]{36})")
    def attachment(self, request, pk=None, attachment_pk=None):
        try:  # a malformed id names no record: 404, as for the detail
            pk, attachment_pk = uuid.UUID(str(pk)), uuid.UUID(str(attachment_pk))
        except ValueError:
            raise Http404 from None
        notice = get_object_or_404(self.get_queryset(), pk=pk)
        attachment = get_object_or_404(NoticeAttachment.objects.filter(notice=notice), pk=attachment_pk)
        return attachment_response(attachment.file, name=attachment.name, content_type=attachment.content_type)
