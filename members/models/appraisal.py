"""Annual member appraisal (民主评议党员, DOMAIN.md §4): rounds, the members appraised, and peer ratings.

A branch opens at most one round a year. Opening snapshots the branch's current members (full and
probationary, in normal standing) as AppraisalSubject rows, so later transfers do not change the round.
Each subject writes a self-assessment, rates the other subjects (PeerRating: one per rater and ratee,
shown to the branch only as counts per grade), and the committee sets a final grade.

Why the rater is an AppraisalSubject and not a Member: only the appraised members rate, and with both
ends being subjects the database can check that nobody rates themself.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import SyncedModel, SyncedQuerySet, synced_indexes


class AppraisalGrade(models.TextChoices):
    """The four grades of 民主评议, used for peer ratings and final grades alike."""

    EXCELLENT = "excellent", _("Excellent")  # 优秀
    QUALIFIED = "qualified", _("Qualified")  # 合格
    BASICALLY_QUALIFIED = "basically_qualified", _("Basically qualified")  # 基本合格
    UNQUALIFIED = "unqualified", _("Unqualified")  # 不合格


class AppraisalStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open: self-assessment and peer rating")
    RATING_CLOSED = "rating_closed", _("Rating closed: grading")
    CLOSED = "closed", _("Closed")


class AppraisalRoundQuerySet(SyncedQuerySet):
    def for_actor(self, user, perm: str = "members.change"):
        """Rounds of branches in the actor's scope for `perm`.

        The default is members.change: peer-rating counts and grades are personnel judgements, seen by
        the people who keep the member records (secretary, officer, admin), not by organisers.
        """
        from branches.permissions import branch_scope

        return self.filter(branch__in=branch_scope(user, perm))


class AppraisalRoundManager(models.Manager.from_queryset(AppraisalRoundQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AppraisalRound(SyncedModel):
    """One branch's appraisal for one year; at most one live round per branch and year.

    Deadlines are inclusive local dates: self-assessments are edited until `self_assessment_due`,
    ratings given or changed until `rating_due`. `excellent_cap_percent` is the [practice] share of
    优秀 among those appraised above which grading warns (never blocks).
    """

    sync_type = "appraisal_round"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="appraisal_rounds"
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    status = models.CharField(
        _("status"), max_length=20, choices=AppraisalStatus.choices, default=AppraisalStatus.DRAFT
    )
    self_assessment_due = models.DateField(_("self-assessments due"))
    rating_due = models.DateField(_("peer ratings due"))
    excellent_cap_percent = models.PositiveSmallIntegerField(
        _("cap on “excellent” (percent of those appraised)"),
        validators=[MaxValueValidator(100)],
        help_text=_("Grading warns when more members than this share are graded excellent."),
    )
    note = models.TextField(_("note"), blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True, editable=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = AppraisalRoundManager()

    class Meta:
        verbose_name = _("appraisal round")
        verbose_name_plural = _("appraisal rounds")
        ordering = ["-year", "branch__path"]
        indexes = synced_indexes("appraisalround")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "year"],
                condition=Q(deleted_at__isnull=True),
                name="appraisalround_one_per_branch_year",
                violation_error_message=_("This branch already has an appraisal round for this year."),
            ),
            models.UniqueConstraint(
                fields=["external_ref"],
                condition=Q(external_ref__isnull=False),
                name="appraisalround_external_ref_unique",
            ),
            models.CheckConstraint(condition=Q(status__in=AppraisalStatus.values), name="appraisalround_status_valid"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="appraisalround_year_range"),
            models.CheckConstraint(condition=Q(excellent_cap_percent__lte=100), name="appraisalround_cap_percent"),
            models.CheckConstraint(
                condition=Q(rating_due__gte=F("self_assessment_due")), name="appraisalround_deadlines_ordered"
            ),
            models.CheckConstraint(
                condition=Q(status=AppraisalStatus.DRAFT) | Q(opened_at__isnull=False),
                name="appraisalround_opened_dated",
            ),
            models.CheckConstraint(
                condition=Q(status=AppraisalStatus.CLOSED, closed_at__isnull=False)
                | (~Q(status=AppraisalStatus.CLOSED) & Q(closed_at__isnull=True)),
                name="appraisalround_closed_dated",
            ),
        ]

    def __str__(self):
        return _("%(branch)s · appraisal %(year)s") % {"branch": self.branch, "year": self.year}

    @property
    def self_assessment_open(self) -> bool:
        return self.status == AppraisalStatus.OPEN and timezone.localdate() <= self.self_assessment_due

    @property
    def rating_open(self) -> bool:
        return self.status == AppraisalStatus.OPEN and timezone.localdate() <= self.rating_due

    @property
    def is_closed(self) -> bool:
        return self.status == AppraisalStatus.CLOSED

    def clean(self):
        if self.self_assessment_due and self.rating_due and self.rating_due < self.self_assessment_due:
            raise ValidationError(
                {"rating_due": _("Peer ratings cannot be due before the self-assessments they follow.")}
            )


class AppraisalSubject(models.Model):
    """A member appraised in a round (snapshotted when the round opens): self-assessment and final grade.

    A final grade of 不合格 needs a written reason (checked in the database too).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(
        AppraisalRound, verbose_name=_("appraisal round"), on_delete=models.CASCADE, related_name="subjects"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.PROTECT, related_name="appraisals"
    )
    #: the member's category when the round opened (full or probationary)
    category = models.CharField(_("category"), max_length=20, editable=False)
    self_assessment = models.TextField(_("self-assessment"), blank=True)
    submitted_at = models.DateTimeField(_("self-assessment submitted"), null=True, blank=True, editable=False)
    final_grade = models.CharField(_("final grade"), max_length=20, choices=AppraisalGrade.choices, blank=True)
    grade_reason = models.TextField(_("reason"), blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    graded_at = models.DateTimeField(_("graded at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("member appraised")
        verbose_name_plural = _("members appraised")
        ordering = ["round", "member__name_pinyin", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "member"],
                name="appraisalsubject_one_per_round",
                violation_error_message=_("This member is already appraised in this round."),
            ),
            models.CheckConstraint(
                condition=Q(final_grade="") | Q(final_grade__in=AppraisalGrade.values),
                name="appraisalsubject_grade_valid",
            ),
            models.CheckConstraint(
                condition=~Q(final_grade=AppraisalGrade.UNQUALIFIED) | ~Q(grade_reason=""),
                name="appraisalsubject_unqualified_reason",
                violation_error_message=_("Give a written reason for the grade “unqualified”."),
            ),
            models.CheckConstraint(
                condition=Q(final_grade="", graded_at__isnull=True)
                | (~Q(final_grade="") & Q(graded_at__isnull=False)),
                name="appraisalsubject_graded_dated",
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.round.year}"


class PeerRating(models.Model):
    """One member's rating of another in a round (民主测评); changeable until the rating deadline.

    Never shown with its rater: pages and exports give counts per grade only.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(
        AppraisalRound, verbose_name=_("appraisal round"), on_delete=models.CASCADE, related_name="ratings"
    )
    rater = models.ForeignKey(
        AppraisalSubject, verbose_name=_("rater"), on_delete=models.CASCADE, related_name="ratings_given"
    )
    ratee = models.ForeignKey(
        AppraisalSubject, verbose_name=_("member rated"), on_delete=models.CASCADE, related_name="ratings_received"
    )
    grade = models.CharField(_("grade"), max_length=20, choices=AppraisalGrade.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("peer rating")
        verbose_name_plural = _("peer ratings")
        constraints = [
            models.UniqueConstraint(fields=["round", "rater", "ratee"], name="peerrating_one_per_pair"),
            models.CheckConstraint(condition=~Q(rater=F("ratee")), name="peerrating_not_self"),
            models.CheckConstraint(condition=Q(grade__in=AppraisalGrade.values), name="peerrating_grade_valid"),
        ]
        indexes = [models.Index(fields=["ratee", "grade"], name="peerrating_ratee_grade_idx")]

    def __str__(self):
        return f"{self.round_id} · {self.get_grade_display()}"
