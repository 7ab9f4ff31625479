"""Notices (党务公开, DOMAIN.md §6): what a branch makes known to its members or to the public.

A notice belongs to one branch and speaks to that branch's whole subtree (a committee's notice is for
every branch under it), or to everyone when its audience is public. It is shown only while published
and inside its window (`publish_from` ≤ now < `publish_until`, the end being optional). Attachments are
checked by content (core/uploads.py); read receipts are one row per (notice, user).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import StoredFileBase, SyncedModel, SyncedQuerySet, synced_indexes


class NoticeCategory(models.TextChoices):
    DECISION = "decision", _("Decision")
    DUES_PUBLICATION = "dues_publication", _("Dues publication")
    DEVELOPMENT_CANDIDATE = "development_candidate", _("Development candidate notice")
    OTHER = "other", _("Other")


class NoticeAudience(models.TextChoices):
    MEMBERS = "members", _("Members of the organisation and those under it")
    PUBLIC = "public", _("The public")


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class NoticeQuerySet(SyncedQuerySet):
    def for_actor(self, user, perm: str = "notices.view"):
        """Notices owned by branches in the actor's scope for `perm` (the managing side)."""
        from branches.permissions import branch_scope

        return self.filter(branch__in=branch_scope(user, perm))

    def visible_at(self, when=None):
        """Published notices whose window contains `when` (now by default)."""
        when = when or timezone.now()
        return self.filter(status=NoticeStatus.PUBLISHED, publish_from__lte=when).filter(
            Q(publish_until__isnull=True) | Q(publish_until__gt=when)
        )


class NoticeManager(models.Manager.from_queryset(NoticeQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllNoticesManager(models.Manager.from_queryset(NoticeQuerySet)):
    pass


class Notice(SyncedModel):
    """A branch's notice (decision, yearly dues publication, development candidates' 公示, other).

    `announced_at` is set once the audience was notified (on publish, or by the beat sweep when a
    future window opens), so nobody is told twice.
    """

    sync_type = "notice"

    branch = models.ForeignKey(
        "branches.Branch", verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="notices"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    category = models.CharField(
        _("category"), max_length=30, choices=NoticeCategory.choices, default=NoticeCategory.DECISION
    )
    audience = models.CharField(
        _("audience"), max_length=20, choices=NoticeAudience.choices, default=NoticeAudience.MEMBERS
    )
    publish_from = models.DateTimeField(_("shown from"), default=timezone.now)
    publish_until = models.DateTimeField(
        _("shown until"), null=True, blank=True, help_text=_("Leave empty to keep the notice up.")
    )
    status = models.CharField(_("status"), max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = models.CharField(_("reason for withdrawal"), max_length=300, blank=True)
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True, editable=False)

    objects = NoticeManager()
    all_objects = AllNoticesManager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-publish_from", "-id"]
        indexes = [
            *synced_indexes("notice"),
            models.Index(fields=["status", "publish_from"], name="notice_window_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=NoticeCategory.values), name="notice_category_valid"),
            models.CheckConstraint(condition=Q(audience__in=NoticeAudience.values), name="notice_audience_valid"),
            models.CheckConstraint(condition=Q(status__in=NoticeStatus.values), name="notice_status_valid"),
            models.CheckConstraint(
                condition=Q(publish_until__isnull=True) | Q(publish_until__gt=F("publish_from")),
                name="notice_window_ends_after_start",
                violation_error_message=_("The notice must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(status=NoticeStatus.DRAFT) | Q(published_at__isnull=False),
                name="notice_published_dated",
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=Q(external_ref__isnull=False), name="notice_external_ref_unique"
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        if self.publish_from and self.publish_until and self.publish_until <= self.publish_from:
            raise ValidationError({"publish_until": _("The end of the window must come after its start.")})

    def window_state(self, when=None) -> str:
        """ "open", "pending" (not yet), "expired", "withdrawn" or "draft", at `when` (now by default)."""
        when = when or timezone.now()
        if self.status == NoticeStatus.DRAFT:
            return "draft"
        if self.status == NoticeStatus.WITHDRAWN:
            return "withdrawn"
        if self.publish_from > when:
            return "pending"
        if self.publish_until is not None and self.publish_until <= when:
            return "expired"
        return "open"

    @property
    def is_public(self) -> bool:
        return self.audience == NoticeAudience.PUBLIC


def notice_attachment_path(instance: "NoticeAttachment", filename: str) -> str:
    """A random stored name (the original is kept in `name`): no guessing, no clashes."""
    suffix = filename.rsplit(".", 1)[-1].lower()[:10] if "." in filename else "bin"
    return f"notices/{instance.notice_id}/{uuid.uuid4().hex}.{suffix}"


class NoticeAttachment(StoredFileBase):
    """A file attached to a notice; type recognised by content and size limited (settings NOTICES_ATTACHMENT_*)."""

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=notice_attachment_path, max_length=300)

    class Meta:
        verbose_name = _("notice attachment")
        verbose_name_plural = _("notice attachments")
        ordering = ["uploaded_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="noticeattachment_size_positive")]

    def __str__(self):
        return self.name


class NoticeRead(models.Model):
    """A read receipt: `user` opened `notice` (first time only)."""

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reader"), on_delete=models.CASCADE, related_name="notice_reads"
    )
    read_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        verbose_name = _("notice read receipt")
        verbose_name_plural = _("notice read receipts")
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="noticeread_unique")]

    def __str__(self):
        return f"{self.notice_id} · {self.user_id}"
