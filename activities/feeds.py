"""Calendar feeds (issue 5 part 9): a member's or a branch's activities as RFC 5545 iCalendar at a secret,
revocable URL (CalendarFeedToken). Calendar apps poll the URL without logging in, so the token is the
only key: 256 random bits, shown only to its owner, and revoking it ends access at once.

Window: activities from 90 days back to a year ahead. Cancelled ones stay in the feed with
STATUS:CANCELLED so subscribed calendars remove or strike them; SEQUENCE is the row's version, so a moved
activity replaces the old event.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from activities.choices import ActivityStatus
from activities.models import Activity, CalendarFeedToken
from activities.selectors import member_activity_list
from branches.models import Branch
from branches.permissions import in_scope
from core.audit import audit_record
from members.models import Member

PAST = datetime.timedelta(days=90)
AHEAD = datetime.timedelta(days=366)


def feed_list(*, user):
    return CalendarFeedToken.objects.filter(owner=user, revoked_at__isnull=True).select_related("branch", "member")


@transaction.atomic
def feed_create(*, actor, branch: Branch | None = None, member: Member | None = None) -> CalendarFeedToken:
    """A new feed URL for the actor's own member record, or for a branch the actor may view."""
    if member is not None and member.user_id != actor.pk:
        raise PermissionDenied(_("You can only subscribe to your own activities."))
    if branch is not None and not in_scope(actor, "activities.view", branch):
        raise PermissionDenied(_("You cannot see this organisation's activities."))
    feed = CalendarFeedToken(owner=actor, branch=branch, member=member)
    feed.full_clean()
    feed.save()
    audit_record(actor=actor, obj=feed, action="activities.feed.created")
    return feed


@transaction.atomic
def feed_revoke(*, actor, feed: CalendarFeedToken) -> CalendarFeedToken:
    if feed.owner_id != actor.pk:
        raise PermissionDenied(_("This is not your calendar feed."))
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit_record(actor=actor, obj=feed, action="activities.feed.revoked")
    return feed


def feed_by_token(token: str) -> CalendarFeedToken | None:
    """The live feed with this token, or None (unknown or revoked); its owner must still be active."""
    return (
        CalendarFeedToken.objects.select_related("branch", "member", "member__branch", "owner")
        .filter(token=token, revoked_at__isnull=True, owner__is_active=True)
        .first()
    )


def feed_activities(feed: CalendarFeedToken):
    now = timezone.now()
    if feed.member_id:
        rows = member_activity_list(member=feed.member)
    else:
        co_hosted = Activity.co_hosts.through.objects.filter(activity_id=OuterRef("pk"), branch_id=feed.branch_id)
        rows = Activity.objects.filter(Q(branch=feed.branch) | Exists(co_hosted)).select_related("branch")
    return rows.filter(starts_at__gte=now - PAST, starts_at__lte=now + AHEAD).order_by("starts_at", "pk")


def feed_calendar(feed: CalendarFeedToken, *, host: str) -> bytes:
    """The iCalendar document of the feed."""
    calendar = Calendar()
    calendar.add("prodid", "-//Branchwork//Activities//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", str(feed))
    for activity in feed_activities(feed):
        event = Event()
        event.add("uid", f"{activity.pk}@{host}")
        event.add("dtstamp", activity.updated_at)
        event.add("last-modified", activity.updated_at)
        event.add("sequence", activity.version)
        event.add("dtstart", activity.starts_at)
        event.add("dtend", activity.ends_at)
        event.add("summary", activity.title)
        if activity.agenda:
            event.add("description", activity.agenda)
        place = ", ".join(p for p in (activity.venue, activity.online_link) if p)
        if place:
            event.add("location", place)
        if activity.online_link:
            event.add("url", activity.online_link)
        event.add("categories", [activity.get_kind_display()])
        status = {
            ActivityStatus.CANCELLED: "CANCELLED",
            ActivityStatus.HELD: "CONFIRMED",
            ActivityStatus.PLANNED: "CONFIRMED",
        }[activity.status]
        event.add("status", status)
        calendar.add_component(event)
    return calendar.to_ical()
