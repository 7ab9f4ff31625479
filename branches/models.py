"""The organisation tree (DOMAIN.md §2): branches, the units they cover, roles and committee seats.

The tree is stored as a materialised path: `path` is the chain of ancestor ids ("/<id>/<id>/").
"Is X under Y" is a string prefix test and "everything under Y" is one indexed `LIKE 'path%'`
(Django adds a varchar_pattern_ops index on PostgreSQL), whatever the size of the tree.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc

from branches.choices import BranchBasis, BranchKind, CommitteePost, EconomicType, Role, UnitSize, UnitType
from core.models import SyncedModel, SyncedQuerySet, synced_indexes

#: Term lengths in years by kind [rule]: 基层党委 5 years; 总支 and 支部 3 years. Groups have no term.
TERM_YEARS = {BranchKind.COMMITTEE: 5, BranchKind.GENERAL_BRANCH: 3, BranchKind.BRANCH: 3}


def validate_credit_code(value: str) -> None:
    """Unified social credit code (GB 32100-2015): 18 characters with a check character."""
    if not uscc.is_valid(value):
        raise ValidationError(_("Enter a valid unified social credit code (18 characters)."), code="invalid")


class BranchQuerySet(SyncedQuerySet):
    def for_actor(self, user, perm: str = "branches.view"):
        from branches.permissions import branch_scope

        return self.filter(pk__in=branch_scope(user, perm).values("pk"))

    def subtree_of(self, branch: "Branch"):
        """The branch and everything under it."""
        return self.filter(path__startswith=branch.path)


class BranchManager(models.Manager.from_queryset(BranchQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Branch(SyncedModel):
    """A node of the organisation tree: committee, general branch, branch or group."""

    sync_type = "branch"

    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=2000, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=BranchKind.choices, default=BranchKind.BRANCH)
    basis = models.CharField(_("setting basis"), max_length=20, choices=BranchBasis.choices, default=BranchBasis.UNIT)
    is_joint = models.BooleanField(_("joint branch"), default=False, help_text=_("Covers several small units."))
    is_temporary = models.BooleanField(_("temporary branch"), default=False)
    is_functional = models.BooleanField(_("functional branch"), default=False)
    units = models.ManyToManyField("branches.Unit", verbose_name=_("units covered"), blank=True, related_name="+")
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    elected_on = models.DateField(_("elected on"), null=True, blank=True)
    term_years = models.PositiveSmallIntegerField(_("term length (years)"), null=True, blank=True)
    term_extension_months = models.PositiveSmallIntegerField(_("approved extension (months)"), default=0)
    term_expires_on = models.DateField(_("term expires on"), null=True, blank=True, db_index=True, editable=False)
    # Kept current by the members app (members import branches, never the other way round).
    member_count = models.PositiveIntegerField(_("members"), default=0, editable=False)
    full_member_count = models.PositiveIntegerField(_("full members"), default=0, editable=False)

    objects = BranchManager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["path"]
        indexes = synced_indexes("branch")
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="branch_not_own_parent"),
            models.CheckConstraint(condition=Q(kind__in=BranchKind.values), name="branch_kind_valid"),
            models.CheckConstraint(condition=Q(basis__in=BranchBasis.values), name="branch_basis_valid"),
            models.CheckConstraint(condition=Q(term_extension_months__lte=12), name="branch_extension_max_1y"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90), name="branch_lat_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="branch_lng_range",
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="branch_external_ref_unique"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def owner_branch_id(self):
        return self.parent_id

    def is_under(self, other: "Branch") -> bool:
        """True when self is `other` or one of its descendants (no query)."""
        return self.path.startswith(other.path)

    def ancestor_ids(self) -> list[str]:
        """Ids from the root down to self, read from the path (no query)."""
        return [part for part in self.path.strip("/").split("/") if part]

    @staticmethod
    def path_for(branch_id, parent: "Branch | None") -> str:
        segment = f"{branch_id.hex}/"
        return f"{parent.path}{segment}" if parent else f"/{segment}"


class Unit(SyncedModel):
    """An enterprise or social organisation that branches cover."""

    sync_type = "unit"

    branch = models.ForeignKey(
        Branch, verbose_name=_("owning branch"), on_delete=models.PROTECT, related_name="owned_units"
    )
    name = models.CharField(_("name"), max_length=200)
    # NULL when unknown, so uniqueness applies only to units that have a code.
    credit_code = models.CharField(  # noqa: DJ001
        _("unified social credit code"), max_length=18, null=True, blank=True, validators=[validate_credit_code]
    )
    unit_type = models.CharField(_("type"), max_length=30, choices=UnitType.choices, default=UnitType.ENTERPRISE)
    size = models.CharField(_("size"), max_length=10, choices=UnitSize.choices, default=UnitSize.SMALL)
    economic_type = models.CharField(
        _("economic type"), max_length=20, choices=EconomicType.choices, default=EconomicType.PRIVATE
    )
    has_union = models.BooleanField(_("has a trade union"), default=False)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]
        indexes = synced_indexes("unit")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=Q(deleted_at__isnull=True, credit_code__isnull=False),
                name="unit_credit_code_unique",
                violation_error_message=_("A unit with this unified social credit code already exists."),
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="unit_external_ref_unique"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.credit_code:
            self.credit_code = self.credit_code.strip().upper()


class RoleAssignment(models.Model):
    """A role held by a user at a branch; it applies to the branch's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="roles")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "branch"], name="role_assignment_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="role_assignment_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.branch}"


class CommitteeSeat(models.Model):
    """A post on a branch committee (书记, 副书记, 组织委员 …) held by a person over a period."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="seats")
    post = models.CharField(_("post"), max_length=20, choices=CommitteePost.choices)
    holder_name = models.CharField(_("holder"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user account"), null=True, blank=True, on_delete=models.SET_NULL
    )
    party_standing_since = models.DateField(_("party member since"), null=True, blank=True)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("committee seat")
        verbose_name_plural = _("committee seats")
        ordering = ["branch", "post", "started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")), name="seat_dates_ordered"
            ),
            models.UniqueConstraint(
                fields=["branch", "post"],
                condition=Q(ended_on__isnull=True, post__in=["secretary"]),
                name="seat_one_current_secretary",
                violation_error_message=_("This branch already has a current secretary."),
            ),
        ]

    def __str__(self):
        return f"{self.get_post_display()}: {self.holder_name}"

    def clean(self):
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": _("The end date cannot be before the start date.")})


class TermReminderLog(models.Model):
    """One term-expiry reminder sent to one person; the unique key means it is never sent twice."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    term_expires_on = models.DateField()
    stage = models.CharField(max_length=20)  # "6m", "3m", or "m-YYYY-MM" for the monthly ones
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "recipient", "term_expires_on", "stage"], name="term_reminder_once"
            ),
        ]

    def __str__(self):
        return f"{self.branch_id} {self.recipient_id} {self.term_expires_on} {self.stage}"
