"""Writes for the annual member appraisal (民主评议党员): open a round, self-assess, rate peers, grade, close.

Flow: a secretary creates a round (draft) and opens it, which snapshots the branch's current members and
tells them; each member writes a self-assessment and rates the others until the deadlines; the secretary
closes rating, sets every member's final grade, and closes the round.

Ratings are deliberately not audited one by one: an audit entry naming rater and ratee would undo the
anonymity the branch is promised. Grades and the state changes of a round are audited.
"""

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from branches.models import Branch
from core.audit import audit_record, snapshot
from core.exceptions import Conflict
from core.models import User
from core.notifications import deliver
from members.choices import MemberCategory, MemberStatus
from members.models import AppraisalRound, AppraisalSubject, Member, PeerRating
from members.models.appraisal import AppraisalGrade, AppraisalStatus
from members.permissions import require_member_scope

_DEFAULTS = {"excellent_cap_percent": 30}


def appraisal_rules() -> dict:
    """[practice] values of the appraisal, overridable in settings.MEMBERS_APPRAISAL."""
    return {**_DEFAULTS, **getattr(settings, "MEMBERS_APPRAISAL", {})}


def appraisal_eligible_members(*, branch: Branch):
    """Who a round opened now would appraise: the branch's formal members, full or probationary, status normal."""
    return Member.objects.filter(
        branch=branch,
        status=MemberStatus.NORMAL,
        category__in=(MemberCategory.FULL, MemberCategory.PROBATIONARY),
    )


def _locked(appraisal_round: AppraisalRound) -> AppraisalRound:
    return AppraisalRound.objects.select_for_update(of=("self",)).select_related("branch").get(pk=appraisal_round.pk)


def _require_status(appraisal_round: AppraisalRound, *statuses: str, message: str) -> None:
    if appraisal_round.status not in statuses:
        raise Conflict(message)


#
# Rounds
#
@transaction.atomic
def appraisal_round_create(
    *,
    actor,
    branch: Branch,
    year: int,
    self_assessment_due,
    rating_due,
    excellent_cap_percent: int | None = None,
    note: str = "",
) -> AppraisalRound:
    """Prepare a branch's round for `year` (a draft: nobody is appraised until it is opened).

    Temporary branches may hold one too: appraisal is not among what DOMAIN.md §2 forbids them.
    """
    require_member_scope(actor, "members.change", branch)
    if excellent_cap_percent is None:
        excellent_cap_percent = appraisal_rules()["excellent_cap_percent"]
    appraisal_round = AppraisalRound(
        branch=branch,
        year=year,
        self_assessment_due=self_assessment_due,
        rating_due=rating_due,
        excellent_cap_percent=excellent_cap_percent,
        note=note or "",
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    # full_clean runs the unique (branch, year) check, so the usual case gets a clear message;
    # the IntegrityError catch covers two secretaries racing each other.
    appraisal_round.full_clean()
    try:
        with transaction.atomic():
            appraisal_round.save()
    except IntegrityError:
        raise ValidationError({"year": [_("This branch already has an appraisal round for this year.")]}) from None
    audit_record(
        actor=actor,
        obj=appraisal_round,
        action="members.appraisal_round.created",
        after=snapshot(
            appraisal_round, ["branch", "year", "self_assessment_due", "rating_due", "excellent_cap_percent"]
        ),
    )
    return appraisal_round


@transaction.atomic
def appraisal_round_open(*, actor, appraisal_round: AppraisalRound) -> AppraisalRound:
    """Open a draft round: snapshot the branch's current members as the people appraised, and tell them.

    The snapshot is final: a member transferred later stays in the round, one who arrives later is not in it.
    """
    appraisal_round = _locked(appraisal_round)
    require_member_scope(actor, "members.change", appraisal_round.branch)
    _require_status(appraisal_round, AppraisalStatus.DRAFT, message=_("Only a draft round can be opened."))
    today = timezone.localdate()
    if appraisal_round.self_assessment_due < today:
        raise ValidationError(
            {"self_assessment_due": [_("The self-assessment deadline has passed; choose a later date.")]}
        )
    members = list(appraisal_eligible_members(branch=appraisal_round.branch).only("id", "category", "user_id"))
    if not members:
        raise ValidationError(_("This branch has no members in normal standing to appraise."))
    AppraisalSubject.objects.bulk_create(
        [AppraisalSubject(round=appraisal_round, member_id=m.pk, category=m.category) for m in members],
        batch_size=500,
    )
    appraisal_round.status = AppraisalStatus.OPEN
    appraisal_round.opened_at = timezone.now()
    appraisal_round.opened_by = actor if getattr(actor, "is_authenticated", False) else None
    appraisal_round.save(update_fields=["status", "opened_at", "opened_by"])
    audit_record(
        actor=actor,
        obj=appraisal_round,
        action="members.appraisal_round.opened",
        data={"appraised": len(members)},
    )
    user_ids = [m.user_id for m in members if m.user_id]
    if user_ids:
        message = {
            "recipients": list(User.objects.filter(pk__in=user_ids, is_active=True)),
            "kind": "members.appraisal.opened",
            "title": _("Member appraisal %(year)s has opened") % {"year": appraisal_round.year},
            "body": _(
                "%(branch)s: write your self-assessment by %(self_due)s and rate the other members by %(rating_due)s."
            )
            % {
                "branch": appraisal_round.branch.name,
                "self_due": date_format(appraisal_round.self_assessment_due, "DATE_FORMAT"),
                "rating_due": date_format(appraisal_round.rating_due, "DATE_FORMAT"),
            },
            "url": reverse("appraisal:my_round", args=[appraisal_round.pk]),
        }
        # After commit: the message goes out (in-app and e-mail) only if the round really opened.
        transaction.on_commit(lambda: deliver(**message))
    return appraisal_round


@transaction.atomic
def appraisal_rating_close(*, actor, appraisal_round: AppraisalRound) -> AppraisalRound:
    """End self-assessment and peer rating (before or after the deadline) so that grading can begin."""
    appraisal_round = _locked(appraisal_round)
    require_member_scope(actor, "members.change", appraisal_round.branch)
    _require_status(appraisal_round, AppraisalStatus.OPEN, message=_("Only an open round can end its rating."))
    appraisal_round.status = AppraisalStatus.RATING_CLOSED
    appraisal_round.save(update_fields=["status"])
    audit_record(actor=actor, obj=appraisal_round, action="members.appraisal_round.rating_closed")
    return appraisal_round


@transaction.atomic
def appraisal_round_close(*, actor, appraisal_round: AppraisalRound) -> AppraisalRound:
    """Record the results: every member appraised must have a final grade. Members then see their own."""
    appraisal_round = _locked(appraisal_round)
    require_member_scope(actor, "members.change", appraisal_round.branch)
    _require_status(
        appraisal_round,
        AppraisalStatus.RATING_CLOSED,
        message=_("End the peer rating before closing the round."),
    )
    missing = list(
        appraisal_round.subjects.filter(final_grade="")
        .order_by("member__name_pinyin")
        .values_list("member__name", flat=True)
    )
    if missing:
        shown = "、".join(missing[:10]) + ("…" if len(missing) > 10 else "")
        raise ValidationError(
            ngettext(
                "%(count)d member has no final grade yet: %(names)s.",
                "%(count)d members have no final grade yet: %(names)s.",
                len(missing),
            )
            % {"count": len(missing), "names": shown},
            code="grades_missing",
        )
    distribution = dict.fromkeys(AppraisalGrade.values, 0)
    for grade in appraisal_round.subjects.values_list("final_grade", flat=True):
        distribution[grade] += 1
    appraisal_round.status = AppraisalStatus.CLOSED
    appraisal_round.closed_at = timezone.now()
    appraisal_round.closed_by = actor if getattr(actor, "is_authenticated", False) else None
    appraisal_round.save(update_fields=["status", "closed_at", "closed_by"])
    audit_record(
        actor=actor, obj=appraisal_round, action="members.appraisal_round.closed", data={"grades": distribution}
    )
    return appraisal_round


#
# Members: self-assessment and peer rating
#
def _own_subject(actor, appraisal_round: AppraisalRound) -> AppraisalSubject:
    """The actor's place in the round; PermissionDenied when the actor is not appraised in it."""
    subject = None
    if getattr(actor, "is_authenticated", False):
        subject = (
            AppraisalSubject.objects.filter(round=appraisal_round, member__user_id=actor.pk)
            .select_related("member")
            .first()
        )
    if subject is None:
        raise PermissionDenied(_("You are not among the members appraised in this round."))
    return subject


@transaction.atomic
def appraisal_self_assess(*, actor, appraisal_round: AppraisalRound, text: str) -> AppraisalSubject:
    """Save the actor's own self-assessment; it can be edited until the self-assessment deadline."""
    subject = _own_subject(actor, appraisal_round)
    appraisal_round = AppraisalRound.objects.get(pk=appraisal_round.pk)
    _require_status(
        appraisal_round,
        AppraisalStatus.OPEN,
        message=_("Self-assessments can be written only while the round is open."),
    )
    if timezone.localdate() > appraisal_round.self_assessment_due:
        raise Conflict(
            _("The self-assessment deadline (%(date)s) has passed.")
            % {"date": date_format(appraisal_round.self_assessment_due, "DATE_FORMAT")}
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError({"self_assessment": [_("Write your self-assessment.")]})
    subject.self_assessment = text
    subject.submitted_at = timezone.now()
    subject.save(update_fields=["self_assessment", "submitted_at"])
    return subject


@transaction.atomic
def appraisal_rate(*, actor, appraisal_round: AppraisalRound, ratings: Mapping) -> int:
    """Save the actor's ratings of peers, {ratee subject id: grade}, in one upsert; returns how many were saved.

    One rating per rater and ratee (a later one replaces it) until the rating deadline; nobody rates themself.
    """
    rater = _own_subject(actor, appraisal_round)
    appraisal_round = AppraisalRound.objects.get(pk=appraisal_round.pk)
    _require_status(
        appraisal_round, AppraisalStatus.OPEN, message=_("Peers can be rated only while the round is open.")
    )
    if timezone.localdate() > appraisal_round.rating_due:
        raise Conflict(
            _("The rating deadline (%(date)s) has passed.")
            % {"date": date_format(appraisal_round.rating_due, "DATE_FORMAT")}
        )
    wanted = {str(ratee_id): grade for ratee_id, grade in ratings.items() if grade}
    if str(rater.pk) in wanted:
        raise ValidationError({"ratings": [_("You cannot rate yourself.")]})
    bad_grades = {g for g in wanted.values() if g not in AppraisalGrade.values}
    if bad_grades:
        raise ValidationError({"ratings": [_("Choose one of the four grades for each member.")]})
    ratees = (
        {
            str(pk): pk
            for pk in AppraisalSubject.objects.filter(round=appraisal_round, pk__in=list(wanted)).values_list(
                "pk", flat=True
            )
        }
        if wanted
        else {}
    )
    if len(ratees) != len(wanted):
        raise ValidationError({"ratings": [_("Some of the members rated are not appraised in this round.")]})
    now = timezone.now()
    rows = [
        PeerRating(
            round=appraisal_round, rater=rater, ratee_id=ratees[key], grade=grade, created_at=now, updated_at=now
        )
        for key, grade in wanted.items()
    ]
    PeerRating.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["round", "rater", "ratee"],
        update_fields=["grade", "updated_at"],
    )
    return len(rows)


#
# Grading
#
@transaction.atomic
def appraisal_grade(
    *, actor, appraisal_round: AppraisalRound, member: Member, grade: str, reason: str = ""
) -> AppraisalSubject:
    """Set a member's final grade (the branch committee's decision); 不合格 needs a written reason.

    Allowed once peer rating has ended and until the round is closed. Over the 优秀 cap only warns
    (see selectors_appraisal.excellent_cap_state).
    """
    appraisal_round = _locked(appraisal_round)
    require_member_scope(actor, "members.change", appraisal_round.branch)
    if appraisal_round.status != AppraisalStatus.RATING_CLOSED:
        if appraisal_round.status == AppraisalStatus.CLOSED:
            raise Conflict(_("This round is closed; its grades can no longer change."))
        raise Conflict(_("End the peer rating before setting final grades."))
    subject = (
        AppraisalSubject.objects.select_for_update(of=("self",))
        .select_related("member", "round")
        .filter(round=appraisal_round, member=member)
        .first()
    )
    if subject is None:
        raise ValidationError({"member": [_("This member is not appraised in this round.")]})
    if grade not in AppraisalGrade.values:
        raise ValidationError({"grade": [_("Choose one of the four grades.")]})
    reason = (reason or "").strip()
    if grade == AppraisalGrade.UNQUALIFIED and not reason:
        raise ValidationError({"reason": [_("Give a written reason for the grade “unqualified”.")]})
    fields = ["final_grade", "grade_reason", "graded_by", "graded_at"]
    before = snapshot(subject, ["final_grade", "grade_reason"])
    subject.final_grade = grade
    subject.grade_reason = reason
    subject.graded_by = actor if getattr(actor, "is_authenticated", False) else None
    subject.graded_at = timezone.now()
    subject.save(update_fields=fields)
    audit_record(
        actor=actor,
        obj=subject,
        action="members.appraisal_subject.graded",
        before=before,
        after=snapshot(subject, ["final_grade", "grade_reason"]),
        data={"round": str(appraisal_round.pk), "member": str(subject.member_id)},
    )
    return subject
