"""Checking rows: cell values converted, each row built into an unsaved Member and checked."""

import datetime
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from branches.models import Branch, Unit
from branches.permissions import branch_scope
from members import crypto
from members.choices import MemberStatus
from members.importing.columns import (
    CHOICE_NAMES_ZH,
    COLUMNS_BY_FIELD,
    NO_WORDS,
    YES_WORDS,
    choice_lookup,
    normalise_name,
)
from members.importing.files import ImportFileError, is_filled, map_headers, open_table, safe_text
from members.models import Member, Platform
from members.validators import citizen_id_birth_date, citizen_id_sex, validate_citizen_id, validate_phone

#: Rows checked (and written) together: one query for duplicates per batch, one INSERT per batch.
BATCH_SIZE = 1000


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
    key = normalise_name(_text(value))
    if not key:
        return None
    if key in YES_WORDS:
        return True
    if key in NO_WORDS:
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
        self._choices = choice_lookup()
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
            table[normalise_name(platform.code)] = platform
            table[normalise_name(platform.name)] = platform
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
                ) % {"name": safe_text(key)}
            elif len(found) > 1:
                cache[key] = (
                    _("Several organisations in your scope are named “%(name)s”; give its id instead.")
                    if what == "branch"
                    else _("Several units in your scope are named “%(name)s”; give its id instead.")
                ) % {"name": safe_text(key)}
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
            platform = self._platforms.get(normalise_name(name))
            if platform is None:
                unknown.append(safe_text(name, 20))
            elif platform not in platforms:
                platforms.append(platform)
        if unknown:
            raise _CellError(_("Unknown platforms: %(names)s.") % {"names": "、".join(unknown)})
        return platforms

    def _choice(self, field: str, value) -> str:
        text = _text(value)
        if not text:
            return ""
        found = self._choices[field].get(normalise_name(text))
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
                if is_filled(value):
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
            if not any(is_filled(cell) for cell in cells):
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
