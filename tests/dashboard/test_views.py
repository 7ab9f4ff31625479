"""The dashboard page: figures and links, scope, the period form, and a query count that does not grow."""

import datetime
import re
from http import HTTPStatus

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches import actions as branch_actions
from branches.choices import BranchKind, Role
from config.dashboard.figures import dashboard_tables
from config.dashboard.refresh import stats_refresh
from members.models import Member, Platform
from services.models import Case
from tests.dashboard.conftest import make_member
from tests.services.factories import make_case

pytestmark = pytest.mark.django_db

URL = reverse("dashboard:dashboard")
#: session, user, grants, TOTP check, branch, picker, coverage (2), stored figures, platforms, compliance
#: rules and the stored compliance rows, transfers, the stored case rows and the breaches, the notification
#: badge. None of them reads member rows; after a refresh nothing groups the subtree's activities or cases.
PAGE_QUERIES = 16


def _row(html: str, table_key: str, label: str) -> list[str]:
    """The cells of the row labelled `label` in the table of `table_key` (tags stripped)."""
    table = re.search(rf'<table class="dashboard-table" id="table-{table_key}">(.*?)</table>', html, re.S).group(1)
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in {table_key}")


def test_dashboard_shows_every_figure_with_chart_data_and_as_of(client, world, role_at):
    stats_refresh()
    officer = role_at(world["tree"]["district"], Role.OFFICER)
    client.force_login(officer)
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    for key in (
        "coverage",
        "branches_by_kind",
        "branches_by_basis",
        "members_by_occupation",
        "members_by_platform",
        "members_by_age",
        "members_by_category",
        "compliance",
        "study_hours",
        "dues_arrears",
        "lost_contact",
        "transfers",
        "cases_by_month",
        "satisfaction",
    ):
        assert f'id="table-{key}"' in html, key
    assert 'id="chart-data-members_by_occupation" type="application/json"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "js/dashboard.js" in html
    assert 'id="dashboard-as-of"' in html
    assert "Member, meeting-compliance and case figures as of" in html
    assert _row(html, "members_by_occupation", "Delivery rider")[1] == "1"
    assert _row(html, "coverage", "Members")[1] == "4"
    assert _row(html, "dues_arrears", "6 months or more")[1] == "1"
    assert _row(html, "lost_contact", "Flagged")[1] == "1"
    assert _row(html, "study_hours", "Reached the yearly target")[1] == "2"
    assert _row(html, "transfers", "Overdue: letter past its validity")[1] == "1"
    assert _row(html, "satisfaction", "4 of 5")[1] == "1"


def test_dashboard_before_any_refresh_says_the_figures_are_not_computed(client, world, role_at):
    client.force_login(role_at(world["tree"]["district"], Role.OFFICER))
    html = client.get(URL).content.decode()
    assert "Not computed yet" in html
    assert "Member, meeting-compliance and case figures as of" not in html


def test_dashboard_rows_link_to_the_lists_behind_them(client, world, role_at):
    stats_refresh()
    tree = world["tree"]
    officer = role_at(tree["district"], Role.OFFICER)
    tables = {
        t.key: t
        for t in dashboard_tables(actor=officer, branch=tree["delivery"], start=world["today"], end=world["today"])
    }
    rider = next(r for r in tables["members_by_occupation"].rows if r.cells[0] == "Delivery rider")
    assert rider.url.startswith(reverse("members:member_list"))
    assert f"branch={tree['delivery'].pk}" in rider.url
    assert "occupation=delivery_rider" in rider.url
    client.force_login(officer)
    listed = client.get(rider.url).content.decode()
    assert world["members"]["a1"].name in listed
    sf = Platform.objects.get(code="sf").name
    platform = next(r for r in tables["members_by_platform"].rows if r.cells[0] == sf)
    assert "platform=sf" in platform.url
    draft = tables["transfers"].rows[0]
    assert "status=draft" in draft.url
    assert f"branch={tree['delivery'].pk}" in draft.url
    assert client.get(draft.url).status_code == HTTPStatus.OK
    assert tables["compliance"].url.startswith(reverse("activities:compliance"))
    assert tables["lost_contact"].url == f"{reverse('members:lost_contact_report')}?branch={tree['delivery'].pk}"
    assert tables["dues_arrears"].url == f"{reverse('members:dues_arrears')}?branch={tree['delivery'].pk}"
    assert client.get(tables["dues_arrears"].url).status_code == HTTPStatus.OK
    bands = {row.cells[0]: row.url for row in tables["dues_arrears"].rows}
    assert bands["6 months or more"] == (
        f"{reverse('members:dues_arrears')}?branch={tree['delivery'].pk}&band=over_limit"
    )
    over_limit = client.get(bands["6 months or more"]).content.decode()
    assert world["members"]["b1"].name in over_limit
    assert world["members"]["a2"].name not in over_limit
    warned = client.get(bands["3–5 months (warned)"]).content.decode()
    assert world["members"]["a2"].name in warned
    assert world["members"]["b1"].name not in warned
    month = tables["cases_by_month"].rows[-1]
    today = world["today"].isoformat()
    assert month.url == (
        f"{reverse('services:case_list')}?branch={tree['delivery'].pk}"
        f"&opened_from={today}&opened_until={today}&suspected_spam=false"
    )
    assert tables["study_hours"].url.startswith(reverse("activities:branch_study_hours"))
    html = client.get(URL, {"branch": tree["delivery"].pk}).content.decode()
    assert f'href="{rider.url.replace("&", "&amp;")}"' in html


def _listed(html: str, objects) -> set:
    """The objects among `objects` whose id appears in the page."""
    return {obj.pk for obj in objects if str(obj.pk) in html}


def test_age_band_rows_list_exactly_the_members_they_count(client, world, role_at):
    stats_refresh()
    tree = world["tree"]
    officer = role_at(tree["district"], Role.OFFICER)
    client.force_login(officer)
    everyone = list(Member.objects.all())
    tables = {
        t.key: t
        for t in dashboard_tables(actor=officer, branch=tree["delivery"], start=world["today"], end=world["today"])
    }
    rows = {str(row.cells[0]): row for row in tables["members_by_age"].rows}
    members = world["members"]
    # Under delivery: A1 22, A2 40, B1 60; A3 (50) is removed, C1 (30) in the building.
    expected = {
        "Under 25": {members["a1"].pk},
        "25–34": set(),
        "35–44": {members["a2"].pk},
        "45–54": set(),
        "55 and over": {members["b1"].pk},
    }
    for label, pks in expected.items():
        row = rows[label]
        assert row.url.startswith(reverse("members:member_list"))
        assert f"branch={tree['delivery'].pk}" in row.url
        response = client.get(row.url)
        assert response.status_code == HTTPStatus.OK
        assert _listed(response.content.decode(), everyone) == pks, label
        assert row.cells[1] == len(pks), label
    assert "born_until" not in rows["Under 25"].url
    assert "born_from" not in rows["55 and over"].url
    # Boundaries: a member turning 25 today is in 25–34, not under 25.
    today = world["today"]
    assert f"born_from={(today - relativedelta(years=25) + datetime.timedelta(days=1)).isoformat()}" in (
        rows["Under 25"].url
    )
    assert f"born_until={(today - relativedelta(years=25)).isoformat()}" in rows["25–34"].url


def test_case_month_rows_list_exactly_the_cases_opened_in_them(client, world, role_at):
    tree = world["tree"]
    officer = role_at(tree["district"], Role.OFFICER)
    client.force_login(officer)
    today = world["today"]
    start = today.replace(day=1) - relativedelta(months=2)
    Case.objects.update(opened_at=timezone.now())  # the cases all opened today (local), whatever the factory did
    old = make_case(tree["station_b"])
    opened_then = datetime.datetime.combine(start, datetime.time(9), tzinfo=timezone.get_current_timezone())
    Case.objects.filter(pk=old.pk).update(opened_at=opened_then)
    outside = make_case(tree["building"])  # in the district, not under delivery
    everyone = list(Case.objects.all())
    stats_refresh()  # after the cases: the subtree's opened and resolved figures are stored
    tables = {t.key: t for t in dashboard_tables(actor=officer, branch=tree["delivery"], start=start, end=today)}
    rows = tables["cases_by_month"].rows
    assert len(rows) == 3
    for row in rows:
        html = client.get(row.url).content.decode()
        listed = {pk for pk in (c.pk for c in everyone) if f'id="case-{pk}"' in html}
        assert len(listed) == row.cells[1], row.cells[0]
        assert outside.pk not in listed
    assert {c.pk for c in everyone if f'id="case-{c.pk}"' in client.get(rows[0].url).content.decode()} == {old.pk}
    assert f"opened_from={start.isoformat()}" in rows[0].url
    last_of_first = (start + relativedelta(months=1)) - datetime.timedelta(days=1)
    assert f"opened_until={last_of_first.isoformat()}" in rows[0].url
    assert f"opened_until={today.isoformat()}" in rows[-1].url
    # The resolved figure of the month is reachable on the same list with the resolved range.
    month = rows[-1]
    resolved_url = month.url.replace("opened_from", "resolved_from").replace("opened_until", "resolved_until")
    html = client.get(resolved_url).content.decode()
    assert sum(f'id="case-{c.pk}"' in html for c in everyone) == month.cells[2] == 1


def test_secretary_sees_own_branch_and_not_the_sibling(client, world, role_at):
    stats_refresh()
    tree = world["tree"]
    secretary = role_at(tree["station_a"], Role.SECRETARY)
    client.force_login(secretary)
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Station A branch" in html
    assert _row(html, "members_by_occupation", "Ride-hailing driver")[1] == "0"  # B1 is at the sibling
    assert _row(html, "coverage", "Members")[1] == "2"
    assert _row(html, "lost_contact", "No contact for 6 months, to be flagged")[1] == "0"
    assert client.get(URL, {"branch": tree["station_b"].pk}).status_code == HTTPStatus.NOT_FOUND
    assert client.get(URL, {"branch": tree["district"].pk}).status_code == HTTPStatus.NOT_FOUND
    assert client.get(URL, {"branch": "not-a-uuid"}).status_code == HTTPStatus.NOT_FOUND


def test_figures_follow_the_permissions_held_at_the_branch(client, world, role_at):
    caseworker = role_at(world["tree"]["station_a"], Role.CASEWORKER)
    client.force_login(caseworker)
    html = client.get(URL).content.decode()
    assert 'id="table-cases_by_month"' in html
    assert 'id="table-members_by_occupation"' not in html
    assert 'id="table-dues_arrears"' not in html


def test_period_ending_before_it_starts_is_a_form_error(client, world, role_at):
    client.force_login(role_at(world["tree"]["district"], Role.OFFICER))
    response = client.get(URL, {"start": "2026-05-01", "end": "2026-04-30"})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'id="id_end_errors"' in html
    assert "The period cannot end before it starts." in html
    assert 'id="dashboard-figures"' not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "yesterday"}, "Enter a valid date."),
        ({"start": "2015-01-01", "end": "2026-01-01"}, "Choose a period of at most five years."),
    ],
)
def test_bad_dates_are_form_errors(client, world, role_at, params, message):
    client.force_login(role_at(world["tree"]["district"], Role.OFFICER))
    html = client.get(URL, params).content.decode()
    assert message in html
    assert 'id="dashboard-figures"' not in html


def test_dashboard_tables_refuses_a_reversed_period_and_a_branch_outside_scope(world, role_at):
    from django.core.exceptions import PermissionDenied, ValidationError

    tree = world["tree"]
    secretary = role_at(tree["station_a"], Role.SECRETARY)
    today = world["today"]
    with pytest.raises(ValidationError) as error:
        dashboard_tables(
            actor=secretary,
            branch=tree["station_a"],
            start=today,
            end=today.replace(day=1).replace(year=today.year - 1),
        )
    assert "end" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        dashboard_tables(actor=secretary, branch=tree["station_b"], start=today, end=today)


def test_user_without_scope_sees_an_empty_page(client, user):
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert 'id="dashboard-empty"' in response.content.decode()


def _grow(world, *, branches: int, members: int) -> None:
    tree = world["tree"]
    for n in range(branches):
        parent = branch_actions.branch_create(
            actor=None, parent=tree["delivery"], name=f"Extra {n}", kind=BranchKind.BRANCH, basis="platform"
        )
        for _m in range(members):
            make_member(parent, occupation="courier")


def _queries(client, officer) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == HTTPStatus.OK
    return len(captured)


def test_page_queries_do_not_grow_with_branches_or_members(client, world, role_at, django_assert_num_queries):
    officer = role_at(world["tree"]["district"], Role.OFFICER)
    client.force_login(officer)
    _grow(world, branches=2, members=1)
    stats_refresh()
    small = _queries(client, officer)
    _grow(world, branches=8, members=3)
    stats_refresh()
    assert _queries(client, officer) == small
    with django_assert_num_queries(small):
        response = client.get(URL)
    assert "Extra 7" in response.content.decode()  # in the picker
    assert small == PAGE_QUERIES, small
