"""Reads and writes of in-app notifications (core.Notification), shared by every app."""

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from core.models import Notification


def notification_build(*, recipient_id, kind: str, title: str, body: str = "", url: str = "") -> Notification:
    """An unsaved notification, for senders that write many at once with `notifications_save`."""
    return Notification(recipient_id=recipient_id, kind=kind, title=str(title)[:200], body=str(body), url=url[:500])


def notifications_save(notifications: Iterable[Notification]) -> list[Notification]:
    return Notification.objects.bulk_create(list(notifications), batch_size=1000)


def notify(*, recipient, kind: str, title: str, body: str = "", url: str = "") -> Notification:
    """Send one in-app notification."""
    notification = notification_build(recipient_id=recipient.pk, kind=kind, title=title, body=body, url=url)
    notification.save()
    return notification


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(*, user) -> int:
    """One indexed COUNT (notification_unread_idx)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_mark_read(*, user, pks=None) -> int:
    """Mark the user's notifications (all, or those in `pks`) read; returns how many changed."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pks is not None:
        rows = rows.filter(pk__in=pks)
    return rows.update(read_at=timezone.now())


class UnreadBadge:
    """The header badge's number, counted on first use only (a page that never shows it costs no query)."""

    def __init__(self, user):
        self.user = user
        self._count = None

    @property
    def count(self) -> int:
        if self._count is None:
            self._count = unread_count(user=self.user)
        return self._count

    def __str__(self):
        return str(self.count)
