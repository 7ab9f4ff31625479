import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.http import Http404
from django.utils import timezone

from activities import actions
from activities.choices import ActivityStatus, AttendanceMethod, CheckInRefusal, LeaveStatus, SeriesScope
from activities.models import Activity, ActivityInvite, ActivitySeries, Attendance, LeaveRequest
from activities.selectors import activity_is_invited, activity_quorum, quorum_required
from branches import actions as branch_actions
from branches.choices import CommitteePost, Role
from core.exceptions import Conflict
from core.models import AuditEntry, ChangeRecord
from tests.activities.factories import ActivityFactory, at
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _live(branch, **kwargs):
    """An activity under way now (so check-in is open)."""
    now = timezone.now()
    return ActivityFactory(
        branch=branch,
        starts_at=now - datetime.timedelta(minutes=10),
        ends_at=now + datetime.timedelta(hours=1),
        **kwargs,
    )


#
# Activities
#
def test_activity_create_records_audit_and_change(branch_tree, organiser):
    activity = ActivityFactory(branch=branch_tree["station_a"], actor=organiser, co_hosts=[branch_tree["station_b"]])

    assert activity.organiser == organiser
    assert list(activity.co_hosts.all()) == [branch_tree["station_b"]]
    assert AuditEntry.objects.filter(action="activities.activity.created", object_id=str(activity.pk)).exists()
    assert ChangeRecord.objects.filter(resource="activity", object_id=activity.pk, version=1).exists()


def test_activity_create_rejects_end_before_start(branch_tree, organiser):
    with pytest.raises(ValidationError) as exc:
        ActivityFactory(branch=branch_tree["station_a"], actor=organiser, starts_at=at(2, 10), ends_at=at(2, 9))

    assert "ends_at" in exc.value.message_dict
    assert not Activity.objects.exists()


def test_activity_end_before_start_refused_by_database(branch_tree):
    activity = ActivityFactory(branch=branch_tree["station_a"])

    with pytest.raises(IntegrityError):
        Activity.objects.filter(pk=activity.pk).update(ends_at=activity.starts_at)


@pytest.mark.parametrize(
    ("mode", "venue", "link", "field"),
    [
        ("offline", "", "", "venue"),
        ("online", "Hall", "", "online_link"),
        ("hybrid", "Hall", "", "online_link"),
        ("hybrid", "", "https://meet.example.com/1", "venue"),
    ],
)
def test_activity_create_requires_place_for_mode(branch_tree, mode, venue, link, field):
    with pytest.raises(ValidationError) as exc:
        ActivityFactory(branch=branch_tree["station_a"], mode=mode, venue=venue, online_link=link)

    assert field in exc.value.message_dict


def test_activity_create_outside_scope_is_not_found(branch_tree, role_at):
    outsider = role_at(branch_tree["building"], Role.ORGANISER)

    with pytest.raises(Http404):
        ActivityFactory(branch=branch_tree["station_a"], actor=outsider)


def test_activity_create_by_member_role_is_refused(branch_tree, role_at):
    viewer = role_at(branch_tree["station_a"], Role.CASEWORKER)

    with pytest.raises((PermissionDenied, Http404)):
        ActivityFactory(branch=branch_tree["station_a"], actor=viewer)


def test_activity_cancel_twice_is_conflict(branch_tree, organiser):
    activity = ActivityFactory(branch=branch_tree["station_a"])

    actions.activity_cancel(actor=organiser, activity=activity, reason="Typhoon")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.CANCELLED
    assert activity.cancel_reason == "Typhoon"
    with pytest.raises(Conflict):
        actions.activity_cancel(actor=organiser, activity=activity, reason="again")


def test_activity_update_cancelled_is_conflict(branch_tree, organiser):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    actions.activity_cancel(actor=organiser, activity=activity)

    with pytest.raises(Conflict):
        actions.activity_update(actor=organiser, activity=activity, title="New")


def test_activity_mark_held_before_start_refused(branch_tree, organiser):
    activity = ActivityFactory(branch=branch_tree["station_a"])

    with pytest.raises(ValidationError):
        actions.activity_mark_held(actor=organiser, activity=activity)


def test_activity_delete_refused_with_attendance(branch_tree, organiser):
    activity = _live(branch_tree["station_a"])
    member = MemberFactory(branch=branch_tree["station_a"])
    actions.attendance_mark(actor=organiser, activity=activity, member=member)

    with pytest.raises(Conflict):
        actions.activity_delete(actor=organiser, activity=activity)


def test_activity_delete_leaves_tombstone(branch_tree, organiser):
    activity = ActivityFactory(branch=branch_tree["station_a"])

    actions.activity_delete(actor=organiser, activity=activity)

    assert not Activity.objects.filter(pk=activity.pk).exists()
    assert ChangeRecord.objects.filter(object_id=activity.pk, op="delete").exists()


def test_attachment_add_checks_size_and_type(branch_tree, organiser, settings):
    settings.ACTIVITIES_ATTACHMENT_MAX_BYTES = 10
    activity = ActivityFactory(branch=branch_tree["station_a"])

    with pytest.raises(ValidationError):
        actions.attachment_add(
            actor=organiser,
            activity=activity,
            upload=SimpleUploadedFile("minutes.pdf", b"x" * 11, content_type="application/pdf"),
        )
    with pytest.raises(ValidationError):
        actions.attachment_add(
            actor=organiser,
            activity=activity,
            upload=SimpleUploadedFile("run.exe", b"x", content_type="application/octet-stream"),
        )
    attachment = actions.attachment_add(
        actor=organiser,
        activity=activity,
        upload=SimpleUploadedFile("minutes.pdf", b"%PDF-", content_type="application/pdf"),
    )
    assert attachment.size == 5
    assert attachment.content_type == "application/pdf"


#
# Series
#
def _series(branch, actor=None, rule="FREQ=WEEKLY;COUNT=6", days=7, **kwargs):
    start = timezone.localdate() + datetime.timedelta(days=days)
    return actions.series_create(
        actor=actor,
        branch=branch,
        rrule=rule,
        starts_on=start,
        start_time=datetime.time(19, 30),
        duration_minutes=60,
        title="Weekly study",
        kind="study",
        mode="online",
        online_link="https://meet.example.com/study",
        **kwargs,
    )


def test_series_create_makes_occurrences_in_local_time(branch_tree, organiser):
    series = _series(branch_tree["station_a"], organiser)

    occurrences = list(series.occurrences.order_by("starts_at"))
    assert len(occurrences) == 6
    assert all(timezone.localtime(a.starts_at).time() == datetime.time(19, 30) for a in occurrences)
    assert all(a.ends_at - a.starts_at == datetime.timedelta(hours=1) for a in occurrences)
    assert occurrences[1].starts_at - occurrences[0].starts_at == datetime.timedelta(days=7)
    assert all(a.organiser == organiser and a.title == "Weekly study" for a in occurrences)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY",  # never ends
        "RRULE:FREQ=DAILY;INTERVAL=2",  # never ends either
        "FREQ=SOMETIMES;COUNT=3",
        "not a rule",
        "FREQ=WEEKLY;COUNT=3\nEXDATE:20250101T000000",
        "FREQ=DAILY;COUNT=1000",  # beyond two years
        "FREQ=WEEKLY;UNTIL=20990101T000000Z",
        "",
    ],
)
def test_series_create_refuses_bad_rules(branch_tree, organiser, rule):
    with pytest.raises(ValidationError) as exc:
        _series(branch_tree["station_a"], organiser, rule=rule)

    assert "rrule" in exc.value.message_dict
    assert not ActivitySeries.objects.exists()
    assert not Activity.objects.exists()


def test_series_create_accepts_floating_and_utc_until(branch_tree):
    until = timezone.localdate() + datetime.timedelta(days=30)
    floating = _series(branch_tree["station_a"], rule=f"FREQ=WEEKLY;UNTIL={until:%Y%m%d}T235959")
    utc = _series(branch_tree["station_b"], rule=f"FREQ=WEEKLY;UNTIL={until:%Y%m%d}T000000Z")

    assert floating.occurrences.count() >= 3
    assert utc.occurrences.count() >= 3


def test_series_extend_respects_horizon_and_is_idempotent(branch_tree, settings):
    settings.ACTIVITIES_SERIES_HORIZON_DAYS = 20
    series = _series(branch_tree["station_a"], rule="FREQ=WEEKLY;COUNT=10", days=1)
    assert series.occurrences.count() == 3  # days 1, 8, 15 fall inside 20 days

    later = timezone.now() + datetime.timedelta(days=30)
    created = actions.series_extend(series=series, now=later)
    assert len(created) == 4  # days 22, 29, 36, 43
    assert actions.series_extend(series=series, now=later) == []
    assert series.occurrences.count() == 7


def test_series_edit_this_changes_one(branch_tree, organiser):
    series = _series(branch_tree["station_a"], organiser)
    first, second, *_rest = series.occurrences.order_by("starts_at")

    actions.activity_update(actor=organiser, activity=second, scope=SeriesScope.THIS, title="Special")

    assert list(series.occurrences.order_by("starts_at").values_list("title", flat=True)) == [
        "Weekly study",
        "Special",
        *["Weekly study"] * 4,
    ]


def test_series_edit_all_changes_planned_and_template(branch_tree, organiser):
    series = _series(branch_tree["station_a"], organiser)
    occurrences = list(series.occurrences.order_by("starts_at"))
    actions.activity_cancel(actor=organiser, activity=occurrences[0])
    new_start = occurrences[2].starts_at + datetime.timedelta(hours=1)

    actions.activity_update(
        actor=organiser,
        activity=occurrences[2],
        scope=SeriesScope.ALL,
        title="Evening study",
        starts_at=new_start,
        ends_at=new_start + datetime.timedelta(minutes=90),
    )

    rows = list(Activity.objects.filter(series=series).order_by("starts_at"))
    assert rows[0].title == "Weekly study"  # cancelled: left alone
    assert all(a.title == "Evening study" for a in rows[1:])
    assert all(timezone.localtime(a.starts_at).time() == datetime.time(20, 30) for a in rows[1:])
    assert all(a.ends_at - a.starts_at == datetime.timedelta(minutes=90) for a in rows[1:])
    series.refresh_from_db()
    assert series.title == "Evening study"
    assert series.start_time == datetime.time(20, 30)
    assert series.duration_minutes == 90


def test_series_edit_following_splits_the_series(branch_tree, organiser):
    series = _series(branch_tree["station_a"], organiser)
    occurrences = list(series.occurrences.order_by("starts_at"))

    actions.activity_update(actor=organiser, activity=occurrences[3], scope=SeriesScope.FOLLOWING, title="Part two")

    series.refresh_from_db()
    assert [a.title for a in series.occurrences.order_by("starts_at")] == ["Weekly study"] * 3
    assert "UNTIL=" in series.rrule
    assert "COUNT" not in series.rrule
    new = ActivitySeries.objects.exclude(pk=series.pk).get()
    assert [a.title for a in new.occurrences.order_by("starts_at")] == ["Part two"] * 3
    assert "COUNT=3" in new.rrule
    assert new.starts_on == timezone.localtime(occurrences[3].starts_at).date()
    # Extending either series later creates nothing twice.
    later = timezone.now() + datetime.timedelta(days=400)
    actions.series_extend(series=series, now=later)
    actions.series_extend(series=new, now=later)
    assert Activity.objects.count() == 6


def test_series_edit_scope_needs_a_series(branch_tree, organiser):
    activity = ActivityFactory(branch=branch_tree["station_a"])

    with pytest.raises(ValidationError):
        actions.activity_update(actor=organiser, activity=activity, scope=SeriesScope.ALL, title="x")


def test_activity_skip_keeps_exdate_and_never_recreates(branch_tree, organiser):
    series = _series(branch_tree["station_a"], organiser)
    second = series.occurrences.order_by("starts_at")[1]
    day = timezone.localtime(second.starts_at).date().isoformat()

    actions.activity_skip(actor=organiser, activity=second)

    series.refresh_from_db()
    assert series.exdates == [day]
    assert series.occurrences.count() == 5
    series.generated_until = None
    series.save()
    actions.series_extend(series=series)
    assert series.occurrences.count() == 5


def test_activity_skip_refused_once_someone_attended(branch_tree, organiser):
    series = _series(branch_tree["station_a"], organiser)
    first = series.occurrences.order_by("starts_at").first()
    Activity.objects.filter(pk=first.pk).update(
        starts_at=timezone.now() - datetime.timedelta(minutes=5), ends_at=timezone.now() + datetime.timedelta(hours=1)
    )
    first.refresh_from_db()
    actions.attendance_mark(actor=organiser, activity=first, member=MemberFactory(branch=branch_tree["station_a"]))

    with pytest.raises(Conflict):
        actions.activity_skip(actor=organiser, activity=first)


#
# QR check-in
#
def test_self_check_in_records_once(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    token = actions.check_in_token(activity=activity)

    attendance = actions.attendance_self_check_in(actor=member.user, token=token)

    assert attendance.member == member
    assert attendance.method == AttendanceMethod.QR
    assert attendance.branch_id == activity.branch_id
    with pytest.raises(actions.CheckInRefused) as exc:
        actions.attendance_self_check_in(actor=member.user, token=token)
    assert exc.value.code == CheckInRefusal.ALREADY_CHECKED_IN
    assert Attendance.objects.filter(activity=activity).count() == 1


def test_self_check_in_token_expires_within_a_minute(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    issued = timezone.now().timestamp()
    with mock.patch("django.core.signing.time.time", return_value=issued):
        token = actions.check_in_token(activity=activity)

    with (
        mock.patch("django.core.signing.time.time", return_value=issued + 61),
        pytest.raises(actions.CheckInRefused) as exc,
    ):
        actions.attendance_self_check_in(actor=member.user, token=token)

    assert exc.value.code == CheckInRefusal.INVALID_TOKEN
    assert "expired" in exc.value.messages[0]
    assert not Attendance.objects.exists()
    with mock.patch("django.core.signing.time.time", return_value=issued + 59):
        actions.attendance_self_check_in(actor=member.user, token=token)
    assert Attendance.objects.count() == 1


def test_self_check_in_login_grace_extends_a_seen_token(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    issued = timezone.now().timestamp()
    with mock.patch("django.core.signing.time.time", return_value=issued):
        token = actions.check_in_token(activity=activity)

    with mock.patch("django.core.signing.time.time", return_value=issued + 150):
        actions.attendance_self_check_in(actor=member.user, token=token, extra_age=120)

    assert Attendance.objects.count() == 1


def test_self_check_in_refuses_another_activitys_token(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    other = _live(branch_tree["delivery"])
    other_token = actions.check_in_token(activity=other)
    # The other activity's signature under this activity's id: the per-activity salt refuses it.
    forged = activity.pk.hex + other_token[len(other.pk.hex) :]

    with pytest.raises(actions.CheckInRefused) as exc:
        actions.attendance_self_check_in(actor=member.user, token=forged)
    assert exc.value.code == CheckInRefusal.INVALID_TOKEN
    with pytest.raises(actions.CheckInRefused):
        actions.check_in_token_verify(activity=activity, token=other_token)
    assert not Attendance.objects.exists()


def test_self_check_in_refuses_not_invited(branch_tree, member_with_user):
    member = member_with_user(branch_tree["building"])
    activity = _live(branch_tree["delivery"])

    with pytest.raises(actions.CheckInRefused) as exc:
        actions.attendance_self_check_in(actor=member.user, token=actions.check_in_token(activity=activity))

    assert exc.value.code == CheckInRefusal.NOT_INVITED
    assert not Attendance.objects.exists()


def test_self_check_in_refuses_cancelled(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    actions.activity_cancel(actor=None, activity=activity)

    with pytest.raises(actions.CheckInRefused) as exc:
        actions.attendance_self_check_in(actor=member.user, token=actions.check_in_token(activity=activity))

    assert exc.value.code == CheckInRefusal.CANCELLED


@pytest.mark.parametrize("minutes_from_start", [-31, 61 + 60])
def test_self_check_in_refuses_outside_window(branch_tree, member_with_user, minutes_from_start):
    member = member_with_user(branch_tree["station_a"])
    activity = ActivityFactory(branch=branch_tree["delivery"], starts_at=at(1, 9), ends_at=at(1, 11))
    now = activity.starts_at + datetime.timedelta(minutes=minutes_from_start)

    with pytest.raises(actions.CheckInRefused) as exc:
        actions.attendance_self_check_in(actor=member.user, token=actions.check_in_token(activity=activity), now=now)

    assert exc.value.code == CheckInRefusal.OUTSIDE_WINDOW


def test_self_check_in_opens_thirty_minutes_early(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = ActivityFactory(branch=branch_tree["delivery"], starts_at=at(1, 9), ends_at=at(1, 11))
    now = activity.starts_at - datetime.timedelta(minutes=29)

    attendance = actions.attendance_self_check_in(
        actor=member.user, token=actions.check_in_token(activity=activity), now=now
    )

    assert attendance.checked_in_at == now


def test_self_check_in_needs_a_member_record(branch_tree, user):
    activity = _live(branch_tree["delivery"])

    with pytest.raises(ValidationError):
        actions.attendance_self_check_in(actor=user, token=actions.check_in_token(activity=activity))


#
# Device check-in
#
def test_check_in_same_nonce_returns_existing(branch_tree, organiser):
    activity = _live(branch_tree["delivery"])
    member = MemberFactory(branch=branch_tree["station_a"])
    nonce = "6f1c7c52-6b7e-4d1e-9a8b-6c2f0b8f1a11"

    first, created = actions.attendance_check_in(actor=organiser, activity=activity, member=member, nonce=nonce)
    again, created_again = actions.attendance_check_in(actor=organiser, activity=activity, member=member, nonce=nonce)

    assert created
    assert not created_again
    assert again.pk == first.pk
    assert Attendance.objects.count() == 1


def test_check_in_other_nonce_is_already_checked_in(branch_tree, organiser):
    activity = _live(branch_tree["delivery"])
    member = MemberFactory(branch=branch_tree["station_a"])
    actions.attendance_check_in(actor=organiser, activity=activity, member=member)

    with pytest.raises(actions.CheckInRefused) as exc:
        actions.attendance_check_in(actor=organiser, activity=activity, member=member)

    assert exc.value.code == CheckInRefusal.ALREADY_CHECKED_IN


def test_check_in_force_keeps_scanned_at_and_checks_window_against_it(branch_tree, organiser):
    activity = ActivityFactory(
        branch=branch_tree["delivery"],
        starts_at=timezone.now() - datetime.timedelta(hours=5),
        ends_at=timezone.now() - datetime.timedelta(hours=3),
    )
    member = MemberFactory(branch=branch_tree["station_a"])
    scanned = activity.starts_at + datetime.timedelta(minutes=5)

    with pytest.raises(actions.CheckInRefused) as exc:
        actions.attendance_check_in(actor=organiser, activity=activity, member=member, scanned_at=scanned)
    assert exc.value.code == CheckInRefusal.OUTSIDE_WINDOW  # without force: now is after the end

    attendance, created = actions.attendance_check_in(
        actor=organiser, activity=activity, member=member, scanned_at=scanned, force=True
    )
    assert created
    assert attendance.checked_in_at == scanned


def test_check_in_online_keeps_duration(branch_tree, organiser):
    activity = _live(branch_tree["delivery"], mode="online", venue="", online_link="https://meet.example.com/x")
    member = MemberFactory(branch=branch_tree["station_a"])

    attendance, _created = actions.attendance_check_in(
        actor=organiser, activity=activity, member=member, method=AttendanceMethod.ONLINE, duration_minutes=47
    )

    assert attendance.duration_minutes == 47


#
# Manual marking, make-up, leave
#
def test_attendance_mark_refuses_not_invited(branch_tree, organiser):
    activity = _live(branch_tree["station_a"])
    stranger = MemberFactory(branch=branch_tree["station_b"])

    with pytest.raises(actions.CheckInRefused) as exc:
        actions.attendance_mark(actor=organiser, activity=activity, member=stranger)

    assert exc.value.code == CheckInRefusal.NOT_INVITED


def test_attendance_mark_named_invitee(branch_tree, organiser):
    activity = _live(branch_tree["station_a"])
    guest = MemberFactory(branch=branch_tree["building"])
    actions.activity_invite(actor=organiser, activity=activity, member=guest)

    attendance = actions.attendance_mark(actor=organiser, activity=activity, member=guest)

    assert attendance.method == AttendanceMethod.MANUAL
    assert ActivityInvite.objects.filter(activity=activity, member=guest).count() == 1


def test_attendance_makeup_for_absentee_needs_duration(branch_tree, organiser):
    activity = _live(branch_tree["station_a"])
    member = MemberFactory(branch=branch_tree["station_a"])

    with pytest.raises(ValidationError):
        actions.attendance_makeup(actor=organiser, activity=activity, member=member, duration_minutes=0)
    attendance = actions.attendance_makeup(
        actor=organiser, activity=activity, member=member, duration_minutes=40, note="Watched the recording"
    )

    assert attendance.method == AttendanceMethod.MAKEUP
    assert attendance.duration_minutes == 40
    with pytest.raises(actions.CheckInRefused):
        actions.attendance_makeup(actor=organiser, activity=activity, member=member, duration_minutes=40)


def test_attendance_makeup_before_start_refused(branch_tree, organiser):
    activity = ActivityFactory(branch=branch_tree["station_a"])

    with pytest.raises(ValidationError):
        actions.attendance_makeup(
            actor=organiser,
            activity=activity,
            member=MemberFactory(branch=branch_tree["station_a"]),
            duration_minutes=30,
        )


def test_leave_request_and_decision(branch_tree, organiser, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = ActivityFactory(branch=branch_tree["delivery"])

    leave = actions.leave_request_create(actor=member.user, activity=activity, reason="Night shift")
    assert leave.status == LeaveStatus.PENDING
    with pytest.raises(ValidationError):
        actions.leave_request_create(actor=member.user, activity=activity, reason="again")

    actions.leave_decide(actor=organiser, leave=leave, approve=True, note="OK")
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.APPROVED
    assert leave.decided_by == organiser
    with pytest.raises(Conflict):
        actions.leave_decide(actor=organiser, leave=leave, approve=False)


def test_leave_request_for_held_activity_refused(branch_tree, organiser, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    actions.activity_mark_held(actor=organiser, activity=activity)

    with pytest.raises(ValidationError) as exc:
        actions.leave_request_create(actor=member.user, activity=activity, reason="Sick")

    assert "already been held" in exc.value.messages[0]
    assert not LeaveRequest.objects.exists()


def test_leave_request_needs_reason_and_invitation(branch_tree, member_with_user):
    outsider = member_with_user(branch_tree["building"])
    insider = member_with_user(branch_tree["station_a"])
    activity = ActivityFactory(branch=branch_tree["delivery"])

    with pytest.raises(ValidationError):
        actions.leave_request_create(actor=insider.user, activity=activity, reason="   ")
    with pytest.raises(ValidationError):
        actions.leave_request_create(actor=outsider.user, activity=activity, reason="Busy")


#
# Quorum
#
@pytest.mark.parametrize(("entitled", "required"), [(1, 1), (2, 2), (3, 2), (4, 3), (7, 4), (10, 6)])
def test_quorum_required_branch_assembly_is_more_than_half(entitled, required):
    assert quorum_required("branch_assembly", entitled) == required


@pytest.mark.parametrize(("entitled", "required"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (7, 4)])
def test_quorum_required_committee_is_at_least_half(entitled, required):
    assert quorum_required("committee_meeting", entitled) == required


def test_quorum_branch_assembly_counts_voting_members_only(branch_tree, organiser):
    branch = branch_tree["station_a"]
    voters = [MemberFactory(branch=branch) for _ in range(4)]
    probationary = MemberFactory(branch=branch, category="probationary")
    visitor = MemberFactory(branch=branch_tree["building"])
    activity = _live(branch, kind="branch_assembly")
    actions.activity_invite(actor=organiser, activity=activity, member=visitor)
    for member in [*voters[:2], probationary, visitor]:
        actions.attendance_mark(actor=organiser, activity=activity, member=member)

    quorum = activity_quorum(activity=activity)
    assert (quorum.entitled, quorum.required, quorum.present, quorum.met) == (4, 3, 2, False)

    actions.attendance_makeup(actor=organiser, activity=activity, member=voters[3], duration_minutes=30)
    assert activity_quorum(activity=activity).present == 2  # make-up is not presence
    actions.attendance_mark(actor=organiser, activity=activity, member=voters[2])
    assert activity_quorum(activity=activity).met


def test_quorum_committee_meeting_counts_current_seats(branch_tree, organiser, member_with_user):
    branch = branch_tree["station_a"]
    holders = [member_with_user(branch) for _ in range(3)]
    start = datetime.date(2024, 1, 1)
    posts = [CommitteePost.SECRETARY, CommitteePost.ORGANISATION, CommitteePost.PROPAGANDA]
    for member, post in zip(holders, posts, strict=True):
        branch_actions.seat_add(
            actor=None, branch=branch, post=post, holder_name=member.name, user=member.user, started_on=start
        )
    ended = member_with_user(branch)
    seat = branch_actions.seat_add(
        actor=None,
        branch=branch,
        post=CommitteePost.DISCIPLINE,
        holder_name=ended.name,
        user=ended.user,
        started_on=start,
    )
    branch_actions.seat_end(actor=None, seat=seat, ended_on=datetime.date(2024, 6, 1))
    activity = _live(branch, kind="committee_meeting")
    actions.attendance_mark(actor=organiser, activity=activity, member=ended)
    actions.attendance_mark(actor=organiser, activity=activity, member=holders[0])

    quorum = activity_quorum(activity=activity)
    assert (quorum.entitled, quorum.required, quorum.present, quorum.met) == (3, 2, 1, False)
    actions.attendance_mark(actor=organiser, activity=activity, member=holders[1])
    assert activity_quorum(activity=activity).met


def test_quorum_is_none_for_other_kinds(branch_tree):
    assert activity_quorum(activity=ActivityFactory(branch=branch_tree["station_a"], kind="study")) is None


def test_credited_hours_default_and_decimal(branch_tree):
    activity = ActivityFactory(branch=branch_tree["station_a"], credited_hours=Decimal("1.5"))
    activity.refresh_from_db()
    assert activity.credited_hours == Decimal("1.50")
    assert activity.reminder_offsets == [1440, 60]


#
# Named invitees, co-hosts, members checking themselves in
#
def test_activity_uninvite_removes_only_the_named_invitation(branch_tree, organiser):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    guest = MemberFactory(branch=branch_tree["building"])
    local = MemberFactory(branch=branch_tree["station_a"])
    actions.activity_invite(actor=organiser, activity=activity, member=guest)
    actions.activity_invite(actor=organiser, activity=activity, member=local)
    version = Activity.objects.get(pk=activity.pk).version

    actions.activity_uninvite(actor=organiser, activity=activity, member=guest)
    actions.activity_uninvite(actor=organiser, activity=activity, member=local)
    actions.activity_uninvite(actor=organiser, activity=activity, member=local)  # idempotent

    assert not ActivityInvite.objects.filter(activity=activity).exists()
    assert Activity.objects.get(pk=activity.pk).version == version + 2
    assert not activity_is_invited(activity=activity, member=guest)
    assert activity_is_invited(activity=activity, member=local)  # still invited through the branch
    assert AuditEntry.objects.filter(action="activities.invite.removed").count() == 2


def test_activity_invite_refused_for_cancelled_activity(branch_tree, organiser):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    actions.activity_cancel(actor=organiser, activity=activity)

    with pytest.raises(Conflict):
        actions.activity_invite(
            actor=organiser, activity=activity, member=MemberFactory(branch=branch_tree["building"])
        )


def test_co_host_officer_sees_but_cannot_change(branch_tree, role_at):
    co_host = role_at(branch_tree["station_b"], Role.ORGANISER)
    outsider = role_at(branch_tree["building"], Role.ORGANISER)
    activity = ActivityFactory(branch=branch_tree["station_a"], co_hosts=[branch_tree["station_b"]])

    with pytest.raises(PermissionDenied):
        actions.activity_cancel(actor=co_host, activity=activity)
    with pytest.raises(Http404):
        actions.activity_cancel(actor=outsider, activity=activity)


def test_check_in_member_may_check_in_only_themselves_with_the_qr_token(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    other = MemberFactory(branch=branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    token = actions.check_in_token(activity=activity)

    with pytest.raises(Http404):
        actions.attendance_check_in(actor=member.user, activity=activity, member=other, token=token)
    with pytest.raises(ValidationError) as missing:
        actions.attendance_check_in(actor=member.user, activity=activity, member=member)
    assert "token" in missing.value.error_dict
    with pytest.raises(ValidationError) as manual:
        actions.attendance_check_in(actor=member.user, activity=activity, member=member, method="manual", token=token)
    assert "method" in manual.value.error_dict
    with pytest.raises(ValidationError) as online:
        actions.attendance_check_in(actor=member.user, activity=activity, member=member, method="online")
    assert "method" in online.value.error_dict  # it meets in person
    other_token = actions.check_in_token(activity=_live(branch_tree["delivery"]))
    with pytest.raises(actions.CheckInRefused) as wrong:
        actions.attendance_check_in(actor=member.user, activity=activity, member=member, token=other_token)
    assert wrong.value.code == CheckInRefusal.INVALID_TOKEN
    assert not Attendance.objects.exists()

    attendance, created = actions.attendance_check_in(actor=member.user, activity=activity, member=member, token=token)

    assert created
    assert (attendance.member, attendance.recorded_by) == (member, member.user)


def test_check_in_member_offline_scan_is_judged_at_scanned_at(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    shown = timezone.now()
    with mock.patch("django.core.signing.time.time", return_value=shown.timestamp()):
        token = actions.check_in_token(activity=activity)
    upload = shown + datetime.timedelta(minutes=50)  # the phone was offline until then

    def check_in(**kwargs):
        with mock.patch("django.core.signing.time.time", return_value=upload.timestamp()):
            return actions.attendance_check_in(
                actor=member.user, activity=activity, member=member, token=token, now=upload, **kwargs
            )

    with pytest.raises(actions.CheckInRefused) as late:
        check_in()
    assert late.value.code == CheckInRefusal.INVALID_TOKEN
    with pytest.raises(actions.CheckInRefused) as photo:  # scanned long after it was shown: a forwarded photo
        check_in(scanned_at=shown + datetime.timedelta(minutes=45), force=True)
    assert photo.value.code == CheckInRefusal.INVALID_TOKEN
    assert not Attendance.objects.exists()

    scanned = shown + datetime.timedelta(seconds=30)
    attendance, created = check_in(scanned_at=scanned, force=True)

    assert created
    assert attendance.checked_in_at == scanned


def test_check_in_member_online_for_online_activity(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"], mode="online", venue="", online_link="https://meet.example.com/x")

    attendance, _created = actions.attendance_check_in(
        actor=member.user, activity=activity, member=member, method="online", duration_minutes=45
    )

    assert (attendance.method, attendance.duration_minutes) == ("online", 45)
