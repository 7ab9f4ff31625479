"""Worker services (DOMAIN.md §5): workers, cases with deadlines, referrals, stations, hardship aid.

Sensitive values (a worker's phone and citizen ID number) are stored like members' (members/crypto.py):
ciphertext, keyed hash for finding the same person again, last four characters and a stored mask.
Case deadlines are counted in working time (services/worktime.py); the status transitions live in
services/choices.py (CASE_TRANSITIONS) and are applied only by services/actions.py.
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
from members.choices import Occupation
from members.sensitive import SensitiveValuesMixin
from services.choices import (
    AidKind,
    AidStatus,
    Amenity,
    BreachKind,
    CaseEventKind,
    CasePriority,
    CaseStatus,
    IntakeChannel,
    PartnerKind,
    ReferralStatus,
    WishStatus,
)


class ScopedQuerySet(SyncedQuerySet):
    def for_actor(self, user, perm: str = "services.view"):
        """Rows whose owning branch lies in the actor's scope for `perm`."""
        from branches.permissions import branch_scope

        return self.filter(branch__in=branch_scope(user, perm))


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass


#
# Reference tables admins edit
#
class CaseType(models.Model):
    """A kind of request (wage arrears, occupational injury, hazard report …); seeded, edited in the admin.

    `route_to` sends every new case of the type to that partner automatically (hazards → street office).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)
    route_to = models.CharField(_("refer automatically to"), max_length=30, choices=PartnerKind.choices, blank=True)

    class Meta:
        verbose_name = _("case type")
        verbose_name_plural = _("case types")
        ordering = ["position", "code"]

    def __str__(self):
        return self.name


class SlaPolicy(models.Model):
    """Deadlines for one case type and priority, in working hours; settings.SERVICES_SLA_DEFAULTS otherwise."""

    case_type = models.ForeignKey(
        CaseType, verbose_name=_("case type"), on_delete=models.CASCADE, related_name="sla_policies"
    )
    priority = models.CharField(_("priority"), max_length=10, choices=CasePriority.choices)
    first_response_hours = models.PositiveSmallIntegerField(_("first response within (working hours)"))
    resolution_hours = models.PositiveSmallIntegerField(_("resolution within (working hours)"))

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        ordering = ["case_type", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["case_type", "priority"], name="sla_policy_unique"),
            models.CheckConstraint(condition=Q(first_response_hours__gt=0), name="sla_first_response_positive"),
            models.CheckConstraint(
                condition=Q(resolution_hours__gte=F("first_response_hours")), name="sla_resolution_after_response"
            ),
        ]

    def __str__(self):
        return f"{self.case_type} · {self.get_priority_display()}"


class HolidayOverride(models.Model):
    """A day declared a holiday or a (make-up) working day; wins over the chinese_calendar library.

    Needed for years the library does not know yet (the State Council publishes each year's plan in
    the previous November or December).
    """

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday or make-up working day")
        verbose_name_plural = _("holidays and make-up working days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.name}"


#
# Workers
#
class Worker(SensitiveValuesMixin, SyncedModel):
    """A person served (a member or not). One person is one worker: found again by phone or ID number."""

    sync_type = "worker"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="workers"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    phone_cipher = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_last4 = models.CharField(_("phone, last four"), max_length=4, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    citizen_id_cipher = models.TextField(blank=True, editable=False)
    citizen_id_hash = models.CharField(max_length=64, blank=True, editable=False)
    citizen_id_last4 = models.CharField(_("ID number, last four"), max_length=4, blank=True, editable=False)
    citizen_id_masked = models.CharField(_("citizen ID number"), max_length=18, blank=True, editable=False)
    platforms = models.ManyToManyField(
        "members.Platform", verbose_name=_("platforms"), blank=True, related_name="workers"
    )
    occupation = models.CharField(_("occupation"), max_length=30, choices=Occupation.choices, blank=True)
    area = models.CharField(_("area"), max_length=100, blank=True)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member record"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="worker_records",
    )

    objects = ScopedManager()
    all_objects = AllScopedManager()

    hash_phone = True

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        ordering = ["created_at", "id"]
        indexes = synced_indexes("worker")
        constraints = [
            models.UniqueConstraint(
                fields=["phone_hash"],
                condition=Q(deleted_at__isnull=True) & ~Q(phone_hash=""),
                name="worker_phone_unique",
                violation_error_message=_("A worker with this phone number already exists."),
            ),
            models.UniqueConstraint(
                fields=["citizen_id_hash"],
                condition=Q(deleted_at__isnull=True) & ~Q(citizen_id_hash=""),
                name="worker_citizen_id_unique",
                violation_error_message=_("A worker with this citizen ID number already exists."),
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="worker_external_ref_unique"
            ),
            models.CheckConstraint(
                condition=Q(occupation="") | Q(occupation__in=Occupation.values), name="worker_occupation_valid"
            ),
        ]

    def __str__(self):
        return self.name or self.phone_masked or str(_("Unnamed worker"))


#
# Stations
#
class Station(SyncedModel):
    """A service station (驿站) run by a branch: a place to rest, charge, ask for help, and meet."""

    sync_type = "station"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("running branch"), on_delete=models.PROTECT, related_name="stations"
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=300)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    amenities = models.JSONField(_("amenities"), default=list, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("open"), default=True)

    objects = ScopedManager()
    all_objects = AllScopedManager()

    class Meta:
        verbose_name = _("service station")
        verbose_name_plural = _("service stations")
        ordering = ["name", "id"]
        indexes = synced_indexes("station")
        constraints = [
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="station_external_ref_unique"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90), name="station_lat_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="station_lon_range",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        unknown = [a for a in (self.amenities or []) if a not in Amenity.values]
        if not isinstance(self.amenities, list) or unknown:
            raise ValidationError({"amenities": _("Choose amenities from the list.")})
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError({"longitude": _("Give both coordinates or neither.")})

    def get_amenities_display(self) -> list[str]:
        labels = dict(Amenity.choices)
        return [str(labels[a]) for a in self.amenities if a in labels]


class StationVisit(models.Model):
    """One visit to a station (a rest, a charge, a question); counted on the station pages and reports."""

    station = models.ForeignKey(Station, verbose_name=_("station"), on_delete=models.CASCADE, related_name="visits")
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    worker = models.ForeignKey(
        Worker, verbose_name=_("worker"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    purpose = models.CharField(_("purpose"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("station visit")
        verbose_name_plural = _("station visits")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.station} {self.at:%Y-%m-%d %H:%M}"


class Wish(models.Model):
    """A micro-wish (微心愿) posted at a station: claimed by a helper, then fulfilled."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    station = models.ForeignKey(Station, verbose_name=_("station"), on_delete=models.CASCADE, related_name="wishes")
    title = models.CharField(_("wish"), max_length=200)
    description = models.TextField(_("details"), blank=True)
    worker = models.ForeignKey(
        Worker, verbose_name=_("worker"), null=True, blank=True, on_delete=models.SET_NULL, related_name="wishes"
    )
    status = models.CharField(_("status"), max_length=10, choices=WishStatus.choices, default=WishStatus.POSTED)
    claimed_by = models.CharField(_("claimed by"), max_length=100, blank=True)
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("wish")
        verbose_name_plural = _("wishes")
        ordering = ["-posted_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=WishStatus.values), name="wish_status_valid"),
            models.CheckConstraint(
                condition=Q(status=WishStatus.POSTED) | (Q(claimed_at__isnull=False) & ~Q(claimed_by="")),
                name="wish_claimed_by_someone",
            ),
        ]

    def __str__(self):
        return self.title


#
# Cases
#
class Case(SyncedModel):
    """A request for help (诉求): its `branch` is the responsible branch.

    Deadlines: `first_response_due` and `resolution_due` are `opened_at` plus the policy's working hours
    plus `paused_seconds`, the working time the case spent with the clock stopped (waiting, resolved).
    While the clock is stopped `paused_since` holds when it stopped; leaving such a status adds the
    working time in between and recomputes both due times.
    """

    sync_type = "case"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("responsible branch"), on_delete=models.PROTECT, related_name="cases"
    )
    case_type = models.ForeignKey(CaseType, verbose_name=_("case type"), on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("description"))
    channel = models.CharField(_("intake channel"), max_length=20, choices=IntakeChannel.choices)
    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="cases")
    station = models.ForeignKey(
        Station, verbose_name=_("station"), null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
    )
    priority = models.CharField(_("priority"), max_length=10, choices=CasePriority.choices, default="normal")
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    tracking_code = models.CharField(_("tracking code"), max_length=12, unique=True, editable=False)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    first_responded_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True, db_index=True)
    paused_seconds = models.PositiveIntegerField(_("working seconds paused"), default=0)
    paused_since = models.DateTimeField(_("clock stopped since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution_summary = models.TextField(_("resolution summary"), blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    suspected_spam = models.BooleanField(_("suspected spam"), default=False, db_index=True)
    spam_reasons = models.JSONField(_("spam signals"), default=list, blank=True)
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)

    objects = ScopedManager()
    all_objects = AllScopedManager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["created_at", "id"]
        indexes = [
            *synced_indexes("case"),
            models.Index(fields=["status", "created_at", "id"], name="case_status_page_idx"),
            models.Index(fields=["assignee", "status"], name="case_assignee_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="case_external_ref_unique"
            ),
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="case_status_valid"),
            models.CheckConstraint(condition=Q(priority__in=CasePriority.values), name="case_priority_valid"),
            models.CheckConstraint(condition=Q(channel__in=IntakeChannel.values), name="case_channel_valid"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="case_rating_range"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(status__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED]),
                name="case_rated_when_done",
            ),
        ]

    def __str__(self):
        return f"{self.tracking_code} · {self.case_type}"

    @property
    def clock_stopped(self) -> bool:
        return self.paused_since is not None

    @property
    def is_breached(self) -> bool:
        """Whether a breach was recorded (prefetch `breaches` on lists)."""
        return bool(self.breaches.all())


class CaseEvent(models.Model):
    """One line of a case's timeline: a note (internal or public), a status or field change, a file."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=CaseEventKind.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_public = models.BooleanField(_("shown to the worker"), default=False)
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    file = models.FileField(_("file"), upload_to="services/attachments/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_size = models.PositiveIntegerField(_("size"), null=True, blank=True)
    content_type = models.CharField(_("file type"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_timeline_idx")]

    def __str__(self):
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class CaseBreach(models.Model):
    """A missed deadline. Recorded once per case and kind, never removed; `notified_at` makes escalation once."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="breaches")
    kind = models.CharField(_("deadline"), max_length=20, choices=BreachKind.choices)
    due_at = models.DateTimeField(_("was due at"))
    at = models.DateTimeField(_("recorded at"), default=timezone.now)
    notified_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("missed deadline")
        verbose_name_plural = _("missed deadlines")
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="case_breach_once")]

    def __str__(self):
        return f"{self.case} · {self.get_kind_display()}"


class Referral(models.Model):
    """A case handed to a partner (labour bureau, mediation, legal aid …), with the partner's own status."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="referrals")
    partner_kind = models.CharField(_("partner"), max_length=30, choices=PartnerKind.choices)
    partner_name = models.CharField(_("partner name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=ReferralStatus.choices, default="sent")
    note = models.TextField(_("note"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["sent_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"),
            models.CheckConstraint(condition=Q(partner_kind__in=PartnerKind.values), name="referral_partner_valid"),
        ]

    def __str__(self):
        return f"{self.get_partner_kind_display()}: {self.partner_name}"


class FollowUp(models.Model):
    """A follow-up visit or call some days after resolution; the assignee is reminded when it falls due."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="follow_ups")
    due_on = models.DateField(_("due on"), db_index=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on"]

    def __str__(self):
        return f"{self.case} · {self.due_on}"


#
# Hardship aid
#
class HardshipAid(models.Model):
    """Hardship aid (帮扶) for a worker or a member, approved by an officer; totals per branch and year."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="hardship_aid"
    )
    worker = models.ForeignKey(
        Worker, verbose_name=_("worker"), null=True, blank=True, on_delete=models.PROTECT, related_name="aid"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hardship_aid",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AidKind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    granted_on = models.DateField(_("date"))
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=AidStatus.choices, default=AidStatus.PENDING)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("hardship aid")
        verbose_name_plural = _("hardship aid")
        ordering = ["-granted_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(worker__isnull=False, member__isnull=True) | Q(worker__isnull=True, member__isnull=False),
                name="aid_one_recipient",
                violation_error_message=_("Aid goes to either a worker or a member."),
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="aid_amount_positive"),
            models.CheckConstraint(condition=Q(kind__in=AidKind.values), name="aid_kind_valid"),
            models.CheckConstraint(
                condition=Q(status=AidStatus.PENDING) | Q(approved_by__isnull=False, decided_at__isnull=False),
                name="aid_decided_by_someone",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    @property
    def recipient(self):
        return self.worker or self.member


#
# Dashboard aggregates (config/dashboard/refresh.py writes them; services/stats.py reads them)
#
class CaseDayStat(models.Model):
    """Cases of a subtree of several organisations per local day: opened, resolved (first resolution), rated 1–5.

    Written by `services.stats.case_stats_write` for every branch with sub-organisations, suspected spam left
    out: one row per day with any of these, and one marker row (`day` empty) saying the branch was counted.
    Breaches are not stored: a case counts once per month however many deadlines it missed (see case_months).
    """

    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"), null=True, blank=True)
    opened = models.PositiveIntegerField(_("opened"), default=0)
    resolved = models.PositiveIntegerField(_("resolved"), default=0)
    rated_1 = models.PositiveIntegerField(default=0)
    rated_2 = models.PositiveIntegerField(default=0)
    rated_3 = models.PositiveIntegerField(default=0)
    rated_4 = models.PositiveIntegerField(default=0)
    rated_5 = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("case figure")
        verbose_name_plural = _("case figures")
        constraints = [
            models.UniqueConstraint(fields=["branch", "day"], name="casedaystat_unique"),
        ]

    def __str__(self):
        return f"{self.branch_id} {self.day}: {self.opened}/{self.resolved}"
