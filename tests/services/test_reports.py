"""The reports page: figures on a small fixture, computed in the database at a fixed number of queries."""

import datetime
import zoneinfo
from http import HTTPStatus

import pytest
from django.urls import reverse

from branches.choices import Role
from members.models import Platform
from services.models import Case, CaseBreach, CaseType
from services.selectors import case_report
from tests.services.factories import make_case, make_worker

pytestmark = pytest.mark.django_db

SH = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def _case(branch, *, opened, resolved=None, status="new", rating=None, case_type=None, worker=None, breach=False):
    case = make_case(branch, worker=worker, case_type=case_type)
    Case.objects.filter(pk=case.pk).update(opened_at=opened, resolved_at=resolved, status=status, rating=rating)
    if breach:
        CaseBreach.objects.create(case=case, kind="resolution", due_at=opened)
    return case


@pytest.fixture
def fixture_2025(branch_tree):
    """Five cases of 2025 at station A (one more at station B, one in 2024, one flagged spam)."""
    a = branch_tree["station_a"]
    meituan, eleme = Platform.objects.create(code="t-mt", name="MT"), Platform.objects.create(code="t-el", name="EL")
    rider = make_worker(a, platforms=[meituan])
    both = make_worker(a, platforms=[meituan, eleme])
    injury = CaseType.objects.get(code="occupational_injury")
    _case(a, opened=at(2025, 1, 10, 9), resolved=at(2025, 1, 12, 9), status="resolved", rating=5, worker=rider)
    _case(a, opened=at(2025, 1, 20, 9), resolved=at(2025, 1, 24, 9), status="closed", rating=3, worker=both)
    _case(a, opened=at(2025, 3, 1, 9), resolved=at(2025, 3, 11, 9), status="resolved", breach=True)
    _case(a, opened=at(2025, 3, 5, 9), status="in_progress", case_type=injury, breach=True, worker=both)
    _case(a, opened=at(2025, 3, 6, 9), status="new", case_type=injury)
    _case(branch_tree["station_b"], opened=at(2025, 3, 6, 9), status="new")
    _case(a, opened=at(2024, 12, 30, 9), resolved=at(2024, 12, 31, 9), status="resolved")
    spam = _case(a, opened=at(2025, 2, 1, 9))
    Case.objects.filter(pk=spam.pk).update(suspected_spam=True)
    return {"meituan": meituan, "eleme": eleme}


def test_case_report_figures(branch_tree, caseworker, fixture_2025):
    report = case_report(actor=caseworker, year=2025)
    assert report["total"] == 5
    assert [(r["case_type__name"], r["n"]) for r in report["by_type"]] == [
        ("欠薪讨薪", 3),
        ("职业伤害", 2),
    ]
    assert {r["status"]: r["n"] for r in report["by_status"]} == {
        "resolved": 2,
        "closed": 1,
        "in_progress": 1,
        "new": 1,
    }
    # a case counts once for each of its worker's platforms
    assert [(r["worker__platforms__name"], r["n"]) for r in report["by_platform"]] == [("MT", 3), ("EL", 2)]
    assert [(r["month"].month, r["n"]) for r in report["by_month"]] == [(1, 2), (3, 3)]
    assert report["median_days_to_resolve"] == 4.0  # 2, 4 and 10 days
    assert report["breach_rate"] == 40.0  # 2 of 5
    assert report["rating_avg"] == 4.0
    assert report["rating_count"] == 2


def test_case_report_median_of_even_count(branch_tree, caseworker):
    a = branch_tree["station_a"]
    _case(a, opened=at(2025, 1, 1, 9), resolved=at(2025, 1, 2, 9), status="resolved")
    _case(a, opened=at(2025, 1, 1, 9), resolved=at(2025, 1, 4, 9), status="resolved")
    assert case_report(actor=caseworker, year=2025)["median_days_to_resolve"] == 2.0


def test_case_report_empty_year(branch_tree, caseworker):
    report = case_report(actor=caseworker, year=2025)
    assert report["total"] == 0
    assert report["median_days_to_resolve"] is None
    assert report["breach_rate"] is None
    assert report["rating_avg"] is None


def test_case_report_scope_sums_subtree(branch_tree, role_at, fixture_2025):
    assert case_report(actor=role_at(branch_tree["delivery"], Role.CASEWORKER), year=2025)["total"] == 6
    assert case_report(actor=role_at(branch_tree["building"], Role.CASEWORKER), year=2025)["total"] == 0


def test_reports_page_shows_figures(client, branch_tree, caseworker, fixture_2025):
    client.force_login(caseworker)
    response = client.get(reverse("services:reports"), {"year": "2025"})
    body = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert '<dd id="report-total">5</dd>' in body
    assert '<dd id="report-median">4.0</dd>' in body
    assert '<dd id="report-breach-rate">40.0%</dd>' in body
    assert "In progress: 1" in body


def test_reports_page_bad_year_falls_back(client, branch_tree, caseworker):
    client.force_login(caseworker)
    assert client.get(reverse("services:reports"), {"year": "abc"}).status_code == HTTPStatus.OK
    assert client.get(reverse("services:reports"), {"year": "99999"}).status_code == HTTPStatus.OK


def test_reports_page_refused_without_services_role(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["station_a"], Role.ORGANISER))
    assert client.get(reverse("services:reports")).status_code == HTTPStatus.FORBIDDEN


def test_reports_page_query_count_constant(client, branch_tree, caseworker, django_assert_num_queries):
    a = branch_tree["station_a"]
    client.force_login(caseworker)

    def add(n):
        for day in range(1, n + 1):
            _case(a, opened=at(2025, 2, day, 9), resolved=at(2025, 2, day + 1, 9), status="resolved", rating=4)

    add(2)
    # session, user, role grants, 9 report figures (count, type, status, platform, month, median count and
    # middle, breaches, ratings), aid totals, notifications
    with django_assert_num_queries(14) as small:
        client.get(reverse("services:reports"), {"year": "2025"})
    add(6)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("services:reports"), {"year": "2025"})
