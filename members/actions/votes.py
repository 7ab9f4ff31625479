"""Writes of branch votes (表决/选举): create a draft, open it (freezing the roll), cast, close, cancel.

Rules enforced here:
- a vote belongs to an organisation that members belong to formally (not a party group, not a functional
  branch); a temporary branch (临时党支部) cannot hold elections (DOMAIN.md §2);
- only members on the roll taken at opening may vote, once, within the vote's times; participation and
  ballot are written in one transaction under a lock on the vote and the member's roll row, and the
  participation's unique key refuses a second ballot even if two requests race;
- a manual close before the closing time needs the quorum; the beat sweep closes votes whose time is up
  and records "no quorum" when so. Results are counted by aggregate queries and stored on the vote.
Open, close and cancel are audited; casting is not (a secret ballot must leave no trace of its time).
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from branches.choices import BranchKind
from branches.models import Branch
from branches.permissions import in_scope
from core.audit import audit_record
from core.exceptions import Conflict
from core.models import User
from core.notifications import deliver
from members.choices import MemberCategory, MemberStatus
from members.models import (
    ActivityCard,
    Member,
    NamedBallot,
    NamedBallotChoice,
    SecretBallot,
    SecretBallotChoice,
    Vote,
    VoteEligibility,
    VoteOption,
    VoteParticipation,
)
from members.models.votes import DecisionChoice, VoteKind, VoteOutcome, VoteStatus
from members.selectors import voting_members
from members.selectors_votes import vote_ballot_count, vote_tallies
from members.voting_rules import THRESHOLDS, ThresholdRule, threshold_met

MAX_CANDIDATES = 100


def _require_manage(actor, branch: Branch) -> None:
    """Refuse an actor who may not run votes at `branch` (404 outside what they may even see)."""
    if actor is None:  # the system: the beat sweep
        return
    if in_scope(actor, "votes.change", branch):
        return
    if not in_scope(actor, "votes.view", branch):
        raise Http404
    raise PermissionDenied(_("You may not run votes of this organisation."))


def _locked(vote: Vote) -> Vote:
    return Vote.objects.select_for_update(of=("self",)).select_related("branch").get(pk=vote.pk)


def moment_text(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def default_rules(kind: str) -> dict[str, str]:
    """The [practice] default thresholds of a kind of vote (settings.VOTES_DEFAULT_RULES)."""
    fallback = {"quorum": ThresholdRule.MORE_THAN_HALF, "majority": ThresholdRule.MORE_THAN_HALF}
    return {**fallback, **getattr(settings, "VOTES_DEFAULT_RULES", {}).get(kind, {})}


def _check_branch(branch: Branch, kind: str) -> None:
    if branch.deleted_at is not None:
        raise ValidationError({"branch": [_("This organisation has been dissolved.")]})
    if branch.kind == BranchKind.GROUP or branch.is_functional:
        raise ValidationError(
            {
                "branch": [
                    _(
                        "Votes are held by the organisation members belong to formally; a party group or a "
                        "functional branch has no roll of its own."
                    )
                ]
            }
        )
    if kind == VoteKind.ELECTION and branch.is_temporary:
        raise ValidationError({"kind": [_("A temporary branch cannot hold elections.")]})


def _clean_candidates(candidates, seats: int) -> list[str]:
    names, seen = [], set()
    for raw in candidates or []:
        name = " ".join(str(raw).split())
        if not name:
            continue
        if name.casefold() in seen:
            raise ValidationError({"options": [_("%(name)s is listed twice.") % {"name": name}]})
        seen.add(name.casefold())
        names.append(name)
    if not names:
        raise ValidationError({"options": [_("Name at least one candidate.")]})
    if len(names) > MAX_CANDIDATES:
        raise ValidationError({"options": [_("At most %(n)s candidates.") % {"n": MAX_CANDIDATES}]})
    if len(names) < seats:
        raise ValidationError(
            {"options": [_("There are fewer candidates (%(c)s) than seats (%(s)s).") % {"c": len(names), "s": seats}]}
        )
    return names


#
# Create, cancel
#
@transaction.atomic
def vote_create(
    *,
    actor,
    branch: Branch,
    kind: str,
    title: str,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    description: str = "",
    secret: bool = False,
    seats: int = 1,
    candidates: list[str] | None = None,
    quorum_rule: str | None = None,
    majority_rule: str | None = None,
) -> Vote:
    """Draft a vote: a decision (options for / against / abstain) or an election of `seats` among `candidates`.

    Thresholds default to settings.VOTES_DEFAULT_RULES for the kind.
    """
    _require_manage(actor, branch)
    if kind not in VoteKind.values:
        raise ValidationError({"kind": [_("Choose a decision or a candidate election.")]})
    _check_branch(branch, kind)
    errors = {}
    if kind == VoteKind.DECISION and seats != 1:
        errors["seats"] = [_("A decision has no seats; leave it at 1.")]
    if seats < 1:
        errors["seats"] = [_("At least one seat.")]
    if opens_at and closes_at and closes_at <= opens_at:
        errors["closes_at"] = [_("The vote must close after it opens.")]
    elif closes_at and closes_at <= timezone.now():
        errors["closes_at"] = [_("The closing time has already passed.")]
    if errors:
        raise ValidationError(errors)
    names = _clean_candidates(candidates, seats) if kind == VoteKind.ELECTION else []
    rules = default_rules(kind)
    vote = Vote(
        branch=branch,
        kind=kind,
        title=" ".join(title.split()),
        description=description.strip(),
        secret=secret,
        seats=seats,
        opens_at=opens_at,
        closes_at=closes_at,
        quorum_rule=quorum_rule or rules["quorum"],
        majority_rule=majority_rule or rules["majority"],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    vote.full_clean(exclude=["branch"], validate_constraints=False)
    vote.save()
    if kind == VoteKind.DECISION:
        options = [
            VoteOption(vote=vote, label=str(label), code=code, position=i)
            for i, (code, label) in enumerate(DecisionChoice.choices)
        ]
    else:
        options = [VoteOption(vote=vote, label=name, position=i) for i, name in enumerate(names)]
    VoteOption.objects.bulk_create(options)
    audit_record(
        actor=actor,
        obj=vote,
        action="members.vote.created",
        data={"kind": kind, "secret": secret, "seats": seats, "options": [o.label for o in options]},
    )
    return vote


@transaction.atomic
def vote_cancel(*, actor, vote: Vote) -> Vote:
    """Cancel a draft (an opened vote is closed, never cancelled: its ballots are a record)."""
    _require_manage(actor, vote.branch)
    vote = _locked(vote)
    if vote.status != VoteStatus.DRAFT:
        raise Conflict(_("Only a draft can be cancelled; an opened vote is closed."))
    vote.status = VoteStatus.CANCELLED
    vote.save(update_fields=["status"])
    audit_record(actor=actor, obj=vote, action="members.vote.cancelled")
    return vote


#
# Open: freeze the roll and tell the members
#
def _users_of(member_ids) -> list:
    return list(User.objects.filter(member_records__pk__in=list(member_ids), is_active=True).distinct())


@transaction.atomic
def vote_open(*, actor, vote: Vote) -> Vote:
    """Open a draft: the roll (VoteEligibility) is taken now and does not change until the vote closes."""
    _require_manage(actor, vote.branch)
    vote = _locked(vote)
    if vote.status != VoteStatus.DRAFT:
        raise Conflict(_("This vote has already been opened or cancelled."))
    _check_branch(vote.branch, vote.kind)
    now = timezone.now()
    if vote.closes_at <= now:
        raise ValidationError({"closes_at": [_("The closing time has already passed; set a later one.")]})
    member_ids = list(voting_members(branch=vote.branch).values_list("pk", flat=True))
    if not member_ids:
        raise ValidationError(
            {"branch": [_("No member of %(branch)s may vote: there are no full members.") % {"branch": vote.branch}]}
        )
    VoteEligibility.objects.bulk_create([VoteEligibility(vote=vote, member_id=pk) for pk in member_ids])
    vote.status = VoteStatus.OPEN
    vote.opened_at = now
    vote.save(update_fields=["status", "opened_at"])
    audit_record(actor=actor, obj=vote, action="members.vote.opened", data={"eligible": len(member_ids)})
    title = _("Vote: %(title)s") % {"title": vote.title}
    body = _("%(branch)s has opened a vote. Cast your ballot by %(closes)s.") % {
        "branch": vote.branch.name,
        "closes": moment_text(vote.closes_at),
    }
    url = reverse("votes:vote_ballot", kwargs={"pk": vote.pk})
    transaction.on_commit(
        lambda: deliver(recipients=_users_of(member_ids), kind="members.vote.opened", title=title, body=body, url=url)
    )
    return vote


#
# Cast
#
def ineligibility_reason(member: Member, vote: Vote) -> str:
    """Why a member is not on a vote's roll, in words the member understands."""
    if member.branch_id != vote.branch_id:
        card = ActivityCard.objects.filter(member=member, host_branch_id=vote.branch_id, ended_on__isnull=True)
        if card.exists():
            return _("Members visiting with an activity card take part here but have no vote.")
        return _("Only members whose formal branch is %(branch)s vote here.") % {"branch": vote.branch.name}
    if member.category != MemberCategory.FULL:
        return _("Probationary members have no vote; only full members vote.")
    if member.under_probation_discipline:
        return _("Members under probation within the party (留党察看) have no vote.")
    if member.status != MemberStatus.NORMAL:
        return _("Only members in normal standing vote.")
    return _("You were not entitled to vote when this vote opened.")


def _member_of(actor) -> Member:
    member = Member.objects.select_related("branch").filter(user_id=getattr(actor, "pk", None)).first()
    if member is None:
        raise ValidationError(_("Your account is not linked to a member record; only members vote."))
    return member


def _chosen_options(vote: Vote, choices) -> list[VoteOption]:
    ids = []
    for choice in choices or []:
        value = str(getattr(choice, "pk", choice))
        if value not in ids:
            ids.append(value)
    options = {str(o.pk): o for o in vote.options.all()}
    if any(i not in options for i in ids):
        raise ValidationError({"choices": [_("Choose among this vote's options.")]})
    if not ids:
        message = _("Choose a candidate.") if vote.kind == VoteKind.ELECTION else _("Choose for, against or abstain.")
        raise ValidationError({"choices": [message]})
    if len(ids) > vote.max_choices:
        if vote.kind == VoteKind.DECISION:
            message = _("Choose only one answer.")
        else:
            message = _("Choose at most %(n)s candidates (%(chosen)s chosen).") % {
                "n": vote.max_choices,
                "chosen": len(ids),
            }
        raise ValidationError({"choices": [message]})
    return [options[i] for i in ids]


def _reseal_secret_ballots(vote: Vote) -> None:
    """Rewrite every ballot row of `vote` in this transaction, so they all carry the same writer.

    On PostgreSQL each row version records the id of the transaction that wrote it (`xmin`), and the new
    ballot shares that id with the voter's participation row. Touching all the vote's ballots (and their
    choices) gives every live ballot the newest voter's transaction id, so no ballot can be matched to the
    participation written with it. A few hundred rows at most per vote; the vote row is already locked.
    """
    SecretBallot.objects.filter(vote=vote).update(vote=vote)
    SecretBallotChoice.objects.filter(ballot__vote=vote).update(option=F("option"))


@transaction.atomic
def vote_cast(*, actor, vote: Vote, choices) -> None:
    """Cast the actor's ballot: once, while the vote is open, if the actor's member record is on the roll.

    The vote row is locked first (a close waits for the ballot and vice versa), then the member's roll
    row; participation and ballot are written together. A secret ballot stores no member and no time.
    """
    member = _member_of(actor)
    vote = _locked(vote)
    if vote.status != VoteStatus.OPEN:
        raise Conflict(_("This vote is not open."))
    now = timezone.now()
    if now < vote.opens_at:
        raise ValidationError(_("Voting starts at %(time)s.") % {"time": moment_text(vote.opens_at)})
    if now >= vote.closes_at:
        raise ValidationError(_("Voting ended at %(time)s.") % {"time": moment_text(vote.closes_at)})
    roll = VoteEligibility.objects.select_for_update().filter(vote=vote, member=member).first()
    if roll is None:
        raise ValidationError(ineligibility_reason(member, vote))
    if VoteParticipation.objects.filter(vote=vote, member=member).exists():
        raise ValidationError(_("You have already voted in this vote; a ballot cannot be changed."))
    options = _chosen_options(vote, choices)
    try:
        with transaction.atomic():
            VoteParticipation.objects.create(vote=vote, member=member)
    except IntegrityError:
        raise ValidationError(_("You have already voted in this vote; a ballot cannot be changed.")) from None
    if vote.secret:
        ballot = SecretBallot.objects.create(vote=vote)
        SecretBallotChoice.objects.bulk_create([SecretBallotChoice(ballot=ballot, option=o) for o in options])
        _reseal_secret_ballots(vote)
    else:
        ballot = NamedBallot.objects.create(vote=vote, member=member, cast_at=now)
        NamedBallotChoice.objects.bulk_create([NamedBallotChoice(ballot=ballot, option=o) for o in options])


#
# Close
#
def _elected(vote: Vote, options: list[VoteOption], eligible: int) -> set:
    """Candidates elected: those whose votes meet the majority, the best `seats` of them; a tie for the
    last seat elects none of the tied (a further round decides)."""
    winners = sorted(
        (o for o in options if threshold_met(vote.majority_rule, o.tally, eligible)), key=lambda o: -o.tally
    )
    if len(winners) <= vote.seats:
        return {o.pk for o in winners}
    boundary = winners[vote.seats].tally
    return {o.pk for o in winners[: vote.seats] if o.tally > boundary}


@transaction.atomic
def vote_close(*, actor, vote: Vote) -> Vote:
    """Close an open vote and record its result (counted from the ballots by aggregate queries).

    Before the closing time a vote may be closed by hand only once the quorum is reached; at or after it
    (the beat sweep, actor=None, or a person) it always closes, with "no quorum" recorded when so.
    """
    _require_manage(actor, vote.branch)
    vote = _locked(vote)
    if vote.status != VoteStatus.OPEN:
        raise Conflict(_("Only an open vote can be closed."))
    now = timezone.now()
    eligible = vote.eligibility.count()
    cast = vote.participations.count()
    if cast != vote_ballot_count(vote=vote):  # both are written in one transaction: this cannot differ
        raise Conflict(_("The ballots do not match the participation record; the vote was not closed."))
    quorum = threshold_met(vote.quorum_rule, cast, eligible)
    if not quorum and now < vote.closes_at:
        raise ValidationError(
            _(
                "No quorum yet: %(cast)s of %(eligible)s members have voted and %(needed)s are needed. "
                "The vote cannot be closed early without a quorum; it closes by itself at %(time)s."
            )
            % {
                "cast": cast,
                "eligible": eligible,
                "needed": THRESHOLDS[vote.quorum_rule].needed(eligible),
                "time": moment_text(vote.closes_at),
            }
        )
    tallies = vote_tallies(vote=vote)
    options = list(vote.options.all())
    for option in options:
        option.tally = tallies.get(option.pk, 0)
        option.elected = None
    if not quorum:
        outcome = VoteOutcome.NO_QUORUM
    elif vote.kind == VoteKind.DECISION:
        votes_for = next((o.tally for o in options if o.code == DecisionChoice.FOR), 0)
        outcome = VoteOutcome.PASSED if threshold_met(vote.majority_rule, votes_for, eligible) else VoteOutcome.FAILED
    else:
        elected = _elected(vote, options, eligible)
        for option in options:
            option.elected = option.pk in elected
        outcome = VoteOutcome.PASSED if len(elected) == vote.seats else VoteOutcome.FAILED
    VoteOption.objects.bulk_update(options, ["tally", "elected"])
    vote.status = VoteStatus.CLOSED
    vote.eligible_count, vote.ballots_cast, vote.outcome = eligible, cast, outcome
    vote.closed_at = now
    vote.closed_by = actor if getattr(actor, "is_authenticated", False) else None
    vote.save(update_fields=["status", "eligible_count", "ballots_cast", "outcome", "closed_at", "closed_by"])
    audit_record(
        actor=actor,
        obj=vote,
        action="members.vote.closed",
        data={
            "eligible": eligible,
            "cast": cast,
            "outcome": outcome,
            "tallies": {o.label: o.tally for o in options},
            "automatic": actor is None,
        },
    )
    member_ids = list(vote.eligibility.values_list("member_id", flat=True))
    title = _("Result: %(title)s") % {"title": vote.title}
    body = _("%(outcome)s. %(cast)s of %(eligible)s members voted.") % {
        "outcome": VoteOutcome(outcome).label,
        "cast": cast,
        "eligible": eligible,
    }
    url = reverse("votes:vote_result", kwargs={"pk": vote.pk})
    transaction.on_commit(
        lambda: deliver(recipients=_users_of(member_ids), kind="members.vote.result", title=title, body=body, url=url)
    )
    return vote


def votes_close_due(*, vote_id) -> Vote | None:
    """Close one vote whose time is up (the sweep's per-vote step); a vote already closed is left alone."""
    vote = Vote.objects.filter(pk=vote_id).select_related("branch").first()
    if vote is None or vote.status != VoteStatus.OPEN or vote.closes_at > timezone.now():
        return None
    try:
        return vote_close(actor=None, vote=vote)
    except Conflict:  # closed meanwhile by a person
        return None
