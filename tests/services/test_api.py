from http import HTTPStatus

import pytest
from django.urls import reverse

from tests.services.factories import make_case, make_worker

pytestmark = pytest.mark.django_db


def test_case_list_scope_and_masked(api_client, branch_tree, caseworker):
    mine = make_case(branch_tree["station_a"], worker=make_worker(branch_tree["station_a"], phone="13912345678"))
    other = make_case(branch_tree["station_b"])
    api_client.force_authenticate(caseworker)
    ids = [r["id"] for r in api_client.get(reverse("api:case-list")).json()["results"]]
    assert ids == [str(mine.pk)]
    assert api_client.get(reverse("api:case-detail", args=[other.pk])).status_code == HTTPStatus.NOT_FOUND
    worker = api_client.get(reverse("api:worker-detail", args=[mine.worker_id])).json()
    assert worker["phone"] == "139****5678"


def test_case_list_query_count_pinned(api_client, branch_tree, caseworker, django_assert_num_queries):
    for _ in range(3):
        make_case(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    # role grants, the page (scope as a subquery), breaches and referrals prefetches
    with django_assert_num_queries(4):
        response = api_client.get(reverse("api:case-list"))
    assert len(response.json()["results"]) == 3


def test_case_forbidden_action_is_409(api_client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    response = api_client.post(reverse("api:case-close", args=[case.pk]), {}, format="json")
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "conflict"


def test_case_assign_start_resolve_via_api(api_client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    r = api_client.post(reverse("api:case-assign", args=[case.pk]), {"assignee": caseworker.username}, format="json")
    assert r.status_code == HTTPStatus.OK
    assert r.json()["status"] == "assigned"
    assert (
        api_client.post(reverse("api:case-start", args=[case.pk]), {}, format="json").json()["status"] == "in_progress"
    )
    r = api_client.post(reverse("api:case-resolve", args=[case.pk]), {"summary": "Paid"}, format="json")
    assert r.json()["status"] == "resolved"


def test_case_filters_status_and_branch(api_client, branch_tree, role_at):
    from branches.choices import Role

    user = role_at(branch_tree["delivery"], Role.CASEWORKER)
    a = make_case(branch_tree["station_a"])
    make_case(branch_tree["station_b"])
    api_client.force_authenticate(user)
    url = reverse("api:case-list")
    ids = [
        r["id"]
        for r in api_client.get(url, {"branch": branch_tree["station_a"].pk, "status": "new"}).json()["results"]
    ]
    assert ids == [str(a.pk)]
    assert api_client.get(url, {"case_type": "wage_arrears"}).status_code == HTTPStatus.OK


def test_worker_create_duplicate_phone_400(api_client, branch_tree, caseworker):
    make_worker(branch_tree["station_a"], phone="13912345678")
    api_client.force_authenticate(caseworker)
    r = api_client.post(
        reverse("api:worker-list"), {"branch": str(branch_tree["station_a"].pk), "phone": "13912345678"}, format="json"
    )
    assert r.status_code == HTTPStatus.BAD_REQUEST
    assert "phone" in r.json()["errors"]


def test_station_create_and_list_scope(api_client, branch_tree, caseworker, role_at):
    from branches.choices import Role

    api_client.force_authenticate(caseworker)
    r = api_client.post(
        reverse("api:station-list"),
        {
            "branch": str(branch_tree["station_a"].pk),
            "name": "Rider station",
            "address": "1 Main St",
            "amenities": ["water"],
        },
        format="json",
    )
    assert r.status_code == HTTPStatus.CREATED
    other = role_at(branch_tree["station_b"], Role.CASEWORKER)
    api_client.force_authenticate(other)
    assert api_client.get(reverse("api:station-list")).json()["results"] == []
