"""Writes to member records (members/actions/records.py) and member imports (members/actions/imports.py).

A package since the import actions joined; everything is re-exported here, so callers keep writing
`from members.actions import member_create` or `actions.member_update(...)`.
"""

from members.actions.imports import (
    import_files_purge,
    import_job_commit,
    import_job_commit_start,
    import_job_create,
    import_job_fail,
    import_job_validate,
    member_export_record,
)
from members.actions.records import (
    AUDIT_FIELDS,
    MEMBER_FIELDS,
    affiliation_add,
    affiliation_end,
    member_create,
    member_delete,
    member_reveal,
    member_self_update,
    member_update,
)

__all__ = [
    "AUDIT_FIELDS",
    "MEMBER_FIELDS",
    "affiliation_add",
    "affiliation_end",
    "import_files_purge",
    "import_job_commit",
    "import_job_commit_start",
    "import_job_create",
    "import_job_fail",
    "import_job_validate",
    "member_create",
    "member_delete",
    "member_export_record",
    "member_reveal",
    "member_self_update",
    "member_update",
]
