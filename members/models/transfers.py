"""Transfers of a member's formal organisation relationship (组织关系转接, DOMAIN.md §3).

A transfer moves a member within the system (from_branch → to_branch), out to an organisation outside
it (to_outside, by name), or in from outside (from_outside, by name; the member record is created on
completion). The introduction letter (介绍信) has a number unique per issuing committee and year,
allocated from a LetterCounter row; its validity, the "dues paid up to" month and the receipt (回执)
are kept on the transfer. The states and their transitions live in one table, TRANSITIONS.

`branch` is the owning branch of the API envelope: the sending branch, or the receiving branch for a
transfer in from outside. Both the sending and the receiving side may read a transfer (selectors).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import SyncedModel, SyncedQuerySet, synced_indexes


class TransferKind(models.TextChoices):
    INTERNAL = "internal", _("Within the system")
    OUTGOING = "outgoing", _("Out to an organisation outside the system")
    INCOMING = "incoming", _("In from an organisation outside the system")


class TransferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Letter issued")
    ACCEPTED = "accepted", _("Accepted")
    RECEIPT_RETURNED = "receipt_returned", _("Receipt returned")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Letter expired")
    CANCELLED = "cancelled", _("Cancelled")


#: The one table of allowed transitions: action → (statuses it may start from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    "issue": (frozenset({TransferStatus.DRAFT}), TransferStatus.ISSUED),
    "accept": (frozenset({TransferStatus.ISSUED}), TransferStatus.ACCEPTED),
    "reject": (frozenset({TransferStatus.ISSUED}), TransferStatus.REJECTED),
    "return_receipt": (frozenset({TransferStatus.ACCEPTED}), TransferStatus.RECEIPT_RETURNED),
    "complete": (frozenset({TransferStatus.RECEIPT_RETURNED}), TransferStatus.COMPLETED),
    "cancel": (frozenset({TransferStatus.DRAFT, TransferStatus.ISSUED}), TransferStatus.CANCELLED),
    "expire": (frozenset({TransferStatus.ISSUED}), TransferStatus.EXPIRED),
}

#: Statuses of a transfer still under way: a member has at most one such transfer.
OPEN_STATUSES = (
    TransferStatus.DRAFT,
    TransferStatus.ISSUED,
    TransferStatus.ACCEPTED,
    TransferStatus.RECEIPT_RETURNED,
)


class TransferQuerySet(SyncedQuerySet):
    def for_actor(self, user, perm: str = "transfers.view"):
        """Transfers whose sending or receiving branch lies in the actor's scope: both sides see them."""
        from branches.permissions import branch_scope

        scope = branch_scope(user, perm).values("pk")
        return self.filter(Q(from_branch__in=scope) | Q(to_branch__in=scope))

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class TransferManager(models.Manager.from_queryset(TransferQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Transfer(SyncedModel):
    """One transfer of a member's formal relationship, with its introduction letter and receipt."""

    sync_type = "transfer"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("owning branch"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TransferKind.choices)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers",
    )
    from_branch = models.ForeignKey(
        "branches.Branch",
        verbose_name=_("sending branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers_out",
    )
    from_outside = models.CharField(_("sending organisation outside the system"), max_length=200, blank=True)
    to_branch = models.ForeignKey(
        "branches.Branch",
        verbose_name=_("receiving branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers_in",
    )
    to_outside = models.CharField(_("receiving organisation outside the system"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=TransferStatus.choices, default="draft")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The introduction letter
    issuing_committee = models.ForeignKey(
        "branches.Branch",
        verbose_name=_("issuing committee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    letter_year = models.PositiveSmallIntegerField(_("letter year"), null=True, blank=True)
    letter_number = models.CharField(_("letter number"), max_length=60, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True, db_index=True)
    dues_paid_until = models.DateField(
        _("dues paid up to (month)"), null=True, blank=True, help_text=_("The first day of the last month paid.")
    )
    # What happened next
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    receipt_returned_on = models.DateField(_("receipt returned on"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    closed_reason = models.CharField(_("reason for rejecting or cancelling"), max_length=300, blank=True)
    # A person coming in from outside: what the member record will be created with (ID number encrypted).
    incoming_name = models.CharField(_("name"), max_length=100, blank=True)
    incoming_citizen_id_cipher = models.TextField(blank=True, editable=False)
    incoming_citizen_id_masked = models.CharField(_("citizen ID number"), max_length=18, blank=True, editable=False)
    incoming_category = models.CharField(_("category"), max_length=20, blank=True)
    incoming_joined_on = models.DateField(_("joined the party on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TransferManager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["created_at", "id"]
        indexes = synced_indexes("transfer")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TransferKind.values), name="transfer_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=TransferStatus.values), name="transfer_status_valid"),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status__in=OPEN_STATUSES, deleted_at__isnull=True, member__isnull=False),
                name="transfer_one_open_per_member",
                violation_error_message=_("This member already has a transfer under way."),
            ),
            models.UniqueConstraint(
                fields=["issuing_committee", "letter_year", "letter_number"],
                condition=~Q(letter_number="") & Q(issuing_committee__isnull=False),
                name="transfer_letter_number_unique",
                violation_error_message=_("This letter number is already used by the committee this year."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="internal", from_branch__isnull=False, to_branch__isnull=False, member__isnull=False)
                    | Q(kind="outgoing", from_branch__isnull=False, to_branch__isnull=True, member__isnull=False)
                    | Q(kind="incoming", from_branch__isnull=True, to_branch__isnull=False)
                ),
                name="transfer_ends_match_kind",
            ),
            models.CheckConstraint(
                condition=Q(from_branch__isnull=True) | ~Q(from_branch=F("to_branch")),
                name="transfer_not_to_same_branch",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(issued_on__isnull=False, valid_until__gte=F("issued_on")),
                name="transfer_valid_after_issue",
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="transfer_external_ref_unique"
            ),
        ]

    def __str__(self):
        who = self.member.name if self.member_id else self.incoming_name
        return f"{who} · {self.source_name} → {self.destination_name}"

    @property
    def source_name(self) -> str:
        return self.from_branch.name if self.from_branch_id else self.from_outside

    @property
    def destination_name(self) -> str:
        return self.to_branch.name if self.to_branch_id else self.to_outside

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def letter_expired(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.valid_until is not None and self.valid_until < today

    def allows(self, action: str) -> bool:
        return self.status in TRANSITIONS[action][0]

    def clean(self):
        errors = {}
        if self.kind == TransferKind.OUTGOING and not self.to_outside.strip():
            errors["to_outside"] = _("Name the organisation the member moves to.")
        if self.kind == TransferKind.INCOMING and not self.from_outside.strip():
            errors["from_outside"] = _("Name the organisation the member comes from.")
        if self.from_branch_id and self.from_branch_id == self.to_branch_id:
            errors["to_branch"] = _("The receiving branch must differ from the sending branch.")
        if self.dues_paid_until and self.dues_paid_until.day != 1:
            errors["dues_paid_until"] = _("Give a month (its first day).")
        if errors:
            raise ValidationError(errors)


class LetterCounter(models.Model):
    """The last letter number a committee issued in a year; incremented under a row lock."""

    committee = models.ForeignKey("branches.Branch", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["committee", "year"], name="lettercounter_unique")]

    def __str__(self):
        return f"{self.committee_id} {self.year}: {self.last}"


class TransferReminderLog(models.Model):
    """One alert about one transfer to one person; (transfer, kind, recipient) goes out once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transfer", "kind", "recipient"], name="transferreminder_once"),
        ]

    def __str__(self):
        return f"{self.transfer_id} {self.kind} {self.recipient_id}"
