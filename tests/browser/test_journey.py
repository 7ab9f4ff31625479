"""End-to-end journeys in a real browser (Chromium through Playwright), against the live server."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from branches.choices import BranchKind, Role
from branches.models import Branch

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-word-123"  # tests.branches.factories.UserFactory's password


def test_officer_creates_child_branch_and_sees_it_in_tree(desktop_page, branch_tree, role_at, totp_secret_for, log_in):
    page = desktop_page
    district, delivery = branch_tree["district"], branch_tree["delivery"]
    officer = role_at(district, Role.OFFICER)
    secret = totp_secret_for(officer)

    # Officers must use MFA: password first, then the TOTP code form.
    log_in(page, officer.username, PASSWORD, totp_secret=secret)

    # The tree: the district is rendered by the server, its children come from the API through tree.js.
    page.goto(reverse("branches:branch_tree"))
    district_node = page.locator(f"#node-{district.pk}")
    expect(district_node.locator(".tree-link").first).to_have_text("District committee")
    district_node.locator(".tree-toggle").first.click()
    expect(page.locator(f"#node-{delivery.pk} .tree-link").first).to_have_text("Delivery committee")

    # Detail page of the delivery committee, then its "add sub-organisation" form.
    page.locator(f"#node-{delivery.pk} .tree-link").first.click()
    expect(page.locator("#branch-name")).to_have_text("Delivery committee")
    page.locator("#branch-add-child-link").click()
    form = page.locator("#branch-create-form")
    form.locator("#id_name").fill("Station C branch")
    form.locator("#id_kind").select_option(BranchKind.BRANCH.value)
    form.locator("#id_basis").select_option("platform")
    form.locator("#branch-form-submit").click()

    # The new branch's own page, under the delivery committee.
    expect(page.locator("#branch-name")).to_have_text("Station C branch")
    expect(page.locator("#branch-breadcrumb")).to_contain_text("Delivery committee")
    created = Branch.objects.get(name="Station C branch")
    assert (created.parent_id, created.kind) == (delivery.pk, BranchKind.BRANCH)

    # Back on the tree, it appears among the delivery committee's children.
    page.goto(reverse("branches:branch_tree"))
    page.locator(f"#node-{district.pk} .tree-toggle").first.click()
    page.locator(f"#node-{delivery.pk} .tree-toggle").first.click()
    new_node = page.locator(f"#children-{delivery.pk} > #node-{created.pk}")
    expect(new_node.locator(".tree-link")).to_have_text("Station C branch")
    expect(page.locator(f"#node-{delivery.pk} .tree-count").first).to_have_text("3 sub-organisations")


def test_login_page_fits_phone_screen(phone_page):
    phone_page.goto(reverse("account_login"))

    expect(phone_page.locator("input[name=login]")).to_be_visible()
    expect(phone_page.locator("input[name=password]")).to_be_visible()
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the login page scrolls sideways by {overflow}px on a phone"
