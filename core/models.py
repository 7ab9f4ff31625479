"""Models every app shares: the user, the synced base model, audit entries and change records."""

import hashlib
import uuid

from django.conf import settings
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
        self._loaded_owner_id = self.owner_branch_id

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # The owner branch as loaded, so a save that moves the record can tell the feed where it was.
        instance._loaded_owner_id = instance.__dict__.get(f"{owner_field(cls)}_id", _UNKNOWN)
        return instance

    @property
    def owner_branch_id(self):
        """Id of the branch that decides who may see this record (a branch's parent for a branch)."""
        return getattr(self, "branch_id", None)

    def soft_delete(self):
        """Hide the record everywhere and leave a tombstone in the change feed."""
        self.deleted_at = timezone.now()
        self.save(update_fields=["deleted_at"])


_UNKNOWN = object()


def owner_field(model) -> str:
    """Name of the FK to the owning branch: `branch`, or a branch's own `parent`."""
    names = {f.name for f in model._meta.concrete_fields}
    return "branch" if "branch" in names else "parent"


def synced_indexes(prefix: str) -> list[models.Index]:
    """Indexes every synced table needs for its API lists: cursor order and `?updated_since=` order."""
    return [
        models.Index(fields=["created_at", "id"], name=f"{prefix}_created_idx"),
        models.Index(fields=["updated_at", "id"], name=f"{prefix}_updated_idx"),
    ]


class StoredFileBase(models.Model):
    """An uploaded file kept behind the app's access checks: original name, size, type found from its content
    (core/uploads.py), and who added it when. Subclasses add `file` (with their own storage path) and their owner.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    content_type = models.CharField(_("type"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


class ChangeOp(models.TextChoices):
    UPSERT = "upsert", _("Upsert")
    DELETE = "delete", _("Delete")


class ChangeRecord(models.Model):
    """One change to a synced record, written in the transaction that made it; feeds the sync API.

    `xid` is the writing transaction's id (PostgreSQL fills it with a trigger, migration 0005; 0 elsewhere):
    the feed is ordered by (xid, seq) and serves only transactions older than every one still running,
    so a transaction that commits late can never fall behind a client's cursor (core/api/feed.py).
    `prev_path` is the owner branch's tree path before the change, set only when the record's place in
    the tree changed (it moved, or an ancestor branch moved): it tells the feed whom to send `remove`.
    """

    seq = models.BigAutoField(primary_key=True)
    resource = models.CharField(max_length=40)
    object_id = models.UUIDField()
    op = models.CharField(max_length=10, choices=ChangeOp.choices)
    version = models.PositiveIntegerField()
    branch_id = models.UUIDField(null=True, blank=True)
    prev_path = models.CharField(max_length=2000, blank=True, default="")
    xid = models.BigIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["resource", "object_id"], name="change_resource_obj_idx"),
            models.Index(fields=["xid", "seq"], name="change_feed_order_idx"),
        ]

    def __str__(self):
        return f"{self.seq} {self.resource} {self.object_id} {self.op} v{self.version}"

    @classmethod
    def record_for(cls, obj: SyncedModel, *, prev_path: str = "") -> "ChangeRecord":
        return cls(
            resource=obj.sync_type,
            object_id=obj.pk,
            op=ChangeOp.DELETE if obj.deleted_at else ChangeOp.UPSERT,
            version=obj.version,
            branch_id=obj.owner_branch_id,
            prev_path=prev_path,
        )

    @classmethod
    def write(cls, obj: SyncedModel) -> "ChangeRecord":
        record = cls.record_for(obj, prev_path=_previous_owner_path(obj))
        record.save()
        return record

    @classmethod
    def write_subtree_moved(cls, *, branch_model, subtree_path: str, old_parent_path: str) -> None:
        """Change records for every live synced record in a moved subtree (call inside the move's transaction).

        Their owner did not change but their place in the tree did, so clients whose scope the subtree
        entered or left must hear of them: `prev_path` is the old parent's path, which was every moved
        record's ancestry outside the subtree.
        """
        from django.apps import apps

        branch_ids = list(branch_model.all_objects.filter(path__startswith=subtree_path).values_list("pk", flat=True))
        for model in apps.get_models():
            if not issubclass(model, SyncedModel) or not model.sync_type:
                continue
            owner = owner_field(model)
            rows = model.objects.filter(**{f"{owner}_id__in": branch_ids}).only("pk", "version", "deleted_at", owner)
            records = [cls.record_for(row, prev_path=old_parent_path) for row in rows.iterator(chunk_size=2000)]
            cls.objects.bulk_create(records, batch_size=1000)

    @classmethod
    def write_many(cls, objs) -> None:
        """Change records for rows written in bulk (call inside the same transaction)."""
        cls.objects.bulk_create([cls.record_for(o) for o in objs], batch_size=1000)


def _previous_owner_path(obj: SyncedModel) -> str:
    """The old owner branch's path when this save moved the record to another owner, else ""."""
    old = getattr(obj, "_loaded_owner_id", _UNKNOWN)
    if old is _UNKNOWN or old is None or old == obj.owner_branch_id:
        return ""
    branch_model = obj._meta.get_field(owner_field(type(obj))).related_model
    return branch_model.all_objects.filter(pk=old).values_list("path", flat=True).first() or ""


#
# Sync API clients: tokens, idempotency keys, client references
#
def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiClient(models.Model):
    """A system that syncs through the REST API with one token: one role at one branch.

    The token is shown once and stored as its SHA-256. Requests authenticate as `user`, a service
    account made for this client alone (no password, one RoleAssignment), so `branch_scope()` decides
    the client's reach exactly as it does for people.
    """

    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    role = models.CharField(_("role"), max_length=20)
    branch = models.ForeignKey("branches.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("issued at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first response to a write sent with an `Idempotency-Key`; repeats within 24 h get it again.

    `status` is null while the first request is still running (the unique key makes a concurrent
    duplicate wait for nothing: it is answered 409 and may retry).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self):
        return self.key


class ExternalRef(models.Model):
    """A client's own reference for one record: `PUT <resource>/by-ref/<ref>/` finds the record here.

    Unique per caller (a token's service account, or a person) and resource, as API.md promises,
    without touching the uniqueness of the records' shared `external_ref` column.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(max_length=40)
    ref = models.CharField(max_length=200)
    object_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "resource", "ref"], name="external_ref_user_unique"),
        ]

    def __str__(self):
        return f"{self.resource}:{self.ref}"


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


class NotificationPreference(models.Model):
    """A user's channels for one notification kind, stored only where they differ from the kind's defaults.

    `kind` is a code declared in some app's notifications.py (core/notifications/kinds.py); a channel the
    kind marks ALWAYS is delivered whatever this row says.
    """

    user = models.ForeignKey(
        "core.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=60)
    in_app = models.BooleanField(_("in the app"))
    email = models.BooleanField(_("e-mail"))
    sms = models.BooleanField(_("text message"))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        # Its index also serves deliver()'s one read per batch: WHERE user_id IN (...) AND kind = ?
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_user_kind_unique")]

    def __str__(self):
        return f"{self.user_id} {self.kind}"
