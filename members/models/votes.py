"""Branch votes (表决/选举, DOMAIN.md §2 and §6): a decision or an election, its roll, and its ballots.

Who may vote is frozen when the vote opens (`VoteEligibility`): full members of the branch as their formal
branch, in normal standing, not under 留党察看 (MemberQuerySet.voting). Members transferred away or
disciplined mid-vote keep their place on the roll, so the denominator of the quorum never moves.

Two kinds of ballot, never mixed within one vote:
- a named (open) vote keeps `NamedBallot` rows: who voted, when, and for what;
- a secret vote keeps `SecretBallot` rows: a random id and the choices, nothing else (see its docstring).
Either way `VoteParticipation` records *that* a member voted; its unique key is what refuses a second ballot.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import SyncedModel, synced_indexes
from members.voting_rules import ThresholdRule


class VoteKind(models.TextChoices):
    DECISION = "decision", _("Decision")
    ELECTION = "election", _("Candidate election")


class VoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class VoteOutcome(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    NO_QUORUM = "no_quorum", _("No quorum")


class DecisionChoice(models.TextChoices):
    """The fixed options of a decision; a candidate of an election has no code."""

    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    ABSTAIN = "abstain", _("Abstain")


class Vote(SyncedModel):
    """A vote of a branch's members on a decision or a candidate election, with its result once closed.

    `quorum_rule` counts ballots cast against the members entitled to vote; `majority_rule` counts the
    votes for (a decision) or for a candidate against the same entitled members (应到会, the party rules'
    base). Both are copied from settings.VOTES_DEFAULT_RULES when the vote is created and may be changed
    while it is a draft. The result columns are written once, by the close.
    """

    sync_type = "vote"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="votes"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=VoteKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    secret = models.BooleanField(
        _("secret ballot"), default=False, help_text=_("Nothing links a voter to the choices of a secret ballot.")
    )
    seats = models.PositiveSmallIntegerField(
        _("seats"),
        default=1,
        help_text=_("Elections: how many candidates are elected; a ballot names up to this many."),
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    status = models.CharField(_("status"), max_length=20, choices=VoteStatus.choices, default=VoteStatus.DRAFT)
    quorum_rule = models.CharField(_("quorum"), max_length=30, choices=ThresholdRule.choices)
    majority_rule = models.CharField(_("majority"), max_length=30, choices=ThresholdRule.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True, editable=False)
    # The result, recorded by the close.
    eligible_count = models.PositiveIntegerField(_("members entitled to vote"), null=True, blank=True, editable=False)
    ballots_cast = models.PositiveIntegerField(_("ballots cast"), null=True, blank=True, editable=False)
    outcome = models.CharField(_("outcome"), max_length=20, choices=VoteOutcome.choices, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["-opens_at", "-created_at"]
        indexes = [
            *synced_indexes("vote"),
            models.Index(fields=["status", "closes_at"], name="vote_status_closes_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=VoteKind.values), name="vote_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=VoteStatus.values), name="vote_status_valid"),
            models.CheckConstraint(condition=Q(quorum_rule__in=ThresholdRule.values), name="vote_quorum_rule_valid"),
            models.CheckConstraint(
                condition=Q(majority_rule__in=ThresholdRule.values), name="vote_majority_rule_valid"
            ),
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="vote_closes_after_opens"),
            models.CheckConstraint(condition=Q(seats__gte=1), name="vote_seats_positive"),
            models.CheckConstraint(condition=Q(kind=VoteKind.ELECTION) | Q(seats=1), name="vote_decision_one_seat"),
            models.CheckConstraint(
                condition=Q(status=VoteStatus.CLOSED, closed_at__isnull=False, eligible_count__isnull=False)
                & Q(ballots_cast__isnull=False, outcome__in=VoteOutcome.values)
                | (~Q(status=VoteStatus.CLOSED) & Q(closed_at__isnull=True, outcome="")),
                name="vote_result_when_closed",
            ),
            models.CheckConstraint(
                condition=Q(ballots_cast__isnull=True) | Q(ballots_cast__lte=F("eligible_count")),
                name="vote_ballots_within_eligible",
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="vote_external_ref_unique"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def max_choices(self) -> int:
        return self.seats if self.kind == VoteKind.ELECTION else 1


class VoteOption(models.Model):
    """A choice on the ballot: a candidate of an election, or for / against / abstain of a decision.

    `tally` and `elected` are written by the close (aggregated from the ballots), never before.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, verbose_name=_("vote"), on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("option"), max_length=200)
    code = models.CharField(_("code"), max_length=20, choices=DecisionChoice.choices, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    tally = models.PositiveIntegerField(_("votes"), null=True, blank=True, editable=False)
    elected = models.BooleanField(_("elected"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("vote option")
        verbose_name_plural = _("vote options")
        ordering = ["position", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["vote", "label"],
                name="voteoption_label_unique",
                violation_error_message=_("Each option of a vote must be different."),
            ),
            models.CheckConstraint(
                condition=Q(code="") | Q(code__in=DecisionChoice.values), name="voteoption_code_valid"
            ),
        ]

    def __str__(self):
        return self.label


class VoteEligibility(models.Model):
    """One member on a vote's roll, taken when the vote opens; the quorum's denominator is the roll's size."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="eligibility")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="vote_eligibility")

    class Meta:
        verbose_name = _("vote eligibility")
        verbose_name_plural = _("vote eligibility")
        constraints = [
            models.UniqueConstraint(fields=["vote", "member"], name="voteeligibility_once"),
        ]

    def __str__(self):
        return f"{self.vote_id} {self.member_id}"


class VoteParticipation(models.Model):
    """That a member has voted (never what). Its unique key is the database's guarantee of one ballot each.

    No timestamp and a random key: for a secret vote, nothing here can be ordered against the ballots.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="participations")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="vote_participations")

    class Meta:
        verbose_name = _("vote participation")
        verbose_name_plural = _("vote participations")
        constraints = [
            models.UniqueConstraint(
                fields=["vote", "member"],
                name="voteparticipation_once",
                violation_error_message=_("You have already voted."),
            ),
        ]

    def __str__(self):
        return f"{self.vote_id} {self.member_id}"


class NamedBallot(models.Model):
    """A ballot of an open (named) vote: who voted, when, and the choices (NamedBallotChoice)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="named_ballots")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="named_ballots")
    cast_at = models.DateTimeField(_("cast at"))

    class Meta:
        verbose_name = _("named ballot")
        verbose_name_plural = _("named ballots")
        constraints = [
            models.UniqueConstraint(fields=["vote", "member"], name="namedballot_once"),
        ]

    def __str__(self):
        return f"{self.vote_id} {self.member_id}"


class NamedBallotChoice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ballot = models.ForeignKey(NamedBallot, on_delete=models.CASCADE, related_name="choices")
    option = models.ForeignKey(VoteOption, on_delete=models.CASCADE, related_name="named_choices")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "option"], name="namedballotchoice_once"),
        ]

    def __str__(self):
        return f"{self.ballot_id} {self.option_id}"


class SecretBallot(models.Model):
    """A ballot of a secret vote: a random id and the vote, nothing else; the choices hang off it.

    No member, no timestamp, no serial key: nothing in the row, or in its choices' rows, can be joined
    or ordered against VoteParticipation. Ballot and participation are written in one transaction, so the
    one residual channel is the physical order of rows in the tables (an administrator reading the raw
    heap could line up insertion order with the participation table's); pages, the API and the admin
    only ever show aggregates (counts per option), never ballot rows.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="secret_ballots")

    class Meta:
        verbose_name = _("secret ballot")
        verbose_name_plural = _("secret ballots")

    def __str__(self):
        return str(self.vote_id)


class SecretBallotChoice(models.Model):
    """One option marked on a secret ballot (random key, like the ballot)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ballot = models.ForeignKey(SecretBallot, on_delete=models.CASCADE, related_name="choices")
    option = models.ForeignKey(VoteOption, on_delete=models.CASCADE, related_name="secret_choices")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "option"], name="secretballotchoice_once"),
        ]

    def __str__(self):
        return f"{self.ballot_id} {self.option_id}"
