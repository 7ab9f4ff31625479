"""Activity reminders and cancellation notices: a periodic sweep and an exactly-once send log.

How it works (issue 5 part 6):
- Nothing waits in a countdown task. Every minute the beat runs `tasks.reminders_sweep`, which asks
  `reminders_due` what is due: planned activities starting within the largest possible offset (30 days),
  each with its `reminder_offsets`, minus the (activity, offset, start) batches already completed, plus
  cancelled future activities whose notice has not gone out. Two queries whatever the number of activities.
- Each due batch is sent by `reminder_batch_send` (queued as one task per batch by the beat task, so a
  10,000-invitee activity does not hold up the others and batches spread over workers; called inline by
  `reminders_sweep` for tests, benches and the management shell). It writes the send log rows
  (INSERT … ON CONFLICT DO NOTHING via bulk_create(ignore_conflicts=True)), then claims chunks with a
  conditional UPDATE … WHERE sent_at IS NULL AND (unclaimed OR claim older than the lease), and in one
  transaction hands the chunk to `core.notifications.deliver` (each invitee's notification preferences
  pick the channels; it sends e-mails and text messages, then writes the in-app notifications) and
  marks the chunk sent. Two sweeps racing therefore split the rows between them; a worker that dies
  leaves claimed rows that a later sweep takes over once the lease has expired.
  The one window left: a worker dying after the mail server accepted a chunk and before it was marked
  sent re-sends that chunk's e-mails/SMS after the lease (in-app notifications are written in the same
  transaction as the mark, so they are never doubled).
- The start time is part of every key: a moved activity gets fresh reminders. A cancelled activity gets
  one notice (offset -1 in the log) and no reminder after it, since only planned activities are due.
- When several offsets are due at once (an activity scheduled at short notice), only the nearest is sent;
  the earlier ones are recorded as done, so invitees get one message, not three.
- Quiet hours (settings.ACTIVITIES_QUIET_HOURS, local time, e.g. 22:00–07:30): a message due inside them
  waits for their end, unless the activity starts before that end; then it is brought forward to the
  moment quiet hours begin (sent right away when that moment is already past, e.g. scheduled at night for
  the early morning), because a reminder after the start is useless.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from activities.choices import CANCELLATION_OFFSET, ActivityStatus
from activities.models import Activity, ReminderBatch, ReminderLog
from activities.selectors import activity_invitees
from core.notifications import deliver

logger = logging.getLogger(__name__)

#: The largest offset the model allows (30 days), so the sweep never looks further ahead.
MAX_OFFSET_MINUTES = 60 * 24 * 30
KIND_REMINDER = "activities.reminder"
KIND_CANCELLED = "activities.cancelled"


@dataclass(frozen=True)
class DueBatch:
    activity_id: uuid.UUID
    offset: int
    starts_at: datetime.datetime


#
# Quiet hours
#
def _clock(text: str) -> datetime.time:
    hours, minutes = text.split(":")
    return datetime.time(int(hours), int(minutes))


def quiet_adjust(due: datetime.datetime, starts_at: datetime.datetime) -> datetime.datetime:
    """When a message due at `due` may go out, given quiet hours (see the module docstring)."""
    window = getattr(settings, "ACTIVITIES_QUIET_HOURS", None)
    if not window:
        return due
    begin, end = _clock(window[0]), _clock(window[1])
    local = timezone.localtime(due)
    clock, day = local.time(), local.date()
    one_day = datetime.timedelta(days=1)
    if begin > end:  # wraps midnight, the usual case
        if clock >= begin:
            begin_day, end_day = day, day + one_day
        elif clock < end:
            begin_day, end_day = day - one_day, day
        else:
            return due
    elif begin <= clock < end:
        begin_day = end_day = day
    else:
        return due
    zone = timezone.get_current_timezone()
    quiet_end = datetime.datetime.combine(end_day, end, tzinfo=zone)
    if quiet_end < starts_at:
        return quiet_end
    return datetime.datetime.combine(begin_day, begin, tzinfo=zone)


#
# What is due
#
def reminders_due(*, now: datetime.datetime | None = None) -> list[DueBatch]:
    """Batches to send now: two queries (candidate activities, completed batches among them)."""
    now = now or timezone.now()
    cancel_done = ReminderBatch.objects.filter(
        activity_id=OuterRef("pk"), offset=CANCELLATION_OFFSET, starts_at=OuterRef("starts_at")
    )
    candidates = list(
        Activity.objects.filter(starts_at__gt=now)
        .filter(
            Q(status=ActivityStatus.PLANNED, starts_at__lte=now + datetime.timedelta(minutes=MAX_OFFSET_MINUTES))
            | (Q(status=ActivityStatus.CANCELLED) & ~Q(Exists(cancel_done)))
        )
        .only("pk", "status", "starts_at", "updated_at", "reminder_offsets")
        .order_by("starts_at", "pk")
    )
    planned = [a.pk for a in candidates if a.status == ActivityStatus.PLANNED]
    done = set()
    if planned:
        done = set(
            ReminderBatch.objects.filter(activity_id__in=planned, starts_at__gt=now).values_list(
                "activity_id", "offset", "starts_at"
            )
        )
    due: list[DueBatch] = []
    for activity in candidates:
        if activity.status == ActivityStatus.CANCELLED:
            if quiet_adjust(activity.updated_at, activity.starts_at) <= now:
                due.append(DueBatch(activity.pk, CANCELLATION_OFFSET, activity.starts_at))
            continue
        ripe = []
        for offset in sorted(set(activity.reminder_offsets or []), reverse=True):
            if (activity.pk, offset, activity.starts_at) in done:
                continue
            send_at = quiet_adjust(activity.starts_at - datetime.timedelta(minutes=offset), activity.starts_at)
            if send_at <= now:
                ripe.append(offset)
        if ripe:
            # Only the nearest of the offsets due together goes out; the others are recorded as done.
            for offset in ripe[:-1]:
                _batch_complete(activity.pk, offset, activity.starts_at, sent=0)
            due.append(DueBatch(activity.pk, ripe[-1], activity.starts_at))
    return due


def _batch_complete(activity_id, offset: int, starts_at, *, sent: int) -> None:
    ReminderBatch.objects.bulk_create(
        [ReminderBatch(activity_id=activity_id, offset=offset, starts_at=starts_at, sent=sent)],
        ignore_conflicts=True,
    )


#
# Sending
#
def _message(activity: Activity, offset: int) -> tuple[str, str]:
    when = date_format(timezone.localtime(activity.starts_at), "DATETIME_FORMAT")
    place = ", ".join(p for p in (activity.venue, activity.online_link) if p)
    if offset == CANCELLATION_OFFSET:
        title = _("Cancelled: %(title)s") % {"title": activity.title}
        body = _("%(title)s on %(when)s has been cancelled.") % {"title": activity.title, "when": when}
        if activity.cancel_reason:
            body += " " + _("Reason: %(reason)s") % {"reason": activity.cancel_reason}
        return title, body
    title = _("Reminder: %(title)s") % {"title": activity.title}
    body = _("%(title)s starts at %(when)s.") % {"title": activity.title, "when": when}
    if place:
        body += " " + _("Where: %(place)s") % {"place": place}
    return title, body


def _still_due(activity: Activity, offset: int, starts_at) -> bool:
    """The batch still describes the activity: not moved since, and in the status the message is for."""
    if activity.starts_at != starts_at:
        return False
    wanted = ActivityStatus.CANCELLED if offset == CANCELLATION_OFFSET else ActivityStatus.PLANNED
    return activity.status == wanted


def _claim_chunk(batch: Q, *, now, size: int) -> tuple[uuid.UUID, int, bool]:
    """Claim up to `size` unsent rows of the batch; returns (claim, rows claimed, any were claimable)."""
    lease = datetime.timedelta(seconds=settings.ACTIVITIES_REMINDER_LEASE_SECONDS)
    claimable = ReminderLog.objects.filter(batch, sent_at__isnull=True).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease)
    )
    ids = list(claimable.order_by("pk").values_list("pk", flat=True)[:size])
    if not ids:
        return uuid.uuid4(), 0, False
    claim = uuid.uuid4()
    # The WHERE is evaluated again on each row under its lock, so of two racing sweeps only one wins a row.
    claimed = claimable.filter(pk__in=ids).update(claim=claim, claimed_at=now)
    return claim, claimed, True


#: ACTIVITIES_REMINDER_CHANNELS and ReminderLog.channels say "inapp"; the notification centre says "in_app".
_CENTRE_CHANNEL = {"inapp": "in_app", "email": "email", "sms": "sms"}
_LOG_CHANNEL = {centre: ours for ours, centre in _CENTRE_CHANNEL.items()}


def _send_chunk(activity: Activity, offset: int, claim: uuid.UUID, *, now) -> int:
    """Send one claimed chunk through the notification centre (each invitee's preferences apply) and mark it.

    Members without an active login still get the text message when the kind sends SMS; the centre sends
    e-mail and SMS before writing the in-app rows, all inside the transaction that marks the chunk sent.
    """
    rows = list(ReminderLog.objects.filter(claim=claim, sent_at__isnull=True).select_related("member", "member__user"))
    allowed = {_CENTRE_CHANNEL[c] for c in settings.ACTIVITIES_REMINDER_CHANNELS if c in _CENTRE_CHANNEL}
    title, body = _message(activity, offset)
    url = reverse("activities:my_activities")
    kind = KIND_CANCELLED if offset == CANCELLATION_OFFSET else KIND_REMINDER
    users, phones, guest_phones = [], {}, []
    for row in rows:
        member, user = row.member, row.member.user
        if user is not None and user.is_active:
            users.append(user)
            if member.phone_cipher:
                phones[user.pk] = member.phone
        elif member.phone_cipher:
            guest_phones.append(member.phone)
    with transaction.atomic():
        result = deliver(
            recipients=users,
            kind=kind,
            title=title,
            body=body,
            url=url,
            phones=phones,
            channels=allowed,
            guest_phones=guest_phones,
        )
        by_channels: dict[str, list[int]] = {}
        for row in rows:
            user = row.member.user
            if user is not None and user.is_active:
                used = result.used(user.pk)
            else:
                used = result.guest_channels if row.member.phone_cipher else ()
            key = ",".join(_LOG_CHANNEL[c] for c in used)
            by_channels.setdefault(key, []).append(row.pk)
        for used, pks in by_channels.items():  # one UPDATE per combination of channels, not per row
            ReminderLog.objects.filter(pk__in=pks).update(sent_at=now, channels=used)
    return len(rows)


def reminder_batch_send(
    *, activity_id, offset: int, starts_at: datetime.datetime, now: datetime.datetime | None = None
) -> int:
    """Send one due batch to every invitee not yet reminded; returns how many this call sent."""
    now = now or timezone.now()
    activity = Activity.objects.select_related("branch").prefetch_related("co_hosts").filter(pk=activity_id).first()
    if activity is None or not _still_due(activity, offset, starts_at):
        return 0
    batch = Q(activity_id=activity.pk, offset=offset, starts_at=starts_at)
    member_ids = list(activity_invitees(activity=activity).values_list("pk", flat=True))
    ReminderLog.objects.bulk_create(
        [ReminderLog(activity_id=activity.pk, member_id=m, offset=offset, starts_at=starts_at) for m in member_ids],
        ignore_conflicts=True,
        batch_size=1000,
    )
    sent = 0
    size = settings.ACTIVITIES_REMINDER_CHUNK
    with translation.override(settings.LANGUAGE_CODE):
        while True:
            claim, claimed, any_claimable = _claim_chunk(batch, now=now, size=size)
            if not any_claimable:
                break
            if claimed:
                sent += _send_chunk(activity, offset, claim, now=now)
    if not ReminderLog.objects.filter(batch, sent_at__isnull=True).exists():
        _batch_complete(activity.pk, offset, starts_at, sent=ReminderLog.objects.filter(batch).count())
    return sent


def reminders_sweep(*, now: datetime.datetime | None = None) -> int:
    """Send everything due now, inline (the beat task queues the batches instead); returns messages sent."""
    now = now or timezone.now()
    sent = 0
    for due in reminders_due(now=now):
        try:
            sent += reminder_batch_send(
                activity_id=due.activity_id, offset=due.offset, starts_at=due.starts_at, now=now
            )
        except Exception:  # one failing batch must not stop the others; the next sweep retries it
            logger.exception("Reminder batch %s failed", due)
    return sent
