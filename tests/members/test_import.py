"""Member import: reading files, checking rows, the two-step pages, the Celery path, the command."""

import io
import json
import zipfile
from http import HTTPStatus

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from branches.choices import Role
from core.models import AuditEntry, ChangeRecord
from members import actions, importing
from members.actions import imports as import_actions
from members.choices import ImportMode, ImportStatus
from members.importing import ImportCheck, ImportFileError
from members.models import ImportJob, Member
from tests.branches.factories import UnitFactory
from tests.members.factories import MemberFactory, make_citizen_id, with_wrong_check_digit
from tests.members.import_files import HEADERS, make_csv, make_xlsx, member_row

pytestmark = pytest.mark.django_db

IMPORT = reverse("members:member_import")


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English, whatever language an earlier test left active in this thread."""
    with translation.override("en"):
        yield


@pytest.fixture
def station(branch_tree):
    return branch_tree["station_a"]


@pytest.fixture
def secretary(station, role_at):
    return role_at(station, Role.SECRETARY)


@pytest.fixture
def secretary_client(client, secretary):
    client.force_login(secretary)
    return client


def job_url(job, name="member_import_job") -> str:
    return reverse(f"members:{name}", kwargs={"pk": job.pk})


def upload(client, data: bytes, name: str = "members.xlsx", **fields):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data), **fields})


def uploaded_job(response) -> ImportJob:
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    return ImportJob.objects.get(pk=response.url.rstrip("/").split("/")[-1])


def stored_files() -> list[str]:
    if not default_storage.exists(import_actions.STORAGE_DIR):
        return []
    return default_storage.listdir(import_actions.STORAGE_DIR)[1]


def commit(client, job, mode=ImportMode.VALID_ONLY):
    return client.post(job_url(job, "member_import_commit"), {"mode": mode})


def check(data: bytes, actor, *, file_format="xlsx", default_branch=None) -> ImportCheck:
    return ImportCheck(data, file_format, actor=actor, default_branch=default_branch).run()


def errors_of(report_or_check) -> dict[int, list[str]]:
    report = report_or_check.report() if isinstance(report_or_check, ImportCheck) else report_or_check
    return {number: [f"{column}: {message}" for column, message in errors] for number, errors in report}


def file_error(data: bytes, filename: str, actor) -> str:
    with pytest.raises(ImportFileError) as excinfo:
        actions.import_job_create(actor=actor, data=data, filename=filename)
    assert not ImportJob.objects.exists()
    return " ".join(excinfo.value.messages)


#
# Encodings and formats
#
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_import_check_reads_csv_in_each_encoding(secretary, encoding):
    rows = [member_row(1, name="张三"), member_row(2, name="欧阳娜娜")]

    result = ImportCheck(make_csv(rows, encoding=encoding), "csv", actor=secretary)
    names = [row.member.name for batch in result.batches() for row in batch]

    assert (result.rows_total, result.rows_invalid) == (2, 0)
    assert names == ["张三", "欧阳娜娜"]


def test_import_check_reads_semicolon_and_tab_separated_csv(secretary):
    for delimiter in (";", "\t"):
        data = make_csv([member_row(1)]).decode().replace(",", delimiter).encode()

        assert check(data, secretary, file_format="csv").rows_valid == 1


def test_import_refuses_text_in_an_unknown_encoding(secretary):
    data = make_csv([member_row(1)]) + b"\x80\xff\xfe broken\r\n"

    assert "neither UTF-8 nor GB18030" in file_error(data, "members.csv", secretary)


def test_import_refuses_utf16_text(secretary):
    data = make_csv([member_row(1)], encoding="utf-16")

    assert "UTF-16" in file_error(data, "members.csv", secretary)


@pytest.mark.parametrize("filename", ["junk.csv", "junk.xlsx", "junk.txt"])
def test_import_refuses_a_large_file_of_binary_junk(secretary, filename):
    junk = bytes(range(256)) * 40_000  # 10 MB

    message = file_error(junk, filename, secretary)

    assert "not a text file" in message or "not a valid .xlsx" in message


def test_import_refuses_a_zip_that_is_not_a_workbook(secretary):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")

    assert "cannot be read" in file_error(buffer.getvalue(), "members.xlsx", secretary)


def test_import_refuses_old_xls_and_other_kinds_of_file(secretary):
    assert ".xls" in file_error(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "members.xls", secretary)
    assert "Upload a .xlsx or .csv" in file_error(b"%PDF-1.4", "members.pdf", secretary)


@pytest.mark.parametrize("data", [b"", b"\r\n", "\ufeff".encode()])
def test_import_refuses_an_empty_csv(secretary, data):
    assert "empty" in file_error(data, "members.csv", secretary)


def test_import_refuses_a_file_with_column_names_only(secretary):
    assert "no member rows" in file_error(make_csv([]), "members.csv", secretary)
    assert "no member rows" in file_error(make_xlsx([]), "members.xlsx", secretary)


def test_import_refuses_an_empty_workbook(secretary):
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)

    assert "empty" in file_error(buffer.getvalue(), "members.xlsx", secretary)


#
# Column names
#
def test_import_refuses_unknown_and_missing_columns(secretary):
    data = make_csv(
        [member_row(1)], headers=["名字", "身份证", "人员类别", "所在党组织", "入党日期", "x", "y", "z", "w"]
    )

    message = file_error(data, "members.csv", secretary)

    assert "Unknown columns" in message
    assert "“名字”" in message
    assert "Required columns are missing: 姓名" in message


def test_import_refuses_a_repeated_column(secretary):
    headers = ["姓名", "name", *HEADERS[2:]]

    assert "appears twice" in file_error(make_csv([member_row(1)], headers=headers), "m.csv", secretary)


def test_import_accepts_english_aliases_and_common_synonyms(secretary):
    headers = [
        "name",
        "身份证号",
        "Category",
        "branch",
        "入党时间",
        "full_member_on",
        "手机号",
        "occupation",
        "platforms",
    ]

    assert check(make_csv([member_row(1)], headers=headers), secretary, file_format="csv").rows_valid == 1


def test_import_column_error_hides_id_numbers_typed_as_column_names(secretary):
    number = make_citizen_id(5)
    headers = [number if h == "姓名" else h for h in HEADERS]

    message = file_error(make_csv([member_row(1)], headers=headers), "m.csv", secretary)

    assert number not in message
    assert number[:6] not in message


def test_import_branch_column_may_be_left_out_when_an_organisation_is_chosen(secretary, station):
    headers = [h for h in HEADERS if h != "所在党组织"]
    fields = ["name", "citizen_id", "category", "joined_on", "full_member_on", "phone", "occupation", "platforms"]
    data = make_csv([member_row(1)], headers=headers, fields=fields)

    assert "所在党组织" in file_error(data, "m.csv", secretary)
    assert check(data, secretary, file_format="csv", default_branch=station).rows_valid == 1


#
# Spreadsheet shape
#
def test_import_refuses_merged_cells(secretary):
    data = make_xlsx([member_row(1), member_row(2)], prepare=lambda sheet: sheet.merge_cells("D2:D3"))

    message = file_error(data, "members.xlsx", secretary)

    assert "merged cells (D2:D3)" in message


def test_import_reports_a_formula_on_its_row(secretary):
    def add_formula(sheet):
        sheet["A3"] = '=CONCATENATE("张","三")'

    result = check(make_xlsx([member_row(1), member_row(2)], prepare=add_formula), secretary)

    assert errors_of(result) == {3: ["姓名: Formulas are not accepted: replace the formula with its value."]}
    assert result.rows_valid == 1


def test_import_reports_an_id_number_stored_as_a_number(secretary):
    def as_number(sheet):
        sheet["B2"] = int(make_citizen_id(1))

    result = check(make_xlsx([member_row(1)], prepare=as_number), secretary)

    assert "stored as a number" in errors_of(result)[2][0]


def test_import_skips_blank_rows_and_keeps_spreadsheet_row_numbers(secretary):
    def gap(sheet):
        sheet.insert_rows(3, amount=2)

    result = check(make_xlsx([member_row(1), member_row(2, citizen_id="bad")], prepare=gap), secretary)

    assert result.rows_total == 2
    assert list(errors_of(result)) == [5]


#
# Row checks
#
def test_import_reports_every_kind_of_bad_row_with_row_number_and_reason(secretary, branch_tree):
    MemberFactory(branch=branch_tree["station_a"], citizen_id=make_citizen_id(1000 + 7))
    rows = [
        member_row(1),  # row 2: good
        member_row(2, citizen_id=with_wrong_check_digit(make_citizen_id(1002))),  # 3: bad check digit
        member_row(3, branch="Station B branch"),  # 4: a sibling, outside the scope
        member_row(4, branch="No such branch"),  # 5
        member_row(5, citizen_id=make_citizen_id(1005)),  # 6: same ID as row 7
        member_row(6, citizen_id=make_citizen_id(1005)),  # 7
        member_row(7),  # 8: already recorded
        member_row(8, name=""),  # 9: required
        member_row(9, joined_on="2019-02-30"),  # 10: no such day
        member_row(10, category="预备党员"),  # 11: probationary with a full-member date
        member_row(11, joined_on="2015-07-01", full_member_on="2014-01-01"),  # 12: full before joined
        member_row(12, occupation="宇航员"),  # 13: not an allowed value
        member_row(13, platforms="美团、火星外卖"),  # 14: unknown platform
        member_row(14, phone="12345"),  # 15
        member_row(15, joined_on="sometime"),  # 16
    ]

    errors = errors_of(check(make_xlsx(rows), secretary))

    assert sorted(errors) == list(range(3, 17))
    assert errors[3] == ["公民身份号码: The check digit of this citizen ID number is wrong; please check the number."]
    assert errors[4] == ["所在党组织: No organisation with this name or id in your scope: “Station B branch”."]
    assert errors[5] == ["所在党组织: No organisation with this name or id in your scope: “No such branch”."]
    assert errors[6] == ["公民身份号码: The same citizen ID number is in row 7."]
    assert errors[7] == ["公民身份号码: The same citizen ID number is in row 6."]
    assert errors[8] == ["公民身份号码: A member with this citizen ID number already exists."]
    assert errors[9] == ["姓名: This field is required."]
    assert errors[10] == ["入党日期: This date does not exist (check the month and day)."]
    assert errors[11] == ["转正日期: Only a full member has a date of becoming a full member."]
    assert errors[12] == ["转正日期: A member becomes a full member after joining, not before."]
    assert errors[13][0].startswith("职业: Not an allowed value; use one of: 外卖骑手、快递员")
    assert errors[14] == ["服务平台: Unknown platforms: 火星外卖."]
    assert errors[15] == ["联系电话: Enter an 11-digit mobile number, or a landline number with its area code."]
    assert errors[16] == ["入党日期: Enter a date like 2015-07-01."]


def test_import_reports_a_repeated_id_on_every_row_even_when_one_is_bad_otherwise(secretary):
    number = make_citizen_id(50)
    rows = [
        member_row(1, citizen_id=number, joined_on="bad"),
        member_row(2, citizen_id=number),
        member_row(3, citizen_id=number),
    ]

    errors = errors_of(check(make_csv(rows), secretary, file_format="csv"))

    assert errors == {
        2: ["入党日期: Enter a date like 2015-07-01.", "公民身份号码: The same citizen ID number is in row 3."],
        3: ["公民身份号码: The same citizen ID number is in row 2."],
        4: ["公民身份号码: The same citizen ID number is in row 2."],
    }


def test_import_refuses_a_probationary_member_marked_as_voting(secretary):
    headers = [*HEADERS, "有表决权"]
    fields = ["name", "citizen_id", "category", "branch", "joined_on", "full_member_on", "phone", "occupation"]
    fields += ["platforms", "has_vote"]
    rows = [
        member_row(1, category="预备党员", full_member_on="", has_vote="是"),
        member_row(2, has_vote="是"),
        member_row(3, has_vote="否"),
    ]

    errors = errors_of(check(make_csv(rows, headers=headers, fields=fields), secretary, file_format="csv"))

    assert list(errors) == [2, 4]
    assert errors[2][0].startswith("有表决权: Voting rights are derived from the record, not entered")


def test_import_takes_sex_and_birth_date_from_the_id_and_checks_given_ones(secretary):
    number = make_citizen_id(3, male=False)
    headers = [*HEADERS, "性别", "出生日期"]
    fields = ["name", "citizen_id", "category", "branch", "joined_on", "full_member_on", "phone", "occupation"]
    fields += ["platforms", "sex", "birth_date"]
    rows = [
        member_row(1, citizen_id=number),  # born 1990-01-01, a woman
        member_row(2, sex="男", birth_date="1990-01-03"),  # both right
        member_row(3, sex="女"),
        member_row(4, birth_date="1990-01-01"),
    ]

    result = ImportCheck(make_csv(rows, headers=headers, fields=fields), "csv", actor=secretary)
    good = [row.member for batch in result.batches() for row in batch]

    assert [(m.sex, m.birth_date.isoformat()) for m in good] == [("female", "1990-01-01"), ("male", "1990-01-03")]
    assert errors_of(result) == {
        4: ["性别: The sex does not match the citizen ID number."],
        5: ["出生日期: The birth date does not match the citizen ID number."],
    }


def test_import_resolves_units_and_platforms_by_name_or_code(secretary, station, branch_tree):
    unit = UnitFactory(branch=station, name="顺丰速运站")
    UnitFactory(branch=branch_tree["station_b"], name="Sibling unit")
    headers = [*HEADERS, "工作单位"]
    fields = ["name", "citizen_id", "category", "branch", "joined_on", "full_member_on", "phone", "occupation"]
    fields += ["platforms", "unit"]
    rows = [
        member_row(1, unit="顺丰速运站", platforms="meituan, SF"),
        member_row(2, unit=str(unit.pk)),
        member_row(3, unit="Sibling unit"),
    ]

    result = ImportCheck(make_csv(rows, headers=headers, fields=fields), "csv", actor=secretary)
    good = [row for batch in result.batches() for row in batch]

    assert [r.member.unit for r in good] == [unit, unit]
    assert [p.code for p in good[0].platforms] == ["meituan", "sf"]
    assert errors_of(result) == {4: ["工作单位: No unit with this name or id in your scope: “Sibling unit”."]}


def test_import_finds_the_branch_by_id_too(secretary, station):
    assert check(make_csv([member_row(1, branch=str(station.pk))]), secretary, file_format="csv").rows_valid == 1


def test_import_reports_never_quote_an_id_number(secretary):
    number = make_citizen_id(9)
    rows = [
        member_row(1, citizen_id=number, branch=number),
        member_row(2, citizen_id=number, platforms=number),
        member_row(3, citizen_id=with_wrong_check_digit(number)),
    ]

    report = json.dumps(check(make_csv(rows), secretary, file_format="csv").report(), ensure_ascii=False)

    assert number not in report
    assert number[:-1] not in report


#
# Pages: upload, preview, commit
#
def test_import_page_needs_member_change_rights(client, station, role_at):
    client.force_login(role_at(station, Role.ORGANISER))

    assert client.get(IMPORT).status_code == HTTPStatus.FORBIDDEN
    assert upload(client, make_xlsx([member_row(1)])).status_code == HTTPStatus.FORBIDDEN
    assert not ImportJob.objects.exists()


def test_import_page_shows_templates_and_columns(secretary_client):
    content = secretary_client.get(IMPORT).content.decode()

    assert 'id="import-template-xlsx"' in content
    assert 'id="import-column-citizen_id"' in content


def test_import_preview_lists_bad_rows_then_valid_only_commit_writes_the_good(secretary_client, secretary, station):
    rows = [member_row(1, name="张三"), member_row(2, citizen_id="110101199001011230"), member_row(3, name="李四")]
    changes_before = ChangeRecord.objects.filter(resource="member").count()

    job = uploaded_job(upload(secretary_client, make_xlsx(rows)))
    page = secretary_client.get(job_url(job)).content.decode()

    assert job.status == ImportStatus.VALIDATED
    assert (job.rows_total, job.rows_valid, job.rows_invalid) == (3, 2, 1)
    assert 'id="import-error-3"' in page
    assert "check digit" in page
    assert not Member.objects.exists()

    response = commit(secretary_client, job)

    job.refresh_from_db()
    assert response.status_code == HTTPStatus.FOUND
    assert (job.status, job.rows_created, job.mode) == (ImportStatus.DONE, 2, ImportMode.VALID_ONLY)
    members = Member.objects.order_by("name_pinyin")
    assert [(m.name, m.name_initials, m.citizen_id_masked[:6], m.version) for m in members] == [
        ("李四", "ls", "110101", 1),
        ("张三", "zs", "110101", 1),
    ]
    assert sorted(members[0].platforms.values_list("code", flat=True)) == ["eleme", "meituan"]
    station.refresh_from_db()
    assert (station.member_count, station.full_member_count) == (2, 2)
    assert ChangeRecord.objects.filter(resource="member").count() == changes_before + 2
    audit = AuditEntry.objects.get(action="members.importjob.committed")
    assert audit.actor == secretary
    assert audit.data == {
        "mode": "valid_only",
        "format": "xlsx",
        "rows": 3,
        "valid": 2,
        "invalid": 1,
        "created": 2,
        "branches": 1,
    }
    assert not AuditEntry.objects.filter(action="members.member.created").exists()
    assert 'id="import-done"' in secretary_client.get(job_url(job)).content.decode()


def test_import_all_or_nothing_writes_nothing_when_a_row_is_bad(secretary_client, station):
    rows = [member_row(1), member_row(2, joined_on="2019-02-30")]
    job = uploaded_job(upload(secretary_client, make_csv(rows), "m.csv"))

    commit(secretary_client, job, ImportMode.ALL_OR_NOTHING)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "1 rows are not valid" in job.error
    assert errors_of(job.row_errors) == {3: ["入党日期: This date does not exist (check the month and day)."]}
    assert not Member.objects.exists()
    station.refresh_from_db()
    assert station.member_count == 0
    assert AuditEntry.objects.filter(action="members.importjob.failed").count() == 1
    assert not AuditEntry.objects.filter(action="members.importjob.committed").exists()
    assert "nothing was written" in secretary_client.get(job_url(job)).content.decode()


def test_import_all_or_nothing_writes_every_row_when_all_are_valid(secretary_client, station):
    rows = [member_row(n, category="预备党员", full_member_on="") for n in range(5)]
    job = uploaded_job(upload(secretary_client, make_csv(rows, encoding="gb18030"), "m.csv"))

    commit(secretary_client, job, ImportMode.ALL_OR_NOTHING)

    job.refresh_from_db()
    assert (job.status, job.rows_created) == (ImportStatus.DONE, 5)
    station.refresh_from_db()
    assert (station.member_count, station.full_member_count) == (5, 0)


def test_import_upload_shows_file_errors_in_the_form_and_keeps_nothing(secretary_client):
    response = upload(secretary_client, bytes(range(256)) * 100, "junk.csv")

    assert response.status_code == HTTPStatus.OK
    assert "not a text file" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert stored_files() == []


def test_import_upload_refuses_a_file_over_the_size_limit(secretary_client, settings):
    settings.MEMBERS_IMPORT_MAX_BYTES = 1024 * 1024 // 4

    response = upload(secretary_client, make_csv([member_row(n) for n in range(3000)]), "m.csv")

    assert response.status_code == HTTPStatus.OK
    assert "too large: the limit is 0.25 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_import_stores_the_file_encrypted_under_a_random_name_and_deletes_it(secretary_client):
    number = make_citizen_id(1001)
    data = make_csv([member_row(1)])
    job = uploaded_job(upload(secretary_client, data, f"{number}.csv"))

    stored = default_storage.open(job.file_name, "rb").read()
    assert number not in job.file_name
    assert number.encode() not in stored
    assert stored != data
    assert job.file_name.startswith(import_actions.STORAGE_DIR + "/")

    commit(secretary_client, job)

    job.refresh_from_db()
    assert job.file_name == ""
    assert stored_files() == []


def test_import_stores_html_in_a_name_as_text_and_pages_escape_it(secretary_client):
    name = '<script>alert("x")</script>'
    job = uploaded_job(upload(secretary_client, make_csv([member_row(1, name=name)]), "m.csv"))
    commit(secretary_client, job)

    member = Member.objects.get()
    list_page = secretary_client.get(reverse("members:member_list")).content.decode()

    assert member.name == name
    assert name not in list_page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in list_page


def test_import_commit_twice_is_refused(secretary_client):
    job = uploaded_job(upload(secretary_client, make_csv([member_row(1)]), "m.csv"))
    commit(secretary_client, job)

    response = commit(secretary_client, job)

    assert response.status_code == HTTPStatus.FOUND
    assert Member.objects.count() == 1
    follow = secretary_client.get(response.url).content.decode()
    assert "already been started or has ended" in follow


def test_import_commit_needs_a_mode(secretary_client):
    job = uploaded_job(upload(secretary_client, make_csv([member_row(1)]), "m.csv"))

    response = secretary_client.post(job_url(job, "member_import_commit"), {"mode": "everything"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    job.refresh_from_db()
    assert job.status == ImportStatus.VALIDATED


def test_import_job_of_another_user_is_404(secretary_client, station, role_at, client):
    job = uploaded_job(upload(secretary_client, make_csv([member_row(1)]), "m.csv"))
    other = role_at(station, Role.SECRETARY)
    client.force_login(other)

    for name in ("member_import_job", "member_import_progress", "member_import_errors"):
        assert client.get(job_url(job, name)).status_code == HTTPStatus.NOT_FOUND
    assert commit(client, job).status_code == HTTPStatus.NOT_FOUND
    assert not Member.objects.exists()


def test_import_errors_download_lists_every_bad_row_without_values(secretary_client):
    number = with_wrong_check_digit(make_citizen_id(1002))
    job = uploaded_job(upload(secretary_client, make_csv([member_row(1), member_row(2, citizen_id=number)]), "m.csv"))

    response = secretary_client.get(job_url(job, "member_import_errors"))

    text = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert text.splitlines()[1].startswith("3,公民身份号码,The check digit")
    assert number not in text


def test_import_uses_the_chosen_organisation_for_rows_without_one(secretary_client, station):
    rows = [member_row(1, branch=""), member_row(2, branch="Station A branch")]

    job = uploaded_job(upload(secretary_client, make_csv(rows), "m.csv", branch=str(station.pk)))
    commit(secretary_client, job)

    assert set(Member.objects.values_list("branch", flat=True)) == {station.pk}
    assert Member.objects.count() == 2


def test_import_refuses_a_chosen_organisation_outside_the_scope(secretary_client, branch_tree):
    response = upload(secretary_client, make_csv([member_row(1)]), "m.csv", branch=str(branch_tree["station_b"].pk))

    assert response.status_code == HTTPStatus.OK
    assert not ImportJob.objects.exists()


#
# Template round trip
#
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_import_template_round_trip(secretary_client, station, fmt):
    response = secretary_client.get(reverse("members:member_import_template", kwargs={"fmt": fmt}))
    assert response.status_code == HTTPStatus.OK
    template = response.content
    values = {
        "姓名": "王芳",
        "公民身份号码": make_citizen_id(7, male=False),
        "民族": "回族",
        "学历": "大学本科",
        "人员类别": "预备党员",
        "所在党组织": "Station A branch",
        "入党日期": "2024-07-01",
        "联系电话": "13912345678",
        "党籍状态": "正常",
        "是否流动党员": "是",
        "外出流向": "上海",
        "职业": "快递员",
        "服务平台": "顺丰",
        "是否亮身份": "是",
    }
    if fmt == "xlsx":
        workbook = openpyxl.load_workbook(io.BytesIO(template))
        sheet = workbook["党员信息"]
        headers = [cell.value for cell in sheet[1]]
        sheet.append([values.get(h, "") for h in headers])
        assert sheet.cell(row=2, column=headers.index("公民身份号码") + 1).number_format == "@"
        buffer = io.BytesIO()
        workbook.save(buffer)
        filled = buffer.getvalue()
        assert "填写说明" in workbook.sheetnames
    else:
        text = template.decode("utf-8-sig")
        headers = text.strip().split(",")
        filled = (text + ",".join(values.get(h, "") for h in headers) + "\r\n").encode("utf-8-sig")

    job = uploaded_job(upload(secretary_client, filled, f"filled.{fmt}"))
    assert (job.rows_valid, job.rows_invalid) == (1, 0), job.row_errors
    commit(secretary_client, job, ImportMode.ALL_OR_NOTHING)

    member = Member.objects.get()
    assert (member.name, member.sex, member.ethnicity, member.education, member.category) == (
        "王芳",
        "female",
        "hui",
        "bachelor",
        "probationary",
    )
    assert (member.is_mobile, member.mobile_destination, member.shows_identity, member.occupation) == (
        True,
        "上海",
        True,
        "courier",
    )
    assert member.phone == "13912345678"


def test_import_template_of_unknown_format_is_404(secretary_client):
    assert secretary_client.get("/members/import/template.pdf").status_code == HTTPStatus.NOT_FOUND


#
# Large files: the Celery path
#
def test_import_large_file_runs_as_tasks_with_progress_to_done(
    secretary_client, station, settings, django_capture_on_commit_callbacks
):
    settings.MEMBERS_IMPORT_SYNC_MAX_ROWS = 3
    rows = [member_row(n) for n in range(6)] + [member_row(99, joined_on="2019-13-01")]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = uploaded_job(upload(secretary_client, make_xlsx(rows)))
    assert len(callbacks) == 1  # the check was queued, not run in the request
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_total, job.rows_invalid) == (ImportStatus.VALIDATED, 7, 7, 1)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        commit(secretary_client, job)
    assert len(callbacks) == 1

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_total, job.rows_created) == (ImportStatus.DONE, 7, 7, 6)
    assert Member.objects.count() == 6


def test_import_progress_fragment_polls_while_running_and_reloads_when_done(secretary_client, secretary):
    job = ImportJob.objects.create(
        created_by=secretary, file_format="csv", status=ImportStatus.VALIDATING, rows_total=100, rows_done=40
    )
    url = job_url(job, "member_import_progress")

    running = secretary_client.get(url, headers={"HX-Request": "true"})
    page = secretary_client.get(job_url(job)).content.decode()

    assert 'hx-trigger="every 1s"' in running.content.decode()
    assert 'value="40"' in running.content.decode()
    assert 'max="100"' in running.content.decode()
    assert 'id="import-progress"' in page

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.VALIDATED)
    finished = secretary_client.get(url, headers={"HX-Request": "true"})

    assert finished["HX-Refresh"] == "true"
    assert secretary_client.get(url).status_code == HTTPStatus.FOUND


def test_import_failure_after_the_first_batch_leaves_nothing(secretary_client, station, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    real_insert = import_actions._insert
    calls = []

    def failing_insert(rows, now):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real_insert(rows, now)

    monkeypatch.setattr(import_actions, "_insert", failing_insert)
    job = uploaded_job(upload(secretary_client, make_csv([member_row(n) for n in range(5)]), "m.csv"))
    station.refresh_from_db()
    counts_before = (station.member_count, station.full_member_count, station.version)
    changes_before = ChangeRecord.objects.count()

    commit(secretary_client, job)

    job.refresh_from_db()
    assert calls == [2, 2]
    assert job.status == ImportStatus.FAILED
    assert job.rows_created == 0
    assert "Nothing was imported" in job.error
    assert Member.all_objects.count() == 0
    assert Member.platforms.through.objects.count() == 0
    station.refresh_from_db()
    assert (station.member_count, station.full_member_count, station.version) == counts_before
    assert ChangeRecord.objects.count() == changes_before
    assert not AuditEntry.objects.filter(action="members.importjob.committed").exists()
    assert AuditEntry.objects.filter(action="members.importjob.failed").count() == 1


def test_import_takes_back_a_written_row_repeated_further_down(secretary_client, station, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    number = make_citizen_id(1000)
    rows = [member_row(0, citizen_id=number), member_row(1), member_row(2), member_row(3, citizen_id=number)]
    job = uploaded_job(upload(secretary_client, make_csv(rows), "m.csv"))
    assert sorted(errors_of(job.row_errors)) == [2, 5]

    commit(secretary_client, job)

    job.refresh_from_db()
    assert (job.status, job.rows_created, job.rows_invalid) == (ImportStatus.DONE, 2, 2)
    assert Member.all_objects.count() == 2
    station.refresh_from_db()
    assert station.member_count == 2
    live_ids = {str(pk) for pk in Member.objects.values_list("pk", flat=True)}
    assert {str(r.object_id) for r in ChangeRecord.objects.filter(resource="member")} == live_ids


def test_import_commit_rechecks_rows_recorded_since_the_preview(secretary_client, station):
    job = uploaded_job(upload(secretary_client, make_csv([member_row(1), member_row(2)]), "m.csv"))
    MemberFactory(branch=station, citizen_id=make_citizen_id(1001))

    commit(secretary_client, job)

    job.refresh_from_db()
    assert (job.status, job.rows_created) == (ImportStatus.DONE, 1)
    assert errors_of(job.row_errors) == {2: ["公民身份号码: A member with this citizen ID number already exists."]}


def test_import_files_purge_expires_unfinished_jobs(secretary_client):
    job = uploaded_job(upload(secretary_client, make_csv([member_row(1)]), "m.csv"))
    stored = job.file_name

    assert actions.import_files_purge() == 0
    ImportJob.objects.filter(pk=job.pk).update(updated_at=job.updated_at.replace(year=2000))
    assert actions.import_files_purge() == 1

    job.refresh_from_db()
    assert (job.status, job.file_name) == (ImportStatus.FAILED, "")
    assert not default_storage.exists(stored)


#
# Command
#
def test_import_members_command_dry_run_reports_and_writes_nothing(tmp_path, station):
    path = tmp_path / "members.csv"
    path.write_bytes(make_csv([member_row(1), member_row(2, joined_on="2019-02-30")]))
    out = io.StringIO()

    call_command("import_members", str(path), "--dry-run", stdout=out)

    assert "Rows: 2, valid: 1, bad: 1" in out.getvalue()
    assert "row 3, 入党日期: This date does not exist" in out.getvalue()
    assert not Member.objects.exists()
    assert not ImportJob.objects.exists()


def test_import_members_command_all_or_nothing_refuses_then_valid_only_imports(tmp_path, station):
    path = tmp_path / "members.xlsx"
    path.write_bytes(make_xlsx([member_row(1, branch=""), member_row(2, branch=""), member_row(3, name="")]))

    with pytest.raises(CommandError, match="1 rows are not valid"):
        call_command("import_members", str(path), "--branch-id", str(station.pk), stdout=io.StringIO())
    assert not Member.objects.exists()

    out = io.StringIO()
    call_command("import_members", str(path), "--branch-id", str(station.pk), "--mode", "valid-only", stdout=out)

    assert "Imported 2 members" in out.getvalue()
    assert Member.objects.filter(branch=station).count() == 2
    audit = AuditEntry.objects.get(action="members.importjob.committed")
    assert audit.actor is None
    assert audit.data["created"] == 2


def test_import_members_command_reports_file_errors(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(256)) * 10)

    with pytest.raises(CommandError, match="not a text file"):
        call_command("import_members", str(path))
    with pytest.raises(CommandError, match="No organisation with id"):
        call_command("import_members", str(path), "--branch-id", "nope")
