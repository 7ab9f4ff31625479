"""Activities (DOMAIN.md §4): meetings, lectures and study sessions, their series, invitations and attendance.

Every occurrence is a real Activity row (the API's "one row per occurrence"): a series creates its rows
up to a horizon and a beat task extends them. Invitees are computed (selectors.activity_invitees) from the
host branches' subtrees, affiliations and named invitations, never copied into a table.
"""

import datetime
import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.choices import (
    ActivityKind,
    ActivityMode,
    ActivityStatus,
    AttendanceMethod,
    CompliancePeriod,
    LeaveStatus,
)
from core.models import StoredFileBase, SyncedModel, SyncedQuerySet, synced_indexes

DEFAULT_TIME_ZONE = "Asia/Shanghai"


def default_reminder_offsets() -> list[int]:
    """Minutes before the start when reminders go out: one day and one hour."""
    return [1440, 60]


def _validate_offsets(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, int) and 0 <= v <= 60 * 24 * 30 for v in value):
        raise ValidationError(_("Enter a list of minutes before the start, each from 0 to 43200."), code="invalid")


class ActivityFields(models.Model):
    """What an activity and the template of a series have in common."""

    kind = models.CharField(_("kind"), max_length=30, choices=ActivityKind.choices, default=ActivityKind.STUDY)
    title = models.CharField(_("title"), max_length=200)
    agenda = models.TextField(_("agenda"), blank=True)
    mode = models.CharField(_("mode"), max_length=10, choices=ActivityMode.choices, default=ActivityMode.OFFLINE)
    venue = models.CharField(_("venue"), max_length=300, blank=True, help_text=_("Where to meet in person."))
    online_link = models.URLField(_("online link"), max_length=500, blank=True)
    capacity = models.PositiveIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Leave empty for no limit."),
    )
    credited_hours = models.DecimalField(
        _("credited study hours"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    reminder_offsets = models.JSONField(
        _("reminders (minutes before)"), default=default_reminder_offsets, blank=True, validators=[_validate_offsets]
    )

    class Meta:
        abstract = True

    def clean_mode(self, errors: dict) -> None:
        needs_venue = self.mode in (ActivityMode.OFFLINE, ActivityMode.HYBRID)
        needs_link = self.mode in (ActivityMode.ONLINE, ActivityMode.HYBRID)
        if needs_venue and not (self.venue or "").strip():
            errors.setdefault("venue", []).append(_("Give a venue for a meeting in person."))
        if needs_link and not (self.online_link or "").strip():
            errors.setdefault("online_link", []).append(_("Give the link of the online meeting."))


def _mode_constraint(prefix: str) -> models.CheckConstraint:
    offline = Q(mode=ActivityMode.OFFLINE) & ~Q(venue="")
    online = Q(mode=ActivityMode.ONLINE) & ~Q(online_link="")
    hybrid = Q(mode=ActivityMode.HYBRID) & ~Q(venue="") & ~Q(online_link="")
    return models.CheckConstraint(condition=offline | online | hybrid, name=f"{prefix}_mode_place")


class ActivitySeries(ActivityFields):
    """A recurring activity: an RFC 5545 RRULE in a time zone, plus the fields each occurrence starts with.

    The rule is read in local wall time (`starts_on` + `start_time` in `time_zone`), so a weekly 19:30
    stays 19:30. It must end (COUNT or UNTIL, at most two years); skipped dates are kept in `exdates`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("host organisation"), on_delete=models.PROTECT, related_name="+"
    )
    co_hosts = models.ManyToManyField(
        "branches.Branch", verbose_name=_("co-hosting organisations"), blank=True, related_name="+"
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rrule = models.CharField(_("recurrence rule"), max_length=500, help_text=_("e.g. FREQ=WEEKLY;BYDAY=WE;COUNT=10"))
    time_zone = models.CharField(_("time zone"), max_length=64, default=DEFAULT_TIME_ZONE)
    starts_on = models.DateField(_("first date"))
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), validators=[MinValueValidator(1)])
    exdates = models.JSONField(_("skipped dates"), default=list, blank=True)
    #: Occurrences exist up to (not including) this time; series_extend carries on from here.
    generated_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("activity series")
        verbose_name_plural = _("activity series")
        ordering = ["starts_on", "start_time"]
        constraints = [_mode_constraint("activityseries")]

    def __str__(self):
        return f"{self.title} ({self.rrule})"

    def clean(self):
        errors: dict[str, list] = {}
        self.clean_mode(errors)
        if errors:
            raise ValidationError(errors)


def _hosted_in(scope, activity_ref: str = "pk") -> models.Q:
    """The activity (`activity_ref` from the outer query) is hosted or co-hosted by a branch of `scope`.

    Co-hosts are an EXISTS over the link table, not a join: no duplicate rows, no DISTINCT, one query.
    """
    co_hosted = Activity.co_hosts.through.objects.filter(
        activity_id=models.OuterRef(activity_ref), branch_id__in=scope.values("pk")
    )
    return models.Q(branch__in=scope) | models.Exists(co_hosted)


class ActivityQuerySet(SyncedQuerySet):
    def for_actor(self, user, perm: str = "activities.view"):
        """Activities whose host branch, or one of whose co-hosting branches, lies in the actor's scope.

        Who may *change* an activity is still decided on the host branch alone, by the actions.
        """
        from branches.permissions import branch_scope

        return self.filter(_hosted_in(branch_scope(user, perm)))


class ActivityManager(models.Manager.from_queryset(ActivityQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Activity(ActivityFields, SyncedModel):
    """One meeting, lecture or study session; `branch` is the host branch and decides who may see it."""

    sync_type = "activity"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("host organisation"), on_delete=models.PROTECT, related_name="activities"
    )
    co_hosts = models.ManyToManyField(
        "branches.Branch",
        verbose_name=_("co-hosting organisations"),
        blank=True,
        related_name="cohosted_activities",
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organised_activities",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.PLANNED, db_index=True
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    series = models.ForeignKey(
        ActivitySeries,
        verbose_name=_("series"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="occurrences",
    )
    #: The start the series rule gave this occurrence (its identity within the series, even once moved).
    series_occurrence = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ActivityManager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["starts_at", "id"]
        indexes = [
            *synced_indexes("activity"),
            models.Index(fields=["branch", "starts_at"], name="activity_branch_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="activity_ends_after_start",
                violation_error_message=_("The end must be after the start."),
            ),
            models.CheckConstraint(condition=Q(kind__in=ActivityKind.values), name="activity_kind_valid"),
            models.CheckConstraint(condition=Q(mode__in=ActivityMode.values), name="activity_mode_valid"),
            models.CheckConstraint(condition=Q(status__in=ActivityStatus.values), name="activity_status_valid"),
            models.CheckConstraint(condition=Q(credited_hours__gte=0), name="activity_hours_not_negative"),
            models.CheckConstraint(condition=Q(capacity__isnull=True) | Q(capacity__gte=1), name="activity_capacity"),
            _mode_constraint("activity"),
            models.UniqueConstraint(
                fields=["series", "series_occurrence"],
                condition=Q(series__isnull=False, deleted_at__isnull=True),
                name="activity_series_occurrence_unique",
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="activity_external_ref_unique"
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        errors: dict[str, list] = {}
        self.clean_mode(errors)
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors.setdefault("ends_at", []).append(_("The end must be after the start."))
        if errors:
            raise ValidationError(errors)

    @property
    def local_date(self) -> datetime.date:
        return timezone.localtime(self.starts_at).date()

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_open(self) -> bool:
        """Still planned: it may be changed, cancelled, or checked into."""
        return self.status == ActivityStatus.PLANNED


class ActivityInvite(models.Model):
    """A person invited by name, beyond the host branches' members and affiliates."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="invites"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="activity_invites"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("named invitee")
        verbose_name_plural = _("named invitees")
        constraints = [models.UniqueConstraint(fields=["activity", "member"], name="activity_invite_unique")]

    def __str__(self):
        return f"{self.activity} · {self.member}"


def attachment_path(instance: "ActivityAttachment", filename: str) -> str:
    """A random stored name (the original name is kept in `name`): no guessing, no clashes."""
    suffix = filename.rsplit(".", 1)[-1].lower()[:10] if "." in filename else "bin"
    return f"activities/{instance.activity_id}/{uuid.uuid4().hex}.{suffix}"


class ActivityAttachment(StoredFileBase):
    """A file added to an activity afterwards (minutes scan, photos, slides); limits in settings."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.name


class AttendanceQuerySet(SyncedQuerySet):
    def for_actor(self, user, perm: str = "activities.view"):
        """Attendances of the activities the actor sees (host or co-host in scope), as Activity.for_actor."""
        from branches.permissions import branch_scope

        return self.filter(_hosted_in(branch_scope(user, perm), "activity_id"))


class AttendanceManager(models.Manager.from_queryset(AttendanceQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Attendance(SyncedModel):
    """A member's presence at an activity (or make-up credit for it); `branch` is the activity's host branch.

    One live row per activity and member, so a double scan cannot record twice; a device's `nonce`
    is unique per activity, so the same upload sent twice finds the first row.
    """

    sync_type = "attendance"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("host organisation"), on_delete=models.PROTECT, related_name="+"
    )
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="attendances"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.PROTECT, related_name="attendances"
    )
    method = models.CharField(_("method"), max_length=10, choices=AttendanceMethod.choices)
    checked_in_at = models.DateTimeField(_("checked in at"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    nonce = models.UUIDField(_("device nonce"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AttendanceManager()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["checked_in_at", "id"]
        indexes = synced_indexes("attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "member"],
                condition=Q(deleted_at__isnull=True),
                name="attendance_once_per_member",
                violation_error_message=_("This member is already checked in."),
            ),
            models.UniqueConstraint(
                fields=["activity", "nonce"], condition=Q(nonce__isnull=False), name="attendance_nonce_unique"
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="attendance_external_ref_unique"
            ),
            models.CheckConstraint(condition=Q(method__in=AttendanceMethod.values), name="attendance_method_valid"),
            models.CheckConstraint(
                condition=~Q(method=AttendanceMethod.MAKEUP) | Q(duration_minutes__gt=0),
                name="attendance_makeup_has_duration",
            ),
        ]

    def __str__(self):
        return f"{self.activity} · {self.member}"


class LeaveRequest(models.Model):
    """A member's request to be excused from an activity, with a reason; the organiser decides."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="leave_requests"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="leave_requests"
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=LeaveStatus.choices, default=LeaveStatus.PENDING)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("note on the decision"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("leave request")
        verbose_name_plural = _("leave requests")
        ordering = ["requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "member"],
                name="leave_once_per_member",
                violation_error_message=_("You have already asked for leave from this activity."),
            ),
            models.CheckConstraint(condition=Q(status__in=LeaveStatus.values), name="leave_status_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="leave_reason_given"),
        ]

    def __str__(self):
        return f"{self.activity} · {self.member} · {self.get_status_display()}"


#
# Reminders
#
class ReminderBatch(models.Model):
    """One due reminder of one activity (offset at a start time) whose log is complete; or the cancellation
    notice (offset -1). The sweep skips completed batches, so a sent reminder costs nothing afterwards."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    offset = models.IntegerField(_("minutes before"))
    starts_at = models.DateTimeField(_("start time"))
    completed_at = models.DateTimeField(_("completed at"), default=timezone.now)
    sent = models.PositiveIntegerField(_("sent"), default=0)

    class Meta:
        verbose_name = _("reminder batch")
        verbose_name_plural = _("reminder batches")
        constraints = [
            models.UniqueConstraint(fields=["activity", "offset", "starts_at"], name="reminder_batch_unique")
        ]

    def __str__(self):
        return f"{self.activity_id} {self.offset} {self.starts_at:%Y-%m-%d %H:%M}"


class ReminderLog(models.Model):
    """The send log: one row per (activity, recipient, offset, start time), claimed before sending.

    A row is claimed by a conditional UPDATE (sent_at IS NULL and no live claim), so two sweeps never
    both own it; a claim older than the lease (a worker died) may be taken over.
    """

    id = models.BigAutoField(primary_key=True)
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="reminder_logs")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    offset = models.IntegerField(_("minutes before"))
    starts_at = models.DateTimeField(_("start time"))
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    channels = models.CharField(_("channels"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "member", "offset", "starts_at"], name="reminder_log_once_per_recipient"
            )
        ]
        indexes = [models.Index(fields=["claim"], name="reminder_log_claim_idx")]

    def __str__(self):
        return f"{self.activity_id} {self.member_id} {self.offset}"


#
# Compliance (三会一课)
#
def _branch_kinds_default() -> list[str]:
    return ["branch", "general_branch"]


class ComplianceRule(models.Model):
    """A required kind of activity with its frequency (DOMAIN.md §4), editable in the admin."""

    kind = models.CharField(_("kind"), max_length=30, choices=ActivityKind.choices)
    period = models.CharField(_("period"), max_length=10, choices=CompliancePeriod.choices)
    min_count = models.PositiveSmallIntegerField(_("at least"), default=1, validators=[MinValueValidator(1)])
    branch_kinds = models.JSONField(
        _("applies to organisation kinds"),
        default=_branch_kinds_default,
        help_text=_('Organisation kinds, e.g. ["branch", "general_branch"].'),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("compliance rule")
        verbose_name_plural = _("compliance rules")
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "period"], name="compliance_rule_unique"),
            models.CheckConstraint(condition=Q(period__in=CompliancePeriod.values), name="compliance_period_valid"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.min_count}/{self.get_period_display()}"

    def clean(self):
        from branches.choices import BranchKind

        if not isinstance(self.branch_kinds, list) or not set(self.branch_kinds) <= set(BranchKind.values):
            raise ValidationError({"branch_kinds": _("Give a list of organisation kinds.")})


class ComplianceReminderLog(models.Model):
    """The secretary was reminded of a missing meeting: once per branch, rule and period."""

    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(ComplianceRule, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["branch", "rule", "period_start"], name="compliance_reminder_once")
        ]

    def __str__(self):
        return f"{self.branch_id} {self.rule_id} {self.period_start}"


#
# Calendar feeds
#
def _feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeedToken(models.Model):
    """A secret, revocable iCal URL for one member's activities or one branch's."""

    token = models.CharField(max_length=64, unique=True, default=_feed_token, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+"
    )
    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("organisation"), null=True, blank=True, on_delete=models.CASCADE
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), null=True, blank=True, on_delete=models.CASCADE
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(branch__isnull=False) & Q(member__isnull=True))
                | (Q(branch__isnull=True) & Q(member__isnull=False)),
                name="calendar_feed_one_subject",
            )
        ]

    def __str__(self):
        return str(self.branch or self.member)


#
# Dashboard aggregates (config/dashboard/refresh.py writes them; activities/stats.py reads them)
#
class ComplianceStat(models.Model):
    """Met (branch, period) slots of one compliance rule over a subtree of several organisations.

    Written by `activities.stats.compliance_stats_write` for every branch with sub-organisations: one row per
    rule and period in which at least one organisation of the subtree met the rule (`met` organisations), and
    one marker row per rule (`period_start` empty) recording the rule as counted (`min_count`, `branch_kinds`)
    and the days covered (`since` … `until`). A period with no row had no organisation meeting the rule.
    """

    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(ComplianceRule, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField(_("period start"), null=True, blank=True)
    met = models.PositiveIntegerField(_("organisations that met the rule"), default=0)
    min_count = models.PositiveSmallIntegerField(_("at least"), default=1)
    branch_kinds = models.JSONField(_("organisation kinds"), default=list, blank=True)
    since = models.DateField(_("counted from"), null=True, blank=True)
    until = models.DateField(_("counted until"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("compliance figure")
        verbose_name_plural = _("compliance figures")
        constraints = [
            models.UniqueConstraint(fields=["branch", "rule", "period_start"], name="compliancestat_unique"),
        ]

    def __str__(self):
        return f"{self.branch_id} {self.rule_id} {self.period_start}: {self.met}"
