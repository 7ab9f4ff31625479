"""Writes to service stations (visits, wishes) and hardship aid records."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record, snapshot
from core.exceptions import Conflict
from services.choices import AidStatus, WishStatus
from services.models import HardshipAid, Station, StationVisit, Wish
from services.permissions import may_approve_aid, require_services_scope

STATION_FIELDS = (
    "name",
    "address",
    "latitude",
    "longitude",
    "hours",
    "amenities",
    "contact_name",
    "contact_phone",
    "is_active",
)


@transaction.atomic
def station_create(*, actor, branch, external_ref: str | None = None, **fields) -> Station:
    """A new station run by `branch`."""
    require_services_scope(actor, branch)
    station = Station(branch=branch, **fields)
    station.external_ref = external_ref
    station.full_clean()
    station.save()
    audit_record(actor=actor, obj=station, action="services.station.created", after=snapshot(station, STATION_FIELDS))
    return station


@transaction.atomic
def station_update(*, actor, station: Station, branch=None, **fields) -> Station:
    """Change a station; moving it to another branch needs scope at both."""
    require_services_scope(actor, station.branch)
    before = snapshot(station, [*STATION_FIELDS, "branch"])
    if branch is not None and branch.pk != station.branch_id:
        require_services_scope(actor, branch)
        station.branch = branch
    for name, value in fields.items():
        if name not in STATION_FIELDS:
            raise TypeError(f"Unknown station field: {name}")
        setattr(station, name, value)
    station.full_clean()
    station.save()
    audit_record(
        actor=actor,
        obj=station,
        action="services.station.updated",
        before=before,
        after=snapshot(station, [*STATION_FIELDS, "branch"]),
    )
    return station


@transaction.atomic
def station_delete(*, actor, station: Station) -> Station:
    """Soft-delete a station entered by mistake; a station that closes is set `is_active=False` instead.
    Its cases keep their history (the station no longer shows in lists)."""
    require_services_scope(actor, station.branch)
    station.soft_delete()
    audit_record(actor=actor, obj=station, action="services.station.deleted")
    return station


@transaction.atomic
def station_visit_record(*, actor, station: Station, worker=None, purpose: str = "") -> StationVisit:
    require_services_scope(actor, station.branch)
    return StationVisit.objects.create(
        station=station, worker=worker, purpose=purpose, recorded_by=actor if actor else None
    )


@transaction.atomic
def wish_post(*, actor, station: Station, title: str, description: str = "", worker=None) -> Wish:
    require_services_scope(actor, station.branch)
    wish = Wish(station=station, title=title, description=description, worker=worker)
    wish.full_clean()
    wish.save()
    audit_record(actor=actor, obj=wish, action="services.wish.posted")
    return wish


@transaction.atomic
def wish_claim(*, actor, wish: Wish, claimed_by: str) -> Wish:
    """A helper takes the wish on (posted → claimed)."""
    require_services_scope(actor, wish.station.branch)
    if not claimed_by.strip():
        raise ValidationError({"claimed_by": _("Say who fulfils the wish.")})
    if not Wish.objects.filter(pk=wish.pk, status=WishStatus.POSTED).update(
        status=WishStatus.CLAIMED, claimed_by=claimed_by.strip()[:100], claimed_at=timezone.now()
    ):
        raise Conflict(_("Only a posted wish can be claimed."))
    wish.refresh_from_db()
    audit_record(actor=actor, obj=wish, action="services.wish.claimed", data={"by": wish.claimed_by})
    return wish


@transaction.atomic
def wish_fulfil(*, actor, wish: Wish) -> Wish:
    require_services_scope(actor, wish.station.branch)
    if not Wish.objects.filter(pk=wish.pk, status=WishStatus.CLAIMED).update(
        status=WishStatus.FULFILLED, fulfilled_at=timezone.now()
    ):
        raise Conflict(_("Only a claimed wish can be marked fulfilled."))
    wish.refresh_from_db()
    audit_record(actor=actor, obj=wish, action="services.wish.fulfilled")
    return wish


#
# Hardship aid
#
@transaction.atomic
def aid_create(
    *, actor, branch, kind: str, amount, granted_on, worker=None, member=None, reason: str = ""
) -> HardshipAid:
    """Propose aid for a worker or a member; it counts once an officer approves it."""
    require_services_scope(actor, branch)
    aid = HardshipAid(
        branch=branch,
        worker=worker,
        member=member,
        kind=kind,
        amount=amount,
        granted_on=granted_on,
        reason=reason,
        created_by=actor if actor else None,
    )
    aid.full_clean()
    aid.save()
    audit_record(
        actor=actor,
        obj=aid,
        action="services.aid.created",
        after=snapshot(aid, ["kind", "amount", "worker", "member"]),
    )
    return aid


@transaction.atomic
def aid_decide(*, actor, aid: HardshipAid, approve: bool) -> HardshipAid:
    """An officer (or admin) of the branch approves or rejects pending aid; the proposer cannot approve it."""
    require_services_scope(actor, aid.branch, perm="services.view")
    if not may_approve_aid(actor, aid.branch):
        raise PermissionDenied(_("Only an officer of this organisation may approve hardship aid."))
    if aid.created_by_id is not None and aid.created_by_id == actor.pk:
        raise PermissionDenied(_("Aid is approved by someone other than who proposed it."))
    status = AidStatus.APPROVED if approve else AidStatus.REJECTED
    if not HardshipAid.objects.filter(pk=aid.pk, status=AidStatus.PENDING).update(
        status=status, approved_by=actor, decided_at=timezone.now()
    ):
        raise Conflict(_("This aid has already been decided."))
    aid.refresh_from_db()
    audit_record(actor=actor, obj=aid, action=f"services.aid.{status}")
    return aid
