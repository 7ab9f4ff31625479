"""Reads for the annual member appraisal: rounds in scope, the round sheet with peer-rating counts, a member's own.

Peer ratings leave this module only as counts per grade (and how many ratings a member gave), never
as "who rated whom": the round sheet is one aggregate query however many members the round has.
"""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from members.models import AppraisalRound, AppraisalSubject, PeerRating
from members.models.appraisal import AppraisalGrade, AppraisalStatus

#: annotation name of the peer-rating count for each grade on `appraisal_subject_rows`
GRADE_COUNT_FIELDS = {grade: f"rated_{grade}" for grade in AppraisalGrade.values}


def appraisal_round_list(*, actor, perm: str = "members.change"):
    """Rounds of branches in the actor's scope (members.change by default, see AppraisalRound.for_actor).

    Each row carries `appraised_count` and `graded_count`: one query for a page.
    """
    return (
        AppraisalRound.objects.for_actor(actor, perm)
        .select_related("branch")
        .annotate(
            appraised_count=Count("subjects"),
            graded_count=Count("subjects", filter=~Q(subjects__final_grade="")),
        )
    )


def appraisal_round_get(*, actor, pk, perm: str = "members.change") -> AppraisalRound:
    """One round in the actor's scope; AppraisalRound.DoesNotExist otherwise (a 404 for the caller)."""
    return AppraisalRound.objects.for_actor(actor, perm).select_related("branch").get(pk=pk)


def _subjects_with_counts(subjects):
    """`subjects` with `rated_<grade>` counts and `rated_total`, in name order. Only counts of ratings
    *received*: never who gave them, and no per-member count of ratings given (beside the counts received, in
    a small round it would tell who rated whom; see `appraisal_rater_count` for the branch-wide progress)."""
    counts = {
        field: Count("ratings_received", filter=Q(ratings_received__grade=grade))
        for grade, field in GRADE_COUNT_FIELDS.items()
    }
    return (
        subjects.select_related("member")
        .annotate(**counts, rated_total=Count("ratings_received"))
        .order_by("member__name_pinyin", "member__name", "pk")
    )


def appraisal_subject_rows(*, appraisal_round: AppraisalRound):
    """The members appraised in a round, each with `rated_<grade>` counts and `rated_total`: one query."""
    return _subjects_with_counts(AppraisalSubject.objects.filter(round=appraisal_round))


def appraisal_round_results_list(*, actor, perm: str = "members.change"):
    """`appraisal_round_list` plus `submitted_count` and, for CLOSED rounds only, `closed_rows`: their members
    with the rating counts (one prefetch query for a whole page of rounds). Open rounds show no grades."""
    closed = _subjects_with_counts(AppraisalSubject.objects.filter(round__status=AppraisalStatus.CLOSED))
    return (
        appraisal_round_list(actor=actor, perm=perm)
        .annotate(submitted_count=Count("subjects", filter=Q(subjects__submitted_at__isnull=False)))
        .prefetch_related(Prefetch("subjects", queryset=closed, to_attr="closed_rows"))
    )


def appraisal_rater_count(*, appraisal_round: AppraisalRound) -> int:
    """How many members of the round have handed in at least one rating (one query)."""
    return PeerRating.objects.filter(round=appraisal_round).values("rater_id").distinct().count()


def rating_distribution(subject: AppraisalSubject) -> list[tuple[str, str, int]]:
    """(grade, label, count) for a row of `appraisal_subject_rows`, in grade order (for templates)."""
    return [(grade, label, getattr(subject, GRADE_COUNT_FIELDS[grade], 0)) for grade, label in AppraisalGrade.choices]


@dataclass
class GradeSummary:
    """Final grades of a round so far, and whether 优秀 exceeds the round's cap (a warning, never a block)."""

    appraised: int
    counts: dict
    excellent_cap_percent: int

    @property
    def graded(self) -> int:
        return sum(self.counts.values())

    @property
    def missing(self) -> int:
        return self.appraised - self.graded

    @property
    def excellent(self) -> int:
        return self.counts.get(AppraisalGrade.EXCELLENT, 0)

    @property
    def excellent_cap(self) -> int:
        """The most members who may be graded excellent within the cap (rounded down)."""
        return self.appraised * self.excellent_cap_percent // 100

    @property
    def excellent_over_cap(self) -> bool:
        return self.excellent * 100 > self.appraised * self.excellent_cap_percent

    def rows(self) -> list[tuple[str, str, int]]:
        return [(grade, label, self.counts.get(grade, 0)) for grade, label in AppraisalGrade.choices]


def grade_summary_of(*, appraisal_round: AppraisalRound, subjects) -> GradeSummary:
    """Summary from already loaded rows (no query)."""
    counts = dict.fromkeys(AppraisalGrade.values, 0)
    appraised = 0
    for subject in subjects:
        appraised += 1
        if subject.final_grade:
            counts[subject.final_grade] += 1
    return GradeSummary(
        appraised=appraised, counts=counts, excellent_cap_percent=appraisal_round.excellent_cap_percent
    )


def appraisal_grade_summary(*, appraisal_round: AppraisalRound) -> GradeSummary:
    """Summary in one aggregate query (after a single row was graded)."""
    aggregates = AppraisalSubject.objects.filter(round=appraisal_round).aggregate(
        appraised=Count("pk"),
        **{grade: Count("pk", filter=Q(final_grade=grade)) for grade in AppraisalGrade.values},
    )
    appraised = aggregates.pop("appraised")
    return GradeSummary(
        appraised=appraised, counts=aggregates, excellent_cap_percent=appraisal_round.excellent_cap_percent
    )


#
# A member's own appraisal
#
def my_appraisal_list(*, user):
    """The rounds the user's member record is appraised in (opened ones only), newest first."""
    if not getattr(user, "is_authenticated", False):
        return AppraisalSubject.objects.none()
    return (
        AppraisalSubject.objects.filter(member__user_id=user.pk, round__deleted_at__isnull=True)
        .exclude(round__status=AppraisalStatus.DRAFT)
        .select_related("round", "round__branch")
        .order_by("-round__year", "round__branch__path")
    )


def my_appraisal_get(*, user, round_pk) -> AppraisalSubject:
    """The user's own place in one round; AppraisalSubject.DoesNotExist otherwise (a 404)."""
    return my_appraisal_list(user=user).get(round_id=round_pk)


def rating_sheet(*, rater: AppraisalSubject) -> list[tuple[AppraisalSubject, str]]:
    """The rater's peers in the round, each with the grade the rater gave (or ""): two queries."""
    given = dict(PeerRating.objects.filter(rater=rater).values_list("ratee_id", "grade"))
    peers = (
        AppraisalSubject.objects.filter(round_id=rater.round_id)
        .exclude(pk=rater.pk)
        .select_related("member")
        .order_by("member__name_pinyin", "member__name", "pk")
    )
    return [(peer, given.get(peer.pk, "")) for peer in peers]
