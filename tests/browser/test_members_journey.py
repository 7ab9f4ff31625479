"""Member import in a real browser: upload, preview with the bad row's reason, commit, then find by initials."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from branches.choices import Role
from members.choices import ImportStatus
from members.models import ImportJob, Member
from tests.members.factories import make_citizen_id, with_wrong_check_digit
from tests.members.import_files import make_xlsx, member_row

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-word-123"  # tests.branches.factories.UserFactory's password


def test_secretary_imports_xlsx_with_a_bad_row_and_finds_a_member_by_initials(
    desktop_page, branch_tree, role_at, log_in, tmp_path
):
    page = desktop_page
    station = branch_tree["station_a"]
    secretary = role_at(station, Role.SECRETARY)
    # Platforms are left empty: a transactional test may run after another one has flushed their seed rows.
    rows = [
        member_row(1, name="张三", platforms=""),
        member_row(2, name="李四", platforms="", citizen_id=with_wrong_check_digit(make_citizen_id(1002))),
        member_row(3, name="王五", platforms="", category="预备党员", full_member_on=""),
    ]
    path = tmp_path / "members.xlsx"
    path.write_bytes(make_xlsx(rows))

    # Secretaries need no second factor.
    log_in(page, secretary.username, PASSWORD)
    page.goto(reverse("members:member_list"))
    page.locator("#member-import-link").click()

    page.locator("#id_file").set_input_files(str(path))
    page.locator("#import-upload-submit").click()

    # The preview: row 3 is bad, with its reason; nothing is written yet.
    expect(page.locator("#import-status")).to_have_attribute("data-status", ImportStatus.VALIDATED)
    expect(page.locator("#import-rows-valid")).to_have_text("2")
    expect(page.locator("#import-rows-invalid")).to_have_text("1")
    expect(page.locator("#import-error-3")).to_have_text("3")
    bad_row = page.locator("#import-error-table tr[data-row='3']")
    expect(bad_row).to_contain_text("公民身份号码")
    expect(bad_row).to_contain_text("The check digit of this citizen ID number is wrong")
    assert not Member.objects.exists()

    # Only the valid rows.
    page.locator("input[name=mode][value=valid_only]").check()
    page.locator("#import-commit-submit").click()
    expect(page.locator("#import-done")).to_contain_text("2 members imported.")
    expect(page.locator("#import-done")).to_contain_text("1 bad row was skipped.")

    # On the member list, 张三 is found by the initials of the pinyin.
    page.locator("#import-to-list").click()
    page.locator("#id_search").fill("zs")
    page.locator("#member-search-submit").click()
    expect(page).to_have_url(re.compile(r"search=zs"))
    names = page.locator("#member-table .member-name")
    expect(names).to_have_text(["张三"])
    assert sorted(Member.objects.values_list("name", flat=True)) == sorted(["张三", "王五"])


def test_import_page_polls_progress_until_the_check_ends(desktop_page, branch_tree, role_at, log_in):
    page = desktop_page
    secretary = role_at(branch_tree["station_a"], Role.SECRETARY)
    job = ImportJob.objects.create(
        created_by=secretary, file_format="xlsx", status=ImportStatus.VALIDATING, rows_total=5000, rows_done=1000
    )
    log_in(page, secretary.username, PASSWORD)

    page.goto(reverse("members:member_import_job", kwargs={"pk": job.pk}))
    expect(page.locator("#import-progress-bar")).to_have_attribute("value", "1000")

    # The worker moves on: the bar follows without a reload …
    ImportJob.objects.filter(pk=job.pk).update(rows_done=4000)
    expect(page.locator("#import-progress-bar")).to_have_attribute("value", "4000")

    # … and once the check is done the page shows the preview.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.VALIDATED, rows_done=5000, rows_valid=5000, rows_invalid=0
    )
    expect(page.locator("#import-status")).to_have_attribute("data-status", ImportStatus.VALIDATED)
    expect(page.locator("#import-commit-submit")).to_be_visible()
    expect(page.locator("#import-progress-bar")).to_have_count(0)
