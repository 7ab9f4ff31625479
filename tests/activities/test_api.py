import datetime
import uuid
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import actions
from activities.models import Activity, Attendance
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
def client_for(api_client):
    def login(user):
        api_client.force_authenticate(user)
        return api_client

    return login


def _ids(response) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


#
# Lists, scope, filters
#
def test_activity_list_scope_sibling_absent_and_404(branch_tree, role_at, client_for):
    client = client_for(role_at(branch_tree["station_a"], Role.ORGANISER))
    ours = ActivityFactory(branch=branch_tree["station_a"])
    sibling = ActivityFactory(branch=branch_tree["station_b"])

    response = client.get(reverse("api:activity-list"))

    assert response.status_code == HTTPStatus.OK
    assert _ids(response) == [str(ours.pk)]
    assert client.get(reverse("api:activity-detail", args=[sibling.pk])).status_code == HTTPStatus.NOT_FOUND


def test_activity_list_anonymous_is_401(api_client):
    assert api_client.get(reverse("api:activity-list")).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("count", [10, 50])
def test_activity_list_query_count_does_not_grow(branch_tree, organiser, client_for, django_assert_num_queries, count):
    for i in range(count):
        ActivityFactory(
            branch=branch_tree["station_a"],
            kind="branch_assembly" if i % 2 else "study",
            co_hosts=[branch_tree["station_b"]],
        )
    client = client_for(organiser)

    # role grants, the page (with quorum figures as subqueries), the co-hosts of the page
    with django_assert_num_queries(3):
        response = client.get(reverse("api:activity-list"))

    rows = response.json()["results"]
    assert len(rows) == count
    assert all(row["co_hosts"] == [str(branch_tree["station_b"].pk)] for row in rows)
    assert any(row["quorum"] is not None for row in rows)


def test_activity_list_filters(branch_tree, organiser, client_for):
    early = ActivityFactory(
        branch=branch_tree["station_a"], kind="party_lecture", starts_at=at(2, 9), ends_at=at(2, 10)
    )
    late = ActivityFactory(branch=branch_tree["station_b"], starts_at=at(9, 9), ends_at=at(9, 10))
    ActivityFactory(branch=branch_tree["delivery"], starts_at=at(4, 9), ends_at=at(4, 10))
    actions.activity_cancel(actor=None, activity=late)
    client = client_for(organiser)
    url = reverse("api:activity-list")

    assert _ids(client.get(url, {"branch": branch_tree["station_a"].pk})) == [str(early.pk)]
    assert _ids(client.get(url, {"kind": "party_lecture"})) == [str(early.pk)]
    assert _ids(client.get(url, {"status": "cancelled"})) == [str(late.pk)]
    assert _ids(client.get(url, {"starts_after": at(8).isoformat()})) == [str(late.pk)]
    assert _ids(client.get(url, {"starts_before": at(3).isoformat()})) == [str(early.pk)]
    assert client.get(url, {"kind": "picnic"}).status_code == HTTPStatus.BAD_REQUEST
    since = client.get(url, {"updated_since": (timezone.now() - datetime.timedelta(minutes=5)).isoformat()})
    assert _ids(since)[-1] == str(late.pk)  # changed last, listed last


def test_activity_detail_full_payload(branch_tree, organiser, client_for):
    activity = ActivityFactory(
        branch=branch_tree["station_a"],
        actor=organiser,
        title="Branch assembly Q3",
        kind="branch_assembly",
        agenda="Elect delegates",
        starts_at=at(5, 9),
        ends_at=at(5, 11),
        capacity=30,
        external_ref="ext-1",
    )
    MemberFactory(branch=branch_tree["station_a"])
    guests = [MemberFactory(branch=branch_tree["station_b"]) for _ in range(2)]
    for guest in guests:
        actions.activity_invite(actor=organiser, activity=activity, member=guest)

    response = client_for(organiser).get(reverse("api:activity-detail", args=[activity.pk]))

    assert response.status_code == HTTPStatus.OK
    assert response["ETag"] == 'W/"3"'  # each named invitation is a new version for sync clients
    body = response.json()
    assert body == {
        "id": str(activity.pk),
        "version": 3,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "branch": str(branch_tree["station_a"].pk),
        "external_ref": "ext-1",
        "title": "Branch assembly Q3",
        "kind": "branch_assembly",
        "agenda": "Elect delegates",
        "co_hosts": [],
        "invitees": sorted(str(g.pk) for g in guests),
        "mode": "offline",
        "venue": "Rider station, 2nd floor",
        "online_link": "",
        "starts_at": timezone.localtime(activity.starts_at).isoformat(),
        "ends_at": timezone.localtime(activity.ends_at).isoformat(),
        "capacity": 30,
        "organiser_name": str(organiser),
        "status": "planned",
        "cancel_reason": "",
        "minutes": "",
        "credited_hours": 0.0,
        "reminder_offsets": [1440, 60],
        "series": None,
        "quorum": {"basis": "voting_members", "entitled": 1, "required": 1, "present": 0, "met": False},
    }


#
# Writes
#
def _payload(branch, **extra):
    return {
        "branch": str(branch.pk),
        "title": "Lunch-break study",
        "kind": "study",
        "mode": "offline",
        "venue": "Station",
        "starts_at": at(3, 12).isoformat(),
        "ends_at": at(3, 13).isoformat(),
        **extra,
    }


def test_activity_create_returns_warnings(branch_tree, organiser, client_for):
    response = client_for(organiser).post(
        reverse("api:activity-list"), _payload(branch_tree["station_a"]), format="json"
    )

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert response["Location"].endswith(reverse("api:activity-detail", args=[body["id"]]))
    assert [w["code"] for w in body["warnings"]] == ["peak_hours"]
    assert body["warnings"][0]["details"] == {"windows": ["11:00-13:00"]}


def test_activity_create_end_before_start_is_400(branch_tree, organiser, client_for):
    payload = _payload(branch_tree["station_a"], ends_at=at(3, 11).isoformat())

    response = client_for(organiser).post(reverse("api:activity-list"), payload, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "validation_error"
    assert "ends_at" in response.json()["errors"]
    assert not Activity.objects.exists()


def test_activity_create_in_sibling_branch_is_400(branch_tree, role_at, client_for):
    client = client_for(role_at(branch_tree["station_a"], Role.ORGANISER))

    response = client.post(reverse("api:activity-list"), _payload(branch_tree["station_b"]), format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "branch" in response.json()["errors"]


def test_activity_patch_with_if_match(branch_tree, organiser, client_for):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    client = client_for(organiser)
    url = reverse("api:activity-detail", args=[activity.pk])

    stale = client.patch(url, {"title": "Old"}, format="json", headers={"If-Match": 'W/"9"'})
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert stale.json()["current"]["id"] == str(activity.pk)

    response = client.patch(
        url,
        {"title": "Renamed", "mode": "online", "online_link": "https://m.example.com/1"},
        format="json",
        headers={"If-Match": 'W/"1"'},
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["title"] == "Renamed"
    assert response.json()["warnings"] == []
    assert response["ETag"] == 'W/"2"'


def test_activity_put_cannot_change_host(branch_tree, organiser, client_for):
    activity = ActivityFactory(branch=branch_tree["station_a"])

    response = client_for(organiser).put(
        reverse("api:activity-detail", args=[activity.pk]), _payload(branch_tree["station_b"]), format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "branch" in response.json()["errors"]


def test_activity_cancel_then_conflict(branch_tree, organiser, client_for):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    client = client_for(organiser)
    url = reverse("api:activity-cancel", args=[activity.pk])

    first = client.post(url, {"reason": "Typhoon"}, format="json")
    second = client.post(url, {}, format="json")

    assert first.status_code == HTTPStatus.OK
    assert first.json()["status"] == "cancelled"
    assert second.status_code == HTTPStatus.CONFLICT
    assert second.json()["code"] == "conflict"


def test_activity_delete_soft(branch_tree, organiser, client_for):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    client = client_for(organiser)

    assert client.delete(reverse("api:activity-detail", args=[activity.pk])).status_code == HTTPStatus.NO_CONTENT
    assert client.get(reverse("api:activity-detail", args=[activity.pk])).status_code == HTTPStatus.NOT_FOUND
    assert Activity.all_objects.filter(pk=activity.pk, deleted_at__isnull=False).exists()


def test_activity_write_by_reader_is_403(branch_tree, role_at, client_for):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    client = client_for(role_at(branch_tree["delivery"], Role.CASEWORKER))

    response = client.post(reverse("api:activity-cancel", args=[activity.pk]), {}, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN


#
# Device check-ins
#
def _check_in(client, activity, member, **extra):
    body = {"member": str(member.pk), "nonce": str(uuid.uuid4()), "method": "qr", "force": False, **extra}
    return client.post(reverse("api:activity-check-ins", args=[activity.pk]), body, format="json")


def test_check_in_nonce_idempotent(branch_tree, organiser, client_for):
    activity = _live(branch_tree["delivery"])
    member = MemberFactory(branch=branch_tree["station_a"])
    client = client_for(organiser)
    nonce = str(uuid.uuid4())

    first = _check_in(client, activity, member, nonce=nonce)
    again = _check_in(client, activity, member, nonce=nonce)

    assert first.status_code == HTTPStatus.CREATED
    assert again.status_code == HTTPStatus.OK
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["member"] == str(member.pk)
    assert first.json()["branch"] == str(branch_tree["delivery"].pk)
    assert Attendance.objects.count() == 1


def test_check_in_refusal_codes(branch_tree, organiser, client_for):
    client = client_for(organiser)
    invited = MemberFactory(branch=branch_tree["station_a"])
    stranger = MemberFactory(branch=branch_tree["building"])
    live = _live(branch_tree["delivery"])
    future = ActivityFactory(branch=branch_tree["delivery"], starts_at=at(3, 9), ends_at=at(3, 10))
    cancelled = _live(branch_tree["delivery"])
    actions.activity_cancel(actor=None, activity=cancelled)

    cases = [
        (_check_in(client, live, stranger), "not_invited"),
        (_check_in(client, future, invited), "outside_window"),
        (_check_in(client, cancelled, invited), "cancelled"),
    ]
    _check_in(client, live, invited)
    cases.append((_check_in(client, live, invited), "already_checked_in"))

    for response, code in cases:
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["code"] == code
        assert response.json()["detail"]
    assert Attendance.objects.count() == 1


def test_check_in_force_keeps_scanned_at(branch_tree, organiser, client_for):
    activity = ActivityFactory(
        branch=branch_tree["delivery"],
        starts_at=timezone.now() - datetime.timedelta(hours=4),
        ends_at=timezone.now() - datetime.timedelta(hours=2),
    )
    member = MemberFactory(branch=branch_tree["station_a"])
    scanned = activity.starts_at + datetime.timedelta(minutes=3)

    response = _check_in(client_for(organiser), activity, member, scanned_at=scanned.isoformat(), force=True)

    assert response.status_code == HTTPStatus.CREATED
    assert Attendance.objects.get().checked_in_at == scanned


def test_check_in_force_needs_scanned_at(branch_tree, organiser, client_for):
    activity = _live(branch_tree["delivery"])
    member = MemberFactory(branch=branch_tree["station_a"])

    response = _check_in(client_for(organiser), activity, member, force=True)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "validation_error"
    assert "scanned_at" in response.json()["errors"]


def test_check_in_outside_scope_is_404(branch_tree, role_at, client_for):
    activity = _live(branch_tree["station_b"])
    member = MemberFactory(branch=branch_tree["station_b"])

    response = _check_in(client_for(role_at(branch_tree["station_a"], Role.ORGANISER)), activity, member)

    assert response.status_code == HTTPStatus.NOT_FOUND


#
# Attendances
#
def test_attendance_list_scope_and_filters(branch_tree, role_at, client_for):
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)
    ours = _live(branch_tree["station_a"])
    theirs = _live(branch_tree["station_b"])
    member_a = MemberFactory(branch=branch_tree["station_a"])
    member_b = MemberFactory(branch=branch_tree["station_b"])
    mine = actions.attendance_mark(actor=None, activity=ours, member=member_a)
    other = actions.attendance_mark(actor=None, activity=theirs, member=member_b)
    client = client_for(organiser)
    url = reverse("api:attendance-list")

    assert _ids(client.get(url)) == [str(mine.pk)]
    assert client.get(reverse("api:attendance-detail", args=[other.pk])).status_code == HTTPStatus.NOT_FOUND
    assert _ids(client.get(url, {"activity": ours.pk})) == [str(mine.pk)]
    assert _ids(client.get(url, {"member": member_b.pk})) == []
    assert _ids(client.get(url, {"branch": branch_tree["station_a"].pk})) == [str(mine.pk)]


@pytest.mark.parametrize("count", [10, 50])
def test_attendance_list_query_count_does_not_grow(
    branch_tree, organiser, client_for, django_assert_num_queries, count
):
    activity = _live(branch_tree["station_a"])
    for _ in range(count):
        actions.attendance_mark(actor=None, activity=activity, member=MemberFactory(branch=branch_tree["station_a"]))
    client = client_for(organiser)

    with django_assert_num_queries(2):  # role grants, the page (member joined)
        response = client.get(reverse("api:attendance-list"))

    assert len(response.json()["results"]) == count


def test_activity_create_with_named_invitees(branch_tree, organiser, role_at, client_for):
    guest = MemberFactory(branch=branch_tree["station_b"])
    outsider = MemberFactory(branch=branch_tree["building"])
    client = client_for(organiser)

    refused = client.post(
        reverse("api:activity-list"),
        _payload(branch_tree["station_a"], invitees=[str(outsider.pk)]),
        format="json",
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "invitees" in refused.json()["errors"]

    response = client.post(
        reverse("api:activity-list"), _payload(branch_tree["station_a"], invitees=[str(guest.pk)]), format="json"
    )
    assert response.status_code == HTTPStatus.CREATED
    activity = Activity.objects.get(pk=response.json()["id"])
    assert list(activity.invites.values_list("member_id", flat=True)) == [guest.pk]


#
# Co-hosts, named invitees, members checking themselves in
#
def test_activity_list_co_host_scope(branch_tree, role_at, client_for):
    co_hosted = _live(branch_tree["station_a"], co_hosts=[branch_tree["station_b"]])
    hidden = _live(branch_tree["station_a"])
    attendance = actions.attendance_mark(
        actor=None, activity=co_hosted, member=MemberFactory(branch=branch_tree["station_a"])
    )
    co_host = client_for(role_at(branch_tree["station_b"], Role.ORGANISER))

    assert _ids(co_host.get(reverse("api:activity-list"))) == [str(co_hosted.pk)]
    assert co_host.get(reverse("api:activity-detail", args=[co_hosted.pk])).status_code == HTTPStatus.OK
    assert co_host.get(reverse("api:activity-detail", args=[hidden.pk])).status_code == HTTPStatus.NOT_FOUND
    assert _ids(co_host.get(reverse("api:attendance-list"))) == [str(attendance.pk)]
    patch = co_host.patch(reverse("api:activity-detail", args=[co_hosted.pk]), {"title": "Ours now"}, format="json")
    assert patch.status_code == HTTPStatus.FORBIDDEN  # co-hosts see the activity; the host changes it

    outsider = client_for(role_at(branch_tree["building"], Role.ORGANISER))
    assert _ids(outsider.get(reverse("api:activity-list"))) == []
    assert outsider.get(reverse("api:activity-detail", args=[co_hosted.pk])).status_code == HTTPStatus.NOT_FOUND
    assert _ids(outsider.get(reverse("api:attendance-list"))) == []


def test_activity_update_invitees_listed_in_output(branch_tree, organiser, client_for):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    guest = MemberFactory(branch=branch_tree["station_b"])
    client = client_for(organiser)

    response = client.patch(
        reverse("api:activity-detail", args=[activity.pk]),
        {"invitees": [str(guest.pk)]},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["invitees"] == [str(guest.pk)]
    listed = client.get(reverse("api:activity-list")).json()["results"]
    assert [row["invitees"] for row in listed] == [[str(guest.pk)]]


def test_check_in_member_checks_in_themselves(branch_tree, member_with_user, client_for):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    client = client_for(member.user)  # no role anywhere: a member's own phone
    token = actions.check_in_token(activity=activity)

    response = _check_in(client, activity, member, token=token)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["member"] == str(member.pk)
    assert response.json()["method"] == "qr"
    again = _check_in(client, activity, member, token=token, nonce=response.json()["nonce"])
    assert again.status_code == HTTPStatus.OK
    assert Attendance.objects.count() == 1


def test_check_in_member_refusals(branch_tree, member_with_user, client_for):
    member = member_with_user(branch_tree["station_a"])
    other = MemberFactory(branch=branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])
    elsewhere = _live(branch_tree["building"])
    client = client_for(member.user)
    token = actions.check_in_token(activity=activity)

    someone_else = _check_in(client, activity, other, token=token)
    not_invited = _check_in(client, elsewhere, member, token=actions.check_in_token(activity=elsewhere))
    no_token = _check_in(client, activity, member)
    wrong_token = _check_in(client, activity, member, token=actions.check_in_token(activity=elsewhere))

    assert someone_else.status_code == HTTPStatus.NOT_FOUND
    assert not_invited.status_code == HTTPStatus.NOT_FOUND
    assert no_token.status_code == HTTPStatus.BAD_REQUEST
    assert "token" in no_token.json()["errors"]
    assert wrong_token.status_code == HTTPStatus.BAD_REQUEST
    assert wrong_token.json()["code"] == "invalid_token"
    assert not Attendance.objects.exists()


def test_check_in_without_member_record_or_role_is_404(branch_tree, user, client_for):
    activity = _live(branch_tree["delivery"])
    member = MemberFactory(branch=branch_tree["station_a"])

    assert _check_in(client_for(user), activity, member).status_code == HTTPStatus.NOT_FOUND


def test_check_in_organiser_still_checks_in_anyone_without_token(branch_tree, organiser, member_with_user, client_for):
    member = member_with_user(branch_tree["station_a"])
    activity = _live(branch_tree["delivery"])

    response = _check_in(client_for(organiser), activity, member, method="manual")

    assert response.status_code == HTTPStatus.CREATED
    assert Attendance.objects.get().recorded_by == organiser
