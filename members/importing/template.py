"""The downloadable templates (XLSX and CSV) and the column guide of the import page."""

import csv
import io

import openpyxl
from django.utils import translation
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from members.importing.columns import CHOICE_NAMES_ZH, COLUMNS
from members.models import Platform


def template_rows() -> list[list[str]]:
    """Row 1 of the template: the Chinese column names."""
    return [[c.header for c in COLUMNS if c.in_template]]


def template_csv() -> bytes:
    """The CSV template: the column names, in UTF-8 with a BOM so that Excel shows the Chinese."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(template_rows())
    return buffer.getvalue().encode("utf-8-sig")


def column_notes() -> list[dict]:
    """The columns as the import page and the template's second sheet document them."""
    notes = []
    for column in COLUMNS:
        values = ""
        if column.kind == "choice" and column.field != "ethnicity":
            values = "、".join(names[0] for names in CHOICE_NAMES_ZH[column.field].values())
        elif column.kind in ("bool", "vote"):
            values = "是、否"
        elif column.kind == "platforms":
            values = "、".join(Platform.objects.values_list("name", flat=True))
        notes.append(
            {
                "header": column.header,
                "alias": column.alias,
                "required": column.required,
                "help": str(column.help),
                "values": values,
                "example": column.example,
                "in_template": column.in_template,
            }
        )
    return notes


def template_xlsx() -> bytes:
    """The XLSX template: sheet 1 for the members (text-formatted ID and phone columns, drop-down lists
    for short choice lists), sheet 2 explaining each column."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "党员信息"
    columns = [c for c in COLUMNS if c.in_template]
    sheet.append([c.header for c in columns])
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE9E7")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4)
        number_format = {"citizen_id": "@", "phone": "@", "date": "yyyy-mm-dd"}.get(column.kind)
        if number_format:
            sheet.column_dimensions[letter].number_format = number_format
            # Column styles alone are not applied by every program: format the first rows' cells too.
            for row in range(2, 502):
                sheet.cell(row=row, column=index).number_format = number_format
        if column.kind in ("choice", "bool") and column.field != "ethnicity":
            names = ["是", "否"] if column.kind == "bool" else [n[0] for n in CHOICE_NAMES_ZH[column.field].values()]
            validation = DataValidation(type="list", formula1='"' + ",".join(names) + '"', allow_blank=True)
            validation.add(f"{letter}2:{letter}100000")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明")
    notes.append(["列名", "English alias", "必填", "说明", "可填的值", "示例"])
    for cell in notes[1]:
        cell.font = bold
    with translation.override("zh-hans"):
        for note in column_notes():
            notes.append(
                [
                    note["header"],
                    note["alias"],
                    "是" if note["required"] else "",
                    note["help"],
                    note["values"],
                    note["example"],
                ]
            )
    for letter, width in zip("ABCDEF", (16, 28, 6, 60, 50, 20), strict=True):
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
