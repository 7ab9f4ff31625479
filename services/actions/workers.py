"""Writes to worker records: create, update, reveal, merge. One person is one worker."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.api.integrity import unique_violations_as_field_errors
from core.audit import audit_record, snapshot
from core.exceptions import Conflict
from members import crypto
from members.validators import validate_citizen_id, validate_phone
from services.models import Case, HardshipAid, StationVisit, Wish, Worker
from services.permissions import require_services_scope

#: Plain fields a worker update may set (phone, citizen_id and platforms are handled apart).
WORKER_FIELDS = ("name", "occupation", "area", "member")
_AUDIT_FIELDS = ("name", "phone_masked", "citizen_id_masked", "occupation", "area", "member", "branch")


def worker_find(*, phone: str = "", citizen_id: str = "") -> Worker | None:
    """The live worker with this phone number or ID number (exact, by keyed hash), if any. Not scoped:
    the intake and duplicate checks must find the person wherever they were first served."""
    if phone:
        found = Worker.objects.filter(phone_hash=crypto.lookup_hash(phone)).first()
        if found:
            return found
    if citizen_id:
        return Worker.objects.filter(citizen_id_hash=crypto.lookup_hash(citizen_id)).first()
    return None


def _set_identity(worker: Worker, *, phone: str | None, citizen_id: str | None) -> None:
    errors = {}
    if phone is not None:
        try:
            worker.phone = validate_phone(phone) if phone else ""
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if citizen_id is not None:
        try:
            worker.citizen_id = validate_citizen_id(citizen_id) if citizen_id else ""
        except ValidationError as exc:
            errors["citizen_id"] = exc.messages
    if errors:
        raise ValidationError(errors)


def _save_checked(worker: Worker) -> None:
    """full_clean and save, with uniqueness errors named after the input fields (phone, citizen_id)."""
    renamed = {"phone_hash": "phone", "citizen_id_hash": "citizen_id"}
    try:
        with unique_violations_as_field_errors(Worker):
            worker.full_clean()
            with transaction.atomic():
                worker.save()
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError({renamed.get(k, k): v for k, v in exc.error_dict.items()}) from exc


@transaction.atomic
def worker_create(
    *,
    actor,
    branch,
    name: str = "",
    phone: str = "",
    citizen_id: str = "",
    platforms=(),
    occupation: str = "",
    area: str = "",
    member=None,
    external_ref: str | None = None,
) -> Worker:
    """A new worker; refused (400 on the field) when the phone or ID number already belongs to one."""
    require_services_scope(actor, branch)
    if not phone and not citizen_id:
        raise ValidationError({"phone": _("Give a phone number or an ID number, so the person can be found again.")})
    worker = Worker(branch=branch, name=name, occupation=occupation, area=area, member=member)
    worker.external_ref = external_ref
    _set_identity(worker, phone=phone, citizen_id=citizen_id)
    _save_checked(worker)
    worker.platforms.set(platforms)
    audit_record(actor=actor, obj=worker, action="services.worker.created", after=snapshot(worker, _AUDIT_FIELDS))
    return worker


@transaction.atomic
def worker_update(
    *,
    actor,
    worker: Worker,
    branch=None,
    phone: str | None = None,
    citizen_id: str | None = None,
    platforms=None,
    **fields,
) -> Worker:
    """Change a worker's fields; only the given ones change. Moving to another branch needs scope at both."""
    require_services_scope(actor, worker.branch)
    unknown = set(fields) - set(WORKER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown worker fields: {sorted(unknown)}")
    before = snapshot(worker, _AUDIT_FIELDS)
    if branch is not None and branch.pk != worker.branch_id:
        require_services_scope(actor, branch)
        worker.branch = branch
    for name, value in fields.items():
        setattr(worker, name, value)
    _set_identity(worker, phone=phone, citizen_id=citizen_id)
    if not worker.phone_hash and not worker.citizen_id_hash:
        raise ValidationError({"phone": _("Give a phone number or an ID number, so the person can be found again.")})
    _save_checked(worker)
    if platforms is not None:
        worker.platforms.set(platforms)
    audit_record(
        actor=actor, obj=worker, action="services.worker.updated", before=before, after=snapshot(worker, _AUDIT_FIELDS)
    )
    return worker


@transaction.atomic
def worker_delete(*, actor, worker: Worker) -> Worker:
    """Soft-delete a record entered by mistake. A worker with cases is kept (409): merge duplicates instead,
    so that no case loses its person."""
    require_services_scope(actor, worker.branch)
    worker = Worker.objects.select_for_update().get(pk=worker.pk)
    if Case.objects.filter(worker=worker).exists():
        raise Conflict(_("This worker has cases and cannot be deleted; merge duplicate records instead."))
    worker.soft_delete()
    audit_record(actor=actor, obj=worker, action="services.worker.deleted")
    return worker


def worker_reveal(*, actor, worker: Worker) -> dict:
    """The full phone and ID number for a role that may see them; the view is audited."""
    require_services_scope(actor, worker.branch)
    audit_record(actor=actor, obj=worker, action="services.worker.revealed")
    return {"phone": worker.phone, "citizen_id": worker.citizen_id}


@transaction.atomic
def worker_merge(*, actor, keep: Worker, drop: Worker) -> Worker:
    """Merge two records of one person: every case, visit, wish and aid of `drop` moves to `keep`, which
    also takes the details it lacks (ID number, name, member link, platforms); `drop` is soft-deleted."""
    if keep.pk == drop.pk:
        raise ValidationError({"drop": _("Choose two different workers.")})
    require_services_scope(actor, keep.branch)
    require_services_scope(actor, drop.branch)
    keep = Worker.objects.select_for_update().get(pk=keep.pk)
    drop = Worker.objects.select_for_update().get(pk=drop.pk)
    moved = []
    for case in Case.objects.filter(worker=drop):
        case.worker = keep
        case.save(update_fields=["worker"])  # a new version and change record for every moved case
        moved.append(str(case.pk))
    StationVisit.objects.filter(worker=drop).update(worker=keep)
    Wish.objects.filter(worker=drop).update(worker=keep)
    HardshipAid.objects.filter(worker=drop).update(worker=keep)
    platforms = list(drop.platforms.all())
    takes = {}
    if not keep.citizen_id_hash and drop.citizen_id_hash:
        takes["citizen_id"] = drop.citizen_id
    if not keep.phone_hash and drop.phone_hash:
        takes["phone"] = drop.phone
    for field in ("name", "occupation", "area"):
        if not getattr(keep, field) and getattr(drop, field):
            setattr(keep, field, getattr(drop, field))
    if keep.member_id is None and drop.member_id is not None:
        keep.member_id = drop.member_id
    drop.soft_delete()  # first, so that its phone and ID number are free for `keep`
    for name, value in takes.items():
        setattr(keep, name, value)
    keep.save()
    keep.platforms.add(*platforms)
    audit_record(
        actor=actor, obj=keep, action="services.worker.merged", data={"dropped": str(drop.pk), "cases": moved}
    )
    audit_record(actor=actor, obj=drop, action="services.worker.merged_away", data={"into": str(keep.pk)})
    return keep


def worker_get_or_create_for_intake(*, branch, phone: str, name: str = "") -> Worker:
    """The worker with this (validated) phone number, created in `branch` when new; the public intake's
    way in, so the same person asking twice is one worker. Safe against two submissions at once."""
    found = worker_find(phone=phone)
    if found:
        if name and not found.name:
            found.name = name
            found.save(update_fields=["name"])
        return found
    worker = Worker(branch=branch, name=name)
    worker.phone = phone
    try:
        with transaction.atomic():
            worker.save()
    except IntegrityError:
        return worker_find(phone=phone)
    audit_record(actor=None, obj=worker, action="services.worker.created", data={"via": "intake"})
    return worker
