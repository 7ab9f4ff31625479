"""/api/v1/applicants/: scope, create, steps and votes with their refusals."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from branches.choices import Role
from members.models import Applicant, AssemblyVote
from tests.members.dev_helpers import D, new_applicant, seeded, voters, walk
from tests.members.factories import make_citizen_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seed(db):
    seeded()


@pytest.fixture
def branch(branch_tree):
    return branch_tree["station_a"]


@pytest.fixture
def secretary(branch, role_at):
    return role_at(branch, Role.SECRETARY)


def test_applicant_list_scoped_and_pinned(api_client, branch_tree, secretary, role_at, django_assert_num_queries):
    mine = new_applicant(actor=secretary, branch=branch_tree["station_a"], n=1)
    new_applicant(actor=secretary, branch=branch_tree["station_a"], n=2)
    other_secretary = role_at(branch_tree["station_b"], Role.SECRETARY)
    theirs = new_applicant(actor=other_secretary, branch=branch_tree["station_b"], n=3)
    api_client.force_authenticate(secretary)
    with django_assert_num_queries(5):
        response = api_client.get(reverse("api:applicant-list"))
    assert response.status_code == HTTPStatus.OK
    ids = {row["id"] for row in response.json()["results"]}
    assert str(mine.pk) in ids
    assert str(theirs.pk) not in ids
    assert response.json()["results"][0]["citizen_id"].count("*") > 0
    assert (
        api_client.get(reverse("api:applicant-detail", kwargs={"pk": theirs.pk})).status_code == HTTPStatus.NOT_FOUND
    )


def test_applicant_create_and_refuse_under_18(api_client, branch, secretary):
    api_client.force_authenticate(secretary)
    payload = {"branch": str(branch.pk), "name": "陈新", "citizen_id": make_citizen_id(9, birth=D(1996, 1, 1))}
    response = api_client.post(reverse("api:applicant-list"), {**payload, "applied_on": "2022-01-10"}, format="json")
    assert response.status_code == HTTPStatus.CREATED, response.json()
    assert response.json()["steps"][0]["code"] == "application_submitted"
    young = {**payload, "citizen_id": make_citizen_id(10, birth=D(2010, 1, 1)), "applied_on": "2022-01-10"}
    response = api_client.post(reverse("api:applicant-list"), young, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "applied_on" in response.json()["errors"]
    assert Applicant.objects.count() == 1


def test_record_step_out_of_order_is_400(api_client, branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch)
    api_client.force_authenticate(secretary)
    url = reverse("api:applicant-record-step", kwargs={"pk": applicant.pk})
    response = api_client.post(url, {"code": "target_chosen", "done_on": "2023-01-01"}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "code" in response.json()["errors"]
    response = api_client.post(url, {"code": "talk_held", "done_on": "2022-01-20"}, format="json")
    assert response.status_code == HTTPStatus.OK
    assert response["ETag"]
    assert [s["code"] for s in response.json()["steps"]] == ["application_submitted", "talk_held"]


def test_record_vote_without_quorum_is_400_and_with_quorum_200(api_client, branch, secretary):
    voters(branch, 5)
    applicant = walk(
        actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="application_form"
    )
    api_client.force_authenticate(secretary)
    url = reverse("api:applicant-record-vote", kwargs={"pk": applicant.pk})
    vote = {"purpose": "admission", "held_on": "2023-06-01", "yes": 2, "no": 0, "abstain": 0, "adopted": True}
    response = api_client.post(url, {**vote, "attendance": 2}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "attendance" in response.json()["errors"]
    assert not AssemblyVote.objects.exists()
    response = api_client.post(url, {**vote, "attendance": 3, "yes": 3}, format="json")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["votes"][0]["entitled"] == 5
    assert response.json()["stage"] == "probationary"


def test_applicant_writes_need_change_scope(api_client, branch_tree, secretary, role_at):
    applicant = new_applicant(actor=secretary, branch=branch_tree["station_a"])
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)
    api_client.force_authenticate(organiser)
    url = reverse("api:applicant-record-step", kwargs={"pk": applicant.pk})
    response = api_client.post(url, {"code": "talk_held", "done_on": "2022-01-20"}, format="json")
    assert response.status_code == HTTPStatus.FORBIDDEN
