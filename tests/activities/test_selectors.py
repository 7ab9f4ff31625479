import datetime

import pytest
from django.utils import timezone

from activities import actions, selectors
from activities.models import Activity
from branches.choices import Role
from members.actions import affiliation_add, affiliation_end, member_update
from tests.activities.factories import ActivityFactory, at
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

ZONE = timezone.get_current_timezone()


def _local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=ZONE)


@pytest.fixture
def people(branch_tree):
    """Members around the delivery committee's subtree."""
    tree = branch_tree
    return {
        "in_subtree": MemberFactory(branch=tree["station_a"], name="甲"),
        "at_host": MemberFactory(branch=tree["delivery"], name="乙"),
        "elsewhere": MemberFactory(branch=tree["building"], name="丙"),
        "mobile": MemberFactory(branch=tree["building"], name="丁"),
        "past_affiliate": MemberFactory(branch=tree["building"], name="戊"),
        "suspended": MemberFactory(branch=tree["station_b"], name="己"),
        "named": MemberFactory(branch=tree["building"], name="庚"),
    }


def _setup(tree, people):
    affiliation_add(
        actor=None,
        member=people["mobile"],
        branch=tree["station_b"],
        kind="host",
        started_on=timezone.localdate() - datetime.timedelta(days=30),
        note="activity card",
    )
    past = affiliation_add(
        actor=None,
        member=people["past_affiliate"],
        branch=tree["station_a"],
        kind="functional",
        started_on=datetime.date(2023, 1, 1),
    )
    affiliation_end(actor=None, affiliation=past, ended_on=datetime.date(2023, 12, 31))
    member_update(actor=None, member=people["suspended"], status="suspended")
    activity = ActivityFactory(branch=tree["delivery"])
    actions.activity_invite(actor=None, activity=activity, member=people["named"])
    return activity


def test_activity_invitees_subtree_affiliates_and_named(branch_tree, people):
    activity = _setup(branch_tree, people)

    names = set(selectors.activity_invitees(activity=activity).values_list("name", flat=True))

    assert names == {"甲", "乙", "丁", "庚"}


def test_activity_invitees_include_co_hosts_subtree(branch_tree, people):
    activity = ActivityFactory(branch=branch_tree["station_a"], co_hosts=[branch_tree["building"]])

    names = set(selectors.activity_invitees(activity=activity).values_list("name", flat=True))

    assert names == {"甲", "丙", "丁", "戊", "庚"}


def test_activity_invitees_is_one_query(branch_tree, people, django_assert_num_queries):
    _setup(branch_tree, people)
    activity = Activity.objects.select_related("branch").prefetch_related("co_hosts").get()
    for _ in range(20):
        MemberFactory(branch=branch_tree["station_b"])

    with django_assert_num_queries(1):
        invitees = list(selectors.activity_invitees(activity=activity))

    assert len(invitees) == 24


def test_member_activity_list_agrees_with_invitees(branch_tree, people):
    activity = _setup(branch_tree, people)
    other = ActivityFactory(branch=branch_tree["building"])
    invited = set(selectors.activity_invitees(activity=activity).values_list("pk", flat=True))

    for member in people.values():
        member.refresh_from_db()
        mine = set(selectors.member_activity_list(member=member).values_list("pk", flat=True))
        assert (activity.pk in mine) == (member.pk in invited), member.name
        assert (other.pk in mine) == (member.branch_id == branch_tree["building"].pk and member.status == "normal")


def test_peak_overlaps_uses_local_windows():
    day = datetime.date(2025, 6, 4)
    assert selectors.peak_overlaps(starts_at=_local(day, 9), ends_at=_local(day, 11)) == []
    assert selectors.peak_overlaps(starts_at=_local(day, 12, 30), ends_at=_local(day, 14)) == [("11:00", "13:00")]
    assert selectors.peak_overlaps(starts_at=_local(day, 10), ends_at=_local(day, 18)) == [
        ("11:00", "13:00"),
        ("17:00", "20:00"),
    ]
    assert selectors.peak_overlaps(starts_at=_local(day, 20), ends_at=_local(day, 21)) == []


def test_peak_windows_come_from_settings(settings):
    settings.ACTIVITIES_PEAK_WINDOWS = [("08:00", "09:00")]
    day = datetime.date(2025, 6, 4)
    assert selectors.peak_overlaps(starts_at=_local(day, 8, 30), ends_at=_local(day, 10)) == [("08:00", "09:00")]


def test_public_holiday_treats_makeup_days_as_working_days():
    assert selectors.public_holiday(datetime.date(2025, 10, 1)) == "National Day"
    assert selectors.public_holiday(datetime.date(2025, 9, 28)) is None  # make-up working Sunday
    assert selectors.public_holiday(datetime.date(2025, 9, 27)) is None  # ordinary Saturday
    assert selectors.public_holiday(datetime.date(2099, 10, 1)) is None  # beyond the calendar's data


def test_schedule_warnings_peak_only_for_people_in_person(branch_tree):
    day = datetime.date(2025, 6, 4)
    common = {"branch": branch_tree["station_a"], "starts_at": _local(day, 12), "ends_at": _local(day, 13)}

    assert [w.code for w in selectors.schedule_warnings(mode="hybrid", **common)] == ["peak_hours"]
    assert selectors.schedule_warnings(mode="online", **common) == []


def test_schedule_warnings_public_holiday(branch_tree):
    day = datetime.date(2025, 10, 2)
    warnings = selectors.schedule_warnings(
        branch=branch_tree["station_a"], starts_at=_local(day, 9), ends_at=_local(day, 10), mode="online"
    )
    assert [(w.code, w.data["holiday"]) for w in warnings] == [("public_holiday", "National Day")]


def test_schedule_warnings_busy_invitees(branch_tree, django_assert_num_queries):
    members = [MemberFactory(branch=branch_tree["station_a"], name=f"成员{i}") for i in range(7)]
    MemberFactory(branch=branch_tree["station_b"], name="别人")
    ActivityFactory(branch=branch_tree["delivery"], starts_at=at(3, 9), ends_at=at(3, 10))

    with django_assert_num_queries(1):
        count, names = selectors.busy_invitees(
            invitees=selectors.invitees_for(host_paths=[branch_tree["station_a"].path], on_date=at(3).date()),
            starts_at=at(3, 9, 30),
            ends_at=at(3, 11),
        )

    assert count == 7
    assert names == sorted(m.name for m in members)[:5]


def test_schedule_warnings_busy_ignores_cancelled_and_other_times(branch_tree):
    MemberFactory(branch=branch_tree["station_a"])
    cancelled = ActivityFactory(branch=branch_tree["station_a"], starts_at=at(3, 9), ends_at=at(3, 10))
    actions.activity_cancel(actor=None, activity=cancelled)
    ActivityFactory(branch=branch_tree["station_a"], starts_at=at(3, 10), ends_at=at(3, 11))  # touches, no overlap

    warnings = selectors.schedule_warnings(
        branch=branch_tree["station_a"], starts_at=at(3, 9), ends_at=at(3, 10), mode="online"
    )

    assert warnings == []


def test_schedule_warnings_busy_through_affiliation_and_invite(branch_tree):
    mobile = MemberFactory(branch=branch_tree["building"], name="流动")
    affiliation_add(
        actor=None, member=mobile, branch=branch_tree["station_b"], kind="host", started_on=datetime.date(2024, 1, 1)
    )
    guest = MemberFactory(branch=branch_tree["building"], name="客人")
    busy = ActivityFactory(branch=branch_tree["station_b"], starts_at=at(3, 9), ends_at=at(3, 10))
    actions.activity_invite(actor=None, activity=busy, member=guest)
    planned = ActivityFactory(branch=branch_tree["building"], starts_at=at(5, 9), ends_at=at(5, 10))

    warnings = selectors.schedule_warnings(
        branch=branch_tree["building"], starts_at=at(3, 9), ends_at=at(3, 10), mode="online", activity_pk=planned.pk
    )

    assert [(w.code, sorted(w.data["names"])) for w in warnings] == [("invitees_busy", sorted(["流动", "客人"]))]


def test_activity_list_scoped_and_month(branch_tree, organiser, role_at):
    ours = ActivityFactory(branch=branch_tree["station_a"])
    ActivityFactory(branch=branch_tree["building"])

    assert list(selectors.activity_list(actor=organiser)) == [ours]
    local = timezone.localtime(ours.starts_at)
    days = selectors.activity_month(actor=organiser, year=local.year, month=local.month)
    assert days == {local.date(): [ours]}


def test_activity_list_includes_co_hosted_activities(branch_tree, role_at, django_assert_num_queries):
    co_host_organiser = role_at(branch_tree["station_b"], Role.ORGANISER)
    outsider = role_at(branch_tree["building"], Role.ORGANISER)
    co_hosted = ActivityFactory(branch=branch_tree["station_a"], co_hosts=[branch_tree["station_b"]])
    ActivityFactory(branch=branch_tree["station_a"])
    own = ActivityFactory(branch=branch_tree["station_b"], co_hosts=[branch_tree["station_a"]])

    with django_assert_num_queries(2):  # role grants, then the activities with co-hosts as one EXISTS
        seen = set(Activity.objects.for_actor(co_host_organiser).values_list("pk", flat=True))

    assert seen == {co_hosted.pk, own.pk}
    assert list(selectors.activity_list(actor=outsider)) == []


def test_activity_named_invitee_ids_from_annotation_and_without(branch_tree):
    activity = ActivityFactory(branch=branch_tree["station_a"])
    guests = [MemberFactory(branch=branch_tree["building"]) for _ in range(3)]
    for guest in guests:
        actions.activity_invite(actor=None, activity=activity, member=guest)
    listed = selectors.with_named_invitee_ids(Activity.objects.filter(pk=activity.pk)).get()

    assert selectors.activity_named_invitee_ids(activity=listed) == sorted(g.pk for g in guests)
    assert selectors.activity_named_invitee_ids(activity=Activity.objects.get(pk=activity.pk)) == sorted(
        g.pk for g in guests
    )


def test_invite_candidates_search_in_members_scope_only(branch_tree, role_at):
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)
    activity = ActivityFactory(branch=branch_tree["station_a"])
    near = MemberFactory(branch=branch_tree["station_a"], name="张三")
    MemberFactory(branch=branch_tree["station_b"], name="张四")  # outside the organiser's members scope
    invited = MemberFactory(branch=branch_tree["station_a"], name="张五")
    actions.activity_invite(actor=None, activity=activity, member=invited)

    assert list(selectors.invite_candidates(actor=organiser, activity=activity, search="张")) == [near]
    assert list(selectors.invite_candidates(actor=organiser, activity=activity, search="zhangsan")) == [near]
    assert list(selectors.invite_candidates(actor=organiser, activity=activity, search="  ")) == []
