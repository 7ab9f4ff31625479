"""REST API of the services app: /api/v1/workers/, /api/v1/cases/ (with actions), /api/v1/stations/.

Reads start from the scoped selectors (absent from lists, 404 outside the scope). Writes check the
input's shape and call services/actions; a status change the case's state forbids answers 409.
"""

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from branches.permissions import ScopedPermission
from core.api.integrity import unique_violations_as_field_errors
from core.api.schema import (
    IF_MATCH,
    ErrorSerializer,
    error_responses,
    etag_header,
    precondition_failed_response,
)
from core.api.upsert import UpsertMixin
from core.api.viewsets import SyncedRecordViewSet
from services import actions
from services.api import serializers as s
from services.filters import CaseFilter, StationFilter, WorkerFilter
from services.models import Referral, Worker
from services.selectors import case_list, station_list, worker_list


def _list_and_get(name: str, output):
    return extend_schema_view(
        list=extend_schema(
            summary=_("List %(name)s") % {"name": name},
            responses={200: output(many=True), **error_responses(400, 401, 403)},
        ),
        retrieve=extend_schema(
            summary=_("Get one of the %(name)s") % {"name": name},
            parameters=[etag_header(200)],
            responses={200: output, **error_responses(401, 403, 404)},
        ),
    )


def _write_responses(output, *extra: int) -> dict:
    """Responses of a PUT/PATCH or record action: the record, the errors, 412 with the current record."""
    return {200: output, **error_responses(400, 401, 403, 404, 415, *extra), **precondition_failed_response(output)}


def _delete_schema(summary, description, output, *extra: int):
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[IF_MATCH, etag_header(412)],
        responses={
            204: OpenApiResponse(description=_("Deleted.")),
            **error_responses(401, 403, 404, *extra),
            **precondition_failed_response(output),
        },
    )


@_list_and_get("workers", s.WorkerOutputSerializer)
class WorkerViewSet(UpsertMixin, SyncedRecordViewSet):
    """People served by the services app; phone and ID number are masked."""

    serializer_class = s.WorkerOutputSerializer
    filterset_class = WorkerFilter
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "services"

    def get_queryset(self):
        return worker_list(actor=self.request.user)

    @extend_schema(
        summary=_("Create a worker"),
        description=_("A phone or ID number that already belongs to a worker is refused (400 on the field)."),
        request=s.WorkerInputSerializer,
        parameters=[etag_header(201)],
        responses={201: s.WorkerOutputSerializer, **error_responses(400, 401, 403, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated_input(s.WorkerInputSerializer)
        with unique_violations_as_field_errors(Worker):
            worker = actions.worker_create(actor=request.user, **data)
        return self.created_response(worker)

    @extend_schema(
        summary=_("Replace a worker's fields"),
        description=_(
            "`branch` is required; optional fields left out keep their values. A different `branch` needs "
            "change rights at both branches. A phone or ID number of another worker is refused (400)."
        ),
        request=s.WorkerUpdateInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_write_responses(s.WorkerOutputSerializer),
    )
    def update(self, request, *args, **kwargs):
        return self._update(partial=False)

    @extend_schema(
        summary=_("Change some of a worker's fields"),
        request=s.WorkerUpdateInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_write_responses(s.WorkerOutputSerializer),
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(partial=True)

    def _update(self, *, partial: bool) -> Response:
        with unique_violations_as_field_errors(Worker), self.write_target() as worker:
            data = self.validated_input(s.WorkerUpdateInputSerializer, instance=worker, partial=partial)
            worker = actions.worker_update(actor=self.request.user, worker=worker, **data)
        return self.record_response(self.fresh(worker.pk))

    @_delete_schema(
        _("Delete a worker record"),
        _(
            "Soft delete of a record entered by mistake: it disappears from lists and details and a tombstone "
            "enters the change feed. A worker with cases is refused with 409: merge duplicates instead."
        ),
        s.WorkerOutputSerializer,
        409,
    )
    def destroy(self, request, *args, **kwargs):
        with self.write_target() as worker:
            actions.worker_delete(actor=request.user, worker=worker)
        return Response(status=status.HTTP_204_NO_CONTENT)


_CASE_ACTION = {
    **error_responses(400, 401, 403, 404, 409, 415),
    **precondition_failed_response(s.CaseOutputSerializer),
}


def _case_action_schema(summary, request=None):
    return extend_schema(
        summary=summary,
        request=request,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses={200: s.CaseOutputSerializer, **_CASE_ACTION},
    )


@_list_and_get("cases", s.CaseOutputSerializer)
class CaseViewSet(SyncedRecordViewSet):
    """Worker-service cases; `branch` is the responsible branch. Status changes are actions (409 when the
    state forbids them)."""

    serializer_class = s.CaseOutputSerializer
    filterset_class = CaseFilter
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "services"

    def get_queryset(self):
        return case_list(actor=self.request.user).prefetch_related(
            Prefetch("referrals", queryset=Referral.objects.order_by("sent_at", "id"))
        )

    @extend_schema(
        summary=_("Open a case"),
        request=s.CaseInputSerializer,
        parameters=[etag_header(201)],
        responses={201: s.CaseOutputSerializer, **error_responses(400, 401, 403, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated_input(s.CaseInputSerializer)
        case = actions.case_open(actor=request.user, **data)
        return self.created_response(case)

    def _run(self, serializer_class, fn):
        with self.write_target() as case:
            data = self.validated_input(serializer_class) if serializer_class else {}
            case = fn(case, data)
        return self.record_response(self.fresh(case.pk))

    @_case_action_schema(_("Assign a case"), s.AssignInputSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, *args, **kwargs):
        return self._run(
            s.AssignInputSerializer,
            lambda c, d: actions.case_assign(actor=request.user, case=c, assignee=d["assignee"]),
        )

    @_case_action_schema(_("Start work on a case"))
    @action(detail=True, methods=["post"])
    def start(self, request, *args, **kwargs):
        return self._run(None, lambda c, d: actions.case_start(actor=request.user, case=c))

    @_case_action_schema(_("Wait on the worker or a partner (stops the clock)"), s.WaitInputSerializer)
    @action(detail=True, methods=["post"])
    def wait(self, request, *args, **kwargs):
        return self._run(s.WaitInputSerializer, lambda c, d: actions.case_wait(actor=request.user, case=c, **d))

    @_case_action_schema(_("Resume a waiting case"))
    @action(detail=True, methods=["post"])
    def resume(self, request, *args, **kwargs):
        return self._run(None, lambda c, d: actions.case_resume(actor=request.user, case=c))

    @_case_action_schema(_("Resolve a case"), s.ResolveInputSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, *args, **kwargs):
        return self._run(s.ResolveInputSerializer, lambda c, d: actions.case_resolve(actor=request.user, case=c, **d))

    @_case_action_schema(_("Close a resolved case"))
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        return self._run(None, lambda c, d: actions.case_close(actor=request.user, case=c))

    @_case_action_schema(_("Reopen a case within 30 days of its resolution"), s.ReopenInputSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, *args, **kwargs):
        return self._run(s.ReopenInputSerializer, lambda c, d: actions.case_reopen(actor=request.user, case=c, **d))

    @_case_action_schema(_("Add a note to the timeline"), s.NoteInputSerializer)
    @action(detail=True, methods=["post"])
    def note(self, request, *args, **kwargs):
        def run(case, data):
            actions.case_note_add(actor=request.user, case=case, **data)
            return case

        return self._run(s.NoteInputSerializer, run)

    @_case_action_schema(_("Refer a case to a partner"), s.ReferInputSerializer)
    @action(detail=True, methods=["post"])
    def refer(self, request, *args, **kwargs):
        def run(case, data):
            actions.referral_create(actor=request.user, case=case, **data)
            return case

        return self._run(s.ReferInputSerializer, run)

    @_case_action_schema(_("Change the status of one of the case's referrals"), s.ReferralStatusInputSerializer)
    @action(detail=True, methods=["post"], url_path="referral-status")
    def referral_status(self, request, *args, **kwargs):
        def run(case, data):
            referral = case.referrals.filter(pk=data["referral"]).first()
            if referral is None:
                raise ValidationError({"referral": [_("The case has no such referral.")]})
            actions.referral_set_status(
                actor=request.user, referral=referral, status=data["status"], note=data["note"]
            )
            return case

        return self._run(s.ReferralStatusInputSerializer, run)

    @extend_schema(
        summary=_("Attach a photo or PDF to a case"),
        description=_(
            "`multipart/form-data` with `file` and optionally `is_public`. The type is read from the file's "
            "content and must agree with its name (an executable renamed .jpg is refused); files above the "
            "size limit are refused. Both are 400 on `file`."
        ),
        request={"multipart/form-data": s.AttachmentInputSerializer},
        parameters=[IF_MATCH],
        responses={
            201: s.AttachmentOutputSerializer,
            **error_responses(400, 401, 403, 404),
            415: OpenApiResponse(
                ErrorSerializer, description=_("The body is not multipart/form-data (code `unsupported_media_type`).")
            ),
            **precondition_failed_response(s.CaseOutputSerializer),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def attachments(self, request, *args, **kwargs):
        with self.write_target() as case:
            data = self.validated_input(s.AttachmentInputSerializer)
            event = actions.case_attach(
                actor=request.user, case=case, upload=data["file"], is_public=data["is_public"]
            )
        return Response(s.AttachmentOutputSerializer(event).data, status=status.HTTP_201_CREATED)


@_list_and_get("stations", s.StationOutputSerializer)
class StationViewSet(SyncedRecordViewSet):
    """Service stations (驿站) and the branch that runs each."""

    serializer_class = s.StationOutputSerializer
    filterset_class = StationFilter
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "services"

    def get_queryset(self):
        return station_list(actor=self.request.user)

    @extend_schema(
        summary=_("Create a station"),
        request=s.StationInputSerializer,
        parameters=[etag_header(201)],
        responses={201: s.StationOutputSerializer, **error_responses(400, 401, 403, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated_input(s.StationInputSerializer)
        with transaction.atomic():
            station = actions.station_create(actor=request.user, **data)
        return self.created_response(station)

    @extend_schema(
        summary=_("Replace a station's fields"),
        description=_(
            "`branch`, `name` and `address` are required; optional fields left out keep their values. A "
            "different `branch` needs change rights at both branches."
        ),
        request=s.StationUpdateInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_write_responses(s.StationOutputSerializer),
    )
    def update(self, request, *args, **kwargs):
        return self._update(partial=False)

    @extend_schema(
        summary=_("Change some of a station's fields"),
        request=s.StationUpdateInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_write_responses(s.StationOutputSerializer),
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(partial=True)

    def _update(self, *, partial: bool) -> Response:
        with self.write_target() as station:
            data = self.validated_input(s.StationUpdateInputSerializer, instance=station, partial=partial)
            station = actions.station_update(actor=self.request.user, station=station, **data)
        return self.record_response(self.fresh(station.pk))

    @_delete_schema(
        _("Delete a station"),
        _(
            "Soft delete of a station entered by mistake: it disappears from lists and details and a tombstone "
            "enters the change feed. A station that closes is changed to `is_active: false` instead."
        ),
        s.StationOutputSerializer,
    )
    def destroy(self, request, *args, **kwargs):
        with self.write_target() as station:
            actions.station_delete(actor=request.user, station=station)
        return Response(status=status.HTTP_204_NO_CONTENT)
