from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityKind(models.TextChoices):
    """三会一课 and the other forms of organisational life (DOMAIN.md §4)."""

    BRANCH_ASSEMBLY = "branch_assembly", _("Branch assembly")
    COMMITTEE_MEETING = "committee_meeting", _("Committee meeting")
    GROUP_MEETING = "group_meeting", _("Party group meeting")
    PARTY_LECTURE = "party_lecture", _("Party lecture")
    THEME_DAY = "theme_day", _("Theme party day")
    REVIEW_MEETING = "review_meeting", _("Organisational life review meeting")
    APPRAISAL = "appraisal", _("Member appraisal")
    STUDY = "study", _("Study session")
    VOLUNTEER = "volunteer", _("Volunteer service")
    OTHER = "other", _("Other")


#: Kinds whose validity depends on how many attended (DOMAIN.md §4).
QUORUM_KINDS = (ActivityKind.BRANCH_ASSEMBLY, ActivityKind.COMMITTEE_MEETING)


class ActivityMode(models.TextChoices):
    OFFLINE = "offline", _("In person")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("In person and online")


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    CANCELLED = "cancelled", _("Cancelled")
    HELD = "held", _("Held")


class AttendanceMethod(models.TextChoices):
    QR = "qr", _("QR code scan")
    MANUAL = "manual", _("Marked by the organiser")
    ONLINE = "online", _("Online")
    MAKEUP = "makeup", _("Make-up")


#: Methods a device may send to the check-in API (make-up credit is given on the pages only).
CHECK_IN_METHODS = (AttendanceMethod.QR, AttendanceMethod.MANUAL, AttendanceMethod.ONLINE)


class LeaveStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class SeriesScope(models.TextChoices):
    """Which occurrences of a series an edit applies to."""

    THIS = "this", _("This activity only")
    FOLLOWING = "following", _("This and the following activities")
    ALL = "all", _("All planned activities of the series")


class CheckInRefusal(models.TextChoices):
    """Machine codes of a refused check-in (API.md, "Check-in from devices")."""

    NOT_INVITED = "not_invited", _("Not invited")
    OUTSIDE_WINDOW = "outside_window", _("Outside the check-in window")
    CANCELLED = "cancelled", _("Cancelled")
    ALREADY_CHECKED_IN = "already_checked_in", _("Already checked in")
    INVALID_TOKEN = "invalid_token", _("Invalid or expired code")


class CompliancePeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


#: The `offset` of the send log row for a cancellation notice (real offsets are ≥ 0 minutes).
CANCELLATION_OFFSET = -1
