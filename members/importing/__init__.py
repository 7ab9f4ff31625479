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

Modules: columns (the format), files (reading a file), rows (checking rows: ImportCheck), template.
"""

from members.importing.columns import (
    CHOICE_NAMES_ZH,
    COLUMNS,
    COLUMNS_BY_FIELD,
    Column,
    english_header,
    value_label,
)
from members.importing.files import (
    ImportFileError,
    detect_format,
    inspect_file,
    map_headers,
    open_table,
    too_large_message,
)
from members.importing.rows import BATCH_SIZE, CheckedRow, ImportCheck
from members.importing.template import column_notes, template_csv, template_rows, template_xlsx

__all__ = [
    "BATCH_SIZE",
    "CHOICE_NAMES_ZH",
    "COLUMNS",
    "COLUMNS_BY_FIELD",
    "CheckedRow",
    "Column",
    "ImportCheck",
    "ImportFileError",
    "column_notes",
    "detect_format",
    "english_header",
    "inspect_file",
    "map_headers",
    "open_table",
    "template_csv",
    "template_rows",
    "template_xlsx",
    "too_large_message",
    "value_label",
]
