"""Optimistic concurrency for single records (API.md): `ETag: W/"<version>"` out, `If-Match` in.

A write that names an old version is refused with 412 `precondition_failed`; the body carries the
current record under `current` so the client can merge without another request. The version check
runs under a row lock in the same transaction as the write, so two writers based on the same version
cannot both pass it. Token clients must send If-Match (428 `precondition_required` otherwise); browser
sessions may omit it. Upserts by the client's reference (core/api/upsert.py) are exempt: they say
"make the record look like this", and may send If-Match when they want the check.
"""

import contextlib
import re

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

_ENTITY_TAG = re.compile(r'^(?:W/)?"([^"]*)"$')


def etag_for(obj) -> str:
    """The weak entity tag of a synced record: its version."""
    return f'W/"{obj.version}"'


def if_match_allows(header: str, version: int) -> bool:
    """Whether an If-Match header value admits `version`.

    `*` admits any existing record; otherwise one of the comma-separated tags must name the version.
    Weak and strong forms are both accepted (W/"3" and "3"); anything malformed matches nothing.
    """
    header = header.strip()
    if header == "*":
        return True
    for tag in header.split(","):
        match = _ENTITY_TAG.match(tag.strip())
        if match and match.group(1) == str(version):
            return True
    return False


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = _("The record was changed since you read it. Apply your change to the current version.")

    def __init__(self, *, current: dict, etag: str):
        super().__init__()
        self.current = current
        self.etag = etag


class PreconditionRequired(APIException):
    status_code = 428
    default_code = "precondition_required"
    default_detail = _("Send If-Match with the ETag of the version your change is based on.")


class VersionedRecordMixin:
    """For viewsets over SyncedModel records: ETag on single-record responses, If-Match on writes.

    Write methods do::

        with self.write_target() as obj:   # scoped (404), locked, If-Match checked (412)
            obj = some_action(actor=request.user, obj=obj, ...)
        return self.record_response(self.fresh(obj.pk))
    """

    def record_response(self, obj, *, status_code: int = status.HTTP_200_OK, headers=None) -> Response:
        """One record in the output representation, with its ETag."""
        response = Response(self.get_serializer(obj).data, status=status_code, headers=headers)
        response["ETag"] = etag_for(obj)
        return response

    def retrieve(self, request, *args, **kwargs):
        return self.record_response(self.get_object())

    @contextlib.contextmanager
    def write_target(self):
        """The record of the URL, in scope (else 404), locked for the rest of the transaction, If-Match checked.

        Everything inside the `with` block runs in that one transaction.
        """
        with transaction.atomic():
            obj = self.get_object()
            rows = type(obj)._default_manager.select_for_update().filter(pk=obj.pk)
            locked = list(rows.values_list("version", flat=True))
            if not locked:  # deleted between the read and the lock
                raise Http404
            if locked[0] != obj.version:  # changed in between: read it again, now that it is locked
                obj = self.get_object()
            header = None if getattr(self, "upserting", "") == "bulk" else self.request.headers.get("If-Match")
            if header is None and self.request.method != "POST" and not getattr(self, "upserting", False):
                from core.api.authentication import api_client_of

                if api_client_of(self.request) is not None:
                    raise PreconditionRequired
            if header is not None and not if_match_allows(header, obj.version):
                raise PreconditionFailed(current=self.get_serializer(obj).data, etag=etag_for(obj))
            yield obj

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, PreconditionFailed) and response is not None:
            response.data["current"] = exc.current
            response["ETag"] = exc.etag
        return response
