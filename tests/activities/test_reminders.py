import datetime
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from activities import reminders, tasks
from activities.actions import activity_cancel, activity_update
from activities.choices import CANCELLATION_OFFSET
from activities.models import ReminderBatch, ReminderLog
from core import sms
from core.models import Notification
from tests.activities.factories import ActivityFactory, at
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _clean_outboxes():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def invited(branch_tree, member_with_user):
    """An activity at Station A tomorrow 09:00 with two members who log in and one who does not."""
    station = branch_tree["station_a"]
    people = [member_with_user(station), member_with_user(station), MemberFactory(branch=station)]
    activity = ActivityFactory(branch=station, starts_at=at(days=2, hour=9))
    return activity, people


def _before(activity, minutes: int) -> datetime.datetime:
    return activity.starts_at - datetime.timedelta(minutes=minutes)


def test_reminders_sweep_sends_nothing_before_the_offset(invited):
    activity, _people = invited
    assert reminders.reminders_sweep(now=_before(activity, 1441)) == 0
    assert ReminderLog.objects.count() == 0


def test_reminders_sweep_sends_each_channel_once_per_offset(invited):
    activity, people = invited
    now = _before(activity, 1440)
    assert reminders.reminders_sweep(now=now) == 3
    assert Notification.objects.filter(kind=reminders.KIND_REMINDER).count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.user.email for p in people[:2])
    assert sorted(t.to for t in sms.outbox) == sorted(p.phone for p in people)
    assert activity.title in mail.outbox[0].subject
    # a later sweep before the next offset sends nothing more
    assert reminders.reminders_sweep(now=now + 5 * MINUTE) == 0
    assert len(mail.outbox) == 2
    # the one-hour reminder goes out in its turn
    assert reminders.reminders_sweep(now=_before(activity, 60)) == 3
    assert ReminderLog.objects.filter(sent_at__isnull=False).count() == 6


def test_reminders_sweep_sends_only_the_nearest_of_offsets_due_together(invited):
    activity, _people = invited
    assert reminders.reminders_sweep(now=_before(activity, 30)) == 3
    assert set(ReminderLog.objects.values_list("offset", flat=True)) == {60}
    assert ReminderBatch.objects.filter(activity=activity, offset=1440, sent=0).exists()
    assert reminders.reminders_sweep(now=_before(activity, 29)) == 0


def test_reminders_moved_activity_gets_fresh_reminders(invited):
    activity, _people = invited
    assert reminders.reminders_sweep(now=_before(activity, 1440)) == 3
    moved = activity_update(
        actor=None,
        activity=activity,
        starts_at=activity.starts_at + datetime.timedelta(days=1),
        ends_at=activity.ends_at + datetime.timedelta(days=1),
    )
    assert reminders.reminders_sweep(now=_before(moved, 1441)) == 0
    assert reminders.reminders_sweep(now=_before(moved, 1440)) == 3
    assert ReminderLog.objects.filter(offset=1440).count() == 6


def test_reminders_cancelled_activity_sends_one_notice_and_nothing_more(invited, settings):
    settings.ACTIVITIES_QUIET_HOURS = None
    activity, _people = invited
    now = timezone.now()
    activity_cancel(actor=None, activity=activity, reason="Typhoon warning")
    assert reminders.reminders_sweep(now=now + 5 * MINUTE) == 3
    notices = Notification.objects.filter(kind=reminders.KIND_CANCELLED)
    assert notices.count() == 2
    assert "Typhoon warning" in notices.first().body
    assert reminders.reminders_sweep(now=now + 10 * MINUTE) == 0
    assert reminders.reminders_sweep(now=_before(activity, 1440)) == 0
    assert reminders.reminders_sweep(now=_before(activity, 60)) == 0
    assert set(ReminderLog.objects.values_list("offset", flat=True)) == {CANCELLATION_OFFSET}


def test_reminders_crashed_claim_is_retried_only_after_the_lease(invited, settings):
    activity, people = invited
    now = _before(activity, 1440)
    crashed_at = now - MINUTE
    ReminderLog.objects.bulk_create(
        [
            ReminderLog(activity=activity, member=p, offset=1440, starts_at=activity.starts_at, claimed_at=crashed_at)
            for p in people
        ]
    )
    assert reminders.reminders_sweep(now=now) == 0
    assert not ReminderBatch.objects.exists()
    after_lease = crashed_at + datetime.timedelta(seconds=settings.ACTIVITIES_REMINDER_LEASE_SECONDS + 1)
    assert reminders.reminders_sweep(now=after_lease) == 3
    assert ReminderBatch.objects.get(activity=activity, offset=1440).sent == 3


def test_quiet_hours_defer_to_their_end_when_the_activity_is_later(settings):
    settings.ACTIVITIES_QUIET_HOURS = ("22:00", "07:30")
    due = at(days=1, hour=23)
    assert reminders.quiet_adjust(due, at(days=2, hour=10)) == at(days=2, hour=7, minute=30)
    early = at(days=2, hour=6)
    assert reminders.quiet_adjust(early, at(days=2, hour=10)) == at(days=2, hour=7, minute=30)


def test_quiet_hours_bring_forward_when_the_activity_starts_inside_them(settings):
    settings.ACTIVITIES_QUIET_HOURS = ("22:00", "07:30")
    assert reminders.quiet_adjust(at(days=2, hour=6), at(days=2, hour=7)) == at(days=1, hour=22)
    assert reminders.quiet_adjust(at(days=2, hour=12), at(days=2, hour=13)) == at(days=2, hour=12)


def test_reminders_sweep_respects_quiet_hours(branch_tree, member_with_user):
    member_with_user(branch_tree["station_a"])
    activity = ActivityFactory(branch=branch_tree["station_a"], starts_at=at(days=3, hour=6), reminder_offsets=[1440])
    assert reminders.reminders_sweep(now=_before(activity, 1440)) == 0  # 06:00 is quiet; starts after 07:30
    assert reminders.reminders_sweep(now=at(days=2, hour=7, minute=30)) == 1


def test_reminders_sweep_task_queues_one_batch_per_due_offset(branch_tree, member_with_user, settings):
    settings.ACTIVITIES_QUIET_HOURS = None
    station = branch_tree["station_a"]
    member_with_user(station)
    member_with_user(station)
    start = timezone.now() + datetime.timedelta(minutes=30)
    ActivityFactory(branch=station, starts_at=start, ends_at=start + datetime.timedelta(hours=1))
    assert tasks.reminders_sweep() == 1  # eager in tests: the queued batch runs at once
    assert ReminderLog.objects.filter(offset=60, sent_at__isnull=False).count() == 2
    assert tasks.reminders_sweep() == 0


def _race(now, results, index):
    try:
        results[index] = reminders.reminders_sweep(now=now)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_reminders_two_sweeps_racing_send_exactly_once(branch_tree, member_with_user, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers, so two sweeps cannot really race; run with DATABASE_URL=postgres://")
    settings.ACTIVITIES_REMINDER_CHUNK = 7  # many small claims, so the two sweeps interleave
    station = branch_tree["station_a"]
    people = [member_with_user(station) for _ in range(40)]
    activity = ActivityFactory(branch=station, starts_at=at(days=2, hour=9))
    now = _before(activity, 1440)
    results = [0, 0]
    barrier = threading.Barrier(2)

    def run(index):
        barrier.wait()
        _race(now, results, index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == len(people)
    assert len(mail.outbox) == len(people)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.user.email for p in people)
    assert Notification.objects.filter(kind=reminders.KIND_REMINDER).count() == len(people)
    assert ReminderLog.objects.filter(sent_at__isnull=False).count() == len(people)
    assert ReminderBatch.objects.filter(activity=activity, offset=1440).count() == 1


def test_notifications_badge_and_page(client, user):
    Notification.objects.create(recipient=user, kind="test", title="Meeting tomorrow", url="/activities/mine/")
    client.force_login(user)
    page = client.get(reverse("home"))
    assert b'id="notifications-unread"' in page.content
    listing = client.get(reverse("notifications"))
    assert b"Meeting tomorrow" in listing.content
    client.post(reverse("notifications"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert b'id="notifications-unread"' not in client.get(reverse("home")).content
