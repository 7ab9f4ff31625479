"""Dashboard XLSX export: one sheet per table with the page's numbers, formula neutralisation, scope, period, audit."""

import datetime
from decimal import Decimal
from http import HTTPStatus
from io import BytesIO

import openpyxl
import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.choices import Role
from config.dashboard.exports import SHEET_NAME_MAX, sheet_title, tables_xlsx
from config.dashboard.figures import dashboard_tables
from config.dashboard.refresh import stats_refresh
from config.dashboard.tables import Row, Table
from core.models import AuditEntry
from tests.dashboard.conftest import make_member

pytestmark = pytest.mark.django_db

URL = reverse("reports:dashboard_xlsx")


def _period():
    today = timezone.localdate()
    return today.replace(month=1, day=1), today


def _book(response):
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(BytesIO(response.content))


def _data_rows(sheet, table: Table) -> list[list]:
    """The rows under the table's header row, as the sheet holds them."""
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows.index([str(c) for c in table.columns])
    return [r[: len(table.columns)] for r in rows[header + 1 : header + 1 + len(table.rows)]]


def _expected(value):
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, int | float):
        return value
    return str(value)


@pytest.fixture
def officer(world, role_at):
    return role_at(world["tree"]["district"], Role.OFFICER)


@pytest.fixture
def secretary(world, role_at):
    return role_at(world["tree"]["delivery"], Role.SECRETARY)


def test_dashboard_xlsx_has_one_sheet_per_table_with_the_same_numbers(client, world, officer):
    stats_refresh()
    district = world["tree"]["district"]
    start, end = _period()
    client.force_login(officer)
    response = client.get(URL, {"branch": district.pk, "start": start.isoformat(), "end": end.isoformat()})
    book = _book(response)
    tables = dashboard_tables(actor=officer, branch=district, start=start, end=end)
    assert len(tables) > 3
    assert len(book.sheetnames) == len(tables)
    for name, table in zip(book.sheetnames, tables, strict=True):
        sheet = book[name]
        assert name == str(table.title)[:SHEET_NAME_MAX]
        assert _data_rows(sheet, table) == [[_expected(c) for c in row.cells] for row in table.rows]
        header = [list(r) for r in sheet.iter_rows(min_row=1, max_row=4, values_only=True)]
        assert header[1][:2] == ["Organisation", district.name]
        assert header[2][:2] == ["Period", f"{start.isoformat()} – {end.isoformat()}"]
        assert header[3][0] == "Generated at"
        assert sheet.cell(row=6, column=1).font.bold  # column names in bold


def test_dashboard_xlsx_numbers_are_numbers(client, world, officer):
    stats_refresh()
    client.force_login(officer)
    book = _book(client.get(URL, {"branch": world["tree"]["district"].pk}))
    coverage = book.sheetnames[0]
    values = [c.value for row in book[coverage].iter_rows(min_row=7) for c in row[1:] if c.value is not None]
    assert values
    assert all(isinstance(v, int | float) for v in values)


def test_dashboard_xlsx_defaults_to_top_of_scope_and_this_year(client, world, secretary):
    client.force_login(secretary)
    response = client.get(URL)
    book = _book(response)
    start, end = _period()
    first = book[book.sheetnames[0]]
    assert first.cell(row=2, column=2).value == world["tree"]["delivery"].name
    assert first.cell(row=3, column=2).value == f"{start.isoformat()} – {end.isoformat()}"
    assert response["Content-Disposition"] == (f'attachment; filename="dashboard-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"')


def test_dashboard_xlsx_one_table_by_key(client, world, officer):
    stats_refresh()
    district = world["tree"]["district"]
    start, end = _period()
    table = dashboard_tables(actor=officer, branch=district, start=start, end=end)[1]
    client.force_login(officer)
    url = reverse("reports:dashboard_table_xlsx", kwargs={"key": table.key})
    book = _book(client.get(url, {"branch": district.pk}))
    assert book.sheetnames == [str(table.title)[:SHEET_NAME_MAX]]
    assert _data_rows(book.active, table) == [[_expected(c) for c in row.cells] for row in table.rows]


def test_dashboard_xlsx_unknown_table_key_is_404(client, world, officer):
    client.force_login(officer)
    url = reverse("reports:dashboard_table_xlsx", kwargs={"key": "no_such_table"})
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert not AuditEntry.objects.filter(action="dashboard.tables.exported").exists()


def test_dashboard_xlsx_outside_scope_is_404(client, world, secretary):
    client.force_login(secretary)
    table_url = reverse("reports:dashboard_table_xlsx", kwargs={"key": "coverage"})
    for wanted in (world["tree"]["building"].pk, world["tree"]["district"].pk, "not-a-uuid"):
        assert client.get(URL, {"branch": wanted}).status_code == HTTPStatus.NOT_FOUND
        assert client.get(table_url, {"branch": wanted}).status_code == HTTPStatus.NOT_FOUND
    assert not AuditEntry.objects.filter(action="dashboard.tables.exported").exists()


def test_dashboard_xlsx_without_any_role_is_404(client, user):
    client.force_login(user)
    assert client.get(URL).status_code == HTTPStatus.NOT_FOUND


def test_dashboard_xlsx_reversed_period_is_a_clear_error(client, world, secretary):
    client.force_login(secretary)
    response = client.get(URL, {"start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "The period cannot end before it starts." in response.content.decode()
    assert not AuditEntry.objects.filter(action="dashboard.tables.exported").exists()


def test_dashboard_xlsx_bad_date_is_a_clear_error(client, world, secretary):
    client.force_login(secretary)
    response = client.get(URL, {"start": "last spring"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Enter a valid date." in response.content.decode()


def test_dashboard_xlsx_is_audited(client, world, secretary):
    delivery = world["tree"]["delivery"]
    client.force_login(secretary)
    response = client.get(URL, {"branch": delivery.pk, "start": "2026-01-01", "end": "2026-03-31"})
    assert response.status_code == HTTPStatus.OK
    entry = AuditEntry.objects.get(action="dashboard.tables.exported")
    assert entry.actor == secretary
    assert entry.object_type == "branches.branch"
    assert entry.object_id == str(delivery.pk)
    assert entry.data["start"] == "2026-01-01"
    assert entry.data["end"] == "2026-03-31"
    assert "coverage" in entry.data["tables"]


def test_dashboard_xlsx_query_count_does_not_grow_with_members(client, world, officer):
    stats_refresh()
    district = world["tree"]["district"]
    client.force_login(officer)
    client.get(URL, {"branch": district.pk})  # warm: sessions, content types
    with CaptureQueriesContext(connection) as before:
        assert client.get(URL, {"branch": district.pk}).status_code == HTTPStatus.OK
    for _ in range(6):
        make_member(world["tree"]["station_b"], occupation="courier")
    stats_refresh()
    with CaptureQueriesContext(connection) as after:
        assert client.get(URL, {"branch": district.pk}).status_code == HTTPStatus.OK
    assert len(after.captured_queries) == len(before.captured_queries)


#
# The workbook writer on its own
#
def test_tables_xlsx_neutralises_formulas_and_keeps_numbers():
    evil = ["=cmd|' /C calc'!A0", "+1+2", "-3+4", "@SUM(A1:A2)", "\tTAB", "plain"]
    table = Table(
        key="evil",
        title="=Evil",
        columns=["=Label", "Value"],
        rows=[Row([text, -5]) for text in evil] + [Row(["decimal", Decimal("2.50")]), Row(["none", None])],
    )

    class Named:
        name = '=HYPERLINK("http://x")'

    content = tables_xlsx([table], title="Report", branch=Named(), start=datetime.date(2026, 1, 1), end=None)
    book = openpyxl.load_workbook(BytesIO(content))
    sheet = book.active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[1][:2] == ["Organisation", '\'=HYPERLINK("http://x")']
    assert rows[2][:2] == ["Period", "from 2026-01-01"]
    assert rows[5] == ["'=Label", "Value"]
    body = rows[6:]
    assert [r[0] for r in body[: len(evil)]] == [
        "'=cmd|' /C calc'!A0",
        "'+1+2",
        "'-3+4",
        "'@SUM(A1:A2)",
        "'\tTAB",
        "plain",
    ]
    assert all(r[1] == -5 for r in body[: len(evil)])
    assert body[len(evil)] == ["decimal", 2.5]
    assert body[len(evil) + 1] == ["none", None]
    assert all(sheet.cell(row=r, column=c).data_type != "f" for r in range(1, sheet.max_row + 1) for c in (1, 2))


def test_sheet_title_is_short_valid_and_unique():
    taken: set[str] = set()
    long = "Members by occupation and platform in the whole subtree"
    first = sheet_title(long, taken)
    second = sheet_title(long, taken)
    odd = sheet_title("Dues [2026]: paid/owed? *all*", taken)
    blank = sheet_title("///", taken)
    assert len(first) <= 31
    assert len(second) <= 31
    assert first != second
    assert second.endswith("(2)")
    assert not set("[]:*?/\\") & set(odd)
    assert blank == "Sheet"
    assert sheet_title("sheet", taken) == "sheet (2)"  # Excel compares names without case


def test_tables_xlsx_with_no_tables_still_opens():
    content = tables_xlsx([], title="Dashboard", branch=None, start=None, end=None)
    book = openpyxl.load_workbook(BytesIO(content))
    assert book.sheetnames == ["Dashboard"]
    assert book.active.cell(row=2, column=2).value == "Everything in your scope"


def test_export_link_include_points_at_the_export(world):
    delivery = world["tree"]["delivery"]
    html = render_to_string(
        "dashboard/includes/export_link.html",
        {"branch": delivery, "start": datetime.date(2026, 1, 1), "end": datetime.date(2026, 6, 30)},
    )
    assert f"{URL}?branch={delivery.pk}&amp;start=2026-01-01&amp;end=2026-06-30" in html
    assert reverse("reports:annual") in html
