"""Real-browser journey of worker services (issue 6 part 8): a worker asks for help on a phone at /help/ and
gets a tracking code; a caseworker signs in, assigns the case, starts and resolves it; the worker follows the
request with the code and the phone's last four digits and rates the outcome."""

import re
import time

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from branches.choices import Role
from services.models import Case, CaseType

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-word-123"  # tests.branches.factories.UserFactory's password
PHONE = "13987654321"


def test_worker_asks_caseworker_resolves_worker_rates(phone_page, desktop_page, branch_tree, role_at, log_in):
    # A request without a station goes to the top branch; its caseworker serves it (no MFA for caseworkers).
    caseworker = role_at(branch_tree["district"], Role.CASEWORKER)
    # A transactional test may run after another one has flushed the seeded case types.
    wage, _ = CaseType.objects.get_or_create(code="wage_arrears", defaults={"name": "Wage arrears"})

    # The worker fills in the form on a phone, taking longer than the minimum fill time, as people do.
    phone = phone_page
    phone.goto(reverse("services_public:help_intake"))
    shown = time.monotonic()
    phone.locator("#id_case_type").select_option(str(wage.pk))
    phone.locator("#id_description").fill("My wages for March were not paid.")
    phone.locator("#id_phone").fill(PHONE)
    phone.locator("#id_name").fill("Zhao Lei")
    phone.locator("#id_consent").check()
    time.sleep(max(0.0, settings.SERVICES_INTAKE_MIN_SECONDS + 0.5 - (time.monotonic() - shown)))
    phone.locator("#help-submit").click()
    code_box = phone.locator("#tracking-code")
    expect(code_box).to_be_visible()
    code = code_box.inner_text().strip()
    case = Case.objects.get(tracking_code=code)
    assert not case.suspected_spam
    assert case.status == "new"

    # The caseworker signs in through the form, finds the request among the unassigned ones, assigns it.
    page = desktop_page
    log_in(page, caseworker.username, PASSWORD)
    page.goto(reverse("services:case_list") + "?tab=unassigned")
    page.locator(f"#case-{case.pk} a").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("services:case_detail", args=[case.pk]))))
    page.locator("#assign-form select").select_option(str(caseworker.pk))
    page.locator("#assign-form button").click()
    expect(page.locator("#case-assignee")).to_have_text(str(caseworker))
    page.locator("#start-button").click()
    expect(page.locator("#case-status")).to_have_text("In progress")
    page.locator("#resolve-form textarea").fill("The employer paid the March wages in full.")
    page.locator("#resolve-form button").click()
    expect(page.locator("#case-status")).to_have_text("Resolved")

    # The worker follows the request with the code and the last four digits, sees the outcome, rates it.
    phone.goto(reverse("services_public:help_track"))
    phone.locator("#id_code").fill(code.lower())
    phone.locator("#id_last4").fill(PHONE[-4:])
    phone.locator("#track-form button").click()
    expect(phone.locator("#track-status")).to_have_text("Resolved")
    expect(phone.locator("#track-result")).to_contain_text("The employer paid the March wages in full.")
    phone.locator("#rating-form input[name=rating][value='5']").check()
    phone.locator("#rating-form textarea").fill("Quick and kind.")
    phone.locator("#rating-form button").click()
    expect(phone.locator("#track-rated")).to_be_visible()

    case.refresh_from_db()
    assert (case.status, case.rating, case.rating_comment) == ("resolved", 5, "Quick and kind.")
    assert case.assignee == caseworker
