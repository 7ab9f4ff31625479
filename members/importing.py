"""Reading and checking member files (CSV or XLSX) for import: everything short of writing.

A file is read row by row and each row becomes an unsaved Member, checked by the same rules as a
form or API write (validators.validate_citizen_id / validate_phone, Member.clean and field checks),
plus what only a file can get wrong: an unknown organisation, unit or platform, a value that is not
one of the allowed ones, an impossible date, a formula, the same ID number twice in the file, an ID
number already recorded. `ImportCheck.batches()` hands out the good rows in batches; the writing is
done by members.actions.import_job_commit.

Reports name the row (as a spreadsheet numbers it: the column names are row 1) and the column (as
the file names it), never a cell's value: an ID number must not end up in a report, a page or a log.

Accepted files:
- CSV in UTF-8 (with or without BOM) or GB18030/GBK, separated by commas, semicolons or tabs;
- XLSX: the first sheet; no merged cells (a merged cell spreads one value over several rows or
  columns, so the rows would not say what they mean); no formulas (a formula's value depends on other
  cells, so it is refused in the row that holds it).
Row 1 holds the column names: the Chinese names of the template or their English aliases (COLUMNS).
"""

import csv
import datetime
import io
import re
import uuid
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from branches.models import Branch, Unit
from branches.permissions import branch_scope
from members import crypto
from members.choices import Education, Ethnicity, ImportFormat, MemberCategory, MemberStatus, Occupation, Sex
from members.models import Member, Platform
from members.validators import citizen_id_birth_date, citizen_id_sex, validate_citizen_id, validate_phone

#: Rows checked (and written) together: one query for duplicates per batch, one INSERT per batch.
BATCH_SIZE = 1000
#: Unpacked size an XLSX may reach, as a multiple of the upload limit (a zip bomb is refused early).
_MAX_UNPACK_FACTOR = 20


class ImportFileError(Exception):
    """The file as a whole cannot be imported; `messages` say why and what to do."""

    def __init__(self, *messages: str):
        self.messages = [str(m) for m in messages]
        super().__init__("; ".join(self.messages))


#
# Columns
#
@dataclass(frozen=True)
class Column:
    field: str
    header: str  # Chinese name, as in the template
    alias: str  # English alias (accepted as a column name too)
    kind: str  # text, citizen_id, phone, date, bool, choice, branch, unit, platforms, vote
    required: bool
    help: str
    example: str = ""
    in_template: bool = True


def _columns() -> list[Column]:
    return [
        Column("name", "姓名", "name", "text", True, gettext_lazy("Full name."), "张三"),
        Column(
            "citizen_id",
            "公民身份号码",
            "citizen_id",
            "citizen_id",
            True,
            gettext_lazy("18 characters: 17 digits and a digit or X. Keep the column formatted as text."),
            "110101199003071234",
        ),
        Column(
            "sex", "性别", "sex", "choice", False, gettext_lazy("男 or 女; taken from the ID number when empty."), "男"
        ),
        Column(
            "birth_date",
            "出生日期",
            "birth_date",
            "date",
            False,
            gettext_lazy("Taken from the ID number when empty; checked against it when given."),
            "1990-03-07",
        ),
        Column(
            "ethnicity", "民族", "ethnicity", "choice", False, gettext_lazy("For example 汉族, 回族, 壮族."), "汉族"
        ),
        Column(
            "education",
            "学历",
            "education",
            "choice",
            False,
            gettext_lazy("One of the values listed below."),
            "大学本科",
        ),
        Column(
            "category",
            "人员类别",
            "category",
            "choice",
            True,
            gettext_lazy("正式党员 (full) or 预备党员 (probationary)."),
            "正式党员",
        ),
        Column(
            "branch",
            "所在党组织",
            "branch",
            "branch",
            True,
            gettext_lazy(
                "Name or id of the formal branch, within your scope. May be left out when an organisation "
                "is chosen for the whole file."
            ),
            "",
        ),
        Column(
            "joined_on",
            "入党日期",
            "joined_on",
            "date",
            True,
            gettext_lazy("Date of joining the party."),
            "2015-07-01",
        ),
        Column(
            "full_member_on",
            "转正日期",
            "full_member_on",
            "date",
            False,
            gettext_lazy("Full members only; a probationary member has none."),
            "2016-07-01",
        ),
        Column("job_title", "工作岗位", "job_title", "text", False, gettext_lazy("Job or post."), "配送员"),
        Column(
            "phone", "联系电话", "phone", "phone", False, gettext_lazy("Mobile number or landline with area code."), ""
        ),
        Column("address", "家庭住址", "address", "text", False, gettext_lazy("Home address."), ""),
        Column("status", "党籍状态", "status", "choice", False, gettext_lazy("正常 when empty."), "正常"),
        Column(
            "lost_contact", "是否失联", "lost_contact", "bool", False, gettext_lazy("是 or 否 (否 when empty)."), "否"
        ),
        Column(
            "lost_contact_since",
            "失联日期",
            "lost_contact_since",
            "date",
            False,
            gettext_lazy("Only when 是否失联 is 是."),
            "",
        ),
        Column(
            "is_mobile", "是否流动党员", "is_mobile", "bool", False, gettext_lazy("是 or 否 (否 when empty)."), "否"
        ),
        Column(
            "mobile_destination",
            "外出流向",
            "mobile_destination",
            "text",
            False,
            gettext_lazy("Only when 是否流动党员 is 是: where the member has gone."),
            "",
        ),
        Column(
            "occupation",
            "职业",
            "occupation",
            "choice",
            False,
            gettext_lazy("One of the values listed below."),
            "外卖骑手",
        ),
        Column(
            "platforms",
            "服务平台",
            "platforms",
            "platforms",
            False,
            gettext_lazy("Names or codes of the platforms, separated by 、 or commas."),
            "美团、饿了么",
        ),
        Column(
            "unit", "工作单位", "unit", "unit", False, gettext_lazy("Name or id of a unit recorded in your scope."), ""
        ),
        Column(
            "shows_identity",
            "是否亮身份",
            "shows_identity",
            "bool",
            False,
            gettext_lazy("是 or 否 (否 when empty)."),
            "是",
        ),
        Column(
            "under_probation_discipline",
            "是否留党察看",
            "under_probation_discipline",
            "bool",
            False,
            gettext_lazy("是 or 否 (否 when empty)."),
            "否",
        ),
        Column(
            "external_ref",
            "外部编号",
            "external_ref",
            "text",
            False,
            gettext_lazy("Reference in another system (optional)."),
            "",
        ),
        Column(
            "has_vote",
            "有表决权",
            "has_vote",
            "vote",
            False,
            gettext_lazy(
                "Not needed: voting rights are derived from the record. When present (as in an export) it is "
                "checked against the record."
            ),
            "",
            in_template=False,
        ),
    ]


COLUMNS = _columns()
COLUMNS_BY_FIELD = {c.field: c for c in COLUMNS}
#: Other names people give these columns in their own spreadsheets.
_SYNONYMS = {
    "name": ["党员姓名"],
    "citizen_id": ["身份证号", "身份证号码", "身份证", "公民身份号"],
    "category": ["党员类别", "类别", "人员类型"],
    "branch": ["所在支部", "党组织", "支部", "所在党支部", "branch_id"],
    "joined_on": ["入党时间"],
    "full_member_on": ["转正时间"],
    "job_title": ["岗位", "职务"],
    "phone": ["手机号", "手机号码", "电话", "联系方式"],
    "address": ["住址"],
    "status": ["党籍"],
    "occupation": ["职业类型"],
    "platforms": ["平台"],
    "unit": ["单位", "工作单位名称"],
    "is_mobile": ["流动党员"],
    "lost_contact": ["失联"],
    "shows_identity": ["亮身份"],
    "under_probation_discipline": ["留党察看"],
    "has_vote": ["表决权", "voting"],
}
_ENGLISH_HEADERS = {
    "name": "Name",
    "citizen_id": "Citizen ID number",
    "sex": "Sex",
    "birth_date": "Birth date",
    "ethnicity": "Ethnicity",
    "education": "Education",
    "category": "Category",
    "branch": "Formal branch",
    "joined_on": "Joined on",
    "full_member_on": "Full member on",
    "job_title": "Job or post",
    "phone": "Phone",
    "address": "Home address",
    "status": "Membership status",
    "lost_contact": "Lost contact",
    "lost_contact_since": "Lost contact since",
    "is_mobile": "Mobile member",
    "mobile_destination": "Mobile destination",
    "occupation": "Occupation",
    "platforms": "Platforms",
    "unit": "Employing unit",
    "shows_identity": "Shows identity",
    "under_probation_discipline": "Under probation within the party",
    "external_ref": "External reference",
    "has_vote": "Has a vote",
}


def english_header(field: str) -> str:
    """The English column name (used by English exports; accepted on import like the alias)."""
    return _ENGLISH_HEADERS[field]


def _norm(text) -> str:
    """A column name or choice value compared loosely: case, spaces, underscores, stars and brackets ignored."""
    return re.sub(r"[\s_\-*＊:：()（）\[\]【】]", "", str(text or "")).lower()


_HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.header, _column.alias, _ENGLISH_HEADERS[_column.field], *_SYNONYMS.get(_column.field, [])):
        _HEADER_LOOKUP[_norm(_name)] = _column.field

#
# Allowed values
#
#: Chinese names of each choice, the first being the one templates and exports use.
_ETHNICITY_ZH = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
    "未识别民族",
    "外国血统中国籍人士",
]
CHOICE_NAMES_ZH: dict[str, dict[str, list[str]]] = {
    "sex": {Sex.MALE: ["男", "男性"], Sex.FEMALE: ["女", "女性"]},
    "category": {
        MemberCategory.FULL: ["正式党员", "正式"],
        MemberCategory.PROBATIONARY: ["预备党员", "预备"],
    },
    "status": {
        MemberStatus.NORMAL: ["正常"],
        MemberStatus.SUSPENDED: ["停止党籍"],
        MemberStatus.RESERVED: ["保留党籍"],
        MemberStatus.REMOVED: ["已出党", "出党", "除名", "退党"],
        MemberStatus.DECEASED: ["去世", "已故", "死亡"],
    },
    "education": {
        Education.DOCTORATE: ["博士研究生", "博士"],
        Education.MASTER: ["硕士研究生", "硕士", "研究生"],
        Education.BACHELOR: ["大学本科", "本科"],
        Education.COLLEGE: ["大学专科", "大专", "专科"],
        Education.SECONDARY_VOCATIONAL: ["中等职业教育", "中专", "中职", "技校"],
        Education.HIGH_SCHOOL: ["高中", "普通高中"],
        Education.JUNIOR_HIGH: ["初中"],
        Education.PRIMARY: ["小学及以下", "小学"],
    },
    "occupation": {
        Occupation.DELIVERY_RIDER: ["外卖骑手", "外卖员", "骑手"],
        Occupation.COURIER: ["快递员", "快递小哥"],
        Occupation.RIDE_HAILING_DRIVER: ["网约车司机"],
        Occupation.TRUCK_DRIVER: ["货车司机"],
        Occupation.INTERNET_WORKER: ["互联网从业者", "互联网从业人员"],
        Occupation.FREELANCER: ["自由职业者", "自由职业"],
        Occupation.NON_PUBLIC_STAFF: ["非公企业员工", "非公有制企业员工"],
        Occupation.OTHER: ["其他"],
    },
    "ethnicity": {
        value: [name, name.removesuffix("族")] if name.endswith("族") and len(name) > 2 else [name]
        for value, name in zip(Ethnicity.values, _ETHNICITY_ZH, strict=True)
    },
}
_CHOICE_CLASSES = {
    "sex": Sex,
    "category": MemberCategory,
    "status": MemberStatus,
    "education": Education,
    "occupation": Occupation,
    "ethnicity": Ethnicity,
}
_YES = {"是", "有", "y", "yes", "true", "1", "√", "✓", "是的"}
_NO = {"否", "无", "n", "no", "false", "0", "×", "不是"}


def value_label(field: str, value, *, chinese: bool) -> str:
    """How a template or an export writes a stored value (import reads it back)."""
    if value in (None, ""):
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if chinese else ("yes" if value else "no")
    if chinese:
        return CHOICE_NAMES_ZH[field][value][0]
    with translation.override("en"):
        return str(_CHOICE_CLASSES[field](value).label)


def _choice_lookup() -> dict[str, dict[str, str]]:
    """{field: {normalised name: stored value}}: codes, English labels, Chinese names and labels."""
    tables: dict[str, dict[str, str]] = {}
    for field, choices in _CHOICE_CLASSES.items():
        table: dict[str, str] = {}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                for value, label in choices.choices:
                    table.setdefault(_norm(label), value)
        for value in choices.values:
            table[_norm(value)] = value
            for name in CHOICE_NAMES_ZH[field][value]:
                table[_norm(name)] = value
        tables[field] = table
    return tables


#
# Reading files
#
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


def _safe_text(value, limit: int = 40) -> str:
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
                    % {"row": number + 1, "reason": _safe_text(exc, 80)}
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
        if not any(_is_filled(h) for h in self.headers):
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


def _is_filled(value) -> bool:
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
        field = _HEADER_LOOKUP.get(_norm(text))
        if field is None:
            unknown.append(_safe_text(text))
            fields.append(None)
        elif field in names:
            problems.append(_("The column “%(name)s” appears twice.") % {"name": _safe_text(text)})
            fields.append(None)
        else:
            names[field] = _safe_text(text)
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
    if not any(any(_is_filled(v) for v in values) for _number, values in table.rows()):
        raise ImportFileError(_("The file has column names but no member rows."))
    return file_format, table.estimated_rows()


def too_large_message() -> str:
    limit = settings.MEMBERS_IMPORT_MAX_BYTES
    return _("The file is too large: the limit is %(size)s MB. Split it into smaller files.") % {
        "size": f"{limit / (1024 * 1024):g}"
    }


#
# Cell values
#
class _CellError(Exception):
    def __init__(self, message: str):
        self.message = str(message)


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLATFORM_SPLIT = re.compile(r"[,，、;；/|\s]+")


def _text(value) -> str:
    """A cell as text: numbers without a useless `.0`, a leading `'` of an export's formula guard removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time() else value
    text = _CONTROL_RE.sub("", str(value)).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        text = text[1:]
    return text


def _date(value) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float):
        raise _CellError(_("Enter a date like 2015-07-01 (the cell holds a number)."))
    text = _text(value)
    if not text:
        return None
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text) or re.match(r"^(\d{4})-(\d{2})-(\d{2})[T ]", text)
    if not match:
        raise _CellError(_("Enter a date like 2015-07-01."))
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise _CellError(_("This date does not exist (check the month and day).")) from None


def _bool(value) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    key = _norm(_text(value))
    if not key:
        return None
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise _CellError(_("Enter 是 or 否 (yes or no)."))


def _citizen_id(value) -> str:
    if isinstance(value, float):
        raise _CellError(
            _(
                "The ID number was stored as a number and lost its last digits. "
                "Format the column as text and type it again."
            )
        )
    text = _text(value)
    if not text:
        raise _CellError(_("This field is required."))
    try:
        return validate_citizen_id(text)
    except ValidationError as exc:
        raise _CellError(" ".join(exc.messages)) from None


def _phone(value) -> str:
    text = _text(value)
    if not text:
        return ""
    try:
        return validate_phone(text)
    except ValidationError as exc:
        raise _CellError(" ".join(exc.messages)) from None


#
# Checking rows
#
@dataclass
class CheckedRow:
    """A good row: the unsaved member (all columns computed) and its platforms."""

    number: int
    member: Member
    platforms: list


class ImportCheck:
    """Checks a file's rows; `batches()` yields the good ones, `row_errors` collects the bad.

    Two rows with the same ID number (or external reference) are both bad: which one is right is
    for the user to say. As the second may come long after the first was handed out, the first's
    number then goes into `retracted`, and a writer must take back what it wrote for it.
    """

    def __init__(self, data: bytes, file_format: str, *, actor, default_branch: Branch | None = None):
        self.actor = actor
        self.default_branch = default_branch
        self.table = open_table(data, file_format)
        self.header = map_headers(self.table.headers, default_branch=default_branch is not None)
        self.estimated_rows = self.table.estimated_rows()
        self.rows_total = 0
        self.row_errors: dict[int, list[tuple[str, str]]] = {}
        self.retracted: set[int] = set()
        self._handed_out: set[int] = set()
        self._first_row: dict[tuple[str, str], int] = {}
        self._repeat_noted: set[tuple[str, str]] = set()
        self._choices = _choice_lookup()
        self._platforms = self._platform_lookup()
        self._branches: dict[str, Branch | str] = {}
        self._units: dict[str, Unit | str] = {}
        self._clean_exclude = [f.name for f in Member._meta.fields if not f.editable] + ["branch", "unit", "user"]

    #
    # Results
    #
    @property
    def rows_invalid(self) -> int:
        return len(self.row_errors)

    @property
    def rows_valid(self) -> int:
        return self.rows_total - self.rows_invalid

    def report(self) -> list:
        """Bad rows in order: `[[row number, [[column, message], ...]], ...]` (JSON-ready)."""
        return [[number, [list(e) for e in errors]] for number, errors in sorted(self.row_errors.items())]

    def column_name(self, field: str | None) -> str:
        """A field's column as the file names it (or as the template does, for a column the file lacks)."""
        if field is None:
            return ""
        if field in self.header.names:
            return self.header.names[field]
        column = COLUMNS_BY_FIELD.get(field)
        return column.header if column else ""

    def _add_error(self, number: int, field: str | None, message: str) -> None:
        self.row_errors.setdefault(number, []).append((self.column_name(field), str(message)))

    #
    # Lookups (cached per distinct value: one query per organisation or unit named in the file)
    #
    def _platform_lookup(self) -> dict[str, Platform]:
        table = {}
        for platform in Platform.objects.all():
            table[_norm(platform.code)] = platform
            table[_norm(platform.name)] = platform
        return table

    def _branch_scope(self):
        return Branch.objects.all() if self.actor is None else branch_scope(self.actor, "members.change")

    def _resolve(self, cache: dict, text: str, queryset, *, what: str):
        """The object a cell names (name or id) among `queryset()`, looked up once per distinct text."""
        key = text.strip()
        if key not in cache:
            candidates = queryset()
            try:
                pk = uuid.UUID(key)
            except ValueError:
                found = list(candidates.filter(name=key)[:2])
            else:
                found = list(candidates.filter(pk=pk)[:1])
            if not found:
                cache[key] = (
                    _("No organisation with this name or id in your scope: “%(name)s”.")
                    if what == "branch"
                    else _("No unit with this name or id in your scope: “%(name)s”.")
                ) % {"name": _safe_text(key)}
            elif len(found) > 1:
                cache[key] = (
                    _("Several organisations in your scope are named “%(name)s”; give its id instead.")
                    if what == "branch"
                    else _("Several units in your scope are named “%(name)s”; give its id instead.")
                ) % {"name": _safe_text(key)}
            else:
                cache[key] = found[0]
        result = cache[key]
        if isinstance(result, str):
            raise _CellError(result)
        return result

    def _branch(self, value) -> Branch | None:
        text = _text(value)
        if not text:
            if self.default_branch is None:
                raise _CellError(_("This field is required."))
            return self.default_branch
        return self._resolve(self._branches, text, self._branch_scope, what="branch")

    def _unit_scope(self):
        units = Unit.objects.all()
        if self.actor is not None:
            units = units.filter(branch__in=branch_scope(self.actor, "units.view"))
        return units

    def _unit(self, value) -> Unit | None:
        text = _text(value)
        if not text:
            return None
        return self._resolve(self._units, text, self._unit_scope, what="unit")

    def _platform_list(self, value) -> list:
        names = [n for n in _PLATFORM_SPLIT.split(_text(value)) if n]
        platforms, unknown = [], []
        for name in names:
            platform = self._platforms.get(_norm(name))
            if platform is None:
                unknown.append(_safe_text(name, 20))
            elif platform not in platforms:
                platforms.append(platform)
        if unknown:
            raise _CellError(_("Unknown platforms: %(names)s.") % {"names": "、".join(unknown)})
        return platforms

    def _choice(self, field: str, value) -> str:
        text = _text(value)
        if not text:
            return ""
        found = self._choices[field].get(_norm(text))
        if found is None:
            if field == "ethnicity":
                raise _CellError(_("Not a known ethnic group; write its name as in 汉族 or 蒙古族."))
            allowed = "、".join(names[0] for names in CHOICE_NAMES_ZH[field].values())
            raise _CellError(_("Not an allowed value; use one of: %(values)s.") % {"values": allowed})
        return found

    #
    # One row
    #
    def _convert(self, values: dict, number: int) -> dict:
        """Cell values to Python values; each bad cell is reported, the others still converted."""
        out: dict = {}
        for field, raw in values.items():
            column = COLUMNS_BY_FIELD[field]
            try:
                if column.kind == "text":
                    out[field] = _text(raw)
                elif column.kind == "citizen_id":
                    out[field] = _citizen_id(raw)
                elif column.kind == "phone":
                    out[field] = _phone(raw)
                elif column.kind == "date":
                    out[field] = _date(raw)
                elif column.kind in ("bool", "vote"):
                    out[field] = _bool(raw)
                elif column.kind == "choice":
                    out[field] = self._choice(field, raw)
                elif column.kind == "branch":
                    out[field] = self._branch(raw)
                elif column.kind == "unit":
                    out[field] = self._unit(raw)
                elif column.kind == "platforms":
                    out[field] = self._platform_list(raw)
            except _CellError as exc:
                self._add_error(number, field, exc.message)
        return out

    def check_row(self, number: int, cells: list) -> tuple[CheckedRow | None, list[tuple[str, str]]]:
        """Check one row: (the good row or None, its keys for the repeat check: ID hash, external reference).

        A bad row's errors are in row_errors; it still has keys when its ID number is valid, so that a
        repeat of the same person elsewhere in the file is reported too.
        """
        values: dict = dict.fromkeys(self.header.names)  # every column of the file, even in a short row
        values.setdefault("branch", None)
        for field, cell in zip(self.header.fields, cells, strict=False):
            value = getattr(cell, "value", cell)
            data_type = getattr(cell, "data_type", None)
            if data_type == "f" or type(value).__name__ in ("ArrayFormula", "DataTableFormula"):
                self._add_error(number, field, _("Formulas are not accepted: replace the formula with its value."))
                values.pop(field, None)
            elif data_type == "e":
                self._add_error(number, field, _("The cell holds a spreadsheet error value."))
                values.pop(field, None)
            elif field is None:
                if _is_filled(value):
                    self._add_error(number, None, _("A value stands in a column without a name."))
            else:
                values[field] = value
        data = self._convert(values, number)
        for field in ("name", "category", "joined_on"):
            if field in values and data.get(field) in (None, "") and not self._has_error(number, field):
                self._add_error(number, field, _("This field is required."))
        keys = []
        if data.get("citizen_id"):
            keys.append(("id", crypto.lookup_hash(data["citizen_id"])))
        if data.get("external_ref"):
            keys.append(("ref", data["external_ref"]))
        if number in self.row_errors:
            return None, keys
        return self._build(number, data), keys

    def _has_error(self, number: int, field: str) -> bool:
        name = self.column_name(field)
        return any(column == name for column, _message in self.row_errors.get(number, []))

    def _build(self, number: int, data: dict) -> CheckedRow | None:
        """The unsaved member, checked by the model's own rules (Member.clean and the field checks)."""
        number_id = data["citizen_id"]
        member = Member(
            branch=data["branch"],
            unit=data.get("unit"),
            category=data["category"],
            joined_on=data["joined_on"],
            status=data.get("status") or MemberStatus.NORMAL,
            sex=data.get("sex") or citizen_id_sex(number_id),
            birth_date=data.get("birth_date") or citizen_id_birth_date(number_id),
        )
        member.set_name(data["name"])
        member.citizen_id = number_id
        if data.get("phone"):
            member.phone = data["phone"]
        for field in ("ethnicity", "education", "occupation", "job_title", "address", "mobile_destination"):
            if data.get(field):
                setattr(member, field, data[field])
        for field in ("full_member_on", "lost_contact_since"):
            setattr(member, field, data.get(field))
        for field in ("lost_contact", "is_mobile", "shows_identity", "under_probation_discipline"):
            setattr(member, field, bool(data.get(field)))
        member.external_ref = data.get("external_ref") or None
        try:
            member.full_clean(exclude=self._clean_exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self._add_error(number, field if field in COLUMNS_BY_FIELD else None, message)
            return None
        vote = data.get("has_vote")
        if vote is not None and vote != member.has_voting_rights:
            self._add_error(
                number,
                "has_vote",
                _(
                    "Voting rights are derived from the record, not entered: only a full member in normal "
                    "standing who is not under probation within the party has a vote."
                )
                if vote
                else _(
                    "Voting rights are derived from the record, not entered: by this record the member has a vote."
                ),
            )
            return None
        return CheckedRow(number=number, member=member, platforms=data.get("platforms") or [])

    #
    # The whole file
    #
    def _note_duplicate(self, key: tuple[str, str], number: int, pending: dict[int, CheckedRow]) -> bool:
        """Remember the first row of an ID number (or external reference); report both rows of a repeat."""
        first = self._first_row.setdefault(key, number)
        if first == number:
            return False
        id_key = key[0] == "id"
        message = (
            _("The same citizen ID number is in row %(row)s.")
            if id_key
            else _("The same external reference is in row %(row)s.")
        )
        field = "citizen_id" if id_key else "external_ref"
        self._add_error(number, field, message % {"row": first})
        if key not in self._repeat_noted:
            self._repeat_noted.add(key)
            self._add_error(first, field, message % {"row": number})
            if first in pending:
                del pending[first]
            elif first in self._handed_out:
                self.retracted.add(first)
        return True

    def _finish_batch(self, pending: dict[int, CheckedRow]) -> list[CheckedRow]:
        """Drop the rows whose ID number (or external reference) is already recorded; hand out the rest."""
        if not pending:
            return []
        hashes = {row.member.citizen_id_hash for row in pending.values()}
        refs = {row.member.external_ref for row in pending.values() if row.member.external_ref}
        taken = set(Member.objects.filter(citizen_id_hash__in=hashes).values_list("citizen_id_hash", flat=True))
        taken_refs = (
            set(Member.all_objects.filter(external_ref__in=refs).values_list("external_ref", flat=True))
            if refs
            else set()
        )
        out = []
        for number, row in pending.items():
            if row.member.citizen_id_hash in taken:
                self._add_error(number, "citizen_id", _("A member with this citizen ID number already exists."))
            elif row.member.external_ref in taken_refs:
                self._add_error(number, "external_ref", _("Another member already has this external reference."))
            else:
                out.append(row)
                self._handed_out.add(number)
        return out

    def batches(self, size: int = BATCH_SIZE, on_progress=None) -> Iterator[list[CheckedRow]]:
        """Check every row, yielding the good ones in batches of `size` (after the database check).

        `on_progress(rows read)` is called after each batch. A file without any member row is an
        ImportFileError.
        """
        pending: dict[int, CheckedRow] = {}
        for number, cells in self.table.rows():
            if not any(_is_filled(cell) for cell in cells):
                continue
            self.rows_total += 1
            row, keys = self.check_row(number, cells)
            repeated = False
            for key in keys:
                repeated = self._note_duplicate(key, number, pending) or repeated
            if row is not None and not repeated:
                pending[number] = row
            if len(pending) >= size:
                yield self._finish_batch(pending)
                pending = {}
                if on_progress:
                    on_progress(self.rows_total)
        if pending:
            yield self._finish_batch(pending)
        if on_progress:
            on_progress(self.rows_total)
        if self.rows_total == 0:
            raise ImportFileError(_("The file has column names but no member rows."))

    def run(self, on_progress=None) -> "ImportCheck":
        """Check the whole file without keeping the good rows (the preview)."""
        for _batch in self.batches(on_progress=on_progress):
            pass
        return self


#
# Template
#
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
