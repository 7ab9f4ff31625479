"""Real-browser journey of activities (issue 5 part 11): an organiser schedules a weekly study session, a
member on a phone opens the QR check-in link and checks in, the organiser's live page shows it unreloaded."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from activities.models import Activity, Attendance
from branches.choices import Role
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-word-123"  # tests.branches.factories.UserFactory's password


def test_weekly_study_session_qr_check_in_shows_live(desktop_page, phone_page, branch_tree, role_at, log_in):
    station = branch_tree["station_a"]
    organiser = role_at(station, Role.ORGANISER)
    rider = MemberFactory(branch=station, user=UserFactory(), name="Zhang Wei")

    # The organiser schedules a weekly study session starting in a few minutes (check-in is open).
    start = timezone.localtime().replace(second=0, microsecond=0) + datetime.timedelta(minutes=5)
    page = desktop_page
    log_in(page, organiser.username, PASSWORD)
    page.goto(reverse("activities:activity_create") + f"?branch={station.pk}")
    page.locator("#id_kind").select_option("study")
    page.locator("#id_title").fill("Weekly rider study")
    page.locator("#id_mode").select_option("offline")
    page.locator("#id_venue").fill("Station A rest room")
    page.locator("#id_starts_at").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_ends_at").fill((start + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_rrule").fill("FREQ=WEEKLY;COUNT=4")
    page.locator("#activity-submit").click()

    first = Activity.objects.filter(title="Weekly rider study").order_by("starts_at").first()
    expect(page).to_have_url(re.compile(re.escape(reverse("activities:activity_detail", args=[first.pk]))))
    assert Activity.objects.filter(title="Weekly rider study", series__isnull=False).count() == 4

    # The live attendance page with its rotating QR code; nobody yet.
    page.locator("#activity-live-link").click()
    expect(page.locator("#live-empty")).to_be_visible()
    check_in_url = page.locator("#activity-qr").get_attribute("data-check-in-url")
    assert "/activities/check-in/" in check_in_url

    # The rider scans the code with a phone: logs in when asked, comes back checked in.
    phone = phone_page
    phone.goto(check_in_url)
    phone.wait_for_url(re.compile(re.escape(reverse("account_login"))))
    phone.locator("input[name=login]").fill(rider.user.username)
    phone.locator("input[name=password]").fill(PASSWORD)
    phone.locator("form:has(input[name=password]) [type=submit]").first.click()
    expect(phone.locator("#check-in-ok")).to_be_visible()
    expect(phone.locator("#check-in-ok")).to_contain_text("Weekly rider study")
    assert Attendance.objects.filter(activity=first, member=rider, method="qr").count() == 1

    # The organiser's page picks it up by polling, without a reload.
    expect(page.locator("#live-list")).to_contain_text("Zhang Wei")
    expect(page.locator("#live-count")).to_have_text("1")
