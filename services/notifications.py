"""Notification kinds the services app sends (discovered by core.notifications)."""

from django.utils.translation import gettext_lazy as _

from core.notifications import ALWAYS, ON, NotificationKind

KINDS = [
    NotificationKind("services.follow_up", _("Follow-up visit due"), in_app=ON, email=ON),
    # An escalation to the upper level is a duty: it reaches the caseworkers in the app whatever they chose.
    NotificationKind("services.breach", _("Case deadline missed"), in_app=ALWAYS, email=ON),
]
