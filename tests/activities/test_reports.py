"""Compliance (三会一课), study hours and calendar feeds."""

import datetime
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from activities import compliance, study
from activities.actions import activity_cancel
from activities.models import Activity, Attendance, CalendarFeedToken, ComplianceReminderLog, ComplianceRule
from branches.models import CommitteeSeat
from core.models import Notification
from tests.activities.factories import ActivityFactory
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

YEAR = 2026


def _local(year, month, day, hour=9):
    return datetime.datetime(year, month, day, hour, tzinfo=timezone.get_current_timezone())


def _held(branch, kind, when, **fields):
    activity = ActivityFactory(branch=branch, kind=kind, starts_at=when, ends_at=when + datetime.timedelta(hours=2))
    Activity.objects.filter(pk=activity.pk).update(status="held", **fields)
    activity.refresh_from_db()
    return activity


def test_compliance_rules_are_seeded():
    assert ComplianceRule.objects.filter(kind="branch_assembly", period="quarter", min_count=1).exists()
    assert ComplianceRule.objects.filter(kind="committee_meeting", period="month").exists()


def test_compliance_grid_counts_held_activities_by_month_and_period(branch_tree):
    station = branch_tree["station_a"]
    _held(station, "committee_meeting", _local(YEAR, 1, 10))
    _held(station, "committee_meeting", _local(YEAR, 1, 20))
    _held(station, "branch_assembly", _local(YEAR, 2, 10))
    ActivityFactory(branch=station, kind="committee_meeting", starts_at=_local(YEAR, 3, 3))  # planned: not counted
    [grid] = compliance.compliance_grid(branches=[station], year=YEAR)
    assert grid.months[0]["committee_meeting"] == 2
    assert grid.months[1]["branch_assembly"] == 1
    assert grid.months[2]["committee_meeting"] == 0
    q1 = next(p for p in grid.periods if p.kind == "branch_assembly" and p.start == datetime.date(YEAR, 1, 1))
    assert (q1.held, q1.required, q1.status) == (1, 1, "met")
    march = next(p for p in grid.periods if p.kind == "committee_meeting" and p.start.month == 3)
    assert march.held == 0


def test_compliance_subtree_costs_constant_queries(branch_tree, django_assert_num_queries):
    for branch in (branch_tree["station_a"], branch_tree["station_b"]):
        _held(branch, "theme_day", _local(YEAR, 4, 1))
    with django_assert_num_queries(3):  # branches, rules, one GROUP BY
        grids, total = compliance.compliance_subtree(branch=branch_tree["delivery"], year=YEAR)
    assert len(grids) == 3
    assert total[3]["theme_day"] == 2


def test_compliance_api_answers_for_a_branch_in_scope(branch_tree, organiser, api_client):
    _held(branch_tree["station_a"], "party_lecture", _local(YEAR, 5, 5))
    api_client.force_authenticate(organiser)
    url = reverse("api:compliance")
    response = api_client.get(url, {"branch": branch_tree["delivery"].pk, "year": YEAR})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["months"][4]["counts"]["party_lecture"] == 1
    names = {b["name"] for b in response.json()["branches"]}
    assert names == {"Delivery committee", "Station A branch", "Station B branch"}
    outside = api_client.get(url, {"branch": branch_tree["building"].pk, "year": YEAR})
    assert outside.status_code == HTTPStatus.NOT_FOUND
    assert api_client.get(url, {"year": YEAR}).status_code == HTTPStatus.BAD_REQUEST


def test_compliance_page_shows_grid(client, branch_tree, organiser):
    _held(branch_tree["station_a"], "committee_meeting", _local(YEAR, 1, 10))
    client.force_login(organiser)
    page = client.get(reverse("activities:compliance"), {"branch": branch_tree["station_a"].pk, "year": YEAR})
    assert page.status_code == HTTPStatus.OK
    assert b'id="compliance-periods"' in page.content


def test_compliance_reminders_go_to_the_secretary_once_per_period(branch_tree):
    station = branch_tree["station_a"]
    secretary = UserFactory()
    CommitteeSeat.objects.create(
        branch=station, post="secretary", holder_name="Li", user=secretary, started_on=datetime.date(2024, 1, 1)
    )
    ComplianceRule.objects.exclude(kind="committee_meeting").update(active=False)
    today = datetime.date(YEAR, 3, 25)  # 7 days before the end of March
    assert compliance.compliance_reminders_send(today=today) == 1
    assert Notification.objects.filter(recipient=secretary, kind=compliance.KIND_COMPLIANCE).count() == 1
    assert mail.outbox[0].to == [secretary.email]
    assert compliance.compliance_reminders_send(today=today + datetime.timedelta(days=1)) == 0
    assert ComplianceReminderLog.objects.filter(sent_at__isnull=False).count() == 1
    assert compliance.compliance_reminders_send(today=datetime.date(YEAR, 3, 10)) == 0  # not near the end yet


def test_compliance_reminders_skip_a_branch_that_held_the_meeting(branch_tree):
    station = branch_tree["station_a"]
    CommitteeSeat.objects.create(
        branch=station, post="secretary", holder_name="Li", user=UserFactory(), started_on=datetime.date(2024, 1, 1)
    )
    ComplianceRule.objects.exclude(kind="committee_meeting").update(active=False)
    _held(station, "committee_meeting", _local(YEAR, 3, 5))
    assert compliance.compliance_reminders_send(today=datetime.date(YEAR, 3, 25)) == 0


def test_study_hours_count_credited_hours_durations_and_makeups(branch_tree, member_with_user):
    station = branch_tree["station_a"]
    member = member_with_user(station)
    credited = _held(station, "study", _local(YEAR, 3, 1), credited_hours=Decimal("3"))
    plain = _held(station, "study", _local(YEAR, 4, 1))  # two hours long
    makeup = _held(station, "party_lecture", _local(YEAR, 5, 1))
    cancelled = ActivityFactory(branch=station, starts_at=_local(YEAR, 6, 1))
    now = timezone.now()
    for activity, method, minutes in ((credited, "qr", None), (plain, "manual", None), (makeup, "makeup", 45)):
        Attendance.objects.create(
            branch=station,
            activity=activity,
            member=member,
            method=method,
            checked_in_at=now,
            duration_minutes=minutes,
        )
    Attendance.objects.create(branch=station, activity=cancelled, member=member, method="qr", checked_in_at=now)
    activity_cancel(actor=None, activity=cancelled)
    [hours] = study.study_hours_for(members=[member], year=YEAR)
    assert hours.hours == Decimal("5.75")
    assert hours.makeup_hours == Decimal("0.75")
    assert (hours.target, hours.sessions, hours.met) == (32, 3, False)


def test_study_hours_target_is_56_for_committee_members(branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    CommitteeSeat.objects.create(
        branch=branch_tree["station_a"],
        post="other",
        holder_name="Wang",
        user=member.user,
        started_on=datetime.date(YEAR, 6, 1),
    )
    assert study.study_hours_for(members=[member], year=YEAR)[0].target == 56
    assert study.study_hours_for(members=[member], year=YEAR - 1)[0].target == 32


def test_branch_study_hours_report_costs_constant_queries(branch_tree, django_assert_num_queries):
    for _ in range(5):
        MemberFactory(branch=branch_tree["station_a"])
    with django_assert_num_queries(2):  # members, attendances (no member has a login: no seat query)
        rows = study.branch_study_hours(branch=branch_tree["delivery"], year=YEAR)
    assert len(rows) == 5


def test_study_hours_pages(client, branch_tree, organiser, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    client.force_login(member.user)
    assert b'id="study-hours-summary"' in client.get(reverse("activities:my_study_hours")).content
    client.force_login(organiser)
    report = client.get(reverse("activities:branch_study_hours"), {"branch": branch_tree["delivery"].pk})
    assert member.name.encode() in report.content
    xlsx = client.get(
        reverse("activities:branch_study_hours"), {"branch": branch_tree["delivery"].pk, "format": "xlsx"}
    )
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_calendar_feed_is_valid_icalendar_with_cancellations(client, branch_tree, member_with_user):
    member = member_with_user(branch_tree["station_a"])
    kept = ActivityFactory(branch=branch_tree["station_a"], title="Weekly study")
    dropped = ActivityFactory(branch=branch_tree["station_a"], title="Theme day")
    activity_cancel(actor=None, activity=dropped)
    client.force_login(member.user)
    client.post(reverse("activities:calendar_feeds"), {"subject": "member"})
    token = CalendarFeedToken.objects.get(owner=member.user, member=member)
    client.logout()
    response = client.get(reverse("activities:calendar_feed", args=[token.token]))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert str(events["Weekly study"]["status"]) == "CONFIRMED"
    assert str(events["Theme day"]["status"]) == "CANCELLED"
    assert events["Weekly study"].decoded("dtstart") == kept.starts_at


def test_calendar_feed_revoked_answers_404(client, branch_tree, organiser):
    client.force_login(organiser)
    client.post(reverse("activities:calendar_feeds"), {"subject": "branch", "branch": branch_tree["station_a"].pk})
    token = CalendarFeedToken.objects.get(owner=organiser, branch=branch_tree["station_a"])
    url = reverse("activities:calendar_feed", args=[token.token])
    assert client.get(url).status_code == HTTPStatus.OK
    client.post(reverse("activities:calendar_feed_revoke", args=[token.pk]))
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert client.get(reverse("activities:calendar_feed", args=["guess"])).status_code == HTTPStatus.NOT_FOUND


def test_calendar_feed_for_a_branch_outside_scope_is_refused(client, branch_tree, organiser):
    client.force_login(organiser)
    response = client.post(
        reverse("activities:calendar_feeds"), {"subject": "branch", "branch": branch_tree["building"].pk}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_calendar_feed_of_a_branch_includes_co_hosted_activities(client, branch_tree, organiser):
    ActivityFactory(branch=branch_tree["station_b"], title="Joint lecture", co_hosts=[branch_tree["station_a"]])
    ActivityFactory(branch=branch_tree["station_a"], title="Own study")
    ActivityFactory(branch=branch_tree["station_b"], title="Their study")
    client.force_login(organiser)
    client.post(reverse("activities:calendar_feeds"), {"subject": "branch", "branch": branch_tree["station_a"].pk})
    token = CalendarFeedToken.objects.get(owner=organiser, branch=branch_tree["station_a"])

    calendar = Calendar.from_ical(client.get(reverse("activities:calendar_feed", args=[token.token])).content)

    assert sorted(str(e["summary"]) for e in calendar.walk("VEVENT")) == ["Joint lecture", "Own study"]
