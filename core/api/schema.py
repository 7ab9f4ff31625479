"""OpenAPI pieces shared by every resource: the error shape as a component, the statuses, If-Match/ETag.

Views declare what each operation can answer with `error_responses(400, 401, ...)`, so the schema
stays truthful (API.md: every status an endpoint can return is declared).
"""

from functools import cache

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The shape of every error response."""

    code = serializers.CharField(help_text=_("Machine code, e.g. validation_error, not_found, conflict."))
    detail = serializers.CharField(help_text=_("A sentence for people, in the user's language."))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("Validation errors only: messages per field ('non_field_errors' for the whole input)."),
    )


_DESCRIPTIONS = {
    400: _("Invalid input: `errors` names each field (code `validation_error`)."),
    401: _("Not authenticated (code `not_authenticated`)."),
    403: _("Authenticated, but the role may not do this (code `permission_denied`)."),
    404: _("No such record, or it lies outside the caller's scope (code `not_found`)."),
    409: _("Not allowed in the record's current state (code `conflict`)."),
    412: _("`If-Match` names an old version (code `precondition_failed`); `current` holds the current record."),
    410: _("The change-feed cursor is older than the retention window (code `resync_required`)."),
    415: _("The request body is not JSON (code `unsupported_media_type`)."),
    422: _("This Idempotency-Key was used for a different request (code `idempotency_key_reused`)."),
    428: _("A token client sent no If-Match (code `precondition_required`)."),
    429: _("Too many requests with this token (code `throttled`); `Retry-After` says when to retry."),
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Responses in the error shape, for `extend_schema(responses=...)`."""
    return {status: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[status]) for status in statuses}


@cache
def precondition_failed_serializer(output_serializer: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The 412 body for one resource: the error shape plus `current`, the record as it is now."""
    name = output_serializer.__name__.removesuffix("Serializer").removesuffix("Output")
    return type(
        f"{name}PreconditionFailedSerializer",
        (ErrorSerializer,),
        {
            "__module__": output_serializer.__module__,
            "__doc__": "The error shape of a stale If-Match, with the current record.",
            "current": output_serializer(read_only=True),
        },
    )


def precondition_failed_response(output_serializer) -> dict[int, OpenApiResponse]:
    return {412: OpenApiResponse(precondition_failed_serializer(output_serializer), description=_DESCRIPTIONS[412])}


#: Request header of every write to one record.
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=_('The ETag the change is based on, e.g. W/"3". An older version is refused with 412.'),
)


def etag_header(*statuses: int) -> OpenApiParameter:
    """The ETag response header, on the responses (by status) that carry one record."""
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=list(statuses),
        description=_('The record\'s version as a weak entity tag, e.g. W/"3"; send it back in If-Match.'),
    )


IDEMPOTENCY_KEY_DESCRIPTION = _(
    "Any unique string (e.g. a UUID). A repeat within 24 hours gets the first response and changes nothing; "
    "the same key with a different request is 422; a repeat while the first still runs is 409."
)


def postprocess_sync_headers(result, generator, request, public):
    """Declare on every operation what the sync machinery adds to it, so the schema stays truthful.

    Every operation may answer 429 (per-token throttle) and 401. POST, PATCH and DELETE take
    `Idempotency-Key` (422 for a reused key, 409 while the first request runs); PUT, PATCH and DELETE
    on one record answer 428 to a token client without If-Match.
    """
    error_ref = {"$ref": "#/components/schemas/Error"}
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if "Error" not in schemas:
        return result

    def add(responses, status_code):
        responses.setdefault(
            str(status_code),
            {"content": {"application/json": {"schema": error_ref}}, "description": str(_DESCRIPTIONS[status_code])},
        )

    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            if not path.startswith("/api/v1/") and not path.startswith("/api/v"):
                continue
            add(responses, 429)
            add(responses, 401)
            params = operation.setdefault("parameters", [])
            names = {(p.get("in"), p.get("name")) for p in params}
            if method in ("post", "patch", "delete"):
                add(responses, 422)
                add(responses, 409)
                add(responses, 400)
                if ("header", "Idempotency-Key") not in names:
                    params.append(
                        {
                            "in": "header",
                            "name": "Idempotency-Key",
                            "schema": {"type": "string", "maxLength": 200},
                            "description": str(IDEMPOTENCY_KEY_DESCRIPTION),
                        }
                    )
            if method in ("put", "patch", "delete") and "by-ref" not in path:
                add(responses, 428)
    return result
