"""Notification kinds the members app sends (discovered by core.notifications)."""

from django.utils.translation import gettext_lazy as _

from core.notifications import OFF, ON, NotificationKind

KINDS = [
    NotificationKind("members.development_due", _("Party development deadline"), in_app=ON, email=ON),
    NotificationKind("members.dues_arrears", _("Dues in arrears"), in_app=ON, email=ON),
    NotificationKind("members.report_in_missing", _("Mobile member has not reported in"), in_app=ON, email=OFF),
    NotificationKind("members.lost_contact_warning", _("No contact for three months"), in_app=ON, email=OFF),
    NotificationKind("members.lost_contact_flagged", _("Member flagged as lost contact"), in_app=ON, email=OFF),
    NotificationKind("members.removal_due", _("Removal of a suspended member due"), in_app=ON, email=OFF),
    NotificationKind("members.transfer.expiring", _("Transfer letter expiring"), in_app=ON, email=OFF),
    NotificationKind("members.transfer.expired", _("Transfer letter expired"), in_app=ON, email=OFF),
    NotificationKind("members.transfer.receipt_missing", _("Transfer receipt missing"), in_app=ON, email=OFF),
    NotificationKind("members.notice.published", _("New notice published"), in_app=ON, email=OFF),
    NotificationKind("members.vote.opened", _("Vote opened"), in_app=ON, email=ON),
    NotificationKind("members.vote.result", _("Vote result"), in_app=ON, email=OFF),
    NotificationKind("members.appraisal.opened", _("Annual appraisal opened"), in_app=ON, email=ON),
]
