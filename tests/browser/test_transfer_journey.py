"""A transfer in a real browser: the secretary of A issues the letter, the secretary of B accepts,
then A no longer sees the member and B does."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from branches.choices import Role
from members.models import Member, Transfer
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-word-123"  # tests.branches.factories.UserFactory's password


def test_secretary_of_a_transfers_a_member_to_b_who_accepts(desktop_page, phone_page, branch_tree, role_at, log_in):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    secretary_a, secretary_b = role_at(a, Role.SECRETARY), role_at(b, Role.SECRETARY)
    member = MemberFactory(branch=a, name="张三")

    # A drafts the transfer and issues the letter.
    page_a = desktop_page
    log_in(page_a, secretary_a.username, PASSWORD)
    page_a.goto(reverse("members:transfer_list"))
    page_a.locator("#transfer-create-link").click()
    page_a.locator("#id_member").select_option(str(member.pk))
    page_a.locator("#id_to_branch").select_option(str(b.pk))
    page_a.locator("#transfer-create-submit").click()
    expect(page_a.locator("#transfer-status")).to_have_attribute("data-status", "draft")
    page_a.locator("#transfer-issue-submit").click()
    expect(page_a.locator("#transfer-status")).to_have_attribute("data-status", "issued")
    letter_number = Transfer.objects.get().letter_number
    expect(page_a.locator("#transfer-letter-number")).to_have_text(letter_number)
    # Until B accepts, A stays responsible: the member is still on A's list.
    page_a.goto(reverse("members:member_list"))
    expect(page_a.locator("#member-table .member-name")).to_have_text(["张三"])

    # B finds the letter waiting and accepts it (on a phone).
    page_b = phone_page
    log_in(page_b, secretary_b.username, PASSWORD)
    page_b.goto(reverse("members:transfer_list"))
    page_b.locator("#transfers-awaiting .transfer-awaiting-link").first.click()
    page_b.locator("#transfer-accept-submit").click()
    expect(page_b.locator("#transfer-status")).to_have_attribute("data-status", "accepted")
    assert Member.objects.get(pk=member.pk).branch_id == b.pk

    # B now sees the member …
    page_b.goto(reverse("members:member_list"))
    expect(page_b.locator("#member-table .member-name")).to_have_text(["张三"])
    # … and A no longer does: not on the list, and the record is a 404.
    page_a.goto(reverse("members:member_list"))
    expect(page_a.locator("#member-table")).to_have_count(0)
    expect(page_a.locator("#member-list-empty")).to_be_visible()
    response = page_a.goto(reverse("members:member_detail", kwargs={"pk": member.pk}))
    assert response.status == 404
