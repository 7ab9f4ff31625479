"""Dashboard figures as an XLSX workbook: one sheet per Table, for the period and branch shown on the page.

Every sheet starts with a small header block (title, organisation, period, when it was generated), then
the table's columns in bold and its rows. Numbers stay numbers (Decimal becomes float, since openpyxl
writes floats); text a spreadsheet would take for a formula gets a leading `'` (members.exports.neutralise).
Sheet names follow Excel's rules: at most 31 characters, none of `[]:*?/\\`, unique in the workbook.
"""

import datetime
import io
import re
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from config.dashboard.tables import Table
from members.exports import neutralise

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
#: Column widths are taken from the longest cell, within these bounds (in characters).
WIDTH_MIN, WIDTH_MAX = 8, 60
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=13)


def sheet_title(title: str, taken: set[str]) -> str:
    """A valid sheet name for `title`, not yet in `taken` (compared without case, as Excel does)."""
    base = _SHEET_FORBIDDEN.sub(" ", str(title)).strip().strip("'") or _("Sheet")
    base = base[:SHEET_NAME_MAX].strip()
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[: SHEET_NAME_MAX - len(suffix)].rstrip() + suffix
    taken.add(name.lower())
    return name


def cell_value(value):
    """A value openpyxl writes as the right cell type: numbers as numbers, text neutralised."""
    if value is None or isinstance(value, bool | int | float | datetime.date):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return neutralise(str(value))


def _display_len(value) -> int:
    if value is None:
        return 0
    text = value.isoformat() if isinstance(value, datetime.date) else str(value)
    # CJK characters take about two columns.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def period_label(start: datetime.date | None, end: datetime.date | None) -> str:
    if start and end:
        return f"{start.isoformat()} – {end.isoformat()}"
    if start:
        return _("from %(date)s") % {"date": start.isoformat()}
    if end:
        return _("until %(date)s") % {"date": end.isoformat()}
    return _("all time")


def header_block(*, title: str, branch, start, end) -> list[list]:
    """The lines above each table: what it is, for which organisation and period, and when it was made."""
    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return [
        [cell_value(title)],
        [_("Organisation"), cell_value(branch.name if branch is not None else _("Everything in your scope"))],
        [_("Period"), period_label(start, end)],
        [_("Generated at"), generated],
        [],
    ]


def write_table(sheet, table: Table, *, title: str, branch, start, end) -> None:
    """One table on one (empty) sheet: header block, bold column names, rows, note, widths."""
    widths: dict[int, int] = {}

    def put(values: list, font=None) -> None:
        sheet.append(values)
        row = sheet.max_row
        for index, value in enumerate(values, start=1):
            if font is not None:
                sheet.cell(row=row, column=index).font = font
            widths[index] = max(widths.get(index, 0), _display_len(value))

    block = header_block(
        title=f"{title} · {table.title}" if title else table.title, branch=branch, start=start, end=end
    )
    sheet.append(block[0])
    sheet.cell(row=1, column=1).font = TITLE
    for line in block[1:]:
        sheet.append(line)
        if line:
            sheet.cell(row=sheet.max_row, column=1).font = BOLD
    put([cell_value(c) for c in table.columns], font=BOLD)
    header_row = sheet.max_row
    for row in table.rows:
        put([cell_value(c) for c in row.cells])
    if table.note:
        sheet.append([])
        sheet.append([cell_value(table.note)])
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = max(WIDTH_MIN, min(WIDTH_MAX, width + 2))


def tables_xlsx(tables: list[Table], *, title: str, branch, start, end) -> bytes:
    """The workbook of `tables` (one sheet each, in order) as bytes."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(sheet_title(table.title, taken))
        write_table(sheet, table, title=title, branch=branch, start=start, end=end)
    if not tables:
        sheet = book.create_sheet(sheet_title(title or _("Report"), taken))
        for line in header_block(title=title, branch=branch, start=start, end=end):
            sheet.append(line)
        sheet.append([_("No figures for this selection.")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_filename(prefix: str, *, branch, start, end, suffix: str = "") -> str:
    """An ASCII file name: prefix, period and an optional key; no branch name (it may hold anything)."""
    parts = [prefix]
    if start:
        parts.append(start.strftime("%Y%m%d"))
    if end:
        parts.append(end.strftime("%Y%m%d"))
    if suffix:
        parts.append(re.sub(r"[^A-Za-z0-9_-]", "", suffix)[:40])
    return "-".join(p for p in parts if p) + ".xlsx"
