"""Writing the audit trail. Actions call `audit_record`; nothing else writes AuditEntry rows."""

import datetime
import decimal
import uuid

from django.db import models

from core.context import client_ip_var, request_id_var
from core.models import AuditEntry


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict:
    """Field values as JSON-safe data, for the before/after columns (foreign keys by id)."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = field.attname if field.concrete else name
        out[name] = _plain(getattr(obj, attname))
    return out


def audit_record(*, actor, obj: models.Model, action: str, before=None, after=None, data=None) -> AuditEntry:
    """Append one audit entry; request id and client address come from the request context."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
        data=data,
        request_id=request_id_var.get(),
        ip=client_ip_var.get(),
    )


def audit_record_many(*, actor, objs, action: str, data=None) -> list[AuditEntry]:
    """One entry per object in a single INSERT, e.g. for each record of a list page viewed unmasked."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    request_id, ip = request_id_var.get(), client_ip_var.get()
    entries = [
        AuditEntry(
            actor=user,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            data=data,
            request_id=request_id,
            ip=ip,
        )
        for obj in objs
    ]
    return AuditEntry.objects.bulk_create(entries, batch_size=500)
