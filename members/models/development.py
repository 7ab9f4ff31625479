"""Member development (发展党员, DOMAIN.md §3): applicants, their 25 steps, assembly votes, interval table.

Why applicants are a separate record and not members with a stage: an applicant, activist or
development target is not a party member. Member lists, branch counts, quorums, ballots and dues all
start from `Member`; keeping applicants out of that table means none of them can ever be counted by
mistake. An `Applicant` is linked to the `Member` created for them when the upper committee approves
the admission (step 17, joined_on = the assembly date), and keeps its own timeline afterwards, through
probation, to full membership (or cancellation).
"""

import uuid

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import SyncedModel
from members import crypto


class DevelopmentStage(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    ACTIVIST = "activist", _("Activist")
    TARGET = "target", _("Development target")
    PROBATIONARY = "probationary", _("Probationary member")
    FULL = "full", _("Full member")


class StepCode(models.TextChoices):
    """The 25 steps, in their order (发展党员工作流程)."""

    APPLICATION_SUBMITTED = "application_submitted", _("1. Application submitted")
    TALK_HELD = "talk_held", _("2. Talk with the applicant")
    ACTIVIST_CHOSEN = "activist_chosen", _("3. Chosen as activist")
    ACTIVIST_FILED = "activist_filed", _("4. Activist filed with the upper committee")
    MENTORS_ASSIGNED = "mentors_assigned", _("5. Mentors assigned")
    ACTIVIST_REVIEWED = "activist_reviewed", _("6. Training and review of the activist")
    TARGET_CHOSEN = "target_chosen", _("7. Chosen as development target")
    TARGET_FILED = "target_filed", _("8. Target filed with the upper committee")
    SPONSORS_ASSIGNED = "sponsors_assigned", _("9. Sponsors assigned")
    POLITICAL_REVIEW = "political_review", _("10. Political review")
    SHORT_TRAINING = "short_training", _("11. Short training")
    COMMITTEE_REVIEW = "committee_review", _("12. Branch committee review and public notice")
    UPPER_PREREVIEW = "upper_prereview", _("13. Upper committee pre-review")
    APPLICATION_FORM = "application_form", _("14. Application form filled in")
    ADMISSION_VOTE = "admission_vote", _("15. Branch assembly admits")
    UPPER_TALK = "upper_talk", _("16. Talk by the upper committee")
    ADMISSION_APPROVED = "admission_approved", _("17. Upper committee approves the admission")
    ADMISSION_FILED = "admission_filed", _("18. Filed with the organisation department")
    ASSIGNED_TO_GROUP = "assigned_to_group", _("19. Assigned to branch and group")
    OATH = "oath", _("20. Oath")
    PROBATION_REVIEWED = "probation_reviewed", _("21. Education and review during probation")
    FULL_APPLICATION = "full_application", _("22. Application for full membership")
    FULL_VOTE = "full_vote", _("23. Branch assembly makes a full member")
    FULL_APPROVED = "full_approved", _("24. Upper committee approves full membership")
    ARCHIVED = "archived", _("25. Papers archived")


STEP_ORDER = list(StepCode.values)

#: Which stage each step belongs to (a step moves the applicant into its stage).
STEP_STAGE = {
    **dict.fromkeys(STEP_ORDER[0:2], DevelopmentStage.APPLICANT),
    **dict.fromkeys(STEP_ORDER[2:6], DevelopmentStage.ACTIVIST),
    **dict.fromkeys(STEP_ORDER[6:11], DevelopmentStage.TARGET),
    **dict.fromkeys(STEP_ORDER[11:21], DevelopmentStage.PROBATIONARY),
    **dict.fromkeys(STEP_ORDER[21:25], DevelopmentStage.FULL),
}

#: Steps done again and again (reviews), each with its own row; every other step is done once.
REPEATABLE_STEPS = frozenset({StepCode.ACTIVIST_REVIEWED, StepCode.PROBATION_REVIEWED})

#: Steps recorded by their own action (a vote), never by the plain step form.
VOTE_STEPS = frozenset({StepCode.ADMISSION_VOTE, StepCode.FULL_VOTE})

#: What must be done before each step (impossible orders are refused). Within a stage the later steps
#: need the stage's first step; a stage's first step needs every one-off step of the stage before;
#: the admission and the full membership follow their prescribed sequence.
S = StepCode
STEP_REQUIRES: dict[str, tuple[str, ...]] = {
    S.APPLICATION_SUBMITTED: (),
    S.TALK_HELD: (S.APPLICATION_SUBMITTED,),
    S.ACTIVIST_CHOSEN: (S.TALK_HELD,),
    S.ACTIVIST_FILED: (S.ACTIVIST_CHOSEN,),
    S.MENTORS_ASSIGNED: (S.ACTIVIST_CHOSEN,),
    S.ACTIVIST_REVIEWED: (S.ACTIVIST_CHOSEN,),
    S.TARGET_CHOSEN: (S.ACTIVIST_FILED, S.MENTORS_ASSIGNED),
    S.TARGET_FILED: (S.TARGET_CHOSEN,),
    S.SPONSORS_ASSIGNED: (S.TARGET_CHOSEN,),
    S.POLITICAL_REVIEW: (S.TARGET_CHOSEN,),
    S.SHORT_TRAINING: (S.TARGET_CHOSEN,),
    S.COMMITTEE_REVIEW: (S.TARGET_FILED, S.SPONSORS_ASSIGNED, S.POLITICAL_REVIEW, S.SHORT_TRAINING),
    S.UPPER_PREREVIEW: (S.COMMITTEE_REVIEW,),
    S.APPLICATION_FORM: (S.UPPER_PREREVIEW,),
    S.ADMISSION_VOTE: (S.APPLICATION_FORM,),
    S.UPPER_TALK: (S.ADMISSION_VOTE,),
    S.ADMISSION_APPROVED: (S.UPPER_TALK,),
    S.ADMISSION_FILED: (S.ADMISSION_APPROVED,),
    S.ASSIGNED_TO_GROUP: (S.ADMISSION_APPROVED,),
    S.OATH: (S.ADMISSION_APPROVED,),
    S.PROBATION_REVIEWED: (S.ADMISSION_APPROVED,),
    S.FULL_APPLICATION: (S.ADMISSION_APPROVED,),
    S.FULL_VOTE: (S.FULL_APPLICATION,),
    S.FULL_APPROVED: (S.FULL_VOTE,),
    S.ARCHIVED: (S.FULL_APPROVED,),
}
del S


class ApplicantStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    PROBATION = "probation", _("On probation")
    FULL = "full", _("Full member")
    CANCELLED = "cancelled", _("Probation cancelled")
    CLOSED = "closed", _("Development ended")


class VotePurpose(models.TextChoices):
    ADMISSION = "admission", _("Admission as probationary member")
    FULL = "full", _("Full membership")


class IntervalCode(models.TextChoices):
    TALK_WITHIN = "talk_within", _("Talk with the applicant within")
    ACTIVIST_MIN = "activist_min", _("Activist at least")
    REVIEW_EVERY = "review_every", _("Review at least every")
    APPROVAL_WITHIN = "approval_within", _("Upper approval within")
    PROBATION = "probation", _("Probation lasts")
    EXTENSION_MIN = "extension_min", _("Extension of probation at least")
    EXTENSION_MAX = "extension_max", _("Extension of probation at most")
    DUE_SOON = "due_soon", _("List as due soon within")


#: The rules' lengths, used by the seed and when a row is missing: (months, days).
INTERVAL_DEFAULTS: dict[str, tuple[int, int]] = {
    IntervalCode.TALK_WITHIN: (1, 0),
    IntervalCode.ACTIVIST_MIN: (12, 0),
    IntervalCode.REVIEW_EVERY: (6, 0),
    IntervalCode.APPROVAL_WITHIN: (3, 0),
    IntervalCode.PROBATION: (12, 0),
    IntervalCode.EXTENSION_MIN: (6, 0),
    IntervalCode.EXTENSION_MAX: (12, 0),
    IntervalCode.DUE_SOON: (0, 30),
}


class DevelopmentInterval(models.Model):
    """An interval length of the development rules; edited in the admin, seeded with the rules' values."""

    code = models.CharField(_("interval"), max_length=30, choices=IntervalCode.choices, unique=True)
    months = models.PositiveSmallIntegerField(_("months"), default=0)
    days = models.PositiveSmallIntegerField(_("days"), default=0)

    class Meta:
        verbose_name = _("development interval")
        verbose_name_plural = _("development intervals")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__in=IntervalCode.values), name="devinterval_code_valid"),
        ]

    def __str__(self):
        return f"{self.get_code_display()}: {self.months}m {self.days}d"

    @property
    def delta(self) -> relativedelta:
        return relativedelta(months=self.months, days=self.days)


class Applicant(SyncedModel):
    """A person on the way to membership at `branch`; `member` is set when the admission is approved.

    The citizen ID number is stored like a member's (ciphertext, keyed hash, mask), since it is copied
    to the member record on admission.
    """

    sync_type = "applicant"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="applicants"
    )
    name = models.CharField(_("name"), max_length=100)
    citizen_id_cipher = models.TextField(editable=False)
    citizen_id_hash = models.CharField(max_length=64, editable=False, db_index=True)
    citizen_id_masked = models.CharField(_("citizen ID number"), max_length=18, editable=False)
    sex = models.CharField(_("sex"), max_length=10)
    birth_date = models.DateField(_("birth date"))
    phone_cipher = models.TextField(blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    occupation = models.CharField(_("occupation"), max_length=30, blank=True)
    applied_on = models.DateField(_("applied on"))
    stage = models.CharField(
        _("stage"), max_length=20, choices=DevelopmentStage.choices, default=DevelopmentStage.APPLICANT
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ApplicantStatus.choices, default=ApplicantStatus.IN_PROGRESS
    )
    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applicant",
    )
    probation_ends_on = models.DateField(_("probation ends on"), null=True, blank=True)
    extension_months = models.PositiveSmallIntegerField(_("probation extended by (months)"), null=True, blank=True)
    extension_reason = models.CharField(_("reason for the extension"), max_length=300, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=DevelopmentStage.values), name="applicant_stage_valid"),
            models.CheckConstraint(condition=Q(status__in=ApplicantStatus.values), name="applicant_status_valid"),
            models.CheckConstraint(condition=Q(applied_on__gt=F("birth_date")), name="applicant_applied_after_birth"),
            models.UniqueConstraint(
                fields=["citizen_id_hash"],
                condition=Q(deleted_at__isnull=True, status__in=["in_progress", "probation"]),
                name="applicant_one_open_per_person",
                violation_error_message=_("This person is already on the way to membership."),
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="applicant_external_ref_unique"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def citizen_id(self) -> str:
        return crypto.decrypt(self.citizen_id_cipher)

    @citizen_id.setter
    def citizen_id(self, value: str) -> None:
        self.citizen_id_cipher = crypto.encrypt(value)
        self.citizen_id_hash = crypto.lookup_hash(value)
        self.citizen_id_masked = crypto.mask_citizen_id(value)

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_cipher) if self.phone_cipher else ""

    @phone.setter
    def phone(self, value: str) -> None:
        self.phone_cipher = crypto.encrypt(value) if value else ""
        self.phone_masked = crypto.mask_phone(value) if value else ""

    @property
    def is_open(self) -> bool:
        return self.status in (ApplicantStatus.IN_PROGRESS, ApplicantStatus.PROBATION)

    def clean(self):
        if self.applied_on and self.applied_on > timezone.localdate():
            raise ValidationError({"applied_on": _("The application date cannot be in the future.")})


def _document_size(file) -> None:
    limit = getattr(settings, "DEVELOPMENT_DOCUMENT_MAX_BYTES", 10 << 20)
    if file.size > limit:
        raise ValidationError(
            _("A document may be at most %(mb)s MB.") % {"mb": limit // (1 << 20)}, code="file_too_large"
        )


DOCUMENT_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "doc", "docx"]


class DevelopmentStep(models.Model):
    """One step done for an applicant: its date, who did it, notes and attached documents."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = models.ForeignKey(
        Applicant, verbose_name=_("applicant"), on_delete=models.CASCADE, related_name="steps"
    )
    code = models.CharField(_("step"), max_length=30, choices=StepCode.choices)
    done_on = models.DateField(_("date"))
    actor_name = models.CharField(
        _("done by"), max_length=100, blank=True, help_text=_("Who held the talk, chose, reviewed or approved.")
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("development step")
        verbose_name_plural = _("development steps")
        ordering = ["done_on", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(code__in=StepCode.values), name="devstep_code_valid"),
            models.UniqueConstraint(
                fields=["applicant", "code"],
                condition=~Q(code__in=sorted(REPEATABLE_STEPS)),
                name="devstep_once",
                violation_error_message=_("This step has already been recorded."),
            ),
        ]

    def __str__(self):
        return f"{self.applicant} · {self.get_code_display()}"

    @property
    def position(self) -> int:
        return STEP_ORDER.index(self.code) + 1


class StepDocument(models.Model):
    """A scanned paper attached to a step (application letter, review record, approval)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    step = models.ForeignKey(DevelopmentStep, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(
        _("document"),
        upload_to="development/%Y/%m/",
        validators=[FileExtensionValidator(DOCUMENT_EXTENSIONS), _document_size],
    )
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("step document")
        verbose_name_plural = _("step documents")
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.name


class AssemblyVote(models.Model):
    """A branch assembly vote on an applicant, with the attendance and the count.

    `entitled` is the number of the branch's voting members on the date (full members only), taken
    when the vote is recorded; quorum: attendance > half of it; adopted: yes > half of it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = models.ForeignKey(
        Applicant, verbose_name=_("applicant"), on_delete=models.CASCADE, related_name="votes"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=VotePurpose.choices)
    held_on = models.DateField(_("held on"))
    entitled = models.PositiveIntegerField(_("members entitled to vote"))
    attendance = models.PositiveIntegerField(_("voting members present"))
    yes = models.PositiveIntegerField(_("yes"))
    no = models.PositiveIntegerField(_("no"))
    abstain = models.PositiveIntegerField(_("abstain"))
    adopted = models.BooleanField(_("adopted"))
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("assembly vote")
        verbose_name_plural = _("assembly votes")
        ordering = ["held_on", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(purpose__in=VotePurpose.values), name="assemblyvote_purpose_valid"),
            models.CheckConstraint(
                condition=Q(attendance__lte=F("entitled")), name="assemblyvote_attendance_within_entitled"
            ),
            models.CheckConstraint(
                condition=Q(attendance__gte=F("yes") + F("no") + F("abstain")), name="assemblyvote_ballots_within"
            ),
            models.CheckConstraint(
                condition=Q(adopted=False) | Q(GreaterThan(F("yes") * 2, F("entitled"))),
                name="assemblyvote_adopted_majority",
            ),
        ]

    def __str__(self):
        return f"{self.applicant} · {self.held_on} · {self.yes}/{self.no}/{self.abstain}"


class DevelopmentReminderLog(models.Model):
    """One development deadline reminder to one person; the unique key means it is never sent twice."""

    applicant = models.ForeignKey(Applicant, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)
    due_on = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["applicant", "recipient", "kind", "due_on"], name="devreminder_once"),
        ]

    def __str__(self):
        return f"{self.applicant_id} {self.kind} {self.due_on}"
