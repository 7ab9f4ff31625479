"""Choices of the services app, and the one table of case status transitions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_WORKER = "waiting_worker", _("Waiting on the worker")
    WAITING_PARTNER = "waiting_partner", _("Waiting on a partner")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


#: Statuses in which the deadline clock stops (waiting on someone else, or done).
CLOCK_STOPPED = frozenset(
    {CaseStatus.WAITING_WORKER, CaseStatus.WAITING_PARTNER, CaseStatus.RESOLVED, CaseStatus.CLOSED}
)
#: Statuses of a case someone still has to work on.
OPEN_STATUSES = frozenset(
    {
        CaseStatus.NEW,
        CaseStatus.ASSIGNED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.WAITING_WORKER,
        CaseStatus.WAITING_PARTNER,
    }
)
_ACTIVE = (CaseStatus.NEW, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS)
_WAITING = (CaseStatus.WAITING_WORKER, CaseStatus.WAITING_PARTNER)

#: Every status change a case allows: {action: {from status: to status}}. Anything absent is a conflict (409).
#: `wait` goes to the waiting status the caller names (checked against WAITING_TARGETS).
CASE_TRANSITIONS: dict[str, dict[str, str]] = {
    # assigning a new case moves it on; re-assigning keeps the status
    "assign": {
        CaseStatus.NEW: CaseStatus.ASSIGNED,
        CaseStatus.ASSIGNED: CaseStatus.ASSIGNED,
        CaseStatus.IN_PROGRESS: CaseStatus.IN_PROGRESS,
        CaseStatus.WAITING_WORKER: CaseStatus.WAITING_WORKER,
        CaseStatus.WAITING_PARTNER: CaseStatus.WAITING_PARTNER,
    },
    "start": {CaseStatus.ASSIGNED: CaseStatus.IN_PROGRESS},
    "wait": {
        CaseStatus.IN_PROGRESS: "",
        CaseStatus.WAITING_WORKER: "",
        CaseStatus.WAITING_PARTNER: "",
    },
    "resume": {CaseStatus.WAITING_WORKER: CaseStatus.IN_PROGRESS, CaseStatus.WAITING_PARTNER: CaseStatus.IN_PROGRESS},
    "resolve": {
        CaseStatus.IN_PROGRESS: CaseStatus.RESOLVED,
        CaseStatus.WAITING_WORKER: CaseStatus.RESOLVED,
        CaseStatus.WAITING_PARTNER: CaseStatus.RESOLVED,
    },
    "close": {CaseStatus.RESOLVED: CaseStatus.CLOSED},
    "reopen": {CaseStatus.RESOLVED: CaseStatus.IN_PROGRESS, CaseStatus.CLOSED: CaseStatus.IN_PROGRESS},
}
WAITING_TARGETS = frozenset(_WAITING)


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class IntakeChannel(models.TextChoices):
    STATION_VISIT = "station_visit", _("Station visit")
    PHONE = "phone", _("Phone")
    ONLINE_FORM = "online_form", _("Online form")
    QR_CODE = "qr_code", _("QR code")
    HOTLINE_REFERRAL = "hotline_referral", _("Hotline referral")


class PartnerKind(models.TextChoices):
    LABOUR_BUREAU = "labour_bureau", _("Labour bureau")
    MEDIATION = "mediation", _("Mediation")
    LEGAL_AID = "legal_aid", _("Legal aid centre")
    UNION = "union", _("Trade union")
    BANK = "bank", _("Bank")
    UNIVERSITY = "university", _("University")
    PLATFORM_COMPANY = "platform_company", _("Platform company")
    STREET_OFFICE = "street_office", _("Street office")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")


#: Allowed referral status changes.
REFERRAL_TRANSITIONS: dict[str, frozenset[str]] = {
    ReferralStatus.SENT: frozenset({ReferralStatus.ACCEPTED, ReferralStatus.DECLINED}),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.DONE, ReferralStatus.DECLINED}),
    ReferralStatus.DONE: frozenset(),
    ReferralStatus.DECLINED: frozenset(),
}


class CaseEventKind(models.TextChoices):
    NOTE = "note", _("Note")
    STATUS = "status", _("Status change")
    FIELD = "field", _("Field change")
    ATTACHMENT = "attachment", _("Attachment")
    REFERRAL = "referral", _("Referral")
    BREACH = "breach", _("Deadline missed")
    RATING = "rating", _("Rating")


class BreachKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class Amenity(models.TextChoices):
    WATER = "water", _("Drinking water")
    MICROWAVE = "microwave", _("Microwave")
    CHARGING = "charging", _("Phone and battery charging")
    FIRST_AID = "first_aid", _("First aid kit")
    REST_SEATS = "rest_seats", _("Rest seats")
    TOILET = "toilet", _("Toilet")
    WIFI = "wifi", _("Wi-Fi")
    AIR_CONDITIONING = "air_conditioning", _("Air conditioning")
    UMBRELLA = "umbrella", _("Umbrellas to borrow")
    REPAIR_TOOLS = "repair_tools", _("Repair tools")


class WishStatus(models.TextChoices):
    POSTED = "posted", _("Posted")
    CLAIMED = "claimed", _("Claimed")
    FULFILLED = "fulfilled", _("Fulfilled")


class AidKind(models.TextChoices):
    LIVING = "living", _("Living hardship")
    MEDICAL = "medical", _("Medical costs")
    EDUCATION = "education", _("Children's education")
    DISASTER = "disaster", _("Accident or disaster")
    HOLIDAY_VISIT = "holiday_visit", _("Holiday visit")
    OTHER = "other", _("Other")


class AidStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
