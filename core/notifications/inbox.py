"""Reads and writes of in-app notifications (core.Notification): the centre's list, the badge, marking read."""

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
    """Write one in-app notification, ignoring preferences. Apps send through `deliver()` instead."""
    notification = notification_build(recipient_id=recipient.pk, kind=kind, title=title, body=body, url=url)
    notification.save()
    return notification


def notification_list(*, user) -> QuerySet[Notification]:
    """The user's own notifications (never anyone else's), newest first."""
    return Notification.objects.filter(recipient=user)


def unread_count(*, user) -> int:
    """One indexed COUNT (notification_unread_idx)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_mark_read(*, user, pks=None) -> int:
    """Mark the user's notifications (all, or those in `pks`) read; returns how many changed.

    Ids of other users' notifications are ignored (the filter is on the recipient), so nobody can
    touch someone else's inbox by guessing ids.
    """
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
