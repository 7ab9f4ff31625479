import datetime
from http import HTTPStatus
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from activities import actions
from activities.models import Activity, ActivitySeries, Attendance, LeaveRequest
from branches.choices import Role
from tests.activities.factories import ActivityFactory, at
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _live(branch, **kwargs):
    now = timezone.now()
    return ActivityFactory(
        branch=branch,
        starts_at=now - datetime.timedelta(minutes=10),
        ends_at=now + datetime.timedelta(hours=1),
        **kwargs,
    )


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


def test_activity_list_page_scoped(branch_tree, role_at, client):
    client.force_login(role_at(branch_tree["station_a"], Role.ORGANISER))
    ours = ActivityFactory(branch=branch_tree["station_a"], title="Our lecture")
    ActivityFactory(branch=branch_tree["station_b"], title="Their lecture")

    response = client.get(reverse("activities:activity_list"))

    assert response.status_code == HTTPStatus.OK
    assert "Our lecture" in response.text
    assert "Their lecture" not in response.text
    assert reverse("activities:activity_detail", args=[ours.pk]) in response.text


def test_activity_list_page_paginates(branch_tree, organiser_client, monkeypatch):
    monkeypatch.setattr("activities.views.PER_PAGE", 2)
    for day in range(1, 4):
        ActivityFactory(
            branch=branch_tree["station_a"], title=f"Session day {day}", starts_at=at(day, 9), ends_at=at(day, 10)
        )

    first = organiser_client.get(reverse("activities:activity_list"))
    assert "Session day 3" in first.text
    assert "Session day 1" not in first.text
    next_url = first.context["next_url"]
    second = organiser_client.get(reverse("activities:activity_list") + next_url)
    assert "Session day 1" in second.text
    assert "Session day 3" not in second.text


def test_activity_month_page(branch_tree, organiser_client):
    activity = ActivityFactory(
        branch=branch_tree["station_a"], title="Theme day", starts_at=at(1, 9), ends_at=at(1, 10)
    )
    month = timezone.localtime(activity.starts_at).strftime("%Y-%m")

    response = organiser_client.get(reverse("activities:activity_month"), {"month": month})

    assert response.status_code == HTTPStatus.OK
    assert "Theme day" in response.text
    assert (
        organiser_client.get(reverse("activities:activity_month"), {"month": "garbage"}).status_code == HTTPStatus.OK
    )


def test_activity_create_page_makes_activity(branch_tree, organiser_client):
    data = {
        "branch": branch_tree["station_a"].pk,
        "kind": "party_lecture",
        "title": "Lecture on the constitution",
        "mode": "offline",
        "venue": "Hall",
        "starts_at": at(3, 9).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": at(3, 10).strftime("%Y-%m-%dT%H:%M"),
        "credited_hours": "1.5",
        "reminder_offsets": "1440, 60",
    }

    response = organiser_client.post(reverse("activities:activity_create"), data)

    activity = Activity.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("activities:activity_detail", args=[activity.pk])
    assert activity.reminder_offsets == [1440, 60]


def test_activity_create_page_series_and_bad_rule(branch_tree, organiser_client):
    data = {
        "branch": branch_tree["station_a"].pk,
        "kind": "study",
        "title": "Weekly study",
        "mode": "online",
        "online_link": "https://meet.example.com/w",
        "starts_at": at(3, 20).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": at(3, 21).strftime("%Y-%m-%dT%H:%M"),
        "credited_hours": "1",
        "rrule": "FREQ=WEEKLY",
    }

    bad = organiser_client.post(reverse("activities:activity_create"), data)
    assert bad.status_code == HTTPStatus.OK
    assert "COUNT or UNTIL" in bad.text
    assert not ActivitySeries.objects.exists()

    good = organiser_client.post(reverse("activities:activity_create"), {**data, "rrule": "FREQ=WEEKLY;COUNT=4"})
    assert good.status_code == HTTPStatus.FOUND
    assert ActivitySeries.objects.get().occurrences.count() == 4


def test_activity_create_page_end_before_start_shows_error(branch_tree, organiser_client):
    data = {
        "branch": branch_tree["station_a"].pk,
        "kind": "study",
        "title": "Backwards",
        "mode": "offline",
        "venue": "Hall",
        "starts_at": at(3, 10).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": at(3, 9).strftime("%Y-%m-%dT%H:%M"),
        "credited_hours": "0",
    }

    response = organiser_client.post(reverse("activities:activity_create"), data)

    assert response.status_code == HTTPStatus.OK
    assert "The end must be after the start." in response.text
    assert not Activity.objects.exists()


def test_activity_warnings_fragment(branch_tree, organiser_client):
    data = {
        "branch": branch_tree["station_a"].pk,
        "mode": "offline",
        "starts_at": at(3, 12).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": at(3, 13).strftime("%Y-%m-%dT%H:%M"),
    }

    response = organiser_client.post(reverse("activities:activity_warnings"), data)

    assert response.status_code == HTTPStatus.OK
    assert 'data-code="peak_hours"' in response.text


def test_activity_detail_page_and_404(branch_tree, role_at, client):
    client.force_login(role_at(branch_tree["station_a"], Role.ORGANISER))
    ours = _live(branch_tree["station_a"], kind="branch_assembly", title="Assembly")
    MemberFactory(branch=branch_tree["station_a"])
    sibling = ActivityFactory(branch=branch_tree["station_b"])

    response = client.get(reverse("activities:activity_detail", args=[ours.pk]))

    assert response.status_code == HTTPStatus.OK
    assert 'id="activity-quorum"' in response.text
    assert response.context["invitee_count"] == 1
    assert client.get(reverse("activities:activity_detail", args=[sibling.pk])).status_code == HTTPStatus.NOT_FOUND


def test_activity_edit_page(branch_tree, organiser_client):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    url = reverse("activities:activity_update", args=[activity.pk])

    assert organiser_client.get(url).status_code == HTTPStatus.OK
    data = {
        "kind": "study",
        "title": "Renamed",
        "mode": "offline",
        "venue": "Hall",
        "starts_at": at(4, 9).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": at(4, 10).strftime("%Y-%m-%dT%H:%M"),
        "credited_hours": "0",
    }
    response = organiser_client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND
    activity.refresh_from_db()
    assert activity.title == "Renamed"


def test_activity_cancel_page(branch_tree, organiser_client):
    activity = ActivityFactory(branch=branch_tree["station_a"])

    organiser_client.post(reverse("activities:activity_cancel", args=[activity.pk]), {"reason": "Rain"})
    response = organiser_client.post(reverse("activities:activity_cancel", args=[activity.pk]), {"reason": "again"})

    activity.refresh_from_db()
    assert activity.status == "cancelled"
    assert response.status_code == HTTPStatus.FOUND


def test_activity_pages_refuse_readers(branch_tree, role_at, client):
    client.force_login(role_at(branch_tree["delivery"], Role.SECRETARY))
    activity = ActivityFactory(branch=branch_tree["station_a"])
    assert client.get(reverse("activities:activity_live", args=[activity.pk])).status_code == HTTPStatus.OK

    client.force_login(role_at(branch_tree["station_b"], Role.ORGANISER))
    assert client.get(reverse("activities:activity_live", args=[activity.pk])).status_code == HTTPStatus.NOT_FOUND


def test_live_page_shows_qr_and_fragment_updates(branch_tree, organiser_client):
    activity = _live(branch_tree["delivery"])
    member = MemberFactory(branch=branch_tree["station_a"], name="李四")

    page = organiser_client.get(reverse("activities:activity_live", args=[activity.pk]))
    assert page.status_code == HTTPStatus.OK
    assert "<svg" in page.text
    assert 'hx-trigger="every 3s"' in page.text
    assert 'hx-trigger="every 20s"' in page.text

    qr = organiser_client.get(reverse("activities:activity_live_qr", args=[activity.pk]))
    assert qr.status_code == HTTPStatus.OK
    assert "<svg" in qr.text

    before = organiser_client.get(reverse("activities:activity_live_attendance", args=[activity.pk]))
    assert "李四" not in before.text
    actions.attendance_mark(actor=None, activity=activity, member=member)
    after = organiser_client.get(reverse("activities:activity_live_attendance", args=[activity.pk]))
    assert "李四" in after.text
    assert after.context["attendances"][0].member == member


def test_mark_attendance_page(branch_tree, organiser_client):
    activity = _live(branch_tree["delivery"])
    member = MemberFactory(branch=branch_tree["station_a"])

    response = organiser_client.post(
        reverse("activities:attendance_mark", args=[activity.pk]),
        {"member": member.pk, "method": "manual", "next": "live"},
    )

    assert response["Location"] == reverse("activities:activity_live", args=[activity.pk])
    assert Attendance.objects.get().member == member


#
# Member side
#
def test_check_in_link_checks_member_in(branch_tree, client, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"], title="Study now")
    client.force_login(member.user)
    url = reverse("activities:check_in", args=[actions.check_in_token(activity=activity)])

    first = client.get(url)
    second = client.get(url)

    assert first.status_code == HTTPStatus.OK
    assert 'id="check-in-ok"' in first.text
    assert second.status_code == HTTPStatus.BAD_REQUEST
    assert 'data-code="already_checked_in"' in second.text
    assert Attendance.objects.filter(member=member).count() == 1


def test_check_in_link_sends_to_login_and_accepts_after(branch_tree, client, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    issued = timezone.now().timestamp()
    with mock.patch("django.core.signing.time.time", return_value=issued):
        token = actions.check_in_token(activity=activity)
    url = reverse("activities:check_in", args=[token])

    with mock.patch("django.core.signing.time.time", return_value=issued + 5):
        anonymous = client.get(url)
    assert anonymous.status_code == HTTPStatus.FOUND
    assert anonymous["Location"].startswith(reverse("account_login"))
    assert url in anonymous["Location"]

    client.force_login(member.user)  # keeps the session, as allauth's login does
    with mock.patch("django.core.signing.time.time", return_value=issued + 90):
        response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert Attendance.objects.filter(member=member).count() == 1


def test_check_in_link_expired_records_nothing(branch_tree, client, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    issued = timezone.now().timestamp()
    with mock.patch("django.core.signing.time.time", return_value=issued):
        token = actions.check_in_token(activity=activity)
    client.force_login(member.user)

    with mock.patch("django.core.signing.time.time", return_value=issued + 61):
        response = client.get(reverse("activities:check_in", args=[token]))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert 'data-code="invalid_token"' in response.text
    assert not Attendance.objects.exists()


def test_check_in_link_garbage_token(client, member_with_user, branch_tree):
    client.force_login(member_with_user(branch_tree["station_a"]).user)

    response = client.get(reverse("activities:check_in", args=["nonsense"]))

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_my_activities_and_leave(branch_tree, client, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    mine = ActivityFactory(branch=branch_tree["delivery"], title="Ours")
    ActivityFactory(branch=branch_tree["building"], title="Not ours")
    client.force_login(member.user)

    page = client.get(reverse("activities:my_activities"))
    assert page.status_code == HTTPStatus.OK
    assert "Ours" in page.text
    assert "Not ours" not in page.text

    form = client.get(reverse("activities:leave_request", args=[mine.pk]))
    assert form.status_code == HTTPStatus.OK
    response = client.post(reverse("activities:leave_request", args=[mine.pk]), {"reason": "Delivery shift"})
    assert response.status_code == HTTPStatus.FOUND
    assert LeaveRequest.objects.get().reason == "Delivery shift"


def test_leave_page_for_uninvited_is_404(branch_tree, client, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    other = ActivityFactory(branch=branch_tree["building"])
    client.force_login(member.user)

    assert client.get(reverse("activities:leave_request", args=[other.pk])).status_code == HTTPStatus.NOT_FOUND


def test_leave_decision_page(branch_tree, organiser_client, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    activity = ActivityFactory(branch=branch_tree["delivery"])
    leave = actions.leave_request_create(actor=member.user, activity=activity, reason="Shift")

    organiser_client.post(reverse("activities:leave_decide", args=[activity.pk, leave.pk]), {"approve": "0"})

    leave.refresh_from_db()
    assert leave.status == "refused"


#
# Named invitees
#
def test_named_invitees_search_add_and_remove(branch_tree, organiser_client):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    guest = MemberFactory(branch=branch_tree["station_b"], name="王小明")
    MemberFactory(branch=branch_tree["building"], name="王大明")  # outside the organiser's members scope
    detail = reverse("activities:activity_detail", args=[activity.pk])

    found = organiser_client.get(detail, {"q": "wxm"})

    assert [m.pk for m in found.context["invite_candidates"]] == [guest.pk]
    assert "王大明" not in found.text
    added = organiser_client.post(reverse("activities:activity_invite", args=[activity.pk]), {"member": guest.pk})
    assert added.status_code == HTTPStatus.FOUND
    assert list(activity.invites.values_list("member_id", flat=True)) == [guest.pk]
    page = organiser_client.get(detail)
    assert f'id="invitee-{guest.pk}"' in page.text
    assert page.context["invitee_count"] == 1

    removed = organiser_client.post(reverse("activities:activity_uninvite", args=[activity.pk, guest.pk]))
    assert removed.status_code == HTTPStatus.FOUND
    assert not activity.invites.exists()


def test_named_invitee_outside_members_scope_is_404(branch_tree, role_at, client):
    client.force_login(role_at(branch_tree["station_a"], Role.ORGANISER))
    activity = ActivityFactory(branch=branch_tree["station_a"])
    outsider = MemberFactory(branch=branch_tree["building"])
    url = reverse("activities:activity_invite", args=[activity.pk])

    assert client.post(url, {"member": outsider.pk}).status_code == HTTPStatus.NOT_FOUND
    assert client.post(url, {"member": "not-a-uuid"}).status_code == HTTPStatus.NOT_FOUND
    assert not activity.invites.exists()
    remove = reverse("activities:activity_uninvite", args=[activity.pk, outsider.pk])
    assert client.post(remove).status_code == HTTPStatus.NOT_FOUND  # not invited by name


def test_named_invitees_co_host_may_not_change(branch_tree, role_at, client):
    client.force_login(role_at(branch_tree["station_b"], Role.ORGANISER))
    activity = ActivityFactory(branch=branch_tree["station_a"], co_hosts=[branch_tree["station_b"]])
    guest = MemberFactory(branch=branch_tree["station_b"])

    page = client.get(reverse("activities:activity_detail", args=[activity.pk]), {"q": "x"})
    response = client.post(reverse("activities:activity_invite", args=[activity.pk]), {"member": guest.pk})

    assert page.status_code == HTTPStatus.OK  # co-hosts see the activity
    assert page.context["invite_search"] is None
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not activity.invites.exists()


#
# Attachments
#
@pytest.fixture
def attached(branch_tree, organiser):
    activity = _live(branch_tree["delivery"])
    attachment = actions.attachment_add(
        actor=organiser,
        activity=activity,
        upload=SimpleUploadedFile("会议纪要.pdf", b"%PDF-1.4 minutes", content_type="application/pdf"),
    )
    return activity, attachment


def _download(client, activity, attachment):
    return client.get(reverse("activities:attachment_download", args=[activity.pk, attachment.pk]))


def test_attachment_download_for_organiser_as_attachment(attached, organiser_client):
    activity, attachment = attached

    response = _download(organiser_client, activity, attachment)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.4 minutes"
    page = organiser_client.get(reverse("activities:activity_detail", args=[activity.pk]))
    assert reverse("activities:attachment_download", args=[activity.pk, attachment.pk]) in page.text
    assert attachment.file.name not in page.text  # never the storage path or public media URL
    assert settings.MEDIA_URL not in page.text


def test_attachment_download_for_invitee_member(attached, branch_tree, client, member_with_user):
    activity, attachment = attached
    member = member_with_user(branch_tree["station_a"])  # invited through the delivery committee's subtree
    client.force_login(member.user)

    response = _download(client, activity, attachment)
    mine = client.get(reverse("activities:my_activities"))

    assert response.status_code == HTTPStatus.OK
    assert b"".join(response.streaming_content) == b"%PDF-1.4 minutes"
    assert reverse("activities:attachment_download", args=[activity.pk, attachment.pk]) in mine.text


def test_attachment_download_outside_scope_or_not_invited_is_404(
    attached, branch_tree, role_at, client, member_with_user
):
    activity, attachment = attached
    other = ActivityFactory(branch=branch_tree["station_a"])
    stranger = member_with_user(branch_tree["building"])

    client.force_login(role_at(branch_tree["building"], Role.ORGANISER))
    assert _download(client, activity, attachment).status_code == HTTPStatus.NOT_FOUND
    client.force_login(stranger.user)
    assert _download(client, activity, attachment).status_code == HTTPStatus.NOT_FOUND
    client.force_login(role_at(branch_tree["delivery"], Role.ORGANISER))
    assert _download(client, other, attachment).status_code == HTTPStatus.NOT_FOUND  # another activity's file


#
# Navigation
#
def test_activities_nav_links_every_page(branch_tree, role_at, client, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    role_at(branch_tree["station_a"], Role.SECRETARY, user=member.user)
    client.force_login(member.user)
    pages = [
        "activity_list",
        "activity_month",
        "my_activities",
        "my_study_hours",
        "compliance",
        "branch_study_hours",
        "calendar_feeds",
    ]

    for name in pages:
        response = client.get(reverse(f"activities:{name}"))
        assert response.status_code == HTTPStatus.OK, name
        assert 'id="activities-nav"' in response.text, name
        for target in pages:
            assert 'href="{}"'.format(reverse(f"activities:{target}")) in response.text, (name, target)


def test_activities_nav_shows_a_member_only_their_pages(branch_tree, client, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    client.force_login(member.user)

    response = client.get(reverse("activities:my_activities"))

    assert 'href="{}"'.format(reverse("activities:my_study_hours")) in response.text
    assert 'href="{}"'.format(reverse("activities:calendar_feeds")) in response.text
    assert 'href="{}"'.format(reverse("activities:compliance")) not in response.text
    assert 'href="{}"'.format(reverse("activities:branch_study_hours")) not in response.text
