"""`Idempotency-Key` on POST, PATCH and DELETE (API.md): a repeat within 24 hours gets the first response.

The first request claims the key by inserting an IdempotencyRecord (unique per caller and key) in
its own short transaction, before any work; its response is stored when it ends. A repeat with the
same fingerprint (method, path, body hash) is answered from the record without running the view, so it
changes nothing; with another fingerprint it is 422 `idempotency_key_reused`. A duplicate that arrives
while the first is still running gets 409 `conflict` and may retry (nothing waits on a lock). Server
errors (5xx) release the key, so a retry runs again.
"""

import datetime
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

IDEMPOTENT_METHODS = ("POST", "PATCH", "DELETE")
#: a claim older than this whose request never finished (a crashed worker) may be taken over
STALE_CLAIM = datetime.timedelta(minutes=5)
#: headers replayed with a stored response
REPLAYED_HEADERS = ("ETag", "Location", "Content-Type")


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = _("This Idempotency-Key was used for a different request.")


class IdempotencyInProgress(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = _("A request with this Idempotency-Key is still running; retry in a moment.")


class _Replay(Exception):
    def __init__(self, record):
        self.record = record


def fingerprint(request) -> str:
    """Method, full path and body hash of a Django request (its body was read before parsing)."""
    body = request.body
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    digest.update(hashlib.sha256(body).digest())
    return digest.hexdigest()


def idempotency_window() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.SYNC_IDEMPOTENCY_HOURS)


class IdempotencyMixin:
    """For API views: honours `Idempotency-Key` on POST, PATCH and DELETE from authenticated callers."""

    _idempotency_record = None

    def initialize_request(self, request, *args, **kwargs):
        # Read the raw body now, before the parsers consume the stream, so the fingerprint can hash it.
        if request.method in IDEMPOTENT_METHODS and request.headers.get("Idempotency-Key"):
            request.body  # noqa: B018
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get("Idempotency-Key")
        if request.method not in IDEMPOTENT_METHODS or not key or not request.user.is_authenticated:
            return
        if len(key) > 200:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"Idempotency-Key": [_("At most 200 characters.")]})
        self._idempotency_record = self._claim(request, key[:200])

    def _claim(self, request, key):
        from core.models import IdempotencyRecord

        print_ = fingerprint(request._request)
        now = timezone.now()
        for _attempt in range(2):
            record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if record is not None and record.created_at < now - idempotency_window():
                record.delete()
                record = None
            if record is not None and record.status is None and record.created_at < now - STALE_CLAIM:
                record.delete()
                record = None
            if record is not None:
                if record.fingerprint != print_:
                    raise IdempotencyKeyReused
                if record.status is None:
                    raise IdempotencyInProgress
                raise _Replay(record)
            try:
                with transaction.atomic():
                    return IdempotencyRecord.objects.create(user=request.user, key=key, fingerprint=print_)
            except IntegrityError:
                continue  # a concurrent duplicate claimed it first: read its record
        raise IdempotencyInProgress

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            response = Response(record.body, status=record.status)
            for name, value in (record.headers or {}).items():
                if name != "Content-Type":
                    response[name] = value
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            return super().handle_exception(exc)
        except BaseException:
            # An unexpected error (a 500): release the key so that a retry runs again.
            record, self._idempotency_record = self._idempotency_record, None
            if record is not None:
                record.delete()
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is None:
            return response
        if response.status_code >= 500:
            record.delete()
            return response
        record.status = response.status_code
        record.body = getattr(response, "data", None)
        if record.body is not None:
            record.body = json.loads(json.dumps(record.body, cls=JSONEncoder))
        record.headers = {h: response[h] for h in REPLAYED_HEADERS if response.has_header(h)}
        record.save(update_fields=["status", "body", "headers"])
        return response
