"""Member export: the list's filters and scope, masking per role, formula neutralisation, the audit entry."""

import csv
import datetime
import io
from http import HTTPStatus

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from branches.choices import Role
from core.models import AuditEntry
from members import actions
from members.choices import ImportStatus
from members.exports import neutralise
from members.models import ImportJob, Member, Platform
from tests.members.factories import MemberFactory, make_citizen_id

pytestmark = pytest.mark.django_db

EXPORT = reverse("members:member_export")


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English, whatever language an earlier test left active in this thread."""
    with translation.override("en"):
        yield


@pytest.fixture
def station(branch_tree):
    return branch_tree["station_a"]


@pytest.fixture
def members(station, branch_tree):
    """Two members at station A (one probationary), one at the sibling station B."""
    return [
        MemberFactory(branch=station, name="张三", platforms=[Platform.objects.get(code="meituan")]),
        MemberFactory(branch=station, name="李四", category="probationary"),
        MemberFactory(branch=branch_tree["station_b"], name="王五"),
    ]


def logged_in(client, user):
    client.force_login(user)
    return client


def download(client, fmt: str, language: str = "zh-hans", **params) -> list[list[str]]:
    """The exported rows (header first) as text, whatever the format."""
    response = client.get(EXPORT, {**params, "format": fmt}, headers={"accept-language": language})
    assert response.status_code == HTTPStatus.OK, response.content[:500]
    assert 'filename="members-' in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    if fmt == "csv":
        assert content.startswith("\ufeff".encode())
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [
        ["" if v is None else v.date().isoformat() if isinstance(v, datetime.datetime) else str(v) for v in row]
        for row in sheet.iter_rows(values_only=True)
    ]


def column(rows, header: str) -> list[str]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def test_export_page_says_how_many_rows_and_how_numbers_are_shown(client, station, members, role_at):
    client = logged_in(client, role_at(station, Role.SECRETARY))

    response = client.get(EXPORT, {"category": "full", "cursor": "junk", "show": "full"})

    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert response.context["rows"] == 1
    assert "exported in full" in content
    assert 'href="?category=full&amp;format=xlsx"' in content
    assert not AuditEntry.objects.filter(action="members.member.exported").exists()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_secretary_gets_full_numbers_of_their_scope_and_an_audit_entry(client, station, members, role_at, fmt):
    secretary = role_at(station, Role.SECRETARY)

    rows = download(logged_in(client, secretary), fmt, sort="name")

    assert column(rows, "姓名") == ["李四", "张三"]  # the sibling station's member is not in scope
    assert column(rows, "公民身份号码") == [members[1].citizen_id, members[0].citizen_id]
    assert column(rows, "联系电话") == [members[1].phone, members[0].phone]
    assert column(rows, "人员类别") == ["预备党员", "正式党员"]
    assert column(rows, "有表决权") == ["否", "是"]
    assert column(rows, "服务平台") == ["", "美团"]
    assert column(rows, "入党日期") == ["2015-07-01", "2015-07-01"]
    entry = AuditEntry.objects.get(action="members.member.exported")
    assert entry.actor == secretary
    assert entry.data == {
        "format": fmt,
        "filters": {"sort": ["name"]},
        "rows": 2,
        "full_rows": 2,
        "masked": False,
    }


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_organiser_gets_masked_numbers(client, station, members, role_at, fmt):
    organiser = role_at(station, Role.ORGANISER)

    rows = download(logged_in(client, organiser), fmt)

    assert sorted(column(rows, "公民身份号码")) == sorted(m.citizen_id_masked for m in members[:2])
    assert sorted(column(rows, "联系电话")) == sorted(m.phone_masked for m in members[:2])
    for member in members:
        assert all(member.citizen_id not in cell for row in rows for cell in row)
    entry = AuditEntry.objects.get(action="members.member.exported")
    assert (entry.data["rows"], entry.data["full_rows"], entry.data["masked"]) == (2, 0, True)


def test_export_masks_on_request_for_a_role_that_may_see_full_numbers(client, station, members, role_at):
    rows = download(logged_in(client, role_at(station, Role.SECRETARY)), "csv", masked="1")

    assert sorted(column(rows, "公民身份号码")) == sorted(m.citizen_id_masked for m in members[:2])
    assert AuditEntry.objects.get(action="members.member.exported").data["masked"] is True


def test_export_mixed_roles_show_full_numbers_only_where_records_are_kept(client, branch_tree, members, role_at):
    user = role_at(branch_tree["station_a"], Role.SECRETARY)
    role_at(branch_tree["delivery"], Role.ORGANISER, user=user)

    rows = download(logged_in(client, user), "csv", sort="name")

    assert column(rows, "公民身份号码") == [members[1].citizen_id, members[2].citizen_id_masked, members[0].citizen_id]
    assert AuditEntry.objects.get(action="members.member.exported").data["full_rows"] == 2


def test_export_follows_the_list_filters(client, branch_tree, members, role_at):
    client = logged_in(client, role_at(branch_tree["district"], Role.OFFICER))

    rows = download(client, "csv", branch=str(branch_tree["station_b"].pk))
    assert column(rows, "姓名") == ["王五"]
    rows = download(client, "csv", category="probationary")
    assert column(rows, "姓名") == ["李四"]
    rows = download(client, "csv", search="zs")
    assert column(rows, "姓名") == ["张三"]


def test_export_in_english_has_english_headers_and_values(client, station, members, role_at):
    rows = download(logged_in(client, role_at(station, Role.SECRETARY)), "csv", language="en", sort="name")

    assert rows[0][:3] == ["Name", "Citizen ID number", "Sex"]
    assert column(rows, "Category") == ["Probationary member", "Full member"]
    assert column(rows, "Has a vote") == ["no", "yes"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(client, station, role_at, fmt):
    MemberFactory(
        branch=station,
        name='=HYPERLINK("http://evil.example","click")',
        job_title="+1+1",
        address="-2+3",
        external_ref="@SUM(A1)",
    )

    rows = download(logged_in(client, role_at(station, Role.SECRETARY)), fmt)

    assert column(rows, "姓名") == ['\'=HYPERLINK("http://evil.example","click")']
    assert column(rows, "工作岗位") == ["'+1+1"]
    assert column(rows, "家庭住址") == ["'-2+3"]
    assert column(rows, "外部编号") == ["'@SUM(A1)"]


def test_neutralise_covers_tab_and_carriage_return_and_leaves_the_rest():
    assert [neutralise(v) for v in ["\tx", "\rx", "=1", "张三", "", None, 12]] == [
        "'\tx",
        "'\rx",
        "'=1",
        "张三",
        "",
        None,
        12,
    ]


def test_export_refuses_a_full_id_number_in_the_url(client, station, members, role_at):
    client = logged_in(client, role_at(station, Role.SECRETARY))

    response = client.get(EXPORT, {"search": members[0].citizen_id, "format": "csv"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert 'id="export-invalid"' in response.content.decode()
    assert not AuditEntry.objects.filter(action="members.member.exported").exists()


def test_export_refuses_an_unknown_format(client, station, role_at):
    response = logged_in(client, role_at(station, Role.SECRETARY)).get(EXPORT, {"format": "pdf"})

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_export_needs_member_view_rights(client, station, role_at):
    response = logged_in(client, role_at(station, Role.CASEWORKER)).get(EXPORT, {"format": "csv"})

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_export_costs_the_same_queries_whatever_the_row_count(client, station, role_at, django_assert_max_num_queries):
    client = logged_in(client, role_at(station, Role.SECRETARY))
    for n in range(3):
        MemberFactory(branch=station, platforms=[Platform.objects.get(code="sf")], citizen_id=make_citizen_id(500 + n))
    with django_assert_max_num_queries(12) as few:
        download(client, "csv")
    for n in range(20):
        MemberFactory(branch=station, platforms=[Platform.objects.get(code="jd")], citizen_id=make_citizen_id(600 + n))

    with django_assert_max_num_queries(len(few.captured_queries)):
        download(client, "csv")


def test_export_in_full_can_be_imported_again(client, station, members, role_at):
    secretary = role_at(station, Role.SECRETARY)
    client = logged_in(client, secretary)
    exported = client.get(EXPORT, {"format": "xlsx"}, headers={"accept-language": "zh-hans"})
    data = b"".join(exported.streaming_content)
    originals = {m.citizen_id: m for m in members[:2]}
    for member in members[:2]:
        actions.member_delete(actor=secretary, member=member, reason="re-import test")

    job = actions.import_job_create(actor=secretary, data=data, filename="export.xlsx")
    job = actions.import_job_validate(job=job)

    assert (job.status, job.rows_valid, job.rows_invalid) == (ImportStatus.VALIDATED, 2, 0), job.row_errors
    actions.import_job_commit(job=actions.import_job_commit_start(actor=secretary, job=job, mode="all_or_nothing"))
    for member in Member.objects.filter(branch=station):
        original = originals[member.citizen_id]
        assert (member.name, member.category, member.phone, member.joined_on, member.full_member_on) == (
            original.name,
            original.category,
            original.phone,
            original.joined_on,
            original.full_member_on,
        )
    assert ImportJob.objects.get().rows_created == 2
