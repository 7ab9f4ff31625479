"""Notification kinds the activities app sends (discovered by core.notifications)."""

from django.utils.translation import gettext_lazy as _

from core.notifications import ALWAYS, ON, NotificationKind

KINDS = [
    NotificationKind("activities.reminder", _("Activity reminder"), in_app=ON, email=ON, sms=ON),
    # An invitee must learn that a meeting is off: the in-app notice cannot be switched off.
    NotificationKind("activities.cancelled", _("Activity cancelled"), in_app=ALWAYS, email=ON, sms=ON),
    # A duty of the secretary (三会一课 not yet held this period).
    NotificationKind("activities.compliance", _("Required meetings still missing"), in_app=ALWAYS, email=ON),
]
