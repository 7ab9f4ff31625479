"""Writes of the development pipeline (发展党员): applicants, steps, assembly votes, probation.

Impossible orders are refused (STEP_REQUIRES, dates never before a prerequisite's, full membership
never before probation ends); interval rules are only warned about (selectors_development). Every
write checks "members.change" at the applicant's branch, refuses temporary branches, and is audited.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Branch
from core.audit import audit_record
from core.exceptions import Conflict
from members import crypto
from members.actions.records import member_create, member_update
from members.choices import MemberCategory, MemberStatus
from members.models import Applicant, AssemblyVote, DevelopmentInterval, DevelopmentStep, Member, StepDocument
from members.models.development import (
    INTERVAL_DEFAULTS,
    REPEATABLE_STEPS,
    STEP_ORDER,
    STEP_REQUIRES,
    STEP_STAGE,
    VOTE_STEPS,
    ApplicantStatus,
    IntervalCode,
    StepCode,
    VotePurpose,
)
from members.permissions import require_member_scope
from members.validators import citizen_id_birth_date, citizen_id_sex, validate_citizen_id, validate_phone
from members.voting_rules import more_than_half

MIN_AGE_YEARS = 18


def interval(code: str) -> relativedelta:
    """An interval length from the admin-edited table (the rule's default when the row is missing)."""
    row = DevelopmentInterval.objects.filter(code=code).first()
    if row is not None:
        return row.delta
    months, days = INTERVAL_DEFAULTS[code]
    return relativedelta(months=months, days=days)


def _months(delta: relativedelta) -> int:
    """Whole months of a length (relativedelta turns 12 months into a year)."""
    return delta.years * 12 + delta.months


def _check_branch(actor, branch: Branch) -> None:
    require_member_scope(actor, "members.change", branch)
    if branch.is_temporary:
        raise ValidationError({"branch": [_("A temporary branch cannot develop members.")]})
    if branch.deleted_at is not None:
        raise ValidationError({"branch": [_("This organisation has been dissolved.")]})


def _locked(applicant: Applicant) -> Applicant:
    return Applicant.objects.select_for_update(of=("self",)).select_related("branch", "member").get(pk=applicant.pk)


def _not_future(field: str, day: datetime.date) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: [_("This date cannot be in the future.")]})


#
# Applicants
#
@transaction.atomic
def applicant_create(
    *,
    actor,
    branch: Branch,
    name: str,
    citizen_id: str,
    applied_on: datetime.date,
    phone: str = "",
    occupation: str = "",
    notes: str = "",
) -> Applicant:
    """Record an application for membership (step 1). The applicant must be 18 on the application date."""
    _check_branch(actor, branch)
    errors: dict[str, list] = {}
    number = None
    try:
        number = validate_citizen_id(citizen_id)
    except ValidationError as exc:
        errors["citizen_id"] = exc.messages
    if phone:
        try:
            phone = validate_phone(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if not (name or "").strip():
        errors["name"] = [_("This field is required.")]
    if applied_on > timezone.localdate():
        errors["applied_on"] = [_("The application date cannot be in the future.")]
    if number:
        birth = citizen_id_birth_date(number)
        if applied_on < birth + relativedelta(years=MIN_AGE_YEARS):
            errors.setdefault("applied_on", []).append(
                _("An applicant must be at least %(age)s years old on the application date.") % {"age": MIN_AGE_YEARS}
            )
        digest = crypto.lookup_hash(number)
        if Member.objects.filter(citizen_id_hash=digest).exists():
            errors.setdefault("citizen_id", []).append(_("This person is already a party member."))
        elif Applicant.objects.filter(
            citizen_id_hash=digest, status__in=[ApplicantStatus.IN_PROGRESS, ApplicantStatus.PROBATION]
        ).exists():
            errors.setdefault("citizen_id", []).append(_("This person is already on the way to membership."))
    if errors:
        raise ValidationError(errors)
    applicant = Applicant(
        branch=branch,
        name=name.strip(),
        applied_on=applied_on,
        sex=citizen_id_sex(number),
        birth_date=citizen_id_birth_date(number),
        occupation=occupation,
    )
    applicant.citizen_id = number
    applicant.phone = phone
    applicant.full_clean(exclude=["citizen_id_cipher", "citizen_id_hash", "citizen_id_masked"])
    try:
        with transaction.atomic():
            applicant.save()
    except IntegrityError:
        raise ValidationError({"citizen_id": [_("This person is already on the way to membership.")]}) from None
    DevelopmentStep.objects.create(
        applicant=applicant,
        code=StepCode.APPLICATION_SUBMITTED,
        done_on=applied_on,
        actor_name=applicant.name,
        notes=notes,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        obj=applicant,
        action="members.applicant.created",
        after={"branch": str(branch.pk), "name": applicant.name, "applied_on": applied_on.isoformat()},
    )
    return applicant


def _done(applicant: Applicant) -> dict[str, list[DevelopmentStep]]:
    steps: dict[str, list[DevelopmentStep]] = {}
    for step in applicant.steps.order_by("done_on", "created_at"):
        steps.setdefault(step.code, []).append(step)
    return steps


def _check_order(applicant: Applicant, code: str, done_on: datetime.date, done: dict) -> None:
    """Refuse a step whose prerequisites are missing or later, or a one-off step already done."""
    if code not in STEP_REQUIRES:
        raise ValidationError({"code": [_("Unknown step.")]})
    if code in done and code not in REPEATABLE_STEPS:
        raise ValidationError({"code": [_("This step has already been recorded.")]})
    labels = dict(StepCode.choices)
    missing = [labels[c] for c in STEP_REQUIRES[code] if c not in done]
    if missing:
        raise ValidationError(
            {"code": [_("First record: %(steps)s.") % {"steps": "; ".join(str(m) for m in missing)}]}
        )
    for required in STEP_REQUIRES[code]:
        before = min(s.done_on for s in done[required])
        if done_on < before:
            raise ValidationError(
                {
                    "done_on": [
                        _("This step cannot come before “%(step)s” (%(date)s).")
                        % {"step": labels[required], "date": before.isoformat()}
                    ]
                }
            )
    if code in (StepCode.FULL_VOTE, StepCode.FULL_APPROVED) and (
        applicant.probation_ends_on is None or done_on < applicant.probation_ends_on
    ):
        raise ValidationError(
            {
                "done_on": [
                    _("Full membership cannot come before the probation ends (%(date)s).")
                    % {"date": applicant.probation_ends_on.isoformat() if applicant.probation_ends_on else "—"}
                ]
            }
        )


def _advance(applicant: Applicant, code: str) -> None:
    stage = STEP_STAGE[code]
    order = list(STEP_STAGE.values())
    stages = list(dict.fromkeys(order))
    if stages.index(stage) > stages.index(applicant.stage):
        applicant.stage = stage


def _save_step(*, actor, applicant: Applicant, code: str, done_on, actor_name: str, notes: str, documents):
    step = DevelopmentStep(
        applicant=applicant,
        code=code,
        done_on=done_on,
        actor_name=actor_name,
        notes=notes,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    step.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            step.save()
    except IntegrityError:
        raise ValidationError({"code": [_("This step has already been recorded.")]}) from None
    for upload in documents or []:
        document = StepDocument(step=step, file=upload, name=upload.name[:200], size=upload.size)
        try:
            document.full_clean(exclude=["step"])
        except ValidationError as exc:
            raise ValidationError({"documents": exc.messages}) from None
        document.save()
    return step


@transaction.atomic
def development_step_record(
    *,
    actor,
    applicant: Applicant,
    code: str,
    done_on: datetime.date,
    actor_name: str = "",
    notes: str = "",
    documents=None,
) -> DevelopmentStep:
    """Record one of the 25 steps (not the votes: `assembly_vote_record`).

    Upper approval of the admission creates the Member (probationary, joined on the assembly date);
    upper approval of full membership makes them a full member from the day probation ends.
    """
    _check_branch(actor, applicant.branch)
    applicant = _locked(applicant)
    archiving = code == StepCode.ARCHIVED and applicant.status == ApplicantStatus.FULL
    if not applicant.is_open and not archiving:
        raise Conflict(_("The development of this person has ended."))
    if code in VOTE_STEPS:
        raise ValidationError({"code": [_("Record the branch assembly vote with the vote form.")]})
    _not_future("done_on", done_on)
    done = _done(applicant)
    _check_order(applicant, code, done_on, done)
    step = _save_step(
        actor=actor, applicant=applicant, code=code, done_on=done_on, actor_name=actor_name, notes=notes,
        documents=documents,
    )  # fmt: skip
    _advance(applicant, code)
    if code == StepCode.ADMISSION_APPROVED:
        _admit(actor=actor, applicant=applicant, vote_on=done[StepCode.ADMISSION_VOTE][0].done_on)
    elif code == StepCode.FULL_APPROVED:
        member_update(
            actor=actor,
            member=applicant.member,
            category=MemberCategory.FULL,
            full_member_on=applicant.probation_ends_on,
        )
        applicant.status = ApplicantStatus.FULL
        applicant.ended_on = done_on
    applicant.save()
    audit_record(
        actor=actor,
        obj=applicant,
        action="members.applicant.step_recorded",
        data={"step": code, "done_on": done_on.isoformat(), "step_id": str(step.pk)},
    )
    return step


def _admit(*, actor, applicant: Applicant, vote_on: datetime.date) -> None:
    member = member_create(
        actor=actor,
        branch=applicant.branch,
        name=applicant.name,
        citizen_id=applicant.citizen_id,
        phone=applicant.phone,
        category=MemberCategory.PROBATIONARY,
        joined_on=vote_on,
        occupation=applicant.occupation,
        status=MemberStatus.NORMAL,
    )
    applicant.member = member
    applicant.status = ApplicantStatus.PROBATION
    applicant.probation_ends_on = vote_on + interval(IntervalCode.PROBATION)


@transaction.atomic
def assembly_vote_record(
    *,
    actor,
    applicant: Applicant,
    purpose: str,
    held_on: datetime.date,
    attendance: int,
    yes: int,
    no: int,
    abstain: int,
    adopted: bool,
    notes: str = "",
) -> AssemblyVote:
    """Record a branch assembly vote on admission or full membership, checked against the voting roll.

    Entitled = the branch's voting members on `held_on` (full members in normal standing). Refused:
    no quorum (voting attendees must be > half of those entitled), more ballots than attendees, or a
    result that contradicts the count (adopted needs yes > half of those entitled). An adopted vote
    records its step (15 or 23).
    """
    _check_branch(actor, applicant.branch)
    applicant = _locked(applicant)
    if not applicant.is_open:
        raise Conflict(_("The development of this person has ended."))
    if purpose not in VotePurpose.values:
        raise ValidationError({"purpose": [_("Unknown purpose.")]})
    _not_future("held_on", held_on)
    code = StepCode.ADMISSION_VOTE if purpose == VotePurpose.ADMISSION else StepCode.FULL_VOTE
    done = _done(applicant)
    _check_order(applicant, code, held_on, done)
    entitled = Member.objects.filter(branch=applicant.branch).voting(held_on).count()
    errors: dict[str, list] = {}
    for field, value in (("attendance", attendance), ("yes", yes), ("no", no), ("abstain", abstain)):
        if value < 0:
            errors[field] = [_("A count cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    if attendance > entitled:
        errors["attendance"] = [
            _("Only %(n)s members of the branch may vote on that date; more cannot be present.") % {"n": entitled}
        ]
    elif not more_than_half(attendance, entitled):
        errors["attendance"] = [
            _("No quorum: more than half of the %(n)s members entitled to vote must be present (%(present)s were).")
            % {"n": entitled, "present": attendance}
        ]
    if yes + no + abstain > attendance:
        errors["yes"] = [_("There are more votes than voting members present.")]
    majority = more_than_half(yes, entitled)
    if not errors and adopted and not majority:
        errors["adopted"] = [
            _("Not adopted: yes votes must be more than half of the %(n)s members entitled to vote.") % {"n": entitled}
        ]
    if not errors and not adopted and majority:
        errors["adopted"] = [_("With more than half of those entitled voting yes, the motion is adopted.")]
    if errors:
        raise ValidationError(errors)
    vote = AssemblyVote(
        applicant=applicant,
        purpose=purpose,
        held_on=held_on,
        entitled=entitled,
        attendance=attendance,
        yes=yes,
        no=no,
        abstain=abstain,
        adopted=adopted,
        notes=notes,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    vote.full_clean(validate_constraints=False)
    vote.save()
    if adopted:
        _save_step(
            actor=actor, applicant=applicant, code=code, done_on=held_on, actor_name="", notes=notes, documents=None
        )
        _advance(applicant, code)
        applicant.save()
    audit_record(
        actor=actor,
        obj=applicant,
        action="members.applicant.vote_recorded",
        data={
            "purpose": purpose,
            "held_on": held_on.isoformat(),
            "entitled": entitled,
            "attendance": attendance,
            "yes": yes,
            "no": no,
            "abstain": abstain,
            "adopted": adopted,
        },
    )
    return vote


#
# Probation
#
@transaction.atomic
def probation_extend(*, actor, applicant: Applicant, months: int, reason: str) -> Applicant:
    """Extend a probationary member's probation, once, by 6–12 months (lengths from the interval table)."""
    _check_branch(actor, applicant.branch)
    applicant = _locked(applicant)
    if applicant.status != ApplicantStatus.PROBATION:
        raise Conflict(_("Only a probation under way can be extended."))
    if applicant.extension_months:
        raise ValidationError({"months": [_("Probation can be extended only once.")]})
    low, high = (_months(interval(code)) for code in (IntervalCode.EXTENSION_MIN, IntervalCode.EXTENSION_MAX))
    if not low <= months <= high:
        raise ValidationError(
            {"months": [_("An extension lasts %(low)s to %(high)s months.") % {"low": low, "high": high}]}
        )
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the extension.")]})
    before = applicant.probation_ends_on
    applicant.probation_ends_on = before + relativedelta(months=months)
    applicant.extension_months = months
    applicant.extension_reason = reason.strip()
    applicant.save()
    audit_record(
        actor=actor,
        obj=applicant,
        action="members.applicant.probation_extended",
        before={"probation_ends_on": before.isoformat()},
        after={"probation_ends_on": applicant.probation_ends_on.isoformat(), "months": months},
        data={"reason": applicant.extension_reason},
    )
    return applicant


@transaction.atomic
def probation_cancel(*, actor, applicant: Applicant, decided_on: datetime.date, reason: str) -> Applicant:
    """Cancel a probationary member's qualification: the member record ends as no longer a member."""
    _check_branch(actor, applicant.branch)
    applicant = _locked(applicant)
    if applicant.status != ApplicantStatus.PROBATION:
        raise Conflict(_("Only a probation under way can be cancelled."))
    _not_future("decided_on", decided_on)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the cancellation.")]})
    member_update(actor=actor, member=applicant.member, status=MemberStatus.REMOVED)
    applicant.status = ApplicantStatus.CANCELLED
    applicant.ended_on = decided_on
    applicant.end_reason = reason.strip()
    applicant.save()
    audit_record(
        actor=actor,
        obj=applicant,
        action="members.applicant.probation_cancelled",
        data={"decided_on": decided_on.isoformat(), "reason": applicant.end_reason},
    )
    return applicant


@transaction.atomic
def applicant_close(*, actor, applicant: Applicant, decided_on: datetime.date, reason: str) -> Applicant:
    """End the development of someone not yet admitted (withdrew, not chosen, moved away)."""
    _check_branch(actor, applicant.branch)
    applicant = _locked(applicant)
    if applicant.status != ApplicantStatus.IN_PROGRESS:
        raise Conflict(_("Only a development under way can be ended here."))
    _not_future("decided_on", decided_on)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    applicant.status = ApplicantStatus.CLOSED
    applicant.ended_on = decided_on
    applicant.end_reason = reason.strip()
    applicant.save()
    audit_record(actor=actor, obj=applicant, action="members.applicant.closed", data={"reason": applicant.end_reason})
    return applicant


#
# Deadline reminders
#
def _secretaries(branch: Branch) -> list:
    from branches.choices import Role
    from branches.models import RoleAssignment

    users = {
        ra.user for ra in RoleAssignment.objects.filter(branch=branch, role=Role.SECRETARY).select_related("user")
    }
    return sorted((u for u in users if u.is_active), key=lambda u: u.pk)


def development_reminder_send(*, applicant_id, kind: str, due_on: datetime.date) -> int:
    """Remind the branch secretaries of one development deadline; each (applicant, person, kind, date) once.

    The deadline is computed again here: a step recorded since the sweep (the talk held, the approval
    given) sends nothing. The log row is claimed with a conditional update before sending.
    """
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation

    from core.notifications import deliver
    from members.models import DevelopmentReminderLog
    from members.selectors_development import applicant_deadlines

    applicant = (
        Applicant.objects.filter(pk=applicant_id).select_related("branch", "member").prefetch_related("steps").first()
    )
    if applicant is None or applicant.branch.is_temporary:
        return 0
    match = [d for d in applicant_deadlines(applicant) if d.kind == kind and d.due_on == due_on]
    if not match:
        return 0
    sent = 0
    for user in _secretaries(applicant.branch):
        log, _created = DevelopmentReminderLog.objects.get_or_create(
            applicant=applicant, recipient=user, kind=kind, due_on=due_on
        )
        if not DevelopmentReminderLog.objects.filter(pk=log.pk, sent_at__isnull=True).update(sent_at=timezone.now()):
            continue
        try:
            with translation.override(settings.LANGUAGE_CODE):
                title = _("%(what)s for %(name)s: %(date)s") % {
                    "what": match[0].label,
                    "name": applicant.name,
                    "date": due_on.isoformat(),
                }
            deliver(
                recipients=[user],
                kind="members.development_due",
                title=title,
                url=reverse("members:applicant_detail", kwargs={"pk": applicant.pk}),
            )
        except Exception:
            DevelopmentReminderLog.objects.filter(pk=log.pk).update(sent_at=None)
            raise
        sent += 1
    return sent


__all__ = [
    "development_reminder_send",
    "STEP_ORDER",
    "applicant_close",
    "applicant_create",
    "assembly_vote_record",
    "development_step_record",
    "interval",
    "probation_cancel",
    "probation_extend",
]
