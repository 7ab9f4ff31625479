import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from branches.choices import Role
from members.actions import transfers as ta
from members.models import Member, Transfer
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sides(branch_tree, role_at):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    return {
        "a": a,
        "b": b,
        "sec_a": role_at(a, Role.SECRETARY),
        "sec_b": role_at(b, Role.SECRETARY),
        "member": MemberFactory(branch=a),
    }


def _post(client, user, name, pk=None, data=None):
    client.force_authenticate(user)
    url = reverse(f"api:transfer-{name}", kwargs={"pk": pk} if pk else None)
    return client.post(url, data or {}, format="json")


def test_transfer_api_journey_issue_accept_moves_member(api_client, sides):
    response = _post(
        api_client, sides["sec_a"], "list", data={"member": str(sides["member"].pk), "to_branch": str(sides["b"].pk)}
    )
    assert response.status_code == HTTPStatus.CREATED, response.json()
    pk = response.json()["id"]
    assert response.json()["status"] == "draft"
    assert response.json()["branch"] == str(sides["a"].pk)
    response = _post(api_client, sides["sec_a"], "issue", pk, {"valid_days": 60})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["letter_number"].endswith("-0001")
    response = _post(api_client, sides["sec_b"], "accept", pk)
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["status"] == "accepted"
    assert Member.objects.get(pk=sides["member"].pk).branch == sides["b"]


def test_transfer_api_forbidden_state_is_409(api_client, sides):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    response = _post(api_client, sides["sec_a"], "complete", transfer.pk)
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "conflict"


def test_transfer_api_expired_letter_accept_is_409(api_client, sides):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    ta.transfer_issue(
        actor=sides["sec_a"],
        transfer=transfer,
        valid_days=30,
        issued_on=timezone.localdate() - datetime.timedelta(days=31),
    )
    response = _post(api_client, sides["sec_b"], "accept", transfer.pk)
    assert response.status_code == HTTPStatus.CONFLICT
    assert Member.objects.get(pk=sides["member"].pk).branch == sides["a"]


def test_transfer_api_second_open_transfer_is_400(api_client, sides):
    ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    response = _post(api_client, sides["sec_a"], "list", data={"member": str(sides["member"].pk), "to_outside": "X"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "member" in response.json()["errors"]
    assert Transfer.objects.count() == 1


def test_transfer_api_both_sides_see_it_others_do_not(api_client, sides, branch_tree, role_at):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    outsider = role_at(branch_tree["building"], Role.SECRETARY)
    for user, visible in ((sides["sec_a"], True), (sides["sec_b"], True), (outsider, False)):
        api_client.force_authenticate(user)
        ids = [row["id"] for row in api_client.get(reverse("api:transfer-list")).json()["results"]]
        assert (str(transfer.pk) in ids) is visible
        detail = api_client.get(reverse("api:transfer-detail", kwargs={"pk": transfer.pk}))
        assert detail.status_code == (HTTPStatus.OK if visible else HTTPStatus.NOT_FOUND)


def test_transfer_api_list_query_count(api_client, sides, django_assert_max_num_queries):
    for _i in range(3):
        ta.transfer_create(actor=sides["sec_a"], member=MemberFactory(branch=sides["a"]), to_outside="X")
    api_client.force_authenticate(sides["sec_a"])
    with django_assert_max_num_queries(6):
        response = api_client.get(reverse("api:transfer-list"))
    assert len(response.json()["results"]) == 3
