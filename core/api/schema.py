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
    415: _("The request body is not JSON (code `unsupported_media_type`)."),
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
