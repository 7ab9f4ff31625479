"""Writes to cases: open, every status change (through CASE_TRANSITIONS only), notes, files, referrals,
deadlines and breaches, follow-ups, rating, and the spam review of public submissions."""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from branches.choices import Role
from branches.models import Branch, RoleAssignment
from branches.permissions import in_scope
from core.audit import audit_record, snapshot
from core.exceptions import Conflict
from core.notifications import deliver
from core.uploads import EXTENSIONS, validate_upload
from services.choices import (
    CASE_TRANSITIONS,
    CLOCK_STOPPED,
    OPEN_STATUSES,
    REFERRAL_TRANSITIONS,
    WAITING_TARGETS,
    BreachKind,
    CaseEventKind,
    CaseStatus,
    IntakeChannel,
    PartnerKind,
)
from services.models import Case, CaseBreach, CaseEvent, CaseType, FollowUp, Referral, SlaPolicy, Station, Worker
from services.permissions import require_services_scope
from services.worktime import add_working_seconds, load_overrides, working_seconds_between

#: Tracking codes: no 0/O, 1/I/L, so that a code read out on the phone is not misheard.
TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
TRACKING_LENGTH = 10

_STATUS_MESSAGES = {
    "assign": _("A new case can be assigned, and an open one re-assigned; this case is %(status)s."),
    "start": _("Only an assigned case can be started; this case is %(status)s."),
    "wait": _("Only a case in progress can wait on someone; this case is %(status)s."),
    "resume": _("Only a waiting case can be resumed; this case is %(status)s."),
    "resolve": _("Only a case in progress or waiting can be resolved; this case is %(status)s."),
    "close": _("Only a resolved case can be closed; this case is %(status)s."),
    "reopen": _("Only a resolved or closed case can be reopened; this case is %(status)s."),
}


def tracking_code_new() -> str:
    for _attempt in range(10):
        code = "".join(secrets.choice(TRACKING_ALPHABET) for _i in range(TRACKING_LENGTH))
        if not Case.all_objects.filter(tracking_code=code).exists():
            return code
    raise RuntimeError("Could not find a free tracking code.")  # 31^10 codes: practically unreachable


def normalize_tracking_code(value: str) -> str:
    return "".join(ch for ch in str(value or "").upper() if ch.isalnum())


#
# Deadlines
#
def sla_hours(case_type: CaseType, priority: str) -> tuple[int, int]:
    """(first response, resolution) in working hours: the type's policy, else the settings' default."""
    policy = SlaPolicy.objects.filter(case_type=case_type, priority=priority).first()
    if policy:
        return policy.first_response_hours, policy.resolution_hours
    first, resolution = settings.SERVICES_SLA_DEFAULTS[priority]
    return first, resolution


def _set_deadlines(case: Case, overrides=None) -> None:
    """Due times from `opened_at`; resolution also shifts by the working time spent with the clock stopped."""
    if case.suspected_spam:
        case.first_response_due = case.resolution_due = None
        return
    overrides = load_overrides() if overrides is None else overrides
    first, resolution = sla_hours(case.case_type, case.priority)
    case.first_response_due = add_working_seconds(case.opened_at, first * 3600, overrides)
    case.resolution_due = add_working_seconds(case.opened_at, resolution * 3600 + case.paused_seconds, overrides)


def _breach_record(case: Case, kind: str, due_at, now) -> CaseBreach | None:
    """Record a missed deadline once (the unique constraint makes a second try a no-op)."""
    try:
        with transaction.atomic():
            breach = CaseBreach.objects.create(case=case, kind=kind, due_at=due_at, at=now)
    except IntegrityError:
        return None
    CaseEvent.objects.create(case=case, kind=CaseEventKind.BREACH, at=now, data={"deadline": kind})
    return breach


def _event(case, kind, *, actor=None, body="", is_public=False, data=None, at=None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        body=body,
        is_public=is_public,
        data=data or {},
        at=at or timezone.now(),
    )


def _responded(case: Case, now) -> None:
    """The first response to the worker (starting work, a public reply, asking them, resolving)."""
    if case.first_responded_at is None:
        case.first_responded_at = now
        if case.first_response_due and now > case.first_response_due:
            _breach_record(case, BreachKind.FIRST_RESPONSE, case.first_response_due, now)


#
# Opening
#
@transaction.atomic
def case_open(
    *,
    actor,
    branch: Branch,
    case_type: CaseType,
    worker: Worker,
    description: str,
    channel: str,
    priority: str = "normal",
    station: Station | None = None,
    assignee=None,
    suspected_spam: bool = False,
    spam_reasons=(),
    consent_at=None,
    external_ref: str | None = None,
) -> Case:
    """Open a case with its deadlines and tracking code; a type with `route_to` is referred at once."""
    require_services_scope(actor, branch)
    now = timezone.now()
    case = Case(
        branch=branch,
        case_type=case_type,
        worker=worker,
        description=description,
        channel=channel,
        priority=priority,
        station=station,
        tracking_code=tracking_code_new(),
        opened_at=now,
        suspected_spam=suspected_spam,
        spam_reasons=list(spam_reasons),
        consent_at=consent_at,
    )
    case.external_ref = external_ref
    _set_deadlines(case)
    case.full_clean(exclude=["tracking_code"])
    case.save()
    _event(case, CaseEventKind.STATUS, actor=actor, is_public=True, data={"to": CaseStatus.NEW}, at=now)
    audit_record(
        actor=actor,
        obj=case,
        action="services.case.opened",
        after=snapshot(case, ["branch", "case_type", "worker", "channel", "priority", "station", "suspected_spam"]),
    )
    if case_type.route_to and not suspected_spam:
        referral_create(actor=None, case=case, partner_kind=case_type.route_to, partner_name=_partner_name(case_type))
    if assignee is not None:
        case = case_assign(actor=actor, case=case, assignee=assignee)
    return case


def _partner_name(case_type: CaseType) -> str:
    if case_type.route_to == PartnerKind.STREET_OFFICE:
        return settings.SERVICES_STREET_OFFICE_NAME
    return str(PartnerKind(case_type.route_to).label)


def intake_branch(station: Station | None) -> Branch:
    """Where a public request goes: the station's branch, else SERVICES_INTAKE_BRANCH_ID, else the first top
    branch."""
    if station is not None:
        return station.branch
    if settings.SERVICES_INTAKE_BRANCH_ID:
        branch = Branch.objects.filter(pk=settings.SERVICES_INTAKE_BRANCH_ID).first()
        if branch:
            return branch
    branch = Branch.objects.filter(parent__isnull=True).order_by("path").first()
    if branch is None:
        raise ValidationError(_("The service is not set up yet: no organisation can receive requests."))
    return branch


@transaction.atomic
def intake_submit(
    *,
    case_type: CaseType,
    description: str,
    phone: str,
    name: str = "",
    station: Station | None = None,
    channel: str = IntakeChannel.ONLINE_FORM,
    spam_reasons=(),
) -> Case:
    """A request from the public form (consent given): the worker is found again by phone, or created.

    A request with spam signals is stored all the same, flagged for review, with no deadlines until a
    caseworker confirms it (case_spam_review): a real person who trips a limit is never lost.
    """
    from services.actions.workers import worker_get_or_create_for_intake

    branch = intake_branch(station)
    worker = worker_get_or_create_for_intake(branch=branch, phone=phone, name=name)
    return case_open(
        actor=None,
        branch=branch,
        case_type=case_type,
        worker=worker,
        description=description,
        channel=channel,
        station=station,
        suspected_spam=bool(spam_reasons),
        spam_reasons=spam_reasons,
        consent_at=timezone.now(),
    )


@transaction.atomic
def case_spam_review(*, actor, case: Case, genuine: bool) -> Case:
    """Decide on a flagged submission: genuine → a normal case whose clock starts now; spam → deleted."""
    require_services_scope(actor, case.branch)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.suspected_spam:
        raise Conflict(_("This case is not waiting for a spam review."))
    if genuine:
        case.suspected_spam = False
        case.opened_at = timezone.now()
        _set_deadlines(case)
        case.save(update_fields=["suspected_spam", "opened_at", "first_response_due", "resolution_due"])
        audit_record(actor=actor, obj=case, action="services.case.confirmed_genuine")
        if case.case_type.route_to and not case.referrals.exists():
            referral_create(
                actor=None, case=case, partner_kind=case.case_type.route_to, partner_name=_partner_name(case.case_type)
            )
        return case
    case.soft_delete()
    audit_record(actor=actor, obj=case, action="services.case.deleted_as_spam", data={"signals": case.spam_reasons})
    return case


#
# Status changes: the only code that applies CASE_TRANSITIONS
#
def _transition(*, actor, case: Case, action: str, to: str | None = None, now=None) -> tuple[Case, str]:
    """Check the action against CASE_TRANSITIONS (Conflict otherwise) and apply the new status and clock."""
    require_services_scope(actor, case.branch)
    case = Case.objects.select_for_update(of=("self",)).select_related("case_type", "branch").get(pk=case.pk)
    allowed = CASE_TRANSITIONS[action]
    if case.status not in allowed:
        raise Conflict(_STATUS_MESSAGES[action] % {"status": case.get_status_display()})
    if case.suspected_spam and action != "assign":
        raise Conflict(_("Review this submission (genuine or spam) before working on it."))
    target = to if action == "wait" else allowed[case.status]
    if action == "wait" and target not in WAITING_TARGETS:
        raise ValidationError({"status": _("Choose whether the case waits on the worker or on a partner.")})
    now = now or timezone.now()
    before = case.status
    was_stopped = case.paused_since is not None
    stops = target in CLOCK_STOPPED
    if stops and not was_stopped:
        case.paused_since = now
    elif not stops and was_stopped:
        overrides = load_overrides()
        case.paused_seconds += working_seconds_between(case.paused_since, now, overrides)
        case.paused_since = None
        _set_deadlines(case, overrides)
    case.status = target
    if before != target:
        _event(
            case,
            CaseEventKind.STATUS,
            actor=actor,
            is_public=True,
            data={"from": before, "to": target, "action": action},
            at=now,
        )
    return case, before


def _save(case: Case, *, actor, action: str, before: str, data=None) -> Case:
    case.save()
    audit_record(
        actor=actor,
        obj=case,
        action=f"services.case.{action}",
        before={"status": before},
        after={"status": case.status},
        data=data,
    )
    return case


@transaction.atomic
def case_assign(*, actor, case: Case, assignee) -> Case:
    """Give the case to a caseworker who may change services records at its branch."""
    case, before = _transition(actor=actor, case=case, action="assign")
    if assignee is None or not in_scope(assignee, "services.change", case.branch):
        raise ValidationError({"assignee": _("This person cannot work on cases of this organisation.")})
    previous = case.assignee_id
    case.assignee = assignee
    if previous != assignee.pk:
        _event(case, CaseEventKind.FIELD, actor=actor, data={"field": "assignee", "to": str(assignee)})
    return _save(case, actor=actor, action="assigned", before=before, data={"assignee": assignee.pk})


@transaction.atomic
def case_start(*, actor, case: Case) -> Case:
    case, before = _transition(actor=actor, case=case, action="start")
    _responded(case, timezone.now())
    return _save(case, actor=actor, action="started", before=before)


@transaction.atomic
def case_wait(*, actor, case: Case, on: str, note: str = "") -> Case:
    """Wait on the worker or a partner: the deadline clock stops until the case resumes."""
    case, before = _transition(actor=actor, case=case, action="wait", to=on)
    if on == CaseStatus.WAITING_WORKER:
        _responded(case, timezone.now())
    if note:
        _event(case, CaseEventKind.NOTE, actor=actor, body=note, is_public=on == CaseStatus.WAITING_WORKER)
    return _save(case, actor=actor, action="waiting", before=before, data={"on": on})


@transaction.atomic
def case_resume(*, actor, case: Case) -> Case:
    case, before = _transition(actor=actor, case=case, action="resume")
    return _save(case, actor=actor, action="resumed", before=before)


@transaction.atomic
def case_resolve(*, actor, case: Case, summary: str) -> Case:
    """Resolve with a summary the worker sees; a late resolution is recorded as a breach; a follow-up is due
    SERVICES_FOLLOW_UP_DAYS later."""
    if not (summary or "").strip():
        raise ValidationError({"summary": _("Say how the case was resolved.")})
    now = timezone.now()
    case, before = _transition(actor=actor, case=case, action="resolve", now=now)
    _responded(case, now)
    # The clock stopped just now (or when the case began waiting): a due time passed before that is a breach.
    stopped_at = case.paused_since or now
    if case.resolution_due and stopped_at > case.resolution_due:
        _breach_record(case, BreachKind.RESOLUTION, case.resolution_due, now)
    case.resolved_at = now
    case.resolution_summary = summary.strip()
    _event(case, CaseEventKind.NOTE, actor=actor, body=case.resolution_summary, is_public=True, at=now)
    FollowUp.objects.create(
        case=case, due_on=timezone.localdate(now) + datetime.timedelta(days=settings.SERVICES_FOLLOW_UP_DAYS)
    )
    return _save(case, actor=actor, action="resolved", before=before)


@transaction.atomic
def case_close(*, actor, case: Case) -> Case:
    case, before = _transition(actor=actor, case=case, action="close")
    case.closed_at = timezone.now()
    return _save(case, actor=actor, action="closed", before=before)


@transaction.atomic
def case_reopen(*, actor, case: Case, reason: str = "") -> Case:
    """Reopen within SERVICES_REOPEN_DAYS of the resolution; the clock runs again from now."""
    current = Case.objects.get(pk=case.pk)
    if current.resolved_at and timezone.now() - current.resolved_at > datetime.timedelta(
        days=settings.SERVICES_REOPEN_DAYS
    ):
        raise Conflict(
            _("A case can be reopened within %(days)d days of its resolution; open a new case instead.")
            % {"days": settings.SERVICES_REOPEN_DAYS}
        )
    case, before = _transition(actor=actor, case=case, action="reopen")
    case.resolved_at = case.closed_at = None
    FollowUp.objects.filter(case=case, done_at__isnull=True).delete()
    if reason:
        _event(case, CaseEventKind.NOTE, actor=actor, body=reason)
    return _save(case, actor=actor, action="reopened", before=before, data={"reason": reason})


#
# Timeline
#
@transaction.atomic
def case_note_add(*, actor, case: Case, body: str, is_public: bool = False) -> CaseEvent:
    """A note on the timeline; a public one is shown on the tracking page and counts as a first response."""
    require_services_scope(actor, case.branch)
    if not (body or "").strip():
        raise ValidationError({"body": _("Write the note.")})
    event = _event(case, CaseEventKind.NOTE, actor=actor, body=body.strip(), is_public=is_public)
    if is_public and case.first_responded_at is None:
        case = Case.objects.select_for_update().get(pk=case.pk)
        _responded(case, event.at)
    case.save(update_fields=["first_responded_at"])  # notes are part of what a client syncs
    audit_record(
        actor=actor, obj=case, action="services.case.noted", data={"event": str(event.pk), "public": is_public}
    )
    return event


@transaction.atomic
def case_attach(*, actor, case: Case, upload, is_public: bool = False) -> CaseEvent:
    """Attach a photo or PDF: size limited, type recognised by content, and the name must agree with it
    (an executable renamed .jpg is refused)."""
    require_services_scope(actor, case.branch)
    name, detected = validate_upload(
        upload, allowed_types=settings.SERVICES_ATTACHMENT_TYPES, max_bytes=settings.SERVICES_ATTACHMENT_MAX_BYTES
    )
    event = CaseEvent(
        case=case,
        kind=CaseEventKind.ATTACHMENT,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        is_public=is_public,
        file_name=name,
        file_size=upload.size,
        content_type=detected,
    )
    event.file.save(f"{event.pk.hex}{EXTENSIONS[detected][0]}", upload, save=False)
    event.save()
    case.save(update_fields=[])
    audit_record(actor=actor, obj=case, action="services.case.attached", data={"event": str(event.pk)})
    return event


@transaction.atomic
def case_update(*, actor, case: Case, **fields) -> Case:
    """Change the type, priority or description; deadlines follow a new type or priority."""
    require_services_scope(actor, case.branch)
    allowed = {"case_type", "priority", "description", "station"}
    if set(fields) - allowed:
        raise TypeError(f"Unknown case fields: {sorted(set(fields) - allowed)}")
    case = Case.objects.select_for_update().get(pk=case.pk)
    before = snapshot(case, list(fields))
    changed = {name: value for name, value in fields.items() if getattr(case, name) != value}
    if not changed:
        return case
    for name, value in changed.items():
        setattr(case, name, value)
    if {"case_type", "priority"} & set(changed):
        _set_deadlines(case)
    case.full_clean()
    case.save()
    after = snapshot(case, list(fields))
    for name in changed:
        if name != "description":
            _event(
                case, CaseEventKind.FIELD, actor=actor, data={"field": name, "from": before[name], "to": after[name]}
            )
    audit_record(actor=actor, obj=case, action="services.case.updated", before=before, after=after)
    return case


#
# Referrals
#
@transaction.atomic
def referral_create(*, actor, case: Case, partner_kind: str, partner_name: str, note: str = "") -> Referral:
    """Refer the case to a partner; refused once the case is closed."""
    require_services_scope(actor, case.branch)
    if case.status == CaseStatus.CLOSED:
        raise Conflict(_("A closed case cannot be referred."))
    referral = Referral(case=case, partner_kind=partner_kind, partner_name=partner_name.strip(), note=note)
    referral.full_clean()
    referral.save()
    _event(
        case,
        CaseEventKind.REFERRAL,
        actor=actor,
        is_public=True,
        data={"partner_kind": partner_kind, "partner_name": referral.partner_name, "status": referral.status},
    )
    audit_record(actor=actor, obj=case, action="services.case.referred", data={"referral": str(referral.pk)})
    return referral


@transaction.atomic
def referral_set_status(*, actor, referral: Referral, status: str, note: str = "") -> Referral:
    require_services_scope(actor, referral.case.branch)
    referral = Referral.objects.select_for_update(of=("self",)).select_related("case").get(pk=referral.pk)
    if status not in REFERRAL_TRANSITIONS.get(referral.status, ()):
        raise Conflict(_("This referral cannot move to that status."))
    before = referral.status
    referral.status = status
    referral.updated_at = timezone.now()
    if note:
        referral.note = f"{referral.note}\n{note}".strip()
    referral.save()
    _event(
        referral.case,
        CaseEventKind.REFERRAL,
        actor=actor,
        is_public=True,
        data={
            "partner_kind": referral.partner_kind,
            "partner_name": referral.partner_name,
            "from": before,
            "status": status,
        },
    )
    audit_record(actor=actor, obj=referral.case, action="services.referral.updated", data={"status": status})
    return referral


#
# Rating and follow-up
#
@transaction.atomic
def case_rate(*, case: Case, rating: int, comment: str = "") -> Case:
    """The worker's rating (1–5), once, when the case is resolved or closed."""
    if not 1 <= int(rating) <= 5:
        raise ValidationError({"rating": _("Choose from 1 to 5 stars.")})
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        raise Conflict(_("You can rate the outcome once your request is resolved."))
    if case.rated_at is not None:
        raise Conflict(_("This request has already been rated. Thank you."))
    case.rating, case.rating_comment, case.rated_at = int(rating), comment.strip(), timezone.now()
    case.save(update_fields=["rating", "rating_comment", "rated_at"])
    _event(case, CaseEventKind.RATING, data={"rating": case.rating}, body=case.rating_comment)
    audit_record(actor=None, obj=case, action="services.case.rated", data={"rating": case.rating})
    return case


@transaction.atomic
def follow_up_done(*, actor, follow_up: FollowUp, note: str = "") -> FollowUp:
    require_services_scope(actor, follow_up.case.branch)
    if follow_up.done_at is not None:
        raise Conflict(_("This follow-up is already done."))
    follow_up.done_at, follow_up.note = timezone.now(), note
    follow_up.save(update_fields=["done_at", "note"])
    _event(follow_up.case, CaseEventKind.NOTE, actor=actor, body=note or gettext("Follow-up visit done."))
    audit_record(actor=actor, obj=follow_up.case, action="services.follow_up.done")
    return follow_up


def follow_up_remind(*, follow_up_id: int) -> bool:
    """Remind the assignee of a due follow-up; a conditional update makes it happen once."""
    now = timezone.now()
    if not FollowUp.objects.filter(pk=follow_up_id, reminded_at__isnull=True).update(reminded_at=now):
        return False
    follow_up = FollowUp.objects.select_related("case__assignee").get(pk=follow_up_id)
    user = follow_up.case.assignee
    if user is None:
        return True
    title = gettext("Follow-up due for case %(code)s") % {"code": follow_up.case.tracking_code}
    url = reverse("services:case_detail", args=[follow_up.case.pk])
    deliver(recipients=[user], kind="services.follow_up", title=title, url=url)
    return True


#
# Breaches and escalation
#
@transaction.atomic
def breaches_detect(*, now=None) -> list[int]:
    """Record every missed deadline of an open case whose clock runs; returns the new breaches' ids."""
    now = now or timezone.now()
    running = Case.objects.filter(status__in=OPEN_STATUSES, suspected_spam=False, paused_since__isnull=True)
    created = []
    late_first = running.filter(first_responded_at__isnull=True, first_response_due__lt=now).exclude(
        breaches__kind=BreachKind.FIRST_RESPONSE
    )
    for case in late_first:
        breach = _breach_record(case, BreachKind.FIRST_RESPONSE, case.first_response_due, now)
        if breach:
            created.append(breach.pk)
    late = running.filter(resolution_due__lt=now).exclude(breaches__kind=BreachKind.RESOLUTION)
    for case in late:
        breach = _breach_record(case, BreachKind.RESOLUTION, case.resolution_due, now)
        if breach:
            created.append(breach.pk)
    return created


def escalation_recipients(case: Case):
    """The caseworkers of the branch above the responsible one (its own, for a top branch)."""
    target = case.branch.parent if case.branch.parent_id else case.branch
    return [
        ra.user
        for ra in RoleAssignment.objects.filter(branch=target, role=Role.CASEWORKER).select_related("user")
        if ra.user.is_active
    ]


def breach_escalate(*, breach_id: int) -> bool:
    """Tell the upper level's caseworkers about a missed deadline; runs once per breach (conditional update)."""
    if not CaseBreach.objects.filter(pk=breach_id, notified_at__isnull=True).update(notified_at=timezone.now()):
        return False
    breach = CaseBreach.objects.select_related("case__branch__parent", "case__case_type").get(pk=breach_id)
    case = breach.case
    recipients = escalation_recipients(case)
    title = gettext("Case %(code)s missed its %(deadline)s deadline") % {
        "code": case.tracking_code,
        "deadline": breach.get_kind_display(),
    }
    body = gettext("%(type)s at %(branch)s, due %(due)s.") % {
        "type": case.case_type,
        "branch": case.branch,
        "due": timezone.localtime(breach.due_at).strftime("%Y-%m-%d %H:%M"),
    }
    url = reverse("services:case_detail", args=[case.pk])
    deliver(recipients=recipients, kind="services.breach", title=title, body=body, url=url)
    audit_record(
        actor=None,
        obj=case,
        action="services.case.escalated",
        data={"breach": breach.kind, "to": [u.pk for u in recipients]},
    )
    return True
