"""Member files for import tests: rows with valid defaults, written as CSV (any encoding) or XLSX."""

import csv
import datetime
import io

import openpyxl

from tests.members.factories import make_citizen_id

#: The template's columns most tests fill (Chinese names, as in the template).
HEADERS = ["姓名", "公民身份号码", "人员类别", "所在党组织", "入党日期", "转正日期", "联系电话", "职业", "服务平台"]
_FIELDS = [
    "name",
    "citizen_id",
    "category",
    "branch",
    "joined_on",
    "full_member_on",
    "phone",
    "occupation",
    "platforms",
]


def member_row(n: int, branch: str = "Station A branch", **overrides) -> dict:
    """Values of one valid row (a full member), keyed by field; `n` makes the ID number unique."""
    row = {
        "name": "张三",
        "citizen_id": make_citizen_id(1000 + n),
        "category": "正式党员",
        "branch": branch,
        "joined_on": "2015-07-01",
        "full_member_on": "2016-07-01",
        "phone": f"139{n:08d}",
        "occupation": "外卖骑手",
        "platforms": "美团、饿了么",
    }
    row.update(overrides)
    return row


def as_lists(rows: list[dict], headers: list[str] = HEADERS, fields: list[str] = _FIELDS) -> list[list]:
    return [list(headers)] + [[row.get(field, "") for field in fields] for row in rows]


def make_csv(rows: list[dict], *, encoding: str = "utf-8", headers=HEADERS, fields=_FIELDS) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(as_lists(rows, headers, fields))
    return buffer.getvalue().encode(encoding)


def make_xlsx(rows: list[dict], *, headers=HEADERS, fields=_FIELDS, prepare=None) -> bytes:
    """An XLSX of the rows (ID and phone as text, dates as dates); `prepare(sheet)` may change the sheet."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for values in as_lists(rows, headers, fields):
        sheet.append([_xlsx_value(v) for v in values])
    if prepare:
        prepare(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value):
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value
