"""Member list exports to XLSX and CSV, in the import format, so that a full export can be read back.

- Rows come from the list page's own query (selectors.member_list + filters.MemberFilter + its sort),
  read with `.iterator(chunk_size)`, and are written into a temporary file as they come, so a list of
  100,000 members never sits in memory; the row count the audit entry needs is known at the end.
- Citizen ID and phone numbers are masked unless members.permissions.may_view_sensitive allows the
  full value for that member (the caller may also ask for masks only).
- A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a
  spreadsheet shows it as text instead of running it as a formula (CSV injection); import removes it.
"""

import csv
import io
import tempfile
from dataclasses import dataclass

import openpyxl
from django.db.models import Prefetch

from members.choices import ImportFormat
from members.importing import COLUMNS, english_header, value_label
from members.models import Platform
from members.permissions import may_view_sensitive

#: Rows read from the database at a time.
CHUNK_SIZE = 2000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    ImportFormat.CSV: "text/csv; charset=utf-8",
    ImportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(value):
    """Text a spreadsheet would take for a formula, made inert with a leading `'`; other values unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_headers(*, chinese: bool) -> list[str]:
    return [c.header if chinese else english_header(c.field) for c in COLUMNS]


def export_queryset(queryset):
    """The rows an export needs, with no query per row: branch and unit joined, platforms prefetched."""
    return (
        queryset.select_related("branch", "unit")
        .prefetch_related(None)
        .prefetch_related(Prefetch("platforms", queryset=Platform.objects.order_by("position", "code")))
    )


def export_row(member, *, full: bool, chinese: bool) -> list:
    """One member in the columns of importing.COLUMNS (dates as dates; the writer formats them)."""

    def label(field):
        return value_label(field, getattr(member, field), chinese=chinese)

    values = {
        "name": member.name,
        "citizen_id": member.citizen_id if full else member.citizen_id_masked,
        "sex": label("sex"),
        "birth_date": member.birth_date,
        "ethnicity": label("ethnicity"),
        "education": label("education"),
        "category": label("category"),
        "branch": member.branch.name,
        "joined_on": member.joined_on,
        "full_member_on": member.full_member_on,
        "job_title": member.job_title,
        "phone": (member.phone if full else member.phone_masked) or "",
        "address": member.address,
        "status": label("status"),
        "lost_contact": label("lost_contact"),
        "lost_contact_since": member.lost_contact_since,
        "is_mobile": label("is_mobile"),
        "mobile_destination": member.mobile_destination,
        "occupation": label("occupation"),
        "platforms": "、".join(p.name for p in member.platforms.all()),
        "unit": member.unit.name if member.unit_id else "",
        "shows_identity": label("shows_identity"),
        "under_probation_discipline": label("under_probation_discipline"),
        "external_ref": member.external_ref or "",
        "has_vote": value_label("has_vote", member.has_voting_rights, chinese=chinese),
    }
    return [neutralise(values[c.field]) for c in COLUMNS]


@dataclass
class ExportFile:
    """A finished export: the temporary file (rewound), how many rows, and how many shown in full."""

    file: object
    rows: int
    full_rows: int


def export_members(queryset, *, actor, file_format: str, chinese: bool, masked: bool = False) -> ExportFile:
    """Write the members of `queryset` (already scoped, filtered and ordered) to a temporary file."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the response, which closes it)
    try:
        rows, full_rows = _write(
            handle, queryset, actor=actor, file_format=file_format, chinese=chinese, masked=masked
        )
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return ExportFile(file=handle, rows=rows, full_rows=full_rows)


def _write(handle, queryset, *, actor, file_format: str, chinese: bool, masked: bool) -> tuple[int, int]:
    rows = full_rows = 0

    def records():
        nonlocal rows, full_rows
        for member in export_queryset(queryset).iterator(chunk_size=CHUNK_SIZE):
            full = not masked and may_view_sensitive(actor, member)
            rows += 1
            full_rows += full
            yield export_row(member, full=full, chinese=chinese)

    headers = [neutralise(h) for h in export_headers(chinese=chinese)]
    if file_format == ImportFormat.XLSX:
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("党员信息" if chinese else "Members")
        sheet.append(headers)
        for record in records():
            sheet.append(record)
        workbook.save(handle)
    else:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(headers)
        for record in records():
            writer.writerow(["" if v is None else v.isoformat() if hasattr(v, "isoformat") else v for v in record])
        text.flush()
        text.detach()
    return rows, full_rows
