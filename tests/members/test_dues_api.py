"""/api/v1/dues-payments/: scope (collecting and formal branch), create and its refusals."""

from decimal import Decimal
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from branches.choices import Role
from members.actions import affiliation_add, dues_assess, member_update
from members.models import DuesPayment
from tests.members.dev_helpers import seeded
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
THIS_MONTH = timezone.localdate().replace(day=1)


@pytest.fixture(autouse=True)
def _seed(db):
    seeded()


@pytest.fixture
def secretary(branch_tree, role_at):
    return role_at(branch_tree["station_a"], Role.SECRETARY)


@pytest.fixture
def member(branch_tree, secretary):
    member = MemberFactory(branch=branch_tree["station_a"])
    dues_assess(actor=secretary, member=member, year=THIS_MONTH.year, base_kind="salary", base_amount=Decimal("4000"))
    return member


def _payload(member, **extra):
    return {
        "member": str(member.pk),
        "period_from": THIS_MONTH.isoformat(),
        "period_to": THIS_MONTH.isoformat(),
        "amount": "40.00",
        "method": "alipay",
        "receipt_number": "2026-001",
        **extra,
    }


def test_payment_create_and_period_already_paid(api_client, member, secretary):
    api_client.force_authenticate(secretary)
    response = api_client.post(reverse("api:dues-payment-list"), _payload(member), format="json")
    assert response.status_code == HTTPStatus.CREATED, response.json()
    assert response.json()["amount"] == "40.00"
    assert response.json()["branch"] == str(member.branch_id)
    response = api_client.post(reverse("api:dues-payment-list"), _payload(member, receipt_number="2"), format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "period_from" in response.json()["errors"]
    assert DuesPayment.objects.count() == 1


@pytest.mark.parametrize("amount", ["-5.00", "0", "9999999.00"])
def test_payment_negative_or_absurd_is_400(api_client, member, secretary, amount):
    api_client.force_authenticate(secretary)
    response = api_client.post(reverse("api:dues-payment-list"), _payload(member, amount=amount), format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "amount" in response.json()["errors"]
    assert not DuesPayment.objects.exists()


def test_payment_list_scoped_and_host_branch_sees_its_collection(
    api_client, member, secretary, branch_tree, role_at, django_assert_num_queries
):
    host = branch_tree["station_b"]
    host_secretary = role_at(host, Role.SECRETARY)
    member = member_update(actor=secretary, member=member, is_mobile=True, mobile_destination="B")
    affiliation_add(actor=secretary, member=member, branch=host, kind="host", started_on=THIS_MONTH)
    api_client.force_authenticate(host_secretary)
    response = api_client.post(reverse("api:dues-payment-list"), _payload(member, branch=str(host.pk)), format="json")
    assert response.status_code == HTTPStatus.CREATED, response.json()
    payment_id = response.json()["id"]
    # Both the host and the home branch see it.
    for user in (host_secretary, secretary):
        api_client.force_authenticate(user)
        with django_assert_num_queries(1):
            response = api_client.get(reverse("api:dues-payment-list"))
        assert [r["id"] for r in response.json()["results"]] == [payment_id]
    outsider = role_at(branch_tree["building"], Role.SECRETARY)
    api_client.force_authenticate(outsider)
    assert api_client.get(reverse("api:dues-payment-list")).json()["results"] == []
    detail = reverse("api:dues-payment-detail", kwargs={"pk": payment_id})
    assert api_client.get(detail).status_code == HTTPStatus.NOT_FOUND


def test_payment_for_member_outside_scope_is_400(api_client, member, branch_tree, role_at):
    outsider = role_at(branch_tree["station_b"], Role.SECRETARY)
    api_client.force_authenticate(outsider)
    response = api_client.post(reverse("api:dues-payment-list"), _payload(member), format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "member" in response.json()["errors"]
