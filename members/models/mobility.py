"""Mobile and lost-contact members (DOMAIN.md §3): activity cards, yearly report-ins, last contact, lost-contact cases.

Why last contact lives in MemberContact and not on Member: an attendance or a dues payment touches it,
and a Member save bumps the record's version and enters the change feed; a check-in must not re-send
every attendee's member record to every client. The 1:1 row is written with one UPSERT-like update.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReportInChannel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("By phone")
    ONLINE = "online", _("Online")
    LETTER = "letter", _("In writing")


class LostContactStatus(models.TextChoices):
    FLAGGED = "flagged", _("Flagged: no contact for six months")
    PROPOSED = "proposed", _("Suspension proposed")
    SUSPENDED = "suspended", _("Membership suspended")
    CLOSED = "closed", _("Contact regained")


#: Statuses of a case still under way; a member has at most one.
LOST_CONTACT_OPEN = (LostContactStatus.FLAGGED, LostContactStatus.PROPOSED, LostContactStatus.SUSPENDED)


class ActivityCard(models.Model):
    """流动党员活动证: a member away from home takes part at a host branch (no vote there).

    Creating one marks the member mobile and opens a host affiliation; ending it closes both.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="activity_cards"
    )
    host_branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("host branch"), on_delete=models.PROTECT, related_name="+"
    )
    affiliation = models.ForeignKey(
        "members.Affiliation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    destination = models.CharField(_("destination"), max_length=200)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("activity card")
        verbose_name_plural = _("activity cards")
        ordering = ["-starts_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(ended_on__isnull=True),
                name="activitycard_one_open_per_member",
                violation_error_message=_("This member already holds an activity card."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="activitycard_dates_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.destination}"

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    def clean(self):
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The end date cannot be before the start date.")})
        if not (self.destination or "").strip():
            raise ValidationError({"destination": _("Say where the member has gone.")})


class ReportIn(models.Model):
    """A mobile member's report to the home branch (at least once a year)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="report_ins"
    )
    reported_on = models.DateField(_("date"))
    channel = models.CharField(_("channel"), max_length=20, choices=ReportInChannel.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("report-in")
        verbose_name_plural = _("report-ins")
        ordering = ["-reported_on", "-created_at"]
        indexes = [models.Index(fields=["member", "reported_on"], name="reportin_member_date_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=ReportInChannel.values), name="reportin_channel_valid"),
        ]

    def __str__(self):
        return f"{self.member} · {self.reported_on}"


class MemberContact(models.Model):
    """The member's last attendance and last dues payment, kept by `member_contact_touch`."""

    member = models.OneToOneField("members.Member", primary_key=True, on_delete=models.CASCADE, related_name="contact")
    last_attended_on = models.DateField(_("last attended"), null=True, blank=True)
    last_paid_on = models.DateField(_("last paid dues"), null=True, blank=True)

    def __str__(self):
        return f"{self.member_id}: {self.last_attended_on} / {self.last_paid_on}"


class LostContactCase(models.Model):
    """失联: flagged at six months → suspension proposed → approved (停止党籍) → removal due two years later."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="lost_contact_cases"
    )
    status = models.CharField(_("status"), max_length=20, choices=LostContactStatus.choices)
    last_contact_on = models.DateField(_("last contact"))
    flagged_on = models.DateField(_("flagged on"))
    proposed_on = models.DateField(_("proposed on"), null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposal_note = models.CharField(_("note"), max_length=500, blank=True)
    suspended_on = models.DateField(_("suspended on"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removal_due_on = models.DateField(_("removal due on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("lost-contact case")
        verbose_name_plural = _("lost-contact cases")
        ordering = ["-flagged_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status__in=LOST_CONTACT_OPEN),
                name="lostcontact_one_open_per_member",
                violation_error_message=_("This member already has an open lost-contact case."),
            ),
            models.CheckConstraint(condition=Q(status__in=LostContactStatus.values), name="lostcontact_status_valid"),
        ]

    def __str__(self):
        return f"{self.member} · {self.get_status_display()}"


class MobilityReminderLog(models.Model):
    """One mobility or lost-contact reminder to one person: (kind, member, period, recipient) goes out once.

    `period` is the year for report-in reminders, the stage date for lost-contact warnings.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=30)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=20)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "member", "period", "recipient"], name="mobilityreminder_once"),
        ]

    def __str__(self):
        return f"{self.kind} {self.member_id} {self.period}"
