"""The notification centre every app sends through: kinds, preferences, in-app inbox and deliver().

    from core.notifications import deliver
    deliver(recipients=users, kind="members.vote.opened", title=..., body=..., url=...)

Layout: kinds.py (the registry apps fill from their own notifications.py), preferences.py (per-user
channels), delivery.py (deliver), inbox.py (the in-app rows: list, badge, mark read), filters.py (the
centre page's filter).
"""

from core.notifications.delivery import DeliveryResult, deliver
from core.notifications.inbox import (
    UnreadBadge,
    notification_build,
    notification_list,
    notifications_mark_read,
    notifications_save,
    notify,
    unread_count,
)
from core.notifications.kinds import (
    ALWAYS,
    CHANNELS,
    NEVER,
    OFF,
    ON,
    NotificationKind,
    Policy,
    notification_kind_get,
    notification_kinds,
)
from core.notifications.preferences import (
    channels_for,
    notification_preferences,
    notification_preferences_save,
    preference_key,
)

__all__ = [
    "ALWAYS",
    "CHANNELS",
    "NEVER",
    "OFF",
    "ON",
    "DeliveryResult",
    "NotificationKind",
    "Policy",
    "UnreadBadge",
    "channels_for",
    "deliver",
    "notification_build",
    "notification_kind_get",
    "notification_kinds",
    "notification_list",
    "notification_preferences",
    "notification_preferences_save",
    "notifications_mark_read",
    "notifications_save",
    "notify",
    "preference_key",
    "unread_count",
]
