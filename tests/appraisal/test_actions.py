import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from branches import actions as branch_actions
from branches.choices import BranchKind, Role
from core.exceptions import Conflict
from core.models import AuditEntry, Notification
from members.actions import appraisal as appraisal_actions
from members.actions import member_update
from members.models import AppraisalRound, AppraisalSubject, PeerRating
from members.models.appraisal import AppraisalStatus
from members.selectors_appraisal import appraisal_grade_summary, appraisal_rater_count, appraisal_subject_rows
from tests.appraisal.helpers import GRADES, make_round, member_with_user, subject_of
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

E, Q, B, U = GRADES


def _past_deadlines(appraisal_round, *, self_only=False):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    changes = {"self_assessment_due": yesterday}
    if not self_only:
        changes["rating_due"] = yesterday
    AppraisalRound.objects.filter(pk=appraisal_round.pk).update(**changes)


#
# Create and open
#
def test_round_create_is_a_draft_with_the_default_cap(branch, secretary, three):
    appraisal_round = make_round(branch, actor=secretary, open_it=False)
    assert appraisal_round.status == AppraisalStatus.DRAFT
    assert appraisal_round.excellent_cap_percent == 30
    assert not appraisal_round.subjects.exists()
    assert AuditEntry.objects.filter(
        action="members.appraisal_round.created", object_id=str(appraisal_round.pk)
    ).exists()


def test_round_create_one_per_branch_and_year(branch, secretary, three):
    make_round(branch, actor=secretary, year=2026)
    with pytest.raises(ValidationError) as exc:
        make_round(branch, actor=secretary, year=2026, open_it=False)
    assert "already has an appraisal round for this year" in str(exc.value)
    make_round(branch, actor=secretary, year=2025, open_it=False)  # another year is fine


def test_round_one_per_branch_year_is_a_database_constraint(branch, three):
    first = make_round(branch, year=2026)
    duplicate = AppraisalRound(
        branch=branch,
        year=2026,
        self_assessment_due=first.self_assessment_due,
        rating_due=first.rating_due,
        excellent_cap_percent=30,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_round_create_rejects_rating_due_before_self_assessment(branch, secretary):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        appraisal_actions.appraisal_round_create(
            actor=secretary,
            branch=branch,
            year=today.year,
            self_assessment_due=today + datetime.timedelta(days=10),
            rating_due=today + datetime.timedelta(days=5),
        )
    assert "rating_due" in exc.value.error_dict


def test_round_create_refuses_actor_without_change_scope(branch_tree, role_at):
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        make_round(branch_tree["station_a"], actor=organiser, open_it=False)
    outsider = role_at(branch_tree["station_b"], Role.SECRETARY)
    with pytest.raises(Http404):
        make_round(branch_tree["station_a"], actor=outsider, open_it=False)


def test_round_open_snapshots_current_normal_members_and_notifies(
    branch, branch_tree, secretary, django_capture_on_commit_callbacks
):
    full = member_with_user(branch)
    probationary = member_with_user(branch, category="probationary")
    no_account = MemberFactory(branch=branch)
    suspended = member_with_user(branch, status="suspended")
    elsewhere = member_with_user(branch_tree["station_b"])
    with django_capture_on_commit_callbacks(execute=True):
        appraisal_round = make_round(branch, actor=secretary)
    assert appraisal_round.status == AppraisalStatus.OPEN
    assert appraisal_round.opened_at is not None
    appraised = set(appraisal_round.subjects.values_list("member_id", flat=True))
    assert appraised == {full.pk, probationary.pk, no_account.pk}
    assert subject_of(appraisal_round, probationary).category == "probationary"
    notified = set(Notification.objects.filter(kind="members.appraisal.opened").values_list("recipient_id", flat=True))
    assert notified == {full.user_id, probationary.user_id}
    assert suspended.user_id not in notified
    assert elsewhere.user_id not in notified
    note = Notification.objects.filter(kind="members.appraisal.opened").first()
    assert note.url == f"/appraisal/mine/{appraisal_round.pk}/"
    assert AuditEntry.objects.filter(action="members.appraisal_round.opened").get().data == {"appraised": 3}


def test_round_snapshot_survives_transfers(branch, branch_tree, secretary, three):
    appraisal_round = make_round(branch, actor=secretary)
    moved = three[0]
    member_update(actor=None, member=moved, branch=branch_tree["station_b"])
    newcomer = member_with_user(branch)
    appraised = set(appraisal_round.subjects.values_list("member_id", flat=True))
    assert moved.pk in appraised
    assert newcomer.pk not in appraised
    # The transferred member still takes part: they may rate their former branch mates.
    saved = appraisal_actions.appraisal_rate(
        actor=moved.user, appraisal_round=appraisal_round, ratings={subject_of(appraisal_round, three[1]).pk: Q}
    )
    assert saved == 1
    with pytest.raises(PermissionDenied):
        appraisal_actions.appraisal_rate(
            actor=newcomer.user,
            appraisal_round=appraisal_round,
            ratings={subject_of(appraisal_round, three[1]).pk: Q},
        )


def test_round_open_refuses_a_branch_without_members(branch, secretary):
    appraisal_round = make_round(branch, actor=secretary, open_it=False)
    with pytest.raises(ValidationError, match="no members"):
        appraisal_actions.appraisal_round_open(actor=secretary, appraisal_round=appraisal_round)
    appraisal_round.refresh_from_db()
    assert appraisal_round.status == AppraisalStatus.DRAFT


def test_round_open_twice_is_refused(branch, secretary, three):
    appraisal_round = make_round(branch, actor=secretary)
    with pytest.raises(Conflict):
        appraisal_actions.appraisal_round_open(actor=secretary, appraisal_round=appraisal_round)


def test_round_open_refuses_a_past_self_assessment_deadline(branch, secretary, three):
    appraisal_round = make_round(branch, actor=secretary, open_it=False)
    _past_deadlines(appraisal_round, self_only=True)
    with pytest.raises(ValidationError) as exc:
        appraisal_actions.appraisal_round_open(actor=secretary, appraisal_round=appraisal_round)
    assert "self_assessment_due" in exc.value.error_dict


def test_round_allowed_in_a_temporary_branch(branch_tree, role_at):
    temporary = branch_actions.branch_create(
        actor=None,
        parent=branch_tree["delivery"],
        name="Project temporary branch",
        kind=BranchKind.BRANCH,
        basis="project_chain",
        is_temporary=True,
    )
    secretary = role_at(temporary, Role.SECRETARY)
    member_with_user(temporary)
    appraisal_round = make_round(temporary, actor=secretary)
    assert appraisal_round.status == AppraisalStatus.OPEN


#
# Self-assessment
#
def test_self_assess_saves_and_can_be_edited_until_the_deadline(branch, three):
    appraisal_round = make_round(branch)
    me = three[0]
    appraisal_actions.appraisal_self_assess(actor=me.user, appraisal_round=appraisal_round, text=" First draft ")
    subject = appraisal_actions.appraisal_self_assess(actor=me.user, appraisal_round=appraisal_round, text="Final")
    subject.refresh_from_db()
    assert subject.self_assessment == "Final"
    assert subject.submitted_at is not None


def test_self_assess_bad_cases(branch, branch_tree, three):
    appraisal_round = make_round(branch)
    me = three[0]
    with pytest.raises(ValidationError) as exc:
        appraisal_actions.appraisal_self_assess(actor=me.user, appraisal_round=appraisal_round, text="   ")
    assert "self_assessment" in exc.value.error_dict
    stranger = member_with_user(branch_tree["station_b"])
    with pytest.raises(PermissionDenied):
        appraisal_actions.appraisal_self_assess(actor=stranger.user, appraisal_round=appraisal_round, text="x")
    _past_deadlines(appraisal_round, self_only=True)
    with pytest.raises(Conflict, match="deadline"):
        appraisal_actions.appraisal_self_assess(actor=me.user, appraisal_round=appraisal_round, text="late")


#
# Peer rating
#
def test_rate_upserts_one_rating_per_pair(branch, three):
    appraisal_round = make_round(branch)
    me, a, b = three
    sa, sb = subject_of(appraisal_round, a), subject_of(appraisal_round, b)
    assert (
        appraisal_actions.appraisal_rate(actor=me.user, appraisal_round=appraisal_round, ratings={sa.pk: E, sb.pk: Q})
        == 2
    )
    # Changing one, leaving the other blank: one rating per pair, the blank one unchanged.
    appraisal_actions.appraisal_rate(actor=me.user, appraisal_round=appraisal_round, ratings={sa.pk: B, sb.pk: ""})
    given = dict(PeerRating.objects.filter(rater=subject_of(appraisal_round, me)).values_list("ratee_id", "grade"))
    assert given == {sa.pk: B, sb.pk: Q}
    assert PeerRating.objects.count() == 2


def test_rate_refuses_rating_self(branch, three):
    appraisal_round = make_round(branch)
    me = three[0]
    with pytest.raises(ValidationError, match="cannot rate yourself"):
        appraisal_actions.appraisal_rate(
            actor=me.user, appraisal_round=appraisal_round, ratings={subject_of(appraisal_round, me).pk: E}
        )
    assert not PeerRating.objects.exists()


def test_rate_self_is_refused_by_the_database(branch, three):
    appraisal_round = make_round(branch)
    subject = subject_of(appraisal_round, three[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        PeerRating.objects.create(round=appraisal_round, rater=subject, ratee=subject, grade=E)


def test_rate_refuses_non_participant(branch, branch_tree, three, user):
    appraisal_round = make_round(branch)
    target = subject_of(appraisal_round, three[0]).pk
    outsider = member_with_user(branch_tree["station_b"])
    for actor in (outsider.user, user):
        with pytest.raises(PermissionDenied, match="not among the members appraised"):
            appraisal_actions.appraisal_rate(actor=actor, appraisal_round=appraisal_round, ratings={target: E})


def test_rate_refuses_ratee_from_another_round_and_bad_grade(branch, branch_tree, three):
    appraisal_round = make_round(branch)
    member_with_user(branch_tree["station_b"])
    other = make_round(branch_tree["station_b"])
    foreign = other.subjects.get().pk
    me, a = three[0], three[1]
    with pytest.raises(ValidationError, match="not appraised in this round"):
        appraisal_actions.appraisal_rate(actor=me.user, appraisal_round=appraisal_round, ratings={foreign: E})
    with pytest.raises(ValidationError, match="four grades"):
        appraisal_actions.appraisal_rate(
            actor=me.user, appraisal_round=appraisal_round, ratings={subject_of(appraisal_round, a).pk: "great"}
        )


def test_rate_refuses_round_not_open_and_after_deadline(branch, secretary, three):
    me, a = three[0], three[1]
    draft = make_round(branch, actor=secretary, open_it=False, year=2024)
    AppraisalSubject.objects.create(round=draft, member=me, category="full")  # cannot happen, but be sure
    with pytest.raises(Conflict, match="only while the round is open"):
        appraisal_actions.appraisal_rate(actor=me.user, appraisal_round=draft, ratings={})

    appraisal_round = make_round(branch, actor=secretary)
    target = subject_of(appraisal_round, a).pk
    _past_deadlines(appraisal_round)
    with pytest.raises(Conflict, match="rating deadline"):
        appraisal_actions.appraisal_rate(actor=me.user, appraisal_round=appraisal_round, ratings={target: E})
    appraisal_actions.appraisal_rating_close(actor=secretary, appraisal_round=appraisal_round)
    with pytest.raises(Conflict):
        appraisal_actions.appraisal_rate(actor=me.user, appraisal_round=appraisal_round, ratings={target: E})


def test_rating_counts_per_grade(branch):
    members = [member_with_user(branch) for _ in range(4)]
    appraisal_round = make_round(branch)
    target = subject_of(appraisal_round, members[0])
    for rater, grade in zip(members[1:], (E, E, U), strict=True):
        appraisal_actions.appraisal_rate(actor=rater.user, appraisal_round=appraisal_round, ratings={target.pk: grade})
    rows = {row.pk: row for row in appraisal_subject_rows(appraisal_round=appraisal_round)}
    row = rows[target.pk]
    assert (row.rated_excellent, row.rated_qualified, row.rated_basically_qualified, row.rated_unqualified) == (
        2,
        0,
        0,
        1,
    )
    assert row.rated_total == 3
    assert appraisal_rater_count(appraisal_round=appraisal_round) == 3


#
# Grading and closing
#
@pytest.fixture
def grading_round(branch, secretary, three):
    appraisal_round = make_round(branch, actor=secretary)
    return appraisal_actions.appraisal_rating_close(actor=secretary, appraisal_round=appraisal_round)


def test_grade_sets_and_audits(grading_round, secretary, three):
    subject = appraisal_actions.appraisal_grade(
        actor=secretary, appraisal_round=grading_round, member=three[0], grade=Q
    )
    assert subject.final_grade == Q
    assert subject.graded_by == secretary
    assert subject.graded_at
    subject = appraisal_actions.appraisal_grade(
        actor=secretary, appraisal_round=grading_round, member=three[0], grade=E, reason=""
    )
    entries = AuditEntry.objects.filter(action="members.appraisal_subject.graded", object_id=str(subject.pk))
    assert entries.count() == 2
    last = entries.order_by("-at", "-id").first()
    assert last.before == {"final_grade": Q, "grade_reason": ""}
    assert last.after == {"final_grade": E, "grade_reason": ""}


def test_grade_unqualified_needs_a_reason(grading_round, secretary, three):
    with pytest.raises(ValidationError) as exc:
        appraisal_actions.appraisal_grade(
            actor=secretary, appraisal_round=grading_round, member=three[0], grade=U, reason="  "
        )
    assert "reason" in exc.value.error_dict
    subject = appraisal_actions.appraisal_grade(
        actor=secretary, appraisal_round=grading_round, member=three[0], grade=U, reason="Missed every meeting."
    )
    assert subject.grade_reason == "Missed every meeting."


def test_grade_unqualified_reason_is_a_database_constraint(grading_round, three):
    subject = subject_of(grading_round, three[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        AppraisalSubject.objects.filter(pk=subject.pk).update(final_grade=U, graded_at=timezone.now())


def test_grade_refuses_member_not_in_round(grading_round, secretary, branch):
    newcomer = member_with_user(branch)
    with pytest.raises(ValidationError) as exc:
        appraisal_actions.appraisal_grade(actor=secretary, appraisal_round=grading_round, member=newcomer, grade=Q)
    assert "member" in exc.value.error_dict


def test_grade_refuses_bad_grade_open_round_and_outsiders(branch, branch_tree, secretary, role_at, three):
    appraisal_round = make_round(branch, actor=secretary)
    with pytest.raises(Conflict, match="End the peer rating"):
        appraisal_actions.appraisal_grade(actor=secretary, appraisal_round=appraisal_round, member=three[0], grade=Q)
    appraisal_actions.appraisal_rating_close(actor=secretary, appraisal_round=appraisal_round)
    with pytest.raises(ValidationError):
        appraisal_actions.appraisal_grade(
            actor=secretary, appraisal_round=appraisal_round, member=three[0], grade="splendid"
        )
    with pytest.raises(Http404):
        appraisal_actions.appraisal_grade(
            actor=role_at(branch_tree["station_b"], Role.SECRETARY),
            appraisal_round=appraisal_round,
            member=three[0],
            grade=Q,
        )
    with pytest.raises(PermissionDenied):
        appraisal_actions.appraisal_grade(
            actor=role_at(branch, Role.ORGANISER), appraisal_round=appraisal_round, member=three[0], grade=E
        )
    with pytest.raises(Http404):  # a member without a role cannot grade peers
        appraisal_actions.appraisal_grade(
            actor=three[1].user, appraisal_round=appraisal_round, member=three[0], grade=E
        )


def test_excellent_over_cap_warns_but_does_not_block(grading_round, secretary, three):
    for member in three[:2]:
        appraisal_actions.appraisal_grade(actor=secretary, appraisal_round=grading_round, member=member, grade=E)
    summary = appraisal_grade_summary(appraisal_round=grading_round)
    assert summary.excellent == 2
    assert summary.excellent_cap == 0
    assert summary.excellent_over_cap
    assert summary.missing == 1


def test_close_requires_every_grade(grading_round, secretary, three):
    appraisal_actions.appraisal_grade(actor=secretary, appraisal_round=grading_round, member=three[0], grade=Q)
    with pytest.raises(ValidationError) as exc:
        appraisal_actions.appraisal_round_close(actor=secretary, appraisal_round=grading_round)
    assert "2 members have no final grade yet" in exc.value.messages[0]
    grading_round.refresh_from_db()
    assert grading_round.status == AppraisalStatus.RATING_CLOSED


def test_close_records_results_and_freezes_grades(grading_round, secretary, three):
    for member, grade in zip(three, (E, Q, B), strict=True):
        appraisal_actions.appraisal_grade(actor=secretary, appraisal_round=grading_round, member=member, grade=grade)
    closed = appraisal_actions.appraisal_round_close(actor=secretary, appraisal_round=grading_round)
    assert closed.status == AppraisalStatus.CLOSED
    assert closed.closed_at
    assert closed.closed_by == secretary
    entry = AuditEntry.objects.get(action="members.appraisal_round.closed")
    assert entry.data == {"grades": {E: 1, Q: 1, B: 1, U: 0}}
    with pytest.raises(Conflict, match="closed"):
        appraisal_actions.appraisal_grade(actor=secretary, appraisal_round=closed, member=three[0], grade=Q)
    with pytest.raises(Conflict):
        appraisal_actions.appraisal_round_close(actor=secretary, appraisal_round=closed)


def test_close_refuses_an_open_round(branch, secretary, three):
    appraisal_round = make_round(branch, actor=secretary)
    with pytest.raises(Conflict, match="End the peer rating"):
        appraisal_actions.appraisal_round_close(actor=secretary, appraisal_round=appraisal_round)
