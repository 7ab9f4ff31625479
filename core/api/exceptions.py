"""One exception handler for the whole API, giving the error shape of API.md:

{"code": "<machine code>", "detail": "<human sentence>", "errors": {"<field>": ["..."]}}
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.exceptions import Conflict

_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "resync_required",
    412: "precondition_failed",
    415: "unsupported_media_type",
    422: "idempotency_key_reused",
    428: "precondition_required",
    429: "throttled",
}


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = _("This action is not allowed in the record's current state.")


def django_errors(exc: DjangoValidationError) -> dict:
    """Django's ValidationError as {field: [messages]}, with non-field errors under "non_field_errors"."""
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _flatten(detail, prefix: str = "") -> dict:
    """DRF's error detail as {field: [strings]}; nested fields get dotted names ("reminder_offsets.1").

    API.md promises a list of messages per field, so a list item's or nested object's errors are named by
    their path rather than kept as nested objects.
    """
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            for field, messages in _flatten(value, f"{prefix}.{key}" if prefix else str(key)).items():
                out.setdefault(field, []).extend(messages)
        return out
    name = prefix or "non_field_errors"
    if isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                for field, messages in _flatten(item, f"{name}.{index}").items():
                    out.setdefault(field, []).extend(messages)
            else:
                out.setdefault(name, []).append(str(item))
        return out
    return {name: [str(detail)]}


def error_body(code: str, detail: str, errors: dict | None = None) -> dict:
    body = {"code": code, "detail": str(detail)}
    if errors is not None:
        body["errors"] = errors
    return body


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return Response(
            error_body("validation_error", _("The input is not valid."), django_errors(exc)),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Conflict):
        set_rollback()
        return Response(error_body("conflict", exc.message), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    code = _CODES.get(exc.status_code, getattr(exc, "default_code", "error"))
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list):
            detail = {"non_field_errors": detail}
        body = error_body("validation_error", _("The input is not valid."), _flatten(detail))
    elif isinstance(exc, exceptions.ParseError):
        body = error_body("validation_error", exc.detail, {"non_field_errors": [str(exc.detail)]})
    else:
        detail = exc.detail
        if isinstance(detail, dict | list):
            detail = _("The request could not be completed.")
        body = error_body(code, detail)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)
