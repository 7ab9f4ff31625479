"""seed_demo's app hook and the members app's demo data: created once, seen by the demo logins, counted right."""

import io
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.urls import reverse

from branches.demo import demo_build
from branches.management.commands.seed_demo import demo_extend_all
from branches.models import Branch
from core.models import AuditEntry, ChangeRecord, Notification, User
from members import demo as members_demo
from members.choices import MemberCategory
from members.models import (
    AppraisalRound,
    AppraisalSubject,
    DuesAssessment,
    DuesPayment,
    Member,
    Notice,
    Vote,
    VoteParticipation,
)
from members.models.notices import NoticeAudience
from members.models.votes import VoteOutcome, VoteStatus
from members.selectors import member_of_user
from members.selectors_appraisal import my_appraisal_list
from members.selectors_notices import member_notice_list, public_notice_list
from members.selectors_votes import my_votes, vote_list
from members.stats import branch_stats
from members.validators import validate_citizen_id

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def state() -> dict:
    """What the members demo writes, to compare two runs."""
    return {
        "members": sorted(Member.all_objects.values_list("id", "version")),
        "branches": sorted(Branch.all_objects.values_list("id", "version", "member_count", "full_member_count")),
        "users": User.objects.count(),
        "notices": sorted(Notice.all_objects.values_list("id", "version")),
        "votes": sorted(Vote.all_objects.values_list("id", "version", "status")),
        "ballots": VoteParticipation.objects.count(),
        "rounds": AppraisalRound.all_objects.count(),
        "self_assessments": AppraisalSubject.objects.exclude(self_assessment="").count(),
        "assessments": DuesAssessment.objects.count(),
        "payments": DuesPayment.objects.count(),
        "changes": ChangeRecord.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def home() -> Branch:
    return Branch.objects.get(external_ref=f"demo:{members_demo.HOME}")


def demo_user(username: str) -> User:
    return User.objects.get(username=username)


#
# The hook and idempotence
#
def test_seed_demo_adds_member_records_through_the_app_hook():
    run("seed_demo")
    assert Member.objects.count() == len(members_demo.DEMO_MEMBERS)
    assert Member.objects.filter(branch=home()).count() == 11


def test_seed_demo_twice_creates_everything_once():
    run("seed_demo")
    first = state()
    assert len(first["members"]) == len(members_demo.DEMO_MEMBERS)
    assert len(first["notices"]) == len(members_demo.DEMO_NOTICES)
    assert len(first["votes"]) == 2
    assert first["rounds"] == 1
    assert first["payments"] == len(members_demo.DUES_PAID)
    run("seed_demo")
    assert state() == first


def test_demo_extend_all_skips_apps_without_a_hook_and_counts_what_hooks_made():
    demo = demo_build()
    made = demo_extend_all(demo)
    # members, their password-less accounts, notices, votes, the round, assessments and payments
    assert made >= len(members_demo.DEMO_MEMBERS) + len(members_demo.DEMO_NOTICES) + 2 + 1
    assert demo_extend_all(demo_build()) == 0


def test_demo_members_have_valid_distinct_citizen_ids_and_a_mix_of_categories():
    run("seed_demo")
    numbers = [members_demo.citizen_id(spec) for spec in members_demo.DEMO_MEMBERS]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert validate_citizen_id(number) == number
    members = Member.objects.filter(branch=home())
    assert members.filter(category=MemberCategory.PROBATIONARY).count() == 2
    assert not members.filter(occupation="").exists()
    assert members.filter(platforms__isnull=False).distinct().count() >= 8


def test_demo_leaves_a_real_account_with_a_demo_member_username_unlinked():
    real = User.objects.create_user(username="demo-zhaolei", email="zhao@example.com", password="x")
    run("seed_demo")
    zhao = Member.objects.get(external_ref="demo:member:zhaolei")
    assert zhao.user_id is None
    assert not Member.objects.filter(user=real).exists()
    real.refresh_from_db()
    assert real.has_usable_password()


#
# Counts
#
@pytest.mark.parametrize("key", ["xx_binhe", "xx_liuan"])
def test_demo_branch_counts_equal_the_member_records(key):
    run("seed_demo")
    run("seed_demo")
    branch = Branch.objects.get(external_ref=f"demo:{key}")
    current = Member.objects.filter(branch=branch).current()
    assert branch.member_count == current.count() > 0
    assert branch.full_member_count == current.filter(category=MemberCategory.FULL).count()


def test_demo_counts_are_repaired_on_a_database_seeded_before_the_member_records():
    demo_build()  # an older seed: hard-set counts, no records
    run("seed_demo")
    branch = home()
    assert (branch.member_count, branch.full_member_count) == (11, 9)


def test_demo_counts_follow_a_record_removed_since():
    run("seed_demo")
    Member.objects.filter(external_ref="demo:member:xujing").update(status="removed")
    run("seed_demo")
    branch = home()
    assert (branch.member_count, branch.full_member_count) == (10, 9)


#
# What the demo logins see
#
def test_demo_member_login_is_linked_and_sees_the_notices():
    run("seed_demo")
    user = demo_user("member")
    member = member_of_user(user=user)
    assert member is not None
    assert member.branch == home()
    titles = set(member_notice_list(member=member).values_list("title", flat=True))
    assert titles == {title for _branch, title, *_rest in members_demo.DEMO_NOTICES}
    public = set(public_notice_list().values_list("title", flat=True))
    assert public == {
        title for _b, title, audience, *_r in members_demo.DEMO_NOTICES if audience == NoticeAudience.PUBLIC
    }


def test_demo_secretary_and_organiser_are_members_of_their_branch():
    run("seed_demo")
    for username in ("secretary", "organiser"):
        assert member_of_user(user=demo_user(username)).branch == home()


def test_demo_member_login_sees_the_open_secret_vote_not_yet_voted():
    run("seed_demo")
    user = demo_user("member")
    member = member_of_user(user=user)
    votes = {v.title: v for v in my_votes(member=member)}
    open_vote = votes[members_demo.OPEN_VOTE_TITLE]
    assert open_vote.status == VoteStatus.OPEN
    assert open_vote.secret
    assert open_vote.on_roll
    assert not open_vote.has_voted
    assert open_vote.participations.count() == len(members_demo.OPEN_VOTE_BALLOTS)
    days_left = (open_vote.closes_at - open_vote.opens_at).days
    assert 6 <= days_left <= 7
    assert vote_list(actor=user).filter(pk=open_vote.pk).exists()


def test_demo_closed_vote_has_its_result():
    run("seed_demo")
    vote = Vote.objects.get(title=members_demo.CLOSED_VOTE_TITLE)
    assert vote.status == VoteStatus.CLOSED
    assert vote.outcome == VoteOutcome.PASSED
    assert (vote.ballots_cast, vote.eligible_count) == (len(members_demo.CLOSED_VOTE_BALLOTS), 9)
    tallies = {o.code: o.tally for o in vote.options.all()}
    assert tallies == {"for": 5, "against": 0, "abstain": 1}


def test_demo_member_login_is_in_the_open_appraisal_round():
    run("seed_demo")
    subjects = list(my_appraisal_list(user=demo_user("member")))
    assert len(subjects) == 1
    appraisal_round = subjects[0].round
    assert appraisal_round.status == "open"
    assert appraisal_round.subjects.count() == 11
    assert appraisal_round.subjects.exclude(self_assessment="").count() == len(members_demo.SELF_ASSESSMENTS)
    assert subjects[0].self_assessment == ""  # left for the demo member to write


def test_demo_member_login_gets_the_notifications(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run("seed_demo")
    kinds = set(Notification.objects.filter(recipient=demo_user("member")).values_list("kind", flat=True))
    assert {
        "members.notice.published",
        "members.vote.opened",
        "members.vote.result",
        "members.appraisal.opened",
    } <= kinds


#
# The dashboard
#
def test_refresh_stats_after_seed_demo_gives_the_demo_officer_figures(client):
    run("seed_demo")
    run("refresh_stats")
    figures, as_of = branch_stats(branch=Branch.objects.get(external_ref="demo:delivery"))
    assert figures["members"] == {"total": len(members_demo.DEMO_MEMBERS)}
    assert as_of is not None
    client.force_login(demo_user("officer"))
    response = client.get(reverse("dashboard:dashboard"))
    assert response.status_code == HTTPStatus.OK
    tables = {t.key: t for t in response.context["tables"]}
    by_category = sum(row.cells[1] for row in tables["members_by_category"].rows)
    assert by_category == len(members_demo.DEMO_MEMBERS)
    assert tables["members_by_category"].as_of is not None
