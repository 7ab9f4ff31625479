"""Notification kinds the branches app sends (discovered by core.notifications)."""

from django.utils.translation import gettext_lazy as _

from core.notifications import ALWAYS, ON, NotificationKind

KINDS = [
    # Officers must prepare the election (换届) in time: in-app always, e-mail by default as before.
    NotificationKind("branches.term_reminder", _("Branch term expiring"), in_app=ALWAYS, email=ON),
]
