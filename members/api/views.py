"""REST API of member records: /api/v1/members/ (API.md).

Reads start from `selectors.member_list`, so members outside the caller's scope are absent from lists
and 404 on detail. Full citizen ID and phone numbers go only to roles that may see them, and each
record shown in full is audited (`actions.member_reveal`); everyone else gets masks. Writes check the
input's shape with MemberInputSerializer and call members/actions.py; the response is the record
read again through the selector, with its new ETag.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from branches.permissions import ScopedPermission, has_perm_anywhere
from core.api.schema import IF_MATCH, error_responses, etag_header, precondition_failed_response
from core.api.upsert import UpsertMixin
from core.api.viewsets import SyncedRecordViewSet
from members.actions import (
    affiliation_add,
    affiliation_end,
    member_create,
    member_delete,
    member_reveal,
    member_update,
)
from members.api.serializers import (
    AffiliationAddInputSerializer,
    AffiliationEndInputSerializer,
    MemberInputSerializer,
    MemberLookupInputSerializer,
    MemberOutputSerializer,
)
from members.filters import MemberFilter
from members.selectors import member_list


class CanReadMembers(BasePermission):
    """For read-only operations sent as POST (the lookup, which keeps the ID number out of the URL)."""

    def has_permission(self, request, view):
        return has_perm_anywhere(request.user, "members.view")


_WRITE_RESPONSES = {
    200: MemberOutputSerializer,
    **error_responses(400, 401, 403, 404, 415),
    **precondition_failed_response(MemberOutputSerializer),
}


@extend_schema_view(
    list=extend_schema(
        summary=_("List members"),
        description=_(
            "Members whose formal branch is in the caller's scope, oldest first (by last change with "
            "`updated_since`). `branch` narrows to an organisation and its whole subtree. `search` matches "
            "the start of the name, of its pinyin or its initials (`zs`, `zhangsan`), and the last digits "
            "of the phone or ID number. A full ID number is refused in the URL: use `POST lookup/`. "
            "citizen_id and phone are masked unless the caller's role may see them (each full view is audited)."
        ),
        responses={200: MemberOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get a member"),
        parameters=[etag_header(200)],
        responses={200: MemberOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class MemberViewSet(UpsertMixin, SyncedRecordViewSet):
    """Party members with their formal branch in `branch`."""

    serializer_class = MemberOutputSerializer
    filterset_class = MemberFilter
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "members"

    def get_queryset(self):
        return member_list(actor=self.request.user)

    def get_permissions(self):
        if self.action == "lookup":
            return [IsAuthenticated(), CanReadMembers()]
        return super().get_permissions()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "revealed": getattr(self, "_revealed", set())}

    def _reveal(self, members) -> None:
        """Decide which records are shown in full (auditing each) before they are serialised."""
        self._revealed = member_reveal(actor=self.request.user, members=members)

    def record_response(self, obj, *, status_code: int = status.HTTP_200_OK, headers=None) -> Response:
        self._reveal([obj])
        return super().record_response(obj, status_code=status_code, headers=headers)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        self._reveal(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    #
    # Writes
    #
    def _validated(self, serializer_class, *, partial: bool = False) -> dict:
        serializer = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _fresh(self, pk):
        """The record as the API shows it after a write, read again through the scoped selector."""
        return get_object_or_404(self.get_queryset(), pk=pk)

    @extend_schema(
        summary=_("Create a member"),
        description=_(
            "`citizen_id` and `phone` are sent in full. Sex and birth date are taken from the ID number when "
            "left out, and checked against it when given."
        ),
        request=MemberInputSerializer,
        parameters=[etag_header(201)],
        responses={201: MemberOutputSerializer, **error_responses(400, 401, 403, 404, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self._validated(MemberInputSerializer)
        member = member_create(actor=request.user, **data)
        location = reverse("api:member-detail", kwargs={"pk": member.pk}, request=request)
        return self.record_response(
            self._fresh(member.pk), status_code=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @extend_schema(
        summary=_("Replace a member's fields"),
        description=_(
            "`branch`, `name`, `citizen_id`, `category` and `joined_on` are required; optional fields left out "
            "keep their values. A different `branch` needs change rights at both branches."
        ),
        request=MemberInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_WRITE_RESPONSES,
    )
    def update(self, request, *args, **kwargs):
        return self._update(partial=False)

    @extend_schema(
        summary=_("Change some of a member's fields"),
        request=MemberInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_WRITE_RESPONSES,
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(partial=True)

    def _update(self, *, partial: bool) -> Response:
        with self.write_target() as member:
            data = self._validated(MemberInputSerializer, partial=partial)
            member = member_update(actor=self.request.user, member=member, **data)
        return self.record_response(self._fresh(member.pk))

    @extend_schema(
        summary=_("Delete a member record"),
        description=_(
            "Soft delete of a record entered by mistake: it disappears from lists and details and a tombstone "
            "enters the change feed. Leaving the party is a change of `status`, not a delete."
        ),
        parameters=[IF_MATCH, etag_header(412)],
        responses={
            204: OpenApiResponse(description=_("Deleted.")),
            **error_responses(401, 403, 404),
            **precondition_failed_response(MemberOutputSerializer),
        },
    )
    def destroy(self, request, *args, **kwargs):
        with self.write_target() as member:
            member_delete(actor=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)

    #
    # Actions
    #
    @extend_schema(
        summary=_("Find a member by full citizen ID number"),
        description=_(
            "Exact match by the number's keyed hash, among the members in the caller's scope. The number "
            "travels in the body so that it never appears in a URL or an access log."
        ),
        request=MemberLookupInputSerializer,
        responses={
            200: inline_serializer("MemberLookupResult", {"results": MemberOutputSerializer(many=True)}),
            **error_responses(400, 401, 403, 415),
        },
    )
    @action(detail=False, methods=["post"])
    def lookup(self, request, *args, **kwargs):
        data = self._validated(MemberLookupInputSerializer)
        filterset = MemberFilter(
            data={"citizen_id": data["citizen_id"]},
            queryset=self.get_queryset(),
            request=request,
            allow_citizen_id=True,
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        members = list(filterset.qs[:2])
        self._reveal(members)
        return Response({"results": self.get_serializer(members, many=True).data})

    @extend_schema(
        summary=_("Add an affiliation"),
        description=_(
            "The member takes part in another branch (functional, building, or host for a mobile member), "
            "without a vote there. Never the formal branch."
        ),
        request=AffiliationAddInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_WRITE_RESPONSES,
    )
    @action(detail=True, methods=["post"], url_path="add-affiliation")
    def add_affiliation(self, request, *args, **kwargs):
        with self.write_target() as member:
            data = self._validated(AffiliationAddInputSerializer)
            affiliation_add(actor=request.user, member=member, **data)
        return self.record_response(self._fresh(member.pk))

    @extend_schema(
        summary=_("End an affiliation"),
        request=AffiliationEndInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses={**_WRITE_RESPONSES, **error_responses(409)},
    )
    @action(detail=True, methods=["post"], url_path="end-affiliation")
    def end_affiliation(self, request, *args, **kwargs):
        with self.write_target() as member:
            data = self._validated(AffiliationEndInputSerializer)
            affiliation = member.affiliations.filter(pk=data["affiliation"]).first()
            if affiliation is None:
                raise ValidationError({"affiliation": [_("The member has no such affiliation.")]})
            affiliation_end(actor=request.user, affiliation=affiliation, ended_on=data.get("ended_on"))
        return self.record_response(self._fresh(member.pk))
