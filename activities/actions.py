"""Writes of the activities app: activities and series, invitations, attachments, attendance and leave.

Each action checks scope (activities.change at the host branch, or the member's own account for
self-service), validates, audits, and is atomic. Members never import this app: nothing here is
called from members/.
"""

import datetime
import uuid
import zoneinfo
from itertools import islice

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule as RRule  # noqa: N812
from dateutil.rrule import rrulestr
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.choices import (
    ActivityMode,
    ActivityStatus,
    AttendanceMethod,
    CheckInRefusal,
    LeaveStatus,
    SeriesScope,
)
from activities.models import (
    Activity,
    ActivityAttachment,
    ActivityInvite,
    ActivitySeries,
    Attendance,
    LeaveRequest,
)
from activities.selectors import activity_is_invited, member_of_user
from branches.models import Branch
from branches.permissions import in_scope
from core.audit import audit_record, snapshot
from core.exceptions import Conflict
from core.uploads import validate_upload
from members.actions import member_contact_touch
from members.models import Member

#: Fields of an activity a person sets (the same names in the model, forms and API).
ACTIVITY_FIELDS = [
    "kind",
    "title",
    "agenda",
    "mode",
    "venue",
    "online_link",
    "starts_at",
    "ends_at",
    "capacity",
    "credited_hours",
    "reminder_offsets",
    "organiser",
    "minutes",
    "external_ref",
]
#: Fields an occurrence takes from its series' template.
TEMPLATE_FIELDS = [
    "kind",
    "title",
    "agenda",
    "mode",
    "venue",
    "online_link",
    "capacity",
    "credited_hours",
    "reminder_offsets",
]
_ZERO = datetime.timedelta(0)
_AUDIT_FIELDS = [name for name in ACTIVITY_FIELDS if name != "minutes"] + ["status", "branch"]


class CheckInRefused(ValidationError):
    """A check-in that must not be recorded; `code` is one of CheckInRefusal (the API's error code)."""


def _refuse(code: str, message: str) -> CheckInRefused:
    return CheckInRefused(message, code=code)


def _require(actor, branch: Branch, perm: str = "activities.change", *, activity: Activity | None = None) -> None:
    """Refuse an actor without `perm` at the host `branch`; outside the view scope it is a 404, as for reads.

    Co-hosting branches see an activity but do not change it: their officers get a 403, not a 404.
    """
    if actor is None:  # system: tasks and commands
        return
    if in_scope(actor, perm, branch):
        return
    sees_it = in_scope(actor, "activities.view", branch) or (
        activity is not None and any(in_scope(actor, "activities.view", b) for b in activity.co_hosts.all())
    )
    if not sees_it:
        raise Http404
    raise PermissionDenied(_("You may not change activities of this organisation."))


def _apply(obj, data: dict, allowed: list[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(obj, name, value)


def _set_co_hosts(actor, activity, co_hosts) -> None:
    if co_hosts is None:
        return
    co_hosts = [b for b in co_hosts if b.pk != activity.branch_id]
    for branch in co_hosts:
        if branch.deleted_at is not None:
            raise ValidationError({"co_hosts": _("A dissolved organisation cannot co-host.")})
        if actor is not None and not in_scope(actor, "activities.view", branch):
            raise ValidationError({"co_hosts": _("A co-hosting organisation must be in your scope.")})
    activity.co_hosts.set(co_hosts)


#
# Activities
#
@transaction.atomic
def activity_create(*, actor, branch: Branch, co_hosts=None, **data) -> Activity:
    """Schedule one activity hosted by `branch`; the actor becomes the organiser unless one is given."""
    _require(actor, branch)
    if branch.deleted_at is not None:
        raise ValidationError({"branch": _("This organisation has been dissolved.")})
    activity = Activity(branch=branch)
    data.setdefault("organiser", actor if getattr(actor, "is_authenticated", False) else None)
    _apply(activity, data, ACTIVITY_FIELDS)
    activity.full_clean(exclude=["co_hosts"])
    activity.save()
    _set_co_hosts(actor, activity, co_hosts)
    audit_record(
        actor=actor, obj=activity, action="activities.activity.created", after=snapshot(activity, _AUDIT_FIELDS)
    )
    return activity


@transaction.atomic
def activity_update(*, actor, activity: Activity, scope: str = SeriesScope.THIS, co_hosts=None, **data) -> Activity:
    """Change an activity, or with `scope` this and the following / all planned occurrences of its series.

    A changed start moves each chosen occurrence by the same amount and gives it the new length.
    "This and following" splits the series in two at this occurrence; "all" also changes the series'
    template, so occurrences created later follow. A cancelled activity cannot be changed.
    """
    _require(actor, activity.branch, activity=activity)
    activity = Activity.objects.select_for_update(of=("self",)).select_related("branch", "series").get(pk=activity.pk)
    if activity.status == ActivityStatus.CANCELLED:
        raise Conflict(_("A cancelled activity cannot be changed."))
    if scope != SeriesScope.THIS and activity.series is None:
        raise ValidationError({"scope": _("This activity is not part of a series.")})
    if activity.status == ActivityStatus.HELD and ({"starts_at", "ends_at"} & set(data)):
        new_times = (data.get("starts_at", activity.starts_at), data.get("ends_at", activity.ends_at))
        if new_times != (activity.starts_at, activity.ends_at):
            raise Conflict(_("An activity already held cannot be moved."))
    before = snapshot(activity, _AUDIT_FIELDS)
    old_start = activity.starts_at
    _apply(activity, data, ACTIVITY_FIELDS)
    activity.full_clean(exclude=["co_hosts"])
    delta = activity.starts_at - old_start
    duration = activity.ends_at - activity.starts_at
    activity.save()
    _set_co_hosts(actor, activity, co_hosts)
    after = snapshot(activity, _AUDIT_FIELDS)
    changed = {k for k in after if after[k] != before[k]}
    audit_record(
        actor=actor,
        obj=activity,
        action="activities.activity.updated",
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
        data={"scope": str(scope)},
    )
    if scope == SeriesScope.THIS:
        return activity

    shared = {k: v for k, v in data.items() if k in TEMPLATE_FIELDS}
    series = ActivitySeries.objects.select_for_update().get(pk=activity.series_id)
    rows = series.occurrences.filter(status=ActivityStatus.PLANNED).exclude(pk=activity.pk)
    if scope == SeriesScope.FOLLOWING:
        rows = rows.filter(series_occurrence__gt=activity.series_occurrence)
        target = _series_split(series=series, at=activity, delta=delta, duration=duration, template=shared)
    else:
        target = series
        _apply(series, shared, TEMPLATE_FIELDS)
        _series_move(series, delta=delta, duration=duration)
        series.full_clean(exclude=["co_hosts"])
        series.save()
    if co_hosts is not None:
        target.co_hosts.set(activity.co_hosts.all())
    # Move keys in the direction of travel, so no row takes a key another still holds.
    ordered = sorted([activity, *rows.select_for_update()], key=lambda a: a.series_occurrence, reverse=delta > _ZERO)
    for row in ordered:
        if row is not activity:
            _apply(row, shared, TEMPLATE_FIELDS)
            row.starts_at = row.starts_at + delta
            row.ends_at = row.starts_at + duration
        row.series = target
        row.series_occurrence = row.series_occurrence + delta
        row.full_clean(exclude=["co_hosts", "series"], validate_constraints=False)
        row.save()
        if co_hosts is not None and row is not activity:
            row.co_hosts.set(activity.co_hosts.all())
    series_extend(series=target)
    return activity


@transaction.atomic
def activity_cancel(*, actor, activity: Activity, reason: str = "") -> Activity:
    """Call off a planned activity; refused (409) when it is already cancelled or held."""
    _require(actor, activity.branch, activity=activity)
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.status != ActivityStatus.PLANNED:
        raise Conflict(_("Only a planned activity can be cancelled."))
    activity.status = ActivityStatus.CANCELLED
    activity.cancel_reason = reason.strip()[:300]
    activity.save(update_fields=["status", "cancel_reason"])
    audit_record(actor=actor, obj=activity, action="activities.activity.cancelled", data={"reason": reason})
    return activity


@transaction.atomic
def activity_mark_held(*, actor, activity: Activity, minutes: str | None = None) -> Activity:
    """Record that a planned activity took place (after its start), optionally with its minutes."""
    _require(actor, activity.branch, activity=activity)
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.status != ActivityStatus.PLANNED:
        raise Conflict(_("Only a planned activity can be marked as held."))
    if activity.starts_at > timezone.now():
        raise ValidationError(_("An activity can be marked as held once it has started."))
    activity.status = ActivityStatus.HELD
    fields = ["status"]
    if minutes is not None:
        activity.minutes = minutes
        fields.append("minutes")
    activity.save(update_fields=fields)
    audit_record(actor=actor, obj=activity, action="activities.activity.held")
    return activity


@transaction.atomic
def activity_delete(*, actor, activity: Activity) -> Activity:
    """Remove an activity entered by mistake (soft delete); refused once anyone attended it."""
    _require(actor, activity.branch, activity=activity)
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.attendances.exists():
        raise Conflict(_("An activity with attendance records cannot be deleted; cancel it instead."))
    activity.soft_delete()
    audit_record(actor=actor, obj=activity, action="activities.activity.deleted")
    return activity


@transaction.atomic
def activity_invite(*, actor, activity: Activity, member: Member) -> ActivityInvite:
    """Invite a person by name (beyond the host branches' members and affiliates); idempotent."""
    _require(actor, activity.branch, activity=activity)
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.status == ActivityStatus.CANCELLED:
        raise Conflict(_("Nobody can be invited to a cancelled activity."))
    if member.deleted_at is not None:
        raise ValidationError({"member": _("This member record has been deleted.")})
    invite, created = ActivityInvite.objects.get_or_create(
        activity=activity, member=member, defaults={"invited_by": actor if actor else None}
    )
    if created:
        activity.save(update_fields=[])  # invitees are part of what a client syncs
        audit_record(actor=actor, obj=activity, action="activities.invite.added", data={"member": str(member.pk)})
    return invite


@transaction.atomic
def activity_uninvite(*, actor, activity: Activity, member: Member) -> Activity:
    """Withdraw a named invitation; idempotent. Members invited through their branch stay invited, and an
    attendance already recorded stays (remove it separately if it was a mistake)."""
    _require(actor, activity.branch, activity=activity)
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    deleted, _rows = ActivityInvite.objects.filter(activity=activity, member=member).delete()
    if deleted:
        activity.save(update_fields=[])  # a new version, so sync clients see the shorter list
        audit_record(actor=actor, obj=activity, action="activities.invite.removed", data={"member": str(member.pk)})
    return activity


@transaction.atomic
def attachment_add(*, actor, activity: Activity, upload) -> ActivityAttachment:
    """Attach a file to an activity: size limited, type recognised by content (core/uploads.py)."""
    _require(actor, activity.branch, activity=activity)
    name, detected = validate_upload(
        upload, allowed_types=settings.ACTIVITIES_ATTACHMENT_TYPES, max_bytes=settings.ACTIVITIES_ATTACHMENT_MAX_BYTES
    )
    attachment = ActivityAttachment(
        activity=activity,
        file=upload,
        name=name,
        size=upload.size,
        content_type=detected,
        uploaded_by=actor,
    )
    attachment.save()
    audit_record(
        actor=actor, obj=activity, action="activities.attachment.added", data={"attachment": str(attachment.pk)}
    )
    return attachment


#
# Series
#
def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError({"time_zone": _("Unknown time zone.")}) from exc


def _series_start(series: ActivitySeries) -> datetime.datetime:
    return datetime.datetime.combine(series.starts_on, series.start_time, tzinfo=_zone(series.time_zone))


def _rule_text(text: str) -> str:
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    return text


def parse_rrule(text: str, *, dtstart: datetime.datetime) -> RRule:
    """An RFC 5545 RRULE (with or without the "RRULE:" prefix) from an aware first start.

    Refused with a ValidationError on `rrule`: malformed, several lines, never ending (no COUNT or
    UNTIL), ending more than ACTIVITIES_SERIES_MAX_YEARS after the start, or giving no date at all.
    """
    body = _rule_text(text)
    if not body or "\n" in body or ":" in body:
        raise ValidationError({"rrule": _("Enter one recurrence rule, e.g. FREQ=WEEKLY;BYDAY=WE;COUNT=10.")})
    try:
        try:
            rule = rrulestr(body, dtstart=dtstart)
        except ValueError as exc:
            if "UNTIL" not in str(exc):
                raise
            # A floating UNTIL (no "Z"): read it in the series' zone.
            floating = rrulestr(body, dtstart=dtstart.replace(tzinfo=None))
            rule = floating.replace(dtstart=dtstart, until=floating._until.replace(tzinfo=dtstart.tzinfo))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValidationError({"rrule": _("The recurrence rule is not valid: %(error)s") % {"error": exc}}) from exc
    if not isinstance(rule, RRule):
        raise ValidationError({"rrule": _("Enter one recurrence rule, e.g. FREQ=WEEKLY;BYDAY=WE;COUNT=10.")})
    if rule._count is None and rule._until is None:
        raise ValidationError({"rrule": _("The series must end: give COUNT or UNTIL in the rule.")})
    limit = dtstart + relativedelta(years=settings.ACTIVITIES_SERIES_MAX_YEARS)
    if rule._until is not None and rule._until > limit:
        raise ValidationError(
            {
                "rrule": _("A series may last at most %(years)d years.")
                % {"years": settings.ACTIVITIES_SERIES_MAX_YEARS}
            }
        )
    dates = list(islice(rule, 0, 1000))
    if not dates:
        raise ValidationError({"rrule": _("This rule gives no date at all.")})
    if rule._count is not None and (rule._count > len(dates) or dates[-1] > limit):
        raise ValidationError(
            {
                "rrule": _("A series may last at most %(years)d years.")
                % {"years": settings.ACTIVITIES_SERIES_MAX_YEARS}
            }
        )
    return rule


def _series_rule(series: ActivitySeries) -> RRule:
    return parse_rrule(series.rrule, dtstart=_series_start(series))


def _occurrences(series: ActivitySeries, start: datetime.datetime, end: datetime.datetime) -> list:
    """Starts of the series in [start, end), in its zone, without the skipped dates."""
    skipped = set(series.exdates or [])
    return [
        t
        for t in _series_rule(series).between(start, end, inc=True)
        if t < end and t.date().isoformat() not in skipped
    ]


@transaction.atomic
def series_create(
    *,
    actor,
    branch: Branch,
    rrule: str,
    starts_on: datetime.date,
    start_time: datetime.time,
    duration_minutes: int,
    time_zone: str = "",
    co_hosts=None,
    **template,
) -> ActivitySeries:
    """Create a recurring activity and its occurrences up to the horizon (the beat task extends them)."""
    _require(actor, branch)
    series = ActivitySeries(
        branch=branch,
        rrule=_rule_text(rrule),
        time_zone=time_zone or settings.TIME_ZONE,
        starts_on=starts_on,
        start_time=start_time,
        duration_minutes=duration_minutes,
        organiser=template.pop("organiser", None) or (actor if getattr(actor, "is_authenticated", False) else None),
    )
    _apply(series, template, TEMPLATE_FIELDS)
    _zone(series.time_zone)
    series.full_clean(exclude=["co_hosts"])
    parse_rrule(series.rrule, dtstart=_series_start(series))
    series.save()
    if co_hosts:
        series.co_hosts.set([b for b in co_hosts if b.pk != branch.pk])
    audit_record(actor=actor, obj=series, action="activities.series.created", data={"rrule": series.rrule})
    series_extend(series=series)
    return series


@transaction.atomic
def series_extend(*, series: ActivitySeries, now: datetime.datetime | None = None) -> list[Activity]:
    """Create the series' missing occurrences up to now + ACTIVITIES_SERIES_HORIZON_DAYS; safe to repeat."""
    series = ActivitySeries.objects.select_for_update().get(pk=series.pk)
    now = now or timezone.now()
    end = now + datetime.timedelta(days=settings.ACTIVITIES_SERIES_HORIZON_DAYS)
    start = series.generated_until or _series_start(series)
    if start >= end:
        return []
    existing = set(
        Activity.all_objects.filter(series=series, series_occurrence__gte=start).values_list(
            "series_occurrence", flat=True
        )
    )
    co_hosts = list(series.co_hosts.all())
    duration = datetime.timedelta(minutes=series.duration_minutes)
    created = []
    for occurrence in _occurrences(series, start, end):
        if occurrence in existing:
            continue
        activity = Activity(
            branch_id=series.branch_id,
            organiser_id=series.organiser_id,
            series=series,
            series_occurrence=occurrence,
            starts_at=occurrence,
            ends_at=occurrence + duration,
            **{name: getattr(series, name) for name in TEMPLATE_FIELDS},
        )
        activity.full_clean(exclude=["co_hosts", "series"])
        activity.save()
        if co_hosts:
            activity.co_hosts.set(co_hosts)
        created.append(activity)
    series.generated_until = end
    series.save(update_fields=["generated_until"])
    return created


def _series_move(series: ActivitySeries, *, delta: datetime.timedelta, duration: datetime.timedelta) -> None:
    start = _series_start(series) + delta
    series.starts_on, series.start_time = start.date(), start.timetz().replace(tzinfo=None)
    series.duration_minutes = max(1, int(duration.total_seconds() // 60))
    if series.generated_until:
        series.generated_until = series.generated_until + delta


def _rule_until(text: str, until: datetime.datetime) -> str:
    parts = [p for p in _rule_text(text).split(";") if p and not p.upper().startswith(("COUNT=", "UNTIL="))]
    return ";".join([*parts, f"UNTIL={until.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}"])


def _series_split(
    *, series: ActivitySeries, at: Activity, delta: datetime.timedelta, duration: datetime.timedelta, template: dict
) -> ActivitySeries:
    """End `series` just before the occurrence `at` and start a new series there (with `template` applied)."""
    rule = _series_rule(series)
    cut = at.series_occurrence
    before = len(rule.between(_series_start(series), cut, inc=True)) - (1 if cut in rule else 0)
    new_rule = series.rrule
    if rule._count is not None:
        parts = [p for p in _rule_text(series.rrule).split(";") if not p.upper().startswith("COUNT=")]
        new_rule = ";".join([*parts, f"COUNT={max(1, rule._count - before)}"])
    co_hosts = list(series.co_hosts.all())
    new = ActivitySeries(
        branch_id=series.branch_id,
        organiser_id=series.organiser_id,
        rrule=new_rule,
        time_zone=series.time_zone,
        starts_on=series.starts_on,
        start_time=series.start_time,
        duration_minutes=series.duration_minutes,
        exdates=[d for d in series.exdates if d >= cut.astimezone(_zone(series.time_zone)).date().isoformat()],
        generated_until=series.generated_until,
        **{name: getattr(series, name) for name in TEMPLATE_FIELDS},
    )
    local_cut = cut.astimezone(_zone(series.time_zone))
    new.starts_on, new.start_time = local_cut.date(), local_cut.timetz().replace(tzinfo=None)
    _apply(new, template, TEMPLATE_FIELDS)
    _series_move(new, delta=delta, duration=duration)
    new.full_clean(exclude=["co_hosts"])
    parse_rrule(new.rrule, dtstart=_series_start(new))
    new.save()
    new.co_hosts.set(co_hosts)
    series.rrule = _rule_until(series.rrule, cut - datetime.timedelta(seconds=1))
    series.generated_until = cut
    series.full_clean(exclude=["co_hosts"])
    series.save()
    audit_record(actor=None, obj=new, action="activities.series.split", data={"from": str(series.pk)})
    return new


@transaction.atomic
def activity_skip(*, actor, activity: Activity) -> ActivitySeries:
    """Skip one occurrence of a series: its date goes into the series' EXDATEs and the row is removed."""
    _require(actor, activity.branch, activity=activity)
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.series_id is None:
        raise ValidationError(_("This activity is not part of a series."))
    if activity.status != ActivityStatus.PLANNED:
        raise Conflict(_("Only a planned occurrence can be skipped."))
    if activity.attendances.exists():
        raise Conflict(_("Someone has already checked in; cancel the activity instead."))
    series = ActivitySeries.objects.select_for_update().get(pk=activity.series_id)
    day = activity.series_occurrence.astimezone(_zone(series.time_zone)).date().isoformat()
    if day not in series.exdates:
        series.exdates = sorted([*series.exdates, day])
        series.save(update_fields=["exdates"])
    activity.soft_delete()
    audit_record(actor=actor, obj=activity, action="activities.activity.skipped", data={"date": day})
    return series


#
# Attendance
#
def _signer(activity_pk) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"activities.check-in.{activity_pk}")


def check_in_token(*, activity: Activity) -> str:
    """A signed check-in token for the live page's QR code; valid ACTIVITIES_QR_TOKEN_MAX_AGE seconds."""
    return _signer(activity.pk).sign(activity.pk.hex)


def check_in_token_activity_id(token: str) -> uuid.UUID | None:
    """The activity a token claims to be for (not yet verified)."""
    try:
        return uuid.UUID(hex=token.split(":", 1)[0])
    except ValueError:
        return None


def check_in_token_verify(*, activity: Activity, token: str, extra_age: float = 0) -> None:
    """Refuse a token that is expired or was not made for `activity` (the signature is salted by activity).

    `extra_age` (seconds, capped by ACTIVITIES_QR_LOGIN_GRACE) is the time a member spent logging in
    after the token was first seen valid, so a login does not make the scan useless.
    """
    extra = max(0.0, min(float(extra_age), float(settings.ACTIVITIES_QR_LOGIN_GRACE)))
    try:
        value = _signer(activity.pk).unsign(token, max_age=settings.ACTIVITIES_QR_TOKEN_MAX_AGE + extra)
    except signing.SignatureExpired:
        raise _refuse(
            CheckInRefusal.INVALID_TOKEN, _("This QR code has expired. Scan the code on the screen again.")
        ) from None
    except signing.BadSignature:
        raise _refuse(CheckInRefusal.INVALID_TOKEN, _("This QR code is not valid for this activity.")) from None
    if value != activity.pk.hex:
        raise _refuse(CheckInRefusal.INVALID_TOKEN, _("This QR code is not valid for this activity."))


def check_in_window(activity: Activity) -> tuple[datetime.datetime, datetime.datetime]:
    opens = activity.starts_at - datetime.timedelta(minutes=settings.ACTIVITIES_CHECK_IN_OPENS_MINUTES)
    return opens, activity.ends_at


def _fresh(activity: Activity) -> Activity:
    """The activity as stored now (status and times may have changed since the caller read it)."""
    return Activity.objects.select_related("branch").prefetch_related("co_hosts").get(pk=activity.pk)


def _check_in_rules(activity: Activity, member: Member, at: datetime.datetime, *, window: bool = True) -> None:
    if activity.status == ActivityStatus.CANCELLED:
        raise _refuse(CheckInRefusal.CANCELLED, _("This activity has been cancelled."))
    if not activity_is_invited(activity=activity, member=member):
        raise _refuse(
            CheckInRefusal.NOT_INVITED, _("%(name)s is not invited to this activity.") % {"name": member.name}
        )
    opens, closes = check_in_window(activity)
    if window and not (opens <= at <= closes):
        raise _refuse(
            CheckInRefusal.OUTSIDE_WINDOW,
            _("Check-in is open from %(opens)s to %(closes)s.")
            % {
                "opens": timezone.localtime(opens).strftime("%Y-%m-%d %H:%M"),
                "closes": timezone.localtime(closes).strftime("%Y-%m-%d %H:%M"),
            },
        )


def _already(member: Member) -> CheckInRefused:
    return _refuse(CheckInRefusal.ALREADY_CHECKED_IN, _("%(name)s is already checked in.") % {"name": member.name})


def _record(
    *,
    actor,
    activity: Activity,
    member: Member,
    method: str,
    at: datetime.datetime,
    nonce=None,
    duration_minutes: int | None = None,
    note: str = "",
) -> Attendance:
    if Attendance.objects.filter(activity=activity, member=member).exists():
        raise _already(member)
    attendance = Attendance(
        branch_id=activity.branch_id,
        activity=activity,
        member=member,
        method=method,
        checked_in_at=at,
        nonce=nonce,
        duration_minutes=duration_minutes,
        note=note,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    attendance.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            attendance.save()
    except IntegrityError:  # a second scan that raced the first one
        if nonce is not None and Attendance.objects.filter(activity=activity, nonce=nonce).exists():
            raise
        raise _already(member) from None
    member_contact_touch(member=member, on=timezone.localdate(at))  # attendance counts as contact (lost-contact rule)
    audit_record(
        actor=actor,
        obj=attendance,
        action="activities.attendance.recorded",
        data={"method": method, "member": str(member.pk), "activity": str(activity.pk)},
    )
    return attendance


@transaction.atomic
def attendance_check_in(
    *,
    actor,
    activity: Activity,
    member: Member,
    method: str = AttendanceMethod.QR,
    nonce=None,
    scanned_at: datetime.datetime | None = None,
    force: bool = False,
    duration_minutes: int | None = None,
    token: str | None = None,
    now: datetime.datetime | None = None,
) -> tuple[Attendance, bool]:
    """A check-in sent by a device or an organiser (API.md "Check-in from devices"): (attendance, created).

    The same `nonce` again returns the first attendance. `force` records an offline scan at its
    `scanned_at` (the window is checked against that time); otherwise the check-in happens now.
    Organisers (activities.change at the host) check in anyone; a member may check in only themselves
    (their account is the member's `user`), see `_self_check_in_rules`.
    """
    now = now or timezone.now()
    is_self = (
        actor is not None
        and member.user_id is not None
        and member.user_id == getattr(actor, "pk", None)
        and not in_scope(actor, "activities.change", activity.branch)
    )
    if not is_self:
        _require(actor, activity.branch, activity=activity)
    activity = _fresh(activity)
    if nonce is not None:
        existing = Attendance.objects.filter(activity=activity, nonce=nonce).first()
        if existing is not None:
            if existing.member_id != member.pk:
                raise ValidationError({"nonce": _("This nonce was already used for another member.")})
            return existing, False
    if is_self:
        _self_check_in_rules(activity, method=method, token=token, at=scanned_at if force else None, now=now)
    at = scanned_at if (force and scanned_at) else now
    _check_in_rules(activity, member, at)
    try:
        with transaction.atomic():
            attendance = _record(
                actor=actor,
                activity=activity,
                member=member,
                method=method,
                at=at,
                nonce=nonce,
                duration_minutes=duration_minutes,
            )
    except IntegrityError:  # the same nonce raced in from another request
        return Attendance.objects.get(activity=activity, nonce=nonce), False
    return attendance, True


def _self_check_in_rules(
    activity: Activity, *, method: str, token: str | None, at: datetime.datetime | None, now: datetime.datetime
) -> None:
    """What a member's own device must show: the live page's QR token for a "qr" check-in (valid when
    scanned: at `at` for an offline upload, else now), an online or hybrid activity for "online", and never
    "manual", which is the organiser's word that someone was there."""
    if method == AttendanceMethod.MANUAL:
        raise ValidationError({"method": _("Only an organiser marks attendance by hand.")})
    if method == AttendanceMethod.ONLINE:
        if activity.mode == ActivityMode.OFFLINE:
            raise ValidationError({"method": _("This activity meets in person only; scan the QR code there.")})
        return
    if not token:
        raise ValidationError({"token": _("Scan the QR code shown at the activity.")})
    if at is not None and at > now:
        raise ValidationError({"scanned_at": _("The scan cannot be in the future.")})
    delay = (now - at).total_seconds() if at is not None else 0.0
    value = None
    try:
        value = _signer(activity.pk).unsign(token, max_age=settings.ACTIVITIES_QR_TOKEN_MAX_AGE + delay)
    except signing.SignatureExpired:
        raise _refuse(
            CheckInRefusal.INVALID_TOKEN, _("This QR code has expired. Scan the code on the screen again.")
        ) from None
    except signing.BadSignature:
        pass
    if value != activity.pk.hex:
        raise _refuse(CheckInRefusal.INVALID_TOKEN, _("This QR code is not valid for this activity."))


@transaction.atomic
def attendance_self_check_in(
    *, actor, token: str, now: datetime.datetime | None = None, extra_age: float = 0
) -> Attendance:
    """The logged-in member checks in by scanning the live page's QR code (a token valid for a minute).

    `extra_age`: see check_in_token_verify (the page passes the time spent on the login form).
    """
    member = member_of_user(user=actor)
    if member is None:
        raise ValidationError(_("Your account is not linked to a member record, so it cannot check in."))
    activity_id = check_in_token_activity_id(token)
    activity = Activity.objects.select_related("branch").filter(pk=activity_id).first() if activity_id else None
    if activity is None:
        raise _refuse(CheckInRefusal.INVALID_TOKEN, _("This QR code is not valid."))
    check_in_token_verify(activity=activity, token=token, extra_age=extra_age)
    _check_in_rules(activity, member, now or timezone.now())
    return _record(actor=actor, activity=activity, member=member, method=AttendanceMethod.QR, at=now or timezone.now())


@transaction.atomic
def attendance_mark(
    *,
    actor,
    activity: Activity,
    member: Member,
    method: str = AttendanceMethod.MANUAL,
    duration_minutes: int | None = None,
) -> Attendance:
    """The organiser marks an invitee present by hand (or online, keeping the duration); no time window."""
    _require(actor, activity.branch, activity=activity)
    if method == AttendanceMethod.MAKEUP:
        raise ValidationError({"method": _("Use make-up credit for absentees.")})
    activity = _fresh(activity)
    _check_in_rules(activity, member, timezone.now(), window=False)
    at = min(timezone.now(), activity.ends_at) if activity.starts_at <= timezone.now() else activity.starts_at
    return _record(
        actor=actor, activity=activity, member=member, method=method, at=at, duration_minutes=duration_minutes
    )


@transaction.atomic
def attendance_remove(*, actor, attendance: Attendance) -> Attendance:
    """Undo an attendance recorded by mistake (soft delete: a tombstone reaches sync clients)."""
    _require(actor, attendance.activity.branch, activity=attendance.activity)
    attendance.soft_delete()
    audit_record(actor=actor, obj=attendance, action="activities.attendance.removed")
    return attendance


@transaction.atomic
def attendance_makeup(
    *, actor, activity: Activity, member: Member, duration_minutes: int, note: str = ""
) -> Attendance:
    """Make-up credit for an absentee (e.g. watched the recording), with the time spent."""
    _require(actor, activity.branch, activity=activity)
    activity = _fresh(activity)
    if activity.status == ActivityStatus.CANCELLED:
        raise _refuse(CheckInRefusal.CANCELLED, _("This activity has been cancelled."))
    if activity.starts_at > timezone.now():
        raise ValidationError(_("Make-up credit is given after the activity has started."))
    if not duration_minutes or duration_minutes <= 0:
        raise ValidationError({"duration_minutes": _("Give the time spent, in minutes.")})
    _check_in_rules(activity, member, timezone.now(), window=False)
    return _record(
        actor=actor,
        activity=activity,
        member=member,
        method=AttendanceMethod.MAKEUP,
        at=timezone.now(),
        duration_minutes=duration_minutes,
        note=note,
    )


#
# Leave
#
@transaction.atomic
def leave_request_create(*, actor, activity: Activity, reason: str) -> LeaveRequest:
    """The logged-in member asks to be excused, with a reason; not once the activity is over."""
    member = member_of_user(user=actor)
    if member is None:
        raise ValidationError(_("Your account is not linked to a member record."))
    activity = _fresh(activity)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationError(_("This activity has been cancelled."))
    if activity.status == ActivityStatus.HELD or activity.ends_at <= timezone.now():
        raise ValidationError(_("This activity has already been held; ask the organiser for make-up credit instead."))
    if not activity_is_invited(activity=activity, member=member):
        raise ValidationError(_("You are not invited to this activity."))
    if Attendance.objects.filter(activity=activity, member=member).exists():
        raise ValidationError(_("You have already checked in to this activity."))
    if LeaveRequest.objects.filter(activity=activity, member=member).exists():
        raise ValidationError(_("You have already asked for leave from this activity."))
    leave = LeaveRequest.objects.create(activity=activity, member=member, reason=reason)
    audit_record(actor=actor, obj=leave, action="activities.leave.requested", data={"activity": str(activity.pk)})
    return leave


@transaction.atomic
def leave_decide(*, actor, leave: LeaveRequest, approve: bool, note: str = "") -> LeaveRequest:
    """The organiser approves or refuses a pending leave request."""
    _require(actor, leave.activity.branch, activity=leave.activity)
    leave = LeaveRequest.objects.select_for_update().get(pk=leave.pk)
    if leave.status != LeaveStatus.PENDING:
        raise Conflict(_("This leave request has already been decided."))
    leave.status = LeaveStatus.APPROVED if approve else LeaveStatus.REFUSED
    leave.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    leave.decided_at = timezone.now()
    leave.decision_note = note.strip()[:300]
    leave.save()
    audit_record(actor=actor, obj=leave, action=f"activities.leave.{leave.status}")
    return leave
