"""Models every app shares: the user, the synced base model, audit entries and change records."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. Roles are held at branches (see branches.RoleAssignment)."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username


#
# Synced records: the envelope of API.md
#
class SyncedQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class AliveManager(models.Manager.from_queryset(SyncedQuerySet)):
    """Default manager: soft-deleted rows do not exist for ordinary code."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllObjectsManager(models.Manager.from_queryset(SyncedQuerySet)):
    pass


class SyncedModel(models.Model):
    """Abstract base of every record the REST API syncs.

    `save()` bumps `version` and writes a ChangeRecord in the same transaction, so the change feed
    sees every save whichever code path made it (actions, admin, commands). QuerySet.update() and
    bulk writes bypass save(): code that uses them must call `ChangeRecord.write_many()` itself.
    """

    #: the resource name used in the change feed ("branch", "member", ...)
    sync_type: str = ""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(_("version"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False, db_index=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    # NULL, not "", so that the unique constraint applies only to records that have a reference.
    external_ref = models.CharField(_("external reference"), max_length=200, null=True, blank=True)  # noqa: DJ001

    objects = AliveManager()
    all_objects = AllObjectsManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.version = (self.version or 0) + 1
        self.updated_at = timezone.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"version", "updated_at"}
        with transaction.atomic():
            super().save(*args, **kwargs)
            ChangeRecord.write(self)

    @property
    def owner_branch_id(self):
        """Id of the branch that decides who may see this record (a branch's parent for a branch)."""
        return getattr(self, "branch_id", None)

    def soft_delete(self):
        """Hide the record everywhere and leave a tombstone in the change feed."""
        self.deleted_at = timezone.now()
        self.save(update_fields=["deleted_at"])


def synced_indexes(prefix: str) -> list[models.Index]:
    """Indexes every synced table needs for its API lists: cursor order and `?updated_since=` order."""
    return [
        models.Index(fields=["created_at", "id"], name=f"{prefix}_created_idx"),
        models.Index(fields=["updated_at", "id"], name=f"{prefix}_updated_idx"),
    ]


class ChangeOp(models.TextChoices):
    UPSERT = "upsert", _("Upsert")
    DELETE = "delete", _("Delete")


class ChangeRecord(models.Model):
    """One change to a synced record, written in the transaction that made it; feeds the sync API."""

    seq = models.BigAutoField(primary_key=True)
    resource = models.CharField(max_length=40)
    object_id = models.UUIDField()
    op = models.CharField(max_length=10, choices=ChangeOp.choices)
    version = models.PositiveIntegerField()
    branch_id = models.UUIDField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["resource", "object_id"], name="change_resource_obj_idx")]

    def __str__(self):
        return f"{self.seq} {self.resource} {self.object_id} {self.op} v{self.version}"

    @classmethod
    def record_for(cls, obj: SyncedModel) -> "ChangeRecord":
        return cls(
            resource=obj.sync_type,
            object_id=obj.pk,
            op=ChangeOp.DELETE if obj.deleted_at else ChangeOp.UPSERT,
            version=obj.version,
            branch_id=obj.owner_branch_id,
        )

    @classmethod
    def write(cls, obj: SyncedModel) -> "ChangeRecord":
        record = cls.record_for(obj)
        record.save()
        return record

    @classmethod
    def write_many(cls, objs) -> None:
        """Change records for rows written in bulk (call inside the same transaction)."""
        cls.objects.bulk_create([cls.record_for(o) for o in objs], batch_size=1000)


#
# Audit trail
#
class AuditEntry(models.Model):
    """Who did what to which record, and when; written by actions, append-only.

    On PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE on this table.
    """

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "core.User", verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    data = models.JSONField(_("data"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are append-only.")


#
# In-app notifications
#
class Notification(models.Model):
    """A message for one user, shown in the header badge and on /notifications/; every app sends them.

    `kind` is a dotted name chosen by the sending app ("activities.reminder", ...), so the centre can
    filter without core knowing the apps.
    """

    recipient = models.ForeignKey(
        "core.User", verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the header badge: COUNT(*) WHERE recipient = ? AND read_at IS NULL
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
        ]

    def __str__(self):
        return self.title
