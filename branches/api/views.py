"""REST API of the organisation tree: /api/v1/branches/ and /api/v1/units/ (API.md).

Reads start from the scoped selectors, so records outside the caller's scope are absent from lists
and 404 on detail. Writes check the input's shape with an input serializer and call the actions in
branches/actions.py, which check change scope and the rules; the response is the record read again
through the selector, with its new ETag.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from branches.actions import (
    branch_create,
    branch_dissolve,
    branch_move,
    branch_update,
    unit_create,
    unit_delete,
    unit_update,
)
from branches.api.serializers import (
    BranchInputSerializer,
    BranchMoveInputSerializer,
    BranchOutputSerializer,
    UnitInputSerializer,
    UnitOutputSerializer,
)
from branches.filters import BranchFilter, UnitFilter
from branches.models import Branch, Unit
from branches.permissions import ScopedPermission
from branches.selectors import branch_list, unit_list
from core.api.integrity import unique_violations_as_field_errors
from core.api.schema import IF_MATCH, error_responses, etag_header, precondition_failed_response
from core.api.upsert import UpsertMixin
from core.api.viewsets import SyncedRecordViewSet


#
# Branches
#
@extend_schema_view(
    list=extend_schema(
        summary=_("List organisations"),
        description=_(
            "Organisations in the caller's scope, oldest first (by last change with `updated_since`). "
            "`branch` narrows to an organisation and its whole subtree: an id that is unknown or outside "
            "the scope yields only what the caller can see of that subtree, usually nothing."
        ),
        responses={200: BranchOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get an organisation"),
        parameters=[etag_header(200)],
        responses={200: BranchOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class BranchViewSet(UpsertMixin, SyncedRecordViewSet):
    """Organisation tree nodes; `parent` is the parent's id, `warnings` the rule checks."""

    serializer_class = BranchOutputSerializer
    filterset_class = BranchFilter
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "branches"

    def get_queryset(self):
        units = Prefetch("units", queryset=Unit.objects.only("id").order_by("id"))
        return branch_list(actor=self.request.user).prefetch_related(units)

    @extend_schema(
        summary=_("Create an organisation"),
        request=BranchInputSerializer,
        parameters=[etag_header(201)],
        responses={201: BranchOutputSerializer, **error_responses(400, 401, 403, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated_input(BranchInputSerializer)
        with unique_violations_as_field_errors(Branch):
            branch = branch_create(actor=request.user, **data)
        return self.created_response(branch)

    @extend_schema(
        summary=_("Replace an organisation's fields"),
        description=_(
            "`name` and `parent` are required; optional fields left out keep their values. A different "
            "`parent` moves the organisation with its subtree, as the move action does."
        ),
        request=BranchInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses={
            200: BranchOutputSerializer,
            **error_responses(400, 401, 403, 404, 415),
            **precondition_failed_response(BranchOutputSerializer),
        },
    )
    def update(self, request, *args, **kwargs):
        return self._update(partial=False)

    @extend_schema(
        summary=_("Change some of an organisation's fields"),
        description=_("A different `parent` moves the organisation with its subtree, as the move action does."),
        request=BranchInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses={
            200: BranchOutputSerializer,
            **error_responses(400, 401, 403, 404, 415),
            **precondition_failed_response(BranchOutputSerializer),
        },
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(partial=True)

    def _update(self, *, partial: bool) -> Response:
        with unique_violations_as_field_errors(Branch), self.write_target() as branch:
            data = self.validated_input(BranchInputSerializer, instance=branch, partial=partial)
            new_parent = data.pop("parent", branch.parent)
            branch = branch_update(actor=self.request.user, branch=branch, **data)
            if (new_parent.pk if new_parent else None) != branch.parent_id:
                if new_parent is None:
                    raise ValidationError({"parent": [_("An organisation cannot be made top-level here.")]})
                branch = branch_move(actor=self.request.user, branch=branch, new_parent=new_parent)
        return self.record_response(self.fresh(branch.pk))

    @extend_schema(
        summary=_("Dissolve an organisation"),
        description=_(
            "Soft delete: the organisation disappears from lists and details and a tombstone enters the "
            "change feed. Refused with 409 while it still has child organisations, members or units."
        ),
        parameters=[IF_MATCH, etag_header(412)],
        responses={
            204: OpenApiResponse(description=_("Dissolved.")),
            **error_responses(401, 403, 404, 409),
            **precondition_failed_response(BranchOutputSerializer),
        },
    )
    def destroy(self, request, *args, **kwargs):
        with self.write_target() as branch:
            branch_dissolve(actor=request.user, branch=branch)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("Move an organisation"),
        description=_(
            "Moves the organisation and its whole subtree under `parent`. Refused with 400 when `parent` is "
            "the organisation itself or one of its descendants."
        ),
        request=BranchMoveInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses={
            200: BranchOutputSerializer,
            **error_responses(400, 401, 403, 404, 415),
            **precondition_failed_response(BranchOutputSerializer),
        },
    )
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        with self.write_target() as branch:
            data = self.validated_input(BranchMoveInputSerializer)
            branch = branch_move(actor=request.user, branch=branch, new_parent=data["parent"])
        return self.record_response(self.fresh(branch.pk))


#
# Units
#
@extend_schema_view(
    list=extend_schema(
        summary=_("List units"),
        description=_(
            "Units owned by organisations in the caller's scope, oldest first (by last change with "
            "`updated_since`). `branch` narrows to units owned anywhere in that organisation's subtree."
        ),
        responses={200: UnitOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get a unit"),
        parameters=[etag_header(200)],
        responses={200: UnitOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class UnitViewSet(UpsertMixin, SyncedRecordViewSet):
    """Enterprises and organisations that branches cover; `branch` is the owning branch."""

    serializer_class = UnitOutputSerializer
    filterset_class = UnitFilter
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "units"

    def get_queryset(self):
        return unit_list(actor=self.request.user)

    @extend_schema(
        summary=_("Create a unit"),
        request=UnitInputSerializer,
        parameters=[etag_header(201)],
        responses={201: UnitOutputSerializer, **error_responses(400, 401, 403, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated_input(UnitInputSerializer)
        with unique_violations_as_field_errors(Unit):
            unit = unit_create(actor=request.user, **data)
        return self.created_response(unit)

    @extend_schema(
        summary=_("Replace a unit's fields"),
        description=_("`branch` and `name` are required; optional fields left out keep their values."),
        request=UnitInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses={
            200: UnitOutputSerializer,
            **error_responses(400, 401, 403, 404, 415),
            **precondition_failed_response(UnitOutputSerializer),
        },
    )
    def update(self, request, *args, **kwargs):
        return self._update(partial=False)

    @extend_schema(
        summary=_("Change some of a unit's fields"),
        request=UnitInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses={
            200: UnitOutputSerializer,
            **error_responses(400, 401, 403, 404, 415),
            **precondition_failed_response(UnitOutputSerializer),
        },
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(partial=True)

    def _update(self, *, partial: bool) -> Response:
        with unique_violations_as_field_errors(Unit), self.write_target() as unit:
            data = self.validated_input(UnitInputSerializer, instance=unit, partial=partial)
            unit = unit_update(actor=self.request.user, unit=unit, **data)
        return self.record_response(self.fresh(unit.pk))

    @extend_schema(
        summary=_("Delete a unit"),
        description=_("Soft delete: the unit disappears from lists and details and a tombstone enters the feed."),
        parameters=[IF_MATCH, etag_header(412)],
        responses={
            204: OpenApiResponse(description=_("Deleted.")),
            **error_responses(401, 403, 404),
            **precondition_failed_response(UnitOutputSerializer),
        },
    )
    def destroy(self, request, *args, **kwargs):
        with self.write_target() as unit:
            unit_delete(actor=request.user, unit=unit)
        return Response(status=status.HTTP_204_NO_CONTENT)
