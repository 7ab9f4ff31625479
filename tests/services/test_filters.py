"""The case FilterSet's date ranges, breach and spam filters, through the API and the case list page."""

import datetime
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.choices import Role
from services.models import Case, CaseBreach
from tests.services.factories import make_case

pytestmark = pytest.mark.django_db

API = "api:case-list"
PAGE = "services:case_list"
DAY = datetime.date(2026, 3, 10)


def _local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


def _case(branch, *, opened_at, resolved_at=None, **fields) -> Case:
    case = make_case(branch)
    Case.objects.filter(pk=case.pk).update(opened_at=opened_at, resolved_at=resolved_at, **fields)
    return case


@pytest.fixture
def cases(branch_tree):
    """Cases around the local day DAY (Asia/Shanghai, UTC+8): its first and last minute, and either side."""
    a = branch_tree["station_a"]
    found = {
        "before": _case(a, opened_at=_local(DAY, 0) - datetime.timedelta(minutes=1)),
        "first_minute": _case(a, opened_at=_local(DAY, 0), resolved_at=_local(DAY, 23, 59)),
        "last_minute": _case(a, opened_at=_local(DAY, 23, 59)),
        "after": _case(a, opened_at=_local(DAY, 0) + datetime.timedelta(days=1)),
        "sibling": _case(branch_tree["station_b"], opened_at=_local(DAY, 12)),
        "spam": _case(a, opened_at=_local(DAY, 12), suspected_spam=True),
    }
    CaseBreach.objects.create(case=found["last_minute"], kind="resolution", due_at=_local(DAY, 23), at=_local(DAY, 23))
    CaseBreach.objects.create(case=found["last_minute"], kind="response", due_at=_local(DAY, 22), at=_local(DAY, 22))
    return found


@pytest.fixture
def worker_at_a(branch_tree, role_at):
    return role_at(branch_tree["station_a"], Role.CASEWORKER)


def _api_ids(api_client, params) -> set:
    response = api_client.get(reverse(API), params)
    assert response.status_code == HTTPStatus.OK, response.content
    return {row["id"] for row in response.json()["results"]}


def _ids(cases, *names) -> set:
    return {str(cases[name].pk) for name in names}


def test_case_filter_opened_range_is_local_days_both_ends_included(api_client, cases, worker_at_a):
    api_client.force_authenticate(worker_at_a)
    day = DAY.isoformat()
    assert _api_ids(api_client, {"opened_from": day, "opened_until": day}) == _ids(
        cases, "first_minute", "last_minute", "spam"
    )
    assert _api_ids(api_client, {"opened_from": day}) == _ids(cases, "first_minute", "last_minute", "spam", "after")
    assert _api_ids(api_client, {"opened_until": day}) == _ids(cases, "before", "first_minute", "last_minute", "spam")


def test_case_filter_resolved_range_breached_and_spam(api_client, cases, worker_at_a):
    api_client.force_authenticate(worker_at_a)
    day = DAY.isoformat()
    assert _api_ids(api_client, {"resolved_from": day, "resolved_until": day}) == _ids(cases, "first_minute")
    next_day = (DAY + datetime.timedelta(days=1)).isoformat()
    assert _api_ids(api_client, {"resolved_from": next_day}) == set()
    # Two breaches, listed once.
    response = api_client.get(reverse(API), {"breached": "true"})
    assert [row["id"] for row in response.json()["results"]] == [str(cases["last_minute"].pk)]
    assert str(cases["last_minute"].pk) not in _api_ids(api_client, {"breached": "false"})
    assert _api_ids(api_client, {"suspected_spam": "true"}) == _ids(cases, "spam")
    assert _ids(cases, "spam").isdisjoint(_api_ids(api_client, {"suspected_spam": "false"}))


def test_case_filter_only_narrows_the_scope(api_client, cases, worker_at_a, branch_tree):
    """A caseworker at station A asking for station B's subtree, or for B's day, still sees only A."""
    api_client.force_authenticate(worker_at_a)
    day = DAY.isoformat()
    assert _api_ids(api_client, {"branch": branch_tree["station_b"].pk}) == set()
    assert str(cases["sibling"].pk) not in _api_ids(api_client, {"opened_from": day, "opened_until": day})
    assert str(cases["sibling"].pk) not in _api_ids(api_client, {"branch": branch_tree["delivery"].pk})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"opened_from": "2026-02-30"}, "opened_from"),
        ({"opened_until": "yesterday"}, "opened_until"),
        ({"resolved_from": "10/03/2026x"}, "resolved_from"),
        ({"resolved_until": "2026-13-01"}, "resolved_until"),
        ({"breached": "maybe"}, "breached"),
        ({"suspected_spam": "2"}, "suspected_spam"),
    ],
)
def test_case_filter_bad_values_are_400_naming_the_field(api_client, worker_at_a, params, field):
    api_client.force_authenticate(worker_at_a)
    response = api_client.get(reverse(API), params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [field]


def test_case_list_page_applies_the_filters_instead_of_a_tab(client, cases, worker_at_a):
    client.force_login(worker_at_a)
    day = DAY.isoformat()
    response = client.get(reverse(PAGE), {"opened_from": day, "opened_until": day, "suspected_spam": "false"})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    listed = {pk for pk in (str(c.pk) for c in Case.objects.all()) if f'id="case-{pk}"' in html}
    assert listed == _ids(cases, "first_minute", "last_minute")
    assert 'id="case-filtered"' in html
    # Without filter parameters the page is the inbox again ("mine": nothing is assigned here).
    inbox = client.get(reverse(PAGE)).content.decode()
    assert 'id="case-filtered"' not in inbox
    assert not any(f'id="case-{c.pk}"' in inbox for c in cases.values())


def test_case_list_page_bad_date_is_a_form_error(client, cases, worker_at_a):
    client.force_login(worker_at_a)
    response = client.get(reverse(PAGE), {"opened_from": "2026-02-30"})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'id="case-filter-errors"' in html
    assert "Enter a valid date." in html
    assert not any(f'id="case-{c.pk}"' in html for c in cases.values())


def test_case_list_page_filtered_query_count_pinned(client, branch_tree, worker_at_a, django_assert_num_queries):
    client.force_login(worker_at_a)
    params = {
        "branch": branch_tree["station_a"].pk,
        "opened_from": timezone.localdate().isoformat(),
        "breached": "false",
    }
    make_case(branch_tree["station_a"])
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(reverse(PAGE), params).content.decode().count('<tr id="case-') == 1
    for _ in range(4):
        make_case(branch_tree["station_a"])
    with django_assert_num_queries(len(one_row.captured_queries)):
        response = client.get(reverse(PAGE), params)
    assert response.content.decode().count('<tr id="case-') == 5
