"""REST API of activities: /api/v1/activities/ (with cancel and device check-ins) and /api/v1/attendances/.

Reads start from the scoped selectors, so records outside the caller's scope are absent from lists and
404 on detail. Writes check the input's shape and call activities/actions.py; create and update answer
with the record read again through the selector, its new ETag, and the scheduling warnings.
"""

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.generics import get_object_or_404 as drf_get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from activities import actions
from activities.api.serializers import (
    ActivityCancelInputSerializer,
    ActivityInputSerializer,
    ActivityOutputSerializer,
    ActivityWriteOutputSerializer,
    AttendanceOutputSerializer,
    CheckInInputSerializer,
    ComplianceQuerySerializer,
    ComplianceSerializer,
    ScheduleWarningSerializer,
)
from activities.choices import AttendanceMethod, CheckInRefusal
from activities.filters import ActivityFilter, AttendanceFilter
from activities.models import Activity, Attendance
from activities.selectors import (
    activity_list,
    activity_warnings,
    attendance_list,
    member_activity_list,
    member_of_user,
)
from branches.permissions import ScopedPermission
from core.api.concurrency import etag_for
from core.api.exceptions import error_body
from core.api.integrity import unique_violations_as_field_errors
from core.api.schema import IF_MATCH, ErrorSerializer, error_responses, etag_header, precondition_failed_response
from core.api.upsert import UpsertMixin
from core.api.viewsets import SyncedRecordViewSet

_WRITE_RESPONSES = {
    200: ActivityWriteOutputSerializer,
    **error_responses(400, 401, 403, 404, 409, 415),
    **precondition_failed_response(ActivityOutputSerializer),
}


@extend_schema_view(
    list=extend_schema(
        summary=_("List activities"),
        description=_(
            "Activities (one row per occurrence) hosted in the caller's scope, oldest first (by last change "
            "with `updated_since`). `branch` narrows to a host organisation and its whole subtree."
        ),
        responses={200: ActivityOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get an activity"),
        parameters=[etag_header(200)],
        responses={200: ActivityOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class ActivityViewSet(UpsertMixin, SyncedRecordViewSet):
    """Meetings, lectures and study sessions; `branch` is the host organisation."""

    serializer_class = ActivityOutputSerializer
    filterset_class = ActivityFilter
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "activities"

    def get_queryset(self):
        return activity_list(actor=self.request.user)

    def _written(self, activity: Activity, *, status_code=status.HTTP_200_OK, headers=None) -> Response:
        activity = self.fresh(activity.pk)
        context = {**self.get_serializer_context(), "warnings": activity_warnings(activity=activity)}
        response = Response(ActivityWriteOutputSerializer(activity, context=context).data, status=status_code)
        for name, value in (headers or {}).items():
            response[name] = value
        response["ETag"] = etag_for(activity)
        return response

    @extend_schema(
        summary=_("Create an activity"),
        description=_(
            "The answer carries `warnings` (riders' peak hours, public holidays, invitees already busy); "
            "they never block. `mode` decides whether `venue`, `online_link` or both are required."
        ),
        request=ActivityInputSerializer,
        parameters=[etag_header(201)],
        responses={201: ActivityWriteOutputSerializer, **error_responses(400, 401, 403, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated_input(ActivityInputSerializer)
        data.pop("scope", None)
        invitees = data.pop("invitees", [])
        with unique_violations_as_field_errors(Activity), transaction.atomic():
            activity = actions.activity_create(actor=request.user, **data)
            for member in invitees:
                actions.activity_invite(actor=request.user, activity=activity, member=member)
        location = self.reverse_detail(activity)
        return self._written(activity, status_code=status.HTTP_201_CREATED, headers={"Location": location})

    def reverse_detail(self, activity) -> str:
        return reverse("api:activity-detail", kwargs={"pk": activity.pk}, request=self.request)

    @extend_schema(
        summary=_("Replace an activity's fields"),
        description=_(
            "`branch`, `title`, `starts_at` and `ends_at` are required; optional fields left out keep their "
            "values. `scope` applies the change to this and the following, or all planned occurrences of "
            "the series. The host organisation cannot change. 409 for a cancelled activity."
        ),
        request=ActivityInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_WRITE_RESPONSES,
    )
    def update(self, request, *args, **kwargs):
        return self._update(partial=False)

    @extend_schema(
        summary=_("Change some of an activity's fields"),
        description=_("`scope` applies the change to this and the following, or all occurrences of the series."),
        request=ActivityInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_WRITE_RESPONSES,
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(partial=True)

    def _update(self, *, partial: bool) -> Response:
        with unique_violations_as_field_errors(Activity), self.write_target() as activity:
            data = self.validated_input(ActivityInputSerializer, instance=activity, partial=partial)
            branch = data.pop("branch", activity.branch)
            if branch.pk != activity.branch_id:
                raise ValidationError({"branch": [_("The host organisation of an activity cannot change.")]})
            scope = data.pop("scope", "this")
            co_hosts = data.pop("co_hosts", None)
            invitees = data.pop("invitees", [])
            activity = actions.activity_update(
                actor=self.request.user, activity=activity, scope=scope, co_hosts=co_hosts, **data
            )
            for member in invitees:
                actions.activity_invite(actor=self.request.user, activity=activity, member=member)
        return self._written(activity)

    @extend_schema(
        summary=_("Delete an activity"),
        description=_(
            "Soft delete of an activity entered by mistake; a tombstone enters the change feed. Refused "
            "with 409 once anyone attended: cancel it instead."
        ),
        parameters=[IF_MATCH, etag_header(412)],
        responses={
            204: OpenApiResponse(description=_("Deleted.")),
            **error_responses(401, 403, 404, 409),
            **precondition_failed_response(ActivityOutputSerializer),
        },
    )
    def destroy(self, request, *args, **kwargs):
        with self.write_target() as activity:
            actions.activity_delete(actor=request.user, activity=activity)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("Cancel an activity"),
        description=_("Refused with 409 when the activity is already cancelled or held."),
        request=ActivityCancelInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses={
            200: ActivityOutputSerializer,
            **error_responses(400, 401, 403, 404, 409, 415),
            **precondition_failed_response(ActivityOutputSerializer),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        with self.write_target() as activity:
            data = self.validated_input(ActivityCancelInputSerializer)
            activity = actions.activity_cancel(actor=request.user, activity=activity, reason=data.get("reason", ""))
        return self.record_response(self.fresh(activity.pk))

    def get_permissions(self):
        # A member checks in themselves without any role: the action decides who may check in whom.
        if self.action == "check_ins":
            return [IsAuthenticated()]
        return super().get_permissions()

    def _check_in_target(self) -> tuple[Activity, bool]:
        """(activity, seen as a member): through the caller's activities.view scope, else, for a caller with a
        member record, through the activities that member is invited to; 404 otherwise."""
        try:
            return self.get_object(), False
        except Http404:
            member = member_of_user(user=self.request.user)
            if member is None:
                raise
            return drf_get_object_or_404(member_activity_list(member=member), pk=self.kwargs["pk"]), True

    @extend_schema(
        summary=_("Check a member in (devices)"),
        description=_(
            "The same `nonce` twice records one attendance: the repeat answers 200 with it. `force: true` "
            "uploads a scan made offline and keeps its `scanned_at` (the check-in window is checked against "
            "it). A refusal is 400 with `code` one of not_invited, outside_window, cancelled, "
            "already_checked_in.\n\n"
            "Organisers (the activities role at the host organisation) check in any invitee. A member (a "
            "login linked to a member record, any role or none) may check in only themselves, at an "
            "activity they are invited to: with method `qr` and the `token` of the QR code shown at the "
            "activity (`invalid_token` when it is expired or another activity's; for an offline upload it "
            "must have been valid at `scanned_at`), or with method `online` for an online or hybrid "
            "activity; `manual` is the organiser's. Checking in anyone else is 404 (403 where the caller "
            "sees the activity but may not change it)."
        ),
        request=CheckInInputSerializer,
        responses={
            201: OpenApiResponse(AttendanceOutputSerializer, description=_("Checked in.")),
            200: OpenApiResponse(AttendanceOutputSerializer, description=_("This nonce was already recorded.")),
            400: OpenApiResponse(
                ErrorSerializer,
                description=_(
                    "Refused (code not_invited, outside_window, cancelled, already_checked_in, or for a "
                    "member's own check-in invalid_token) or invalid input (code validation_error)."
                ),
            ),
            **error_responses(401, 403, 404, 415),
        },
    )
    @action(detail=True, methods=["post"], url_path="check-ins", url_name="check-ins")
    def check_ins(self, request, *args, **kwargs):
        activity, as_member = self._check_in_target()
        data = self.validated_input(CheckInInputSerializer)
        try:
            attendance, created = actions.attendance_check_in(
                actor=request.user,
                activity=activity,
                member=data["member"],
                method=data.get("method") or AttendanceMethod.QR,
                nonce=data.get("nonce"),
                scanned_at=data.get("scanned_at"),
                force=data.get("force", False),
                duration_minutes=data.get("duration_minutes"),
                token=data.get("token") or None,
            )
        except actions.CheckInRefused as exc:
            code = exc.code if exc.code in CheckInRefusal.values else "validation_error"
            return Response(error_body(code, " ".join(exc.messages)), status=status.HTTP_400_BAD_REQUEST)
        # A member reads back their own attendance; others through their scope, as for any read.
        readable = (
            Attendance.objects.filter(member__user=request.user) if as_member else attendance_list(actor=request.user)
        )
        attendance = readable.select_related("member", "activity").get(pk=attendance.pk)
        body = AttendanceOutputSerializer(attendance, context=self.get_serializer_context()).data
        response = Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        response["ETag"] = etag_for(attendance)
        return response

    @extend_schema(
        summary=_("Scheduling warnings of an activity"),
        responses={200: ScheduleWarningSerializer(many=True), **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def warnings(self, request, *args, **kwargs):
        activity = self.get_object()
        return Response([w.as_dict() for w in activity_warnings(activity=activity)])


@extend_schema_view(
    list=extend_schema(
        summary=_("List attendances"),
        description=_(
            "Attendances at activities hosted in the caller's scope, oldest first (by last change with "
            "`updated_since`). `activity`, `member` and `branch` (subtree of the host) narrow the list."
        ),
        responses={200: AttendanceOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get an attendance"),
        parameters=[etag_header(200)],
        responses={200: AttendanceOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class AttendanceViewSet(SyncedRecordViewSet):
    """Who attended which activity, how, and for how long (read-only; check-ins are written per activity)."""

    serializer_class = AttendanceOutputSerializer
    filterset_class = AttendanceFilter
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "activities"

    def get_queryset(self):
        return attendance_list(actor=self.request.user)


class ComplianceView(GenericAPIView):
    """三会一课 compliance of one organisation and its subtree in a year (read-only)."""

    permission_classes = [IsAuthenticated]
    serializer_class = ComplianceSerializer

    @extend_schema(
        operation_id="compliance_retrieve",
        summary=_("Three meetings and one lesson: held activities against the requirements"),
        parameters=[
            OpenApiParameter("branch", OpenApiTypes.UUID, required=True, description=_("Organisation id.")),
            OpenApiParameter("year", OpenApiTypes.INT, required=True, description=_("Calendar year.")),
        ],
        responses={200: ComplianceSerializer, **error_responses(400, 401, 404)},
    )
    def get(self, request):
        from activities import compliance
        from activities.choices import ActivityKind
        from branches.models import Branch
        from branches.permissions import branch_scope

        query = ComplianceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        branch = get_object_or_404(
            Branch.objects.filter(pk__in=branch_scope(request.user, "activities.view")),
            pk=query.validated_data["branch"],
        )
        year = query.validated_data["year"]
        grids, total = compliance.compliance_subtree(branch=branch, year=year)
        data = {
            "branch": branch.pk,
            "year": year,
            "months": [{"month": m + 1, "counts": {k: total[m][k] for k in ActivityKind.values}} for m in range(12)],
            "branches": grids,
        }
        return Response(ComplianceSerializer(data).data)
