"""Upsert by the client's own reference (API.md): `PUT <resource>/by-ref/<ref>/` and `POST <resource>/bulk-upsert/`.

A generic mixin for SyncedRecordViewSet subclasses. It never saves a serializer: each record goes
through the viewset's own `create` or `update` (PUT) method, so the resource's input serializer
checks it and the resource's actions write it, with the same scope checks and rules as a plain
POST or PUT. The client's reference is kept in core.ExternalRef, unique per caller and resource
(a token's service account, or a person), so two clients may use the same reference independently.

A record whose fields already equal the body is answered `unchanged` without a write (no new
version, no change record). Fields the API shows masked (a member's ID number) cannot be compared,
so such records are always updated.

Upserts need no If-Match (they state the whole record); `by-ref` checks one when it is sent.
"""

import json

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from core.api.exceptions import exception_handler
from core.api.schema import IF_MATCH, error_responses, etag_header

MAX_BULK_RECORDS = 500


class BulkUpsertInputSerializer(serializers.Serializer):
    records = serializers.ListField(
        child=serializers.DictField(),
        max_length=MAX_BULK_RECORDS,
        help_text=_("Records as for create, each with its `external_ref` (required here)."),
    )
    atomic = serializers.BooleanField(default=False, help_text=_("True: one error rolls back every record."))


class BulkUpsertResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"])
    version = serializers.IntegerField(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


BulkUpsertOutputSerializer = inline_serializer(
    "BulkUpsertOutput",
    {
        "results": BulkUpsertResultSerializer(many=True),
        "committed": serializers.BooleanField(help_text=_("False when an atomic batch was rolled back.")),
    },
)


def _normalise(value):
    value = json.loads(json.dumps(value, cls=JSONEncoder))
    if isinstance(value, list):
        return sorted(json.dumps(v, sort_keys=True) for v in value)
    return value


class _RecordFailed(Exception):
    def __init__(self, response):
        self.response = response


def _errors_of(response) -> dict:
    body = response.data or {}
    return body.get("errors") or {"non_field_errors": [str(body.get("detail", ""))]}


class UpsertMixin:
    """Adds `by-ref` and `bulk-upsert` to a SyncedRecordViewSet whose `create` and `update` call actions."""

    upserting = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        output = getattr(cls, "serializer_class", None)
        if output is None:
            return
        name = cls.__name__.removesuffix("ViewSet")

        def by_ref(self, request, ref=None, *args, **kwargs):
            return self._by_ref(request, ref)

        def bulk_upsert(self, request, *args, **kwargs):
            return self._bulk_upsert(request)

        by_ref.__doc__ = "Create or update one record by the caller's reference."
        bulk_upsert.__doc__ = "Create or update many records by the caller's references."
        cls.by_ref = extend_schema(
            operation_id=f"{cls.basename_hint(name)}_by_ref",
            summary=_("Create or update by your reference"),
            description=_(
                "Fields as for create. Creates the record when your reference is new (201), else replaces its "
                "fields (200). Your references are yours: another client may use the same one."
            ),
            request=OpenApiTypes.OBJECT,
            parameters=[
                OpenApiParameter("ref", OpenApiTypes.STR, OpenApiParameter.PATH, description=_("Your reference.")),
                IF_MATCH,
                etag_header(200, 201),
            ],
            responses={
                200: output,
                201: output,
                **error_responses(400, 401, 403, 404, 409, 412, 415),
            },
        )(action(detail=False, methods=["put"], url_path=r"by-ref/(?P<ref>[^/]+)", url_name="by-ref")(by_ref))
        cls.bulk_upsert = extend_schema(
            operation_id=f"{cls.basename_hint(name)}_bulk_upsert",
            summary=_("Create or update many records by your references"),
            description=_(
                "One result per record, in order. With `atomic: true` one error rolls back every record "
                "(`committed` is then false and every result says so); otherwise each record stands alone."
            ),
            request=BulkUpsertInputSerializer,
            responses={200: BulkUpsertOutputSerializer, **error_responses(400, 401, 403, 415)},
        )(action(detail=False, methods=["post"], url_path="bulk-upsert", url_name="bulk-upsert")(bulk_upsert))

    @staticmethod
    def basename_hint(name: str) -> str:
        return {"Branch": "branches", "Activity": "activities"}.get(name, f"{name.lower()}s")

    #
    # One record
    #
    def _sync_type(self) -> str:
        return self.get_queryset().model.sync_type

    def _upsert_one(self, data: dict, ref: str):
        """(status, response) for one record; raises for errors (the caller decides on savepoints)."""
        from core.models import ExternalRef

        if not ref or len(ref) > 200:
            raise ValidationError({"external_ref": [_("Give a reference of 1 to 200 characters.")]})
        # The reference is the caller's own (ExternalRef), not the record's shared external_ref column.
        data = {k: v for k, v in data.items() if k != "external_ref"}
        self.request._full_data = data
        mapping = (
            ExternalRef.objects.select_for_update()
            .filter(user=self.request.user, resource=self._sync_type(), ref=ref)
            .first()
        )
        model = self.get_queryset().model
        target = None
        if mapping is not None and model.objects.filter(pk=mapping.object_id).exists():
            target = self.get_queryset().filter(pk=mapping.object_id).first()
            if target is None:  # it exists but has left the caller's scope
                raise NotFound
        if target is None:
            response = self.create(self.request)
            new_id = response.data["id"]
            ExternalRef.objects.update_or_create(
                user=self.request.user, resource=self._sync_type(), ref=ref, defaults={"object_id": new_id}
            )
            return "created", response
        current = self.get_serializer(target).data
        if all(k in current and _normalise(current[k]) == _normalise(v) for k, v in data.items()):
            return "unchanged", self.record_response(target)
        self.kwargs[self.lookup_url_kwarg or self.lookup_field] = str(target.pk)
        return "updated", self.update(self.request)

    def _by_ref(self, request, ref):
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [_("Send one JSON object.")]})
        self.upserting = "one"
        with transaction.atomic():
            _status, response = self._upsert_one(dict(request.data), ref)
        return response

    #
    # Many records
    #
    def _bulk_upsert(self, request):
        serializer = BulkUpsertInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        records, atomic = serializer.validated_data["records"], serializer.validated_data["atomic"]
        self.upserting = "bulk"
        results = []
        failed = False
        with transaction.atomic():
            for index, data in enumerate(records):
                ref = data.get("external_ref")
                try:
                    with transaction.atomic():
                        if not isinstance(ref, str):
                            raise ValidationError({"external_ref": [_("Each record needs its external_ref.")]})
                        outcome, response = self._upsert_one(dict(data), ref)
                except Exception as exc:  # noqa: BLE001 - converted exactly as the API would answer it
                    response = exception_handler(exc, {"view": self, "request": request})
                    if response is None:
                        raise
                    failed = True
                    results.append(
                        {
                            "index": index,
                            "id": None,
                            "status": "error",
                            "version": None,
                            "errors": _errors_of(response),
                        }
                    )
                    continue
                results.append(
                    {"index": index, "id": response.data["id"], "status": outcome, "version": response.data["version"]}
                )
            committed = not (atomic and failed)
            if not committed:
                transaction.set_rollback(True)
                message = str(_("Rolled back: another record in this atomic batch failed."))
                results = [
                    r
                    if r["status"] == "error"
                    else {
                        **r,
                        "id": None,
                        "status": "error",
                        "version": None,
                        "errors": {"non_field_errors": [message]},
                    }
                    for r in results
                ]
        return Response({"results": results, "committed": committed}, status=status.HTTP_200_OK)
