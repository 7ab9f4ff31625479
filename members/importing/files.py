"""Reading files: format, encoding, sheet shape and column names, before any row is looked at."""

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import openpyxl
from django.conf import settings
from django.utils.translation import gettext as _

from members.choices import ImportFormat
from members.importing.columns import COLUMNS, HEADER_LOOKUP, normalise_name

#: Unpacked size an XLSX may reach, as a multiple of the upload limit (a zip bomb is refused early).
_MAX_UNPACK_FACTOR = 20


class ImportFileError(Exception):
    """The file as a whole cannot be imported; `messages` say why and what to do."""

    def __init__(self, *messages: str):
        self.messages = [str(m) for m in messages]
        super().__init__("; ".join(self.messages))


def detect_format(data: bytes, filename: str) -> str:
    """`csv` or `xlsx` from the name and the first bytes; anything else is refused with a reason."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not data:
        raise ImportFileError(_("The file is empty."))
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise ImportFileError(_("This is an old Excel file (.xls). Save it as .xlsx or as CSV and upload it again."))
    if extension not in ("csv", "txt", "xlsx"):
        raise ImportFileError(_("Upload a .xlsx or .csv file (download the template below)."))
    if data[:4] == b"PK\x03\x04":
        return ImportFormat.XLSX
    if extension == "xlsx":
        raise ImportFileError(
            _("This file is not a valid .xlsx workbook. Open it in Excel or WPS and save it as .xlsx again.")
        )
    return ImportFormat.CSV


def safe_text(value, limit: int = 40) -> str:
    """A cell or column name fit to quote in a report: shortened, runs of 6+ digits hidden (ID numbers)."""
    text = re.sub(r"\s+", " ", str(value or "")).strip()
    text = re.sub(r"\d{6,}", "…", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ImportFileError(_("The file is in UTF-16. Save it as “CSV UTF-8” and upload it again."))
    sample = data[:65536]
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 13))
    if b"\x00" in data or controls > len(sample) // 100:
        raise ImportFileError(
            _("This file is not a text file (it looks like binary data). Upload a CSV or XLSX file.")
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        _("The file's text is neither UTF-8 nor GB18030 (GBK). Save it as “CSV UTF-8” and upload it again.")
    )


class _Table:
    """The rows of a file as (row number, cell values), row 1 being the column names."""

    headers: list

    def rows(self) -> Iterator[tuple[int, list]]:
        raise NotImplementedError

    def estimated_rows(self) -> int | None:
        raise NotImplementedError


class _CsvTable(_Table):
    def __init__(self, data: bytes):
        self.text = _decode(data)
        first_line = self.text.split("\n", 1)[0]
        self.delimiter = max((",", "\t", ";"), key=first_line.count) if first_line else ","
        self._reader = self._records()
        self.headers = next(self._reader, (1, []))[1]
        if not any(str(h).strip() for h in self.headers):
            raise ImportFileError(_("The file is empty: row 1 must hold the column names of the template."))

    def _records(self) -> Iterator[tuple[int, list]]:
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        number = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(
                    _("Row %(row)s of the file cannot be read as CSV (%(reason)s).")
                    % {"row": number + 1, "reason": safe_text(exc, 80)}
                ) from None
            number += 1
            yield number, record

    def rows(self):
        yield from self._reader

    def estimated_rows(self) -> int:
        return max(0, self.text.count("\n") - 1 + (0 if self.text.endswith("\n") else 1))


class _XlsxTable(_Table):
    def __init__(self, data: bytes):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError):
            raise ImportFileError(
                _("This file is not a valid .xlsx workbook. Open it in Excel or WPS and save it as .xlsx again.")
            ) from None
        if unpacked > settings.MEMBERS_IMPORT_MAX_BYTES * _MAX_UNPACK_FACTOR:
            raise ImportFileError(_("This workbook is too large once unpacked. Split it into smaller files."))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
                self.workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except Exception:  # openpyxl raises many kinds (KeyError, ValueError, XML errors) for broken files
            raise ImportFileError(
                _("This .xlsx workbook cannot be read. Open it in Excel or WPS and save it as .xlsx again.")
            ) from None
        if not self.workbook.worksheets:
            raise ImportFileError(_("The workbook has no sheet."))
        self.sheet = self.workbook.worksheets[0]
        merged = self._merged_ranges(archive, self.sheet._worksheet_path)
        if merged:
            raise ImportFileError(
                _(
                    "The first sheet has merged cells (%(ranges)s). Unmerge them so that each row holds one "
                    "member and each cell one value."
                )
                % {"ranges": ", ".join(merged[:5]) + (" …" if len(merged) > 5 else "")}
            )
        self._iter = self._records()
        self.headers = next(self._iter, (1, []))[1]
        if not any(is_filled(h) for h in self.headers):
            raise ImportFileError(_("The first sheet is empty: row 1 must hold the column names of the template."))

    @staticmethod
    def _merged_ranges(archive: zipfile.ZipFile, path: str) -> list[str]:
        """Merged ranges of a sheet, scanning its XML in chunks (it can be large; <mergeCells> comes last)."""
        found, tail = [], b""
        try:
            handle = archive.open(path)
        except KeyError:
            return []
        with handle:
            while chunk := handle.read(1 << 20):
                buffer = tail + chunk
                found.extend(m.decode() for m in re.findall(rb'<mergeCell ref="([A-Z0-9:]+)"', buffer))
                tail = buffer[-100:]  # a tag cut by the chunk boundary is whole in the next buffer
        return sorted(set(found))

    def _records(self) -> Iterator[tuple[int, list]]:
        for number, row in enumerate(self.sheet.iter_rows(), start=1):
            yield number, list(row)

    def rows(self):
        yield from self._iter

    def estimated_rows(self) -> int | None:
        return self.sheet.max_row - 1 if self.sheet.max_row else None


def is_filled(value) -> bool:
    value = getattr(value, "value", value)
    return value is not None and str(value).strip() != ""


def open_table(data: bytes, file_format: str) -> _Table:
    return _XlsxTable(data) if file_format == ImportFormat.XLSX else _CsvTable(data)


@dataclass
class HeaderMap:
    """Which field each column of the file holds (None for a nameless column), and how the file names it."""

    fields: list[str | None]
    names: dict[str, str]


def map_headers(headers: list, *, default_branch: bool) -> HeaderMap:
    """Match the file's column names to fields; unknown, repeated or missing columns are a file error."""
    fields: list[str | None] = []
    names: dict[str, str] = {}
    problems = []
    unknown = []
    for header in headers:
        text = str(getattr(header, "value", header) or "").strip()
        if not text:
            fields.append(None)
            continue
        field = HEADER_LOOKUP.get(normalise_name(text))
        if field is None:
            unknown.append(safe_text(text))
            fields.append(None)
        elif field in names:
            problems.append(_("The column “%(name)s” appears twice.") % {"name": safe_text(text)})
            fields.append(None)
        else:
            names[field] = safe_text(text)
            fields.append(field)
    if unknown:
        problems.append(
            _("Unknown columns: %(names)s. Row 1 must hold the column names of the template.")
            % {"names": "、".join(f"“{name}”" for name in unknown[:10]) + (" …" if len(unknown) > 10 else "")}
        )
    required = [c for c in COLUMNS if c.required and not (c.field == "branch" and default_branch)]
    missing = [c for c in required if c.field not in names]
    if missing:
        problems.append(
            _("Required columns are missing: %(names)s.") % {"names": "、".join(c.header for c in missing)}
        )
    if problems:
        raise ImportFileError(*problems)
    return HeaderMap(fields=fields, names=names)


def inspect_file(
    data: bytes, filename: str, *, default_branch: bool, size_limit: bool = True
) -> tuple[str, int | None]:
    """Quick check at upload: size, format, encoding, sheet shape and column names; (format, estimated rows).

    Raises ImportFileError for a file that cannot be imported at all, so nothing is stored for it.
    `size_limit=False` (the command) skips settings.MEMBERS_IMPORT_MAX_BYTES.
    """
    if size_limit and len(data) > settings.MEMBERS_IMPORT_MAX_BYTES:
        raise ImportFileError(too_large_message())
    file_format = detect_format(data, filename)
    table = open_table(data, file_format)
    map_headers(table.headers, default_branch=default_branch)
    if not any(any(is_filled(v) for v in values) for _number, values in table.rows()):
        raise ImportFileError(_("The file has column names but no member rows."))
    return file_format, table.estimated_rows()


def too_large_message() -> str:
    limit = settings.MEMBERS_IMPORT_MAX_BYTES
    return _("The file is too large: the limit is %(size)s MB. Split it into smaller files.") % {
        "size": f"{limit / (1024 * 1024):g}"
    }
