import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.test import override_settings
from django.utils import timezone

from branches import actions as branch_actions
from branches.choices import BranchKind, Role
from core.exceptions import Conflict
from core.models import AuditEntry, Notification
from members.actions import activity_card_create, member_update
from members.actions import votes as vote_actions
from members.models import (
    NamedBallot,
    NamedBallotChoice,
    SecretBallot,
    SecretBallotChoice,
    VoteEligibility,
    VoteParticipation,
)
from members.models.votes import VoteOutcome, VoteStatus
from tests.members.factories import MemberFactory
from tests.votes.helpers import cast, draft_vote, open_vote, option, time_passes, voter, voters

pytestmark = pytest.mark.django_db


def _visit(member, host_branch):
    """Give `member` an activity card at `host_branch` (a visiting mobile member there)."""
    activity_card_create(
        actor=None, member=member, host_branch=host_branch, destination="Station A", starts_on=timezone.localdate()
    )


#
# Create
#
def test_vote_create_decision_has_for_against_abstain(branch_tree):
    vote = draft_vote(branch_tree["station_a"])
    assert vote.status == VoteStatus.DRAFT
    assert [o.code for o in vote.options.order_by("position")] == ["for", "against", "abstain"]
    assert vote.quorum_rule == "more_than_half"
    assert vote.majority_rule == "more_than_half"


def test_vote_create_election_defaults_to_four_fifths_quorum(branch_tree):
    vote = draft_vote(branch_tree["station_a"], kind="election", seats=2, candidates=["张三", "李四", "王五"])
    assert [o.label for o in vote.options.order_by("position")] == ["张三", "李四", "王五"]
    assert all(o.code == "" for o in vote.options.all())
    assert vote.quorum_rule == "more_than_four_fifths"


@override_settings(VOTES_DEFAULT_RULES={"decision": {"quorum": "at_least_two_thirds", "majority": "more_than_half"}})
def test_vote_create_default_rules_come_from_settings(branch_tree):
    assert draft_vote(branch_tree["station_a"]).quorum_rule == "at_least_two_thirds"


def test_vote_create_explicit_rules_override_defaults(branch_tree):
    vote = draft_vote(
        branch_tree["station_a"], kind="election", candidates=["张三"], quorum_rule="at_least_four_fifths"
    )
    assert vote.quorum_rule == "at_least_four_fifths"


@pytest.mark.parametrize(
    ("candidates", "seats", "message"),
    [
        ([], 1, "Name at least one candidate."),
        (["张三", " 张三 "], 1, "张三 is listed twice."),
        (["张三"], 2, "There are fewer candidates (1) than seats (2)."),
    ],
)
def test_vote_create_election_candidate_errors(branch_tree, candidates, seats, message):
    with pytest.raises(ValidationError) as exc:
        draft_vote(branch_tree["station_a"], kind="election", seats=seats, candidates=candidates)
    assert exc.value.message_dict["options"] == [message]


def test_vote_create_decision_with_seats_refused(branch_tree):
    with pytest.raises(ValidationError) as exc:
        draft_vote(branch_tree["station_a"], seats=3)
    assert "seats" in exc.value.message_dict


def test_vote_create_closing_before_opening_refused(branch_tree):
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        draft_vote(branch_tree["station_a"], opens_at=now + datetime.timedelta(days=1), closes_at=now)
    assert exc.value.message_dict["closes_at"] == ["The vote must close after it opens."]


def test_vote_create_temporary_branch_refuses_elections(branch_tree):
    temporary = branch_actions.branch_create(
        actor=None, parent=branch_tree["delivery"], name="Project branch", kind=BranchKind.BRANCH, is_temporary=True
    )
    with pytest.raises(ValidationError) as exc:
        draft_vote(temporary, kind="election", candidates=["张三"])
    assert exc.value.message_dict["kind"] == ["A temporary branch cannot hold elections."]
    # A decision is fine there.
    assert draft_vote(temporary).status == VoteStatus.DRAFT


@pytest.mark.parametrize("flags", [{"kind": BranchKind.GROUP}, {"kind": BranchKind.BRANCH, "is_functional": True}])
def test_vote_create_refuses_organisations_without_a_formal_roll(branch_tree, flags):
    branch = branch_actions.branch_create(actor=None, parent=branch_tree["station_a"], name="Sub", **flags)
    with pytest.raises(ValidationError) as exc:
        draft_vote(branch)
    assert "party group or a functional branch" in exc.value.message_dict["branch"][0]


def test_vote_create_scope(branch_tree, role_at):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    secretary = role_at(a, Role.SECRETARY)
    assert draft_vote(a, actor=secretary).created_by == secretary
    with pytest.raises(Http404):
        draft_vote(b, actor=secretary)
    organiser = role_at(a, Role.ORGANISER)
    with pytest.raises(Http404):
        draft_vote(a, actor=organiser)
    member_user = voter(a).user
    with pytest.raises(Http404):
        draft_vote(a, actor=member_user)


def test_vote_open_needs_change_permission(branch_tree, role_at):
    a = branch_tree["station_a"]
    voters(a, 2)
    vote = draft_vote(a)
    officer_above = role_at(branch_tree["district"], Role.OFFICER)
    assert vote_actions.vote_open(actor=officer_above, vote=vote).status == VoteStatus.OPEN
    with pytest.raises(Http404):
        vote_actions.vote_close(actor=role_at(branch_tree["station_b"], Role.SECRETARY), vote=vote)


def test_vote_action_forbidden_for_a_role_that_only_views(branch_tree, role_at, monkeypatch):
    from branches import permissions

    monkeypatch.setitem(permissions.ROLE_PERMISSIONS, Role.ORGANISER, frozenset({"votes.view"}))
    a = branch_tree["station_a"]
    vote = draft_vote(a)
    with pytest.raises(PermissionDenied):
        vote_actions.vote_open(actor=role_at(a, Role.ORGANISER), vote=vote)


#
# Open: the roll
#
def test_vote_open_freezes_the_roll_of_full_members(branch_tree, django_capture_on_commit_callbacks):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    full = voters(a, 3)
    probationary = voter(a, category="probationary")
    disciplined = voter(a, under_probation_discipline=True)
    suspended = voter(a, status="suspended")
    visitor = voter(b)
    _visit(visitor, a)
    voter(b)

    with django_capture_on_commit_callbacks(execute=True):
        vote = open_vote(a, title="Yearly plan")

    assert vote.status == VoteStatus.OPEN
    assert vote.opened_at is not None
    roll = set(VoteEligibility.objects.filter(vote=vote).values_list("member_id", flat=True))
    assert roll == {m.pk for m in full}
    for outsider in (probationary, disciplined, suspended, visitor):
        assert outsider.pk not in roll
    notified = Notification.objects.filter(kind="members.vote.opened")
    assert {n.recipient_id for n in notified} == {m.user_id for m in full}
    assert notified.first().title == "Vote: Yearly plan"
    entry = AuditEntry.objects.get(action="members.vote.opened")
    assert entry.data == {"eligible": 3}


def test_vote_open_without_voting_members_refused(branch_tree):
    a = branch_tree["station_a"]
    voter(a, category="probationary")
    with pytest.raises(ValidationError) as exc:
        open_vote(a)
    assert "no full members" in exc.value.message_dict["branch"][0]


def test_vote_open_twice_is_a_conflict(branch_tree):
    a = branch_tree["station_a"]
    voters(a, 1)
    vote = open_vote(a)
    with pytest.raises(Conflict):
        vote_actions.vote_open(actor=None, vote=vote)


def test_roll_stays_frozen_when_members_move_mid_vote(branch_tree):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    leaving, staying = voters(a, 2)
    vote = open_vote(a)
    member_update(actor=None, member=leaving, branch=b)
    newcomer = voter(a)

    cast(leaving, vote, "for")  # still on the roll taken at opening
    with pytest.raises(ValidationError) as exc:
        cast(newcomer, vote, "for")
    assert exc.value.messages == ["You were not entitled to vote when this vote opened."]
    assert vote.eligibility.count() == 2


#
# Cast
#
def _refusal(member, vote) -> str:
    with pytest.raises(ValidationError) as exc:
        cast(member, vote, "for")
    return exc.value.messages[0]


def test_vote_cast_refuses_members_without_a_vote(branch_tree):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    voters(a, 2)
    probationary = voter(a, category="probationary")
    disciplined = voter(a, under_probation_discipline=True)
    suspended = voter(a, status="suspended")
    visitor = voter(b)
    _visit(visitor, a)
    other = voter(b)
    vote = open_vote(a)

    assert _refusal(probationary, vote) == "Probationary members have no vote; only full members vote."
    assert _refusal(disciplined, vote) == "Members under probation within the party (留党察看) have no vote."
    assert _refusal(suspended, vote) == "Only members in normal standing vote."
    assert _refusal(visitor, vote) == "Members visiting with an activity card take part here but have no vote."
    assert _refusal(other, vote) == "Only members whose formal branch is Station A branch vote here."
    assert not VoteParticipation.objects.exists()


def test_vote_cast_without_member_record_refused(branch_tree, user):
    a = branch_tree["station_a"]
    voters(a, 1)
    vote = open_vote(a)
    with pytest.raises(ValidationError) as exc:
        vote_actions.vote_cast(actor=user, vote=vote, choices=[option(vote, "for")])
    assert exc.value.messages == ["Your account is not linked to a member record; only members vote."]


def test_vote_cast_twice_refused(branch_tree):
    a = branch_tree["station_a"]
    first, _second = voters(a, 2)
    vote = open_vote(a)
    cast(first, vote, "for")
    with pytest.raises(ValidationError) as exc:
        cast(first, vote, "against")
    assert exc.value.messages == ["You have already voted in this vote; a ballot cannot be changed."]
    assert VoteParticipation.objects.filter(vote=vote).count() == 1
    assert NamedBallot.objects.filter(vote=vote).count() == 1


def test_participation_unique_in_the_database(branch_tree):
    a = branch_tree["station_a"]
    (member,) = voters(a, 1)
    vote = open_vote(a)
    cast(member, vote, "for")
    with pytest.raises(IntegrityError), transaction.atomic():
        VoteParticipation.objects.create(vote=vote, member=member)


def test_vote_cast_race_caught_by_the_constraint(branch_tree, monkeypatch):
    """Two submits that both passed the check: the second insert hits the unique key and is refused cleanly."""
    a = branch_tree["station_a"]
    (member,) = voters(a, 1)
    vote = open_vote(a, secret=True)
    cast(member, vote, "for")
    real_filter = VoteParticipation.objects.filter

    class _Blind:
        def exists(self):
            return False

    def filter_blind(*args, **kwargs):
        return _Blind() if kwargs.get("member") == member else real_filter(*args, **kwargs)

    monkeypatch.setattr(VoteParticipation.objects, "filter", filter_blind)
    with pytest.raises(ValidationError) as exc:
        cast(member, vote, "against")
    assert exc.value.messages == ["You have already voted in this vote; a ballot cannot be changed."]
    monkeypatch.undo()
    assert SecretBallot.objects.filter(vote=vote).count() == 1


def test_vote_cast_outside_its_times(branch_tree):
    a = branch_tree["station_a"]
    (member,) = voters(a, 1)
    now = timezone.now()
    later = open_vote(a, opens_at=now + datetime.timedelta(hours=1), closes_at=now + datetime.timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        cast(member, later, "for")
    assert exc.value.messages[0].startswith("Voting starts at ")
    ended = time_passes(open_vote(a))
    with pytest.raises(ValidationError) as exc:
        cast(member, ended, "for")
    assert exc.value.messages[0].startswith("Voting ended at ")


def test_vote_cast_on_a_draft_or_closed_vote_is_a_conflict(branch_tree):
    a = branch_tree["station_a"]
    (member,) = voters(a, 1)
    draft = draft_vote(a)
    with pytest.raises(Conflict):
        cast(member, draft, "for")


@pytest.mark.parametrize(
    ("kind", "picks", "message"),
    [
        ("decision", ["for", "against"], "Choose only one answer."),
        ("election", ["张三", "李四", "王五"], "Choose at most 2 candidates (3 chosen)."),
        ("election", [], "Choose a candidate."),
        ("decision", [], "Choose for, against or abstain."),
    ],
)
def test_vote_cast_choice_errors(branch_tree, kind, picks, message):
    a = branch_tree["station_a"]
    (member,) = voters(a, 1)
    extra = {"seats": 2, "candidates": ["张三", "李四", "王五"]} if kind == "election" else {}
    vote = open_vote(a, kind=kind, **extra)
    with pytest.raises(ValidationError) as exc:
        cast(member, vote, *picks)
    assert exc.value.message_dict["choices"] == [message]
    assert not VoteParticipation.objects.exists()


def test_vote_cast_option_of_another_vote_refused(branch_tree):
    a = branch_tree["station_a"]
    (member,) = voters(a, 1)
    vote, other = open_vote(a), open_vote(a)
    with pytest.raises(ValidationError) as exc:
        vote_actions.vote_cast(actor=member.user, vote=vote, choices=[option(other, "for")])
    assert exc.value.message_dict["choices"] == ["Choose among this vote's options."]


def test_named_ballot_records_member_time_and_choice(branch_tree):
    a = branch_tree["station_a"]
    (member,) = voters(a, 1)
    vote = open_vote(a)
    cast(member, vote, "against")
    ballot = NamedBallot.objects.get(vote=vote)
    assert ballot.member == member
    assert ballot.cast_at is not None
    assert [c.option.code for c in NamedBallotChoice.objects.filter(ballot=ballot)] == ["against"]


def test_secret_ballot_has_no_link_to_the_voter(branch_tree):
    a = branch_tree["station_a"]
    first, second = voters(a, 2)
    vote = open_vote(a, secret=True)
    audit_before = AuditEntry.objects.count()
    cast(first, vote, "for")
    cast(second, vote, "against")

    # The tables have no column that could name or order a voter: random UUID keys, no member, no time.
    ballot_columns = {f.column for f in SecretBallot._meta.concrete_fields}
    choice_columns = {f.column for f in SecretBallotChoice._meta.concrete_fields}
    participation_columns = {f.column for f in VoteParticipation._meta.concrete_fields}
    assert ballot_columns == {"id", "vote_id"}
    assert choice_columns == {"id", "ballot_id", "option_id"}
    assert participation_columns == {"id", "vote_id", "member_id"}
    for model in (SecretBallot, SecretBallotChoice, VoteParticipation):
        assert model._meta.pk.get_internal_type() == "UUIDField"
        assert not any(f.get_internal_type() in ("DateTimeField", "DateField") for f in model._meta.concrete_fields)
    # Nothing relates a ballot to a member or a participation: the only way between them is the vote.
    related = {f.related_model for f in SecretBallot._meta.get_fields() if f.is_relation}
    assert related == {vote.__class__, SecretBallotChoice}

    # The stored rows: no named ballots, two anonymous ones, and no audit trace of either cast.
    assert not NamedBallot.objects.filter(vote=vote).exists()
    rows = list(SecretBallot.objects.filter(vote=vote).values())
    assert len(rows) == 2
    assert all(set(row) == {"id", "vote_id"} for row in rows)
    assert {p.member_id for p in VoteParticipation.objects.filter(vote=vote)} == {first.pk, second.pk}
    assert AuditEntry.objects.count() == audit_before


#
# Close: quorum and majority
#
def test_vote_close_decision_passes_with_more_than_half_of_those_entitled(branch_tree):
    a = branch_tree["station_a"]
    members = voters(a, 5)
    vote = open_vote(a)
    for m in members[:3]:
        cast(m, vote, "for")
    cast(members[3], vote, "against")
    vote = vote_actions.vote_close(actor=None, vote=vote)
    assert (vote.status, vote.outcome) == (VoteStatus.CLOSED, VoteOutcome.PASSED)
    assert (vote.eligible_count, vote.ballots_cast) == (5, 4)
    assert {o.code: o.tally for o in vote.options.all()} == {"for": 3, "against": 1, "abstain": 0}


def test_vote_close_exactly_half_for_is_not_a_majority(branch_tree):
    a = branch_tree["station_a"]
    members = voters(a, 4)
    vote = open_vote(a)
    cast(members[0], vote, "for")
    cast(members[1], vote, "for")
    cast(members[2], vote, "abstain")
    vote = vote_actions.vote_close(actor=None, vote=vote)
    # 3 of 4 voted (quorum), but 2 of 4 entitled is not more than half.
    assert vote.outcome == VoteOutcome.FAILED


def test_vote_close_majority_counts_those_entitled_not_those_voting(branch_tree):
    a = branch_tree["station_a"]
    members = voters(a, 6)
    vote = open_vote(a)
    for m in members[:3]:
        cast(m, vote, "for")
    cast(members[3], vote, "against")
    vote = vote_actions.vote_close(actor=None, vote=vote)
    # 3 for of 4 voting is a majority of those voting, but 3 of 6 entitled is not more than half.
    assert vote.outcome == VoteOutcome.FAILED


def test_manual_close_before_time_without_quorum_refused(branch_tree, role_at):
    a = branch_tree["station_a"]
    members = voters(a, 4)
    secretary = role_at(a, Role.SECRETARY)
    vote = open_vote(a)
    cast(members[0], vote, "for")
    cast(members[1], vote, "for")  # exactly half: no quorum
    with pytest.raises(ValidationError) as exc:
        vote_actions.vote_close(actor=secretary, vote=vote)
    assert exc.value.messages[0].startswith("No quorum yet: 2 of 4 members have voted and 3 are needed.")
    vote.refresh_from_db()
    assert vote.status == VoteStatus.OPEN
    cast(members[2], vote, "for")
    vote = vote_actions.vote_close(actor=secretary, vote=vote)
    assert vote.outcome == VoteOutcome.PASSED
    assert vote.closed_by == secretary
    entry = AuditEntry.objects.get(action="members.vote.closed")
    assert entry.actor == secretary
    assert (entry.data["outcome"], entry.data["cast"]) == ("passed", 3)


def test_close_after_time_without_quorum_records_no_quorum(branch_tree, role_at):
    a = branch_tree["station_a"]
    members = voters(a, 4)
    vote = open_vote(a)
    cast(members[0], vote, "for")
    vote = time_passes(vote)
    vote = vote_actions.vote_close(actor=role_at(a, Role.SECRETARY), vote=vote)
    assert vote.outcome == VoteOutcome.NO_QUORUM
    assert (vote.eligible_count, vote.ballots_cast) == (4, 1)


def test_vote_close_twice_is_a_conflict(branch_tree):
    a = branch_tree["station_a"]
    (member,) = voters(a, 1)
    vote = open_vote(a)
    cast(member, vote, "for")
    vote_actions.vote_close(actor=None, vote=vote)
    with pytest.raises(Conflict):
        vote_actions.vote_close(actor=None, vote=vote)
    with pytest.raises(Conflict):
        cast(member, vote, "for")


def _election(branch, n_members, *, seats=1, candidates=("张三", "李四"), **kwargs):
    members = voters(branch, n_members)
    vote = open_vote(branch, kind="election", seats=seats, candidates=list(candidates), **kwargs)
    return members, vote


def test_election_needs_more_than_four_fifths_by_default(branch_tree):
    a = branch_tree["station_a"]
    members, vote = _election(a, 5)
    for m in members[:4]:
        cast(m, vote, "张三")  # exactly 4 of 5: not more than four fifths
    with pytest.raises(ValidationError):
        vote_actions.vote_close(actor=None, vote=vote)
    vote = vote_actions.vote_close(actor=None, vote=time_passes(vote))
    assert vote.outcome == VoteOutcome.NO_QUORUM
    assert not vote.options.filter(elected=True).exists()


def test_election_at_least_four_fifths_rule_counts_exactly_four_fifths(branch_tree):
    a = branch_tree["station_a"]
    members, vote = _election(a, 5, quorum_rule="at_least_four_fifths")
    for m in members[:4]:
        cast(m, vote, "张三")
    vote = vote_actions.vote_close(actor=None, vote=vote)
    assert vote.outcome == VoteOutcome.PASSED
    assert {o.label: (o.tally, o.elected) for o in vote.options.all()} == {"张三": (4, True), "李四": (0, False)}


def test_election_elects_the_best_up_to_the_seats(branch_tree):
    a = branch_tree["station_a"]
    members, vote = _election(a, 6, seats=2, candidates=("张三", "李四", "王五"))
    picks = [("张三", "李四"), ("张三", "李四"), ("张三", "李四"), ("张三", "王五"), ("李四", "王五"), ("王五",)]
    for member, chosen in zip(members, picks, strict=True):
        cast(member, vote, *chosen)
    vote = vote_actions.vote_close(actor=None, vote=vote)
    # 张三 4, 李四 4, 王五 3 of 6 entitled: only the first two have more than half.
    assert {o.label: (o.tally, o.elected) for o in vote.options.all()} == {
        "张三": (4, True),
        "李四": (4, True),
        "王五": (3, False),
    }
    assert vote.outcome == VoteOutcome.PASSED


def test_election_tie_for_the_last_seat_elects_none_of_the_tied(branch_tree):
    a = branch_tree["station_a"]
    members, vote = _election(a, 7, seats=2, candidates=("甲", "乙", "丙"), quorum_rule="more_than_half")
    picks = [("甲", "乙"), ("甲", "乙"), ("甲", "乙"), ("甲", "丙"), ("甲", "丙"), ("乙", "丙"), ("丙",)]
    for member, chosen in zip(members, picks, strict=True):
        cast(member, vote, *chosen)
    vote = vote_actions.vote_close(actor=None, vote=vote)
    # All three have more than half of 7; 甲 (5) is elected, 乙 and 丙 tie on 4 for the last seat: neither is.
    assert {o.label: (o.tally, o.elected) for o in vote.options.all()} == {
        "甲": (5, True),
        "乙": (4, False),
        "丙": (4, False),
    }
    assert vote.outcome == VoteOutcome.FAILED


def test_vote_close_notifies_the_result(branch_tree, django_capture_on_commit_callbacks):
    a = branch_tree["station_a"]
    members = voters(a, 2)
    vote = open_vote(a, title="Plan")
    for m in members:
        cast(m, vote, "for")
    with django_capture_on_commit_callbacks(execute=True):
        vote_actions.vote_close(actor=None, vote=vote)
    notes = Notification.objects.filter(kind="members.vote.result")
    assert {n.recipient_id for n in notes} == {m.user_id for m in members}
    assert notes.first().title == "Result: Plan"
    assert notes.first().body == "Passed. 2 of 2 members voted."


#
# Cancel
#
def test_vote_cancel_draft_only(branch_tree):
    a = branch_tree["station_a"]
    voters(a, 1)
    vote = vote_actions.vote_cancel(actor=None, vote=draft_vote(a))
    assert vote.status == VoteStatus.CANCELLED
    assert AuditEntry.objects.filter(action="members.vote.cancelled").count() == 1
    with pytest.raises(Conflict):
        vote_actions.vote_cancel(actor=None, vote=open_vote(a))


def test_member_factory_members_vote(branch_tree):
    """The factory's defaults (full member since 2015, normal) are on the roll: the tests above rely on it."""
    a = branch_tree["station_a"]
    member = MemberFactory(branch=a)
    assert member.has_voting_rights
