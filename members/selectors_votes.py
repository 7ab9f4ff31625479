"""Reads of branch votes. Two ways in, one scope function each:

- people who run votes (secretary and above: "votes.view" in their subtree) see every vote of their branches;
- members see the open and closed votes of their own formal branch, and any vote whose roll holds them
  (a member transferred mid-vote keeps the vote they were entitled to).
Ballots are never listed: results are counts per option, read by aggregate queries.
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from branches.permissions import branch_scope
from members.models import (
    Member,
    NamedBallotChoice,
    SecretBallotChoice,
    Vote,
    VoteEligibility,
    VoteOption,
    VoteParticipation,
)
from members.models.votes import VoteKind, VoteOutcome, VoteStatus
from members.selectors import member_of_user
from members.voting_rules import THRESHOLDS

#: Statuses a member sees (drafts and cancelled votes are the secretary's business).
MEMBER_VISIBLE = (VoteStatus.OPEN, VoteStatus.CLOSED)


def _ballots_count():
    """The number of members who have voted (participations), as a subquery: no GROUP BY on the vote row."""
    counted = (
        VoteParticipation.objects.filter(vote=OuterRef("pk"))
        .order_by()
        .values("vote")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _for_member(member: Member) -> Q:
    on_roll = VoteEligibility.objects.filter(vote=OuterRef("pk"), member=member)
    return Q(status__in=MEMBER_VISIBLE) & (Q(branch_id=member.branch_id) | Q(Exists(on_roll)))


def _with_options(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("branch").prefetch_related(
        Prefetch("options", queryset=VoteOption.objects.order_by("position", "label"))
    )


def vote_manage_list(*, actor, perm: str = "votes.view") -> QuerySet[Vote]:
    """Votes of the branches the actor runs votes in (every status), with the count of ballots so far."""
    return (
        Vote.objects.filter(branch__in=branch_scope(actor, perm))
        .select_related("branch")
        .annotate(ballots_so_far=_ballots_count())
    )


def vote_list(*, actor) -> QuerySet[Vote]:
    """Every vote the actor may read: those of branches in their "votes.view" scope, and their own as a member.

    Options are prefetched and the ballots so far annotated: two queries for a page, plus the scope's one.
    """
    condition = Q(branch__in=branch_scope(actor, "votes.view"))
    member = member_of_user(user=actor)
    if member is not None:
        condition |= _for_member(member)
    return _with_options(Vote.objects.filter(condition)).annotate(ballots_so_far=_ballots_count())


def vote_get(*, actor, pk) -> Vote:
    """One vote the actor may read; Vote.DoesNotExist otherwise (a 404 for the caller)."""
    return vote_list(actor=actor).get(pk=pk)


def my_votes(*, member: Member) -> QuerySet[Vote]:
    """The member's votes (open and closed), each marked `on_roll` and `has_voted`, newest first."""
    return (
        Vote.objects.filter(_for_member(member))
        .select_related("branch")
        .annotate(
            on_roll=Exists(VoteEligibility.objects.filter(vote=OuterRef("pk"), member=member)),
            has_voted=Exists(VoteParticipation.objects.filter(vote=OuterRef("pk"), member=member)),
        )
        .order_by("-opens_at", "-created_at")
    )


def vote_has_voted(*, vote: Vote, member: Member | None) -> bool:
    return member is not None and VoteParticipation.objects.filter(vote=vote, member=member).exists()


def vote_on_roll(*, vote: Vote, member: Member | None) -> bool:
    return member is not None and VoteEligibility.objects.filter(vote=vote, member=member).exists()


def vote_named_choices(*, vote: Vote, member: Member) -> list[VoteOption]:
    """What a member chose in a named (open) vote; always empty for a secret vote, which keeps no link."""
    if vote.secret:
        return []
    return list(
        VoteOption.objects.filter(named_choices__ballot__vote=vote, named_choices__ballot__member=member).order_by(
            "position", "label"
        )
    )


def vote_tallies(*, vote: Vote) -> dict:
    """Votes per option id, counted by one aggregate query over the vote's ballot choices."""
    model = SecretBallotChoice if vote.secret else NamedBallotChoice
    rows = model.objects.filter(ballot__vote=vote).order_by().values("option_id").annotate(n=Count("*"))
    return {row["option_id"]: row["n"] for row in rows}


def vote_ballot_count(*, vote: Vote) -> int:
    """Ballots stored for the vote (equal to its participations: both are written in one transaction)."""
    return (vote.secret_ballots if vote.secret else vote.named_ballots).count()


def votes_due_to_close(*, now=None) -> list:
    """Ids of open votes whose closing time has passed (for the beat sweep)."""
    now = now or timezone.now()
    return list(Vote.objects.filter(status=VoteStatus.OPEN, closes_at__lte=now).values_list("pk", flat=True))


@dataclass
class VoteResult:
    """The recorded result of a closed vote, with the figures its page explains."""

    vote: Vote
    options: list[VoteOption]
    eligible: int
    cast: int
    quorum_needed: int
    majority_needed: int
    quorum_met: bool

    @property
    def turnout_percent(self) -> int:
        return round(100 * self.cast / self.eligible) if self.eligible else 0

    @property
    def passed(self) -> bool:
        return self.vote.outcome == VoteOutcome.PASSED

    @property
    def elected(self) -> list[VoteOption]:
        return [o for o in self.options if o.elected]

    @property
    def is_election(self) -> bool:
        return self.vote.kind == VoteKind.ELECTION


def vote_result(*, vote: Vote) -> VoteResult | None:
    """The result of a closed vote as recorded at its close (None before); options in ballot order."""
    if vote.status != VoteStatus.CLOSED:
        return None
    options = sorted(vote.options.all(), key=lambda o: (o.position, o.label))
    eligible, cast = vote.eligible_count or 0, vote.ballots_cast or 0
    return VoteResult(
        vote=vote,
        options=options,
        eligible=eligible,
        cast=cast,
        quorum_needed=THRESHOLDS[vote.quorum_rule].needed(eligible),
        majority_needed=THRESHOLDS[vote.majority_rule].needed(eligible),
        quorum_met=vote.outcome != VoteOutcome.NO_QUORUM,
    )
