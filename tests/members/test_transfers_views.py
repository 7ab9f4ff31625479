from http import HTTPStatus

import pytest
from django.urls import reverse

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


def test_transfer_pages_create_issue_accept(client, sides):
    client.force_login(sides["sec_a"])
    response = client.post(
        reverse("members:transfer_create"), {"member": sides["member"].pk, "to_branch": sides["b"].pk}
    )
    assert response.status_code == HTTPStatus.FOUND
    transfer = Transfer.objects.get()
    client.post(reverse("members:transfer_action", args=[transfer.pk, "issue"]), {"valid_days": 60})
    transfer.refresh_from_db()
    assert transfer.status == "issued"
    page = client.get(reverse("members:transfer_print", args=[transfer.pk]))
    assert page.status_code == HTTPStatus.OK
    for part in ("letter-stub", "letter-body", "letter-receipt", transfer.letter_number):
        assert part in page.content.decode()
    client.force_login(sides["sec_b"])
    detail = client.get(reverse("members:transfer_detail", args=[transfer.pk]))
    assert "transfer-accept-submit" in detail.content.decode()
    client.post(reverse("members:transfer_action", args=[transfer.pk, "accept"]))
    assert Member.objects.get(pk=sides["member"].pk).branch == sides["b"]


def test_transfer_page_refusal_is_a_message(client, sides):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    client.force_login(sides["sec_a"])
    response = client.post(reverse("members:transfer_action", args=[transfer.pk, "complete"]), follow=True)
    assert response.status_code == HTTPStatus.OK
    assert "cannot be completed" in response.content.decode()
    assert Transfer.objects.get(pk=transfer.pk).status == "draft"


def test_transfer_detail_outside_scope_is_404(client, sides, branch_tree, role_at):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    client.force_login(role_at(branch_tree["building"], Role.SECRETARY))
    assert client.get(reverse("members:transfer_detail", args=[transfer.pk])).status_code == HTTPStatus.NOT_FOUND


def test_transfer_create_page_second_open_transfer_shows_error(client, sides):
    ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    client.force_login(sides["sec_a"])
    response = client.post(reverse("members:transfer_create"), {"member": sides["member"].pk, "to_outside": "X"})
    assert response.status_code == HTTPStatus.OK
    assert "already has a transfer under way" in response.content.decode()
    assert Transfer.objects.count() == 1


def test_transfer_list_page(client, sides):
    ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    client.force_login(sides["sec_b"])
    response = client.get(reverse("members:transfer_list"))
    assert response.status_code == HTTPStatus.OK
    assert sides["member"].name in response.content.decode()
