"""Party members (DOMAIN.md §3): the 16 national items, the emerging-sector extras, and affiliations.

Sensitive values (citizen ID number, phone) are never stored in plain text. Each has a ciphertext
column (MultiFernet, see members/crypto.py), a stored mask for lists, and the last four characters
for search; the ID number also has a keyed hash for exact lookup and uniqueness among live members.
Set them through the `citizen_id` and `phone` properties, which fill every column at once.

Indexes, for a scoped, filtered page of 50 among 100,000 members on PostgreSQL:
- `member_page_idx` (created_at, id) WHERE deleted_at IS NULL: the cursor order of every list, so a
  page walks the index and stops after 51 rows instead of sorting the table;
- `branch_id` (foreign key): the scope and `?branch=` subtree filters, joined through branches' path index;
- `name`, `name_pinyin`, `name_initials`, `phone_last4`, `citizen_id_last4`: b-tree indexes; for the
  CharFields Django adds a `varchar_pattern_ops` twin on PostgreSQL, so prefix searches
  (`LIKE 'zs%'`) use an index too;
- `member_citizen_id_unique` (citizen_id_hash) WHERE deleted_at IS NULL: exact ID lookup and uniqueness;
- `unit_id` (foreign key) and the platform link table's (platform_id, member_id) pair;
- `updated_at` (from SyncedModel): `?updated_since=`.
Low-selectivity filters (category, status, occupation) have no index of their own: they match a large
share of rows, so walking `member_page_idx` and filtering finds a page of 50 quickly.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import SyncedModel, SyncedQuerySet
from members.choices import (
    CURRENT_STATUSES,
    IMPORT_RUNNING_STATUSES,
    AffiliationKind,
    Education,
    Ethnicity,
    ImportFormat,
    ImportMode,
    ImportStatus,
    MemberCategory,
    MemberStatus,
    Occupation,
    Sex,
)
from members.pinyin import name_keys
from members.sensitive import SensitiveValuesMixin
from members.validators import citizen_id_birth_date, citizen_id_sex


class Platform(models.Model):
    """A platform company people work for (Meituan, Ele.me, SF, JD, DiDi …); a reference table."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")
        ordering = ["position", "code"]

    def __str__(self):
        return self.name


class MemberQuerySet(SyncedQuerySet):
    def for_actor(self, user, perm: str = "members.view"):
        """Members whose formal branch lies in the actor's scope for `perm`."""
        from branches.permissions import branch_scope

        return self.filter(branch__in=branch_scope(user, perm))

    def current(self):
        """People who still belong to their branch (not removed, not deceased)."""
        return self.filter(status__in=CURRENT_STATUSES)

    def voting(self, on_date: datetime.date | None = None):
        """Members with a vote on `on_date` (today by default), at their formal branch only.

        Full members only: not probationary, not under 留党察看, membership in normal standing.
        Affiliations (functional, building, host branches) never give a vote.
        """
        on_date = on_date or timezone.localdate()
        return self.filter(
            category=MemberCategory.FULL,
            status=MemberStatus.NORMAL,
            under_probation_discipline=False,
            joined_on__lte=on_date,
        ).filter(Q(full_member_on__isnull=True) | Q(full_member_on__lte=on_date))


class MemberManager(models.Manager.from_queryset(MemberQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllMembersManager(models.Manager.from_queryset(MemberQuerySet)):
    pass


class Member(SensitiveValuesMixin, SyncedModel):
    """A party member's record; `branch` is the one formal branch (正式组织关系)."""

    sync_type = "member"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("formal branch"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("name"), max_length=100, db_index=True)
    name_pinyin = models.CharField(_("name in pinyin"), max_length=400, db_index=True, editable=False)
    name_initials = models.CharField(_("pinyin initials"), max_length=100, db_index=True, editable=False)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    citizen_id_cipher = models.TextField(editable=False)
    citizen_id_hash = models.CharField(max_length=64, editable=False)
    citizen_id_last4 = models.CharField(_("ID number, last four"), max_length=4, db_index=True, editable=False)
    citizen_id_masked = models.CharField(_("citizen ID number"), max_length=18, editable=False)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, choices=Ethnicity.choices, blank=True)
    birth_date = models.DateField(_("birth date"))
    education = models.CharField(_("education"), max_length=30, choices=Education.choices, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=MemberCategory.choices)
    joined_on = models.DateField(_("joined the party on"))
    full_member_on = models.DateField(_("full member since"), null=True, blank=True)
    job_title = models.CharField(_("job or post"), max_length=100, blank=True)
    phone_cipher = models.TextField(blank=True, editable=False)
    phone_last4 = models.CharField(_("phone, last four"), max_length=4, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    address = models.CharField(_("home address"), max_length=300, blank=True)
    status = models.CharField(_("membership status"), max_length=20, choices=MemberStatus.choices)
    lost_contact = models.BooleanField(_("lost contact"), default=False)
    lost_contact_since = models.DateField(_("lost contact since"), null=True, blank=True)
    is_mobile = models.BooleanField(_("mobile member"), default=False)
    mobile_destination = models.CharField(_("where the mobile member went"), max_length=200, blank=True)
    # Emerging-sector extras
    occupation = models.CharField(_("occupation"), max_length=30, choices=Occupation.choices, blank=True)
    platforms = models.ManyToManyField(Platform, verbose_name=_("platforms"), blank=True, related_name="members")
    unit = models.ForeignKey(
        "branches.Unit",
        verbose_name=_("employing unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    shows_identity = models.BooleanField(_("shows party identity at work"), default=False)
    under_probation_discipline = models.BooleanField(
        _("under probation within the party"), default=False, help_text=_("留党察看: no vote while it lasts.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member_records",
    )

    objects = MemberManager()
    all_objects = AllMembersManager()

    # Plain values, known after a set or a first read; never saved.

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["created_at", "id"], condition=Q(deleted_at__isnull=True), name="member_page_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["citizen_id_hash"],
                condition=Q(deleted_at__isnull=True),
                name="member_citizen_id_unique",
                violation_error_message=_("A member with this citizen ID number already exists."),
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(deleted_at__isnull=True, user__isnull=False),
                name="member_user_unique",
                violation_error_message=_("This user account already belongs to another member."),
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="member_external_ref_unique"
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="member_sex_valid"),
            models.CheckConstraint(condition=Q(category__in=MemberCategory.values), name="member_category_valid"),
            models.CheckConstraint(condition=Q(status__in=MemberStatus.values), name="member_status_valid"),
            models.CheckConstraint(
                condition=Q(ethnicity="") | Q(ethnicity__in=Ethnicity.values), name="member_ethnicity_valid"
            ),
            models.CheckConstraint(
                condition=Q(education="") | Q(education__in=Education.values), name="member_education_valid"
            ),
            models.CheckConstraint(
                condition=Q(occupation="") | Q(occupation__in=Occupation.values), name="member_occupation_valid"
            ),
            models.CheckConstraint(
                condition=~Q(citizen_id_hash="") & ~Q(citizen_id_cipher=""), name="member_citizen_id_present"
            ),
            models.CheckConstraint(condition=Q(joined_on__gt=F("birth_date")), name="member_joined_after_birth"),
            models.CheckConstraint(
                condition=Q(full_member_on__isnull=True) | Q(category=MemberCategory.FULL),
                name="member_full_date_only_full",
            ),
            models.CheckConstraint(
                condition=Q(full_member_on__isnull=True) | Q(full_member_on__gte=F("joined_on")),
                name="member_full_after_joined",
            ),
            models.CheckConstraint(
                condition=Q(lost_contact=False, lost_contact_since__isnull=True)
                | Q(lost_contact=True, lost_contact_since__isnull=False),
                name="member_lost_contact_dated",
            ),
            models.CheckConstraint(
                condition=Q(is_mobile=False, mobile_destination="") | (Q(is_mobile=True) & ~Q(mobile_destination="")),
                name="member_mobile_destination",
            ),
        ]

    def __str__(self):
        return self.name

    def set_name(self, name: str) -> None:
        """Set the name and its pinyin search keys together."""
        self.name = name
        self.name_pinyin, self.name_initials = name_keys(name)

    #
    # Derived facts
    #
    @property
    def has_voting_rights(self) -> bool:
        """Whether the member votes at the formal branch today (same rule as MemberQuerySet.voting)."""
        today = timezone.localdate()
        return (
            self.deleted_at is None
            and self.category == MemberCategory.FULL
            and self.status == MemberStatus.NORMAL
            and not self.under_probation_discipline
            and self.joined_on <= today
            and (self.full_member_on is None or self.full_member_on <= today)
        )

    def clean(self):
        """One-row rules; each error names the field to correct."""
        errors: dict[str, list] = {}

        def add(field, message):
            errors.setdefault(field, []).append(message)

        today = timezone.localdate()
        if self.full_member_on and self.category != MemberCategory.FULL:
            add("full_member_on", _("Only a full member has a date of becoming a full member."))
        if self.joined_on and self.joined_on > today:
            add("joined_on", _("The date of joining cannot be in the future."))
        if self.full_member_on and self.full_member_on > today:
            add("full_member_on", _("The date of becoming a full member cannot be in the future."))
        if self.joined_on and self.full_member_on and self.full_member_on < self.joined_on:
            add("full_member_on", _("A member becomes a full member after joining, not before."))
        if self.joined_on and self.birth_date and self.joined_on <= self.birth_date:
            add("joined_on", _("The date of joining must be after the birth date."))
        if self.lost_contact and not self.lost_contact_since:
            add("lost_contact_since", _("Give the date since when contact was lost."))
        if not self.lost_contact and self.lost_contact_since:
            add("lost_contact_since", _("Only a member who lost contact has this date."))
        if self.lost_contact_since and self.lost_contact_since > today:
            add("lost_contact_since", _("This date cannot be in the future."))
        if self.is_mobile and not self.mobile_destination.strip():
            add("mobile_destination", _("Say where the mobile member has gone."))
        if not self.is_mobile and self.mobile_destination:
            add("mobile_destination", _("Only a mobile member has a destination."))
        if self.citizen_id_cipher:
            number = self.citizen_id
            if self.birth_date and self.birth_date != citizen_id_birth_date(number):
                add("birth_date", _("The birth date does not match the citizen ID number."))
            if self.sex and self.sex != citizen_id_sex(number):
                add("sex", _("The sex does not match the citizen ID number."))
        if errors:
            raise ValidationError(errors)


class Affiliation(models.Model):
    """A member's part in a branch other than the formal one: functional, building or host (流入地).

    It gives participation, never a vote; the formal branch cannot be an affiliation (checked by
    the action, since it spans two tables). One open affiliation per member and branch.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="affiliations")
    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="affiliations"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AffiliationKind.choices)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")
        ordering = ["started_on", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AffiliationKind.values), name="affiliation_kind_valid"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="affiliation_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["member", "branch"],
                condition=Q(ended_on__isnull=True),
                name="affiliation_one_open_per_branch",
                violation_error_message=_("The member already takes part in this branch."),
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.get_kind_display()} · {self.branch}"

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    def clean(self):
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": _("The end date cannot be before the start date.")})


#
# Import jobs
#
class ImportJob(models.Model):
    """One upload of a member file: checked first (preview), then written in one transaction.

    The uploaded file is kept encrypted under a random name (`file_name`) until the import is done or
    fails; nothing about it (name, errors) ever holds an ID number. `row_errors` is the report of bad
    rows, `[[row number, [[column, message], ...]], ...]`, with the column as the file names it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: Started by `manage.py import_members`: no user, the whole tree is in scope.
    by_system = models.BooleanField(_("started by a command"), default=False)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    file_name = models.CharField(_("stored file"), max_length=200, blank=True)
    file_format = models.CharField(_("format"), max_length=10, choices=ImportFormat.choices)
    file_size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    default_branch = models.ForeignKey(
        "branches.Branch",
        verbose_name=_("organisation for rows without one"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    mode = models.CharField(_("import mode"), max_length=20, choices=ImportMode.choices, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    rows_valid = models.PositiveIntegerField(_("valid rows"), default=0)
    rows_invalid = models.PositiveIntegerField(_("bad rows"), default=0)
    rows_created = models.PositiveIntegerField(_("members created"), default=0)
    error = models.TextField(_("error"), blank=True)
    row_errors = models.JSONField(_("bad rows"), default=list, blank=True)

    class Meta:
        verbose_name = _("member import")
        verbose_name_plural = _("member imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="importjob_status_valid"),
            models.CheckConstraint(condition=Q(mode="") | Q(mode__in=ImportMode.values), name="importjob_mode_valid"),
        ]

    def __str__(self):
        return f"{_('member import')} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.status in IMPORT_RUNNING_STATUSES

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_done / self.rows_total))
