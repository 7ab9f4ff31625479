"""Writes to member records (members/actions/records.py) and member imports (members/actions/imports.py).

A package since the import actions joined; everything is re-exported here, so callers keep writing
`from members.actions import member_create` or `actions.member_update(...)`.
"""

from members.actions.development import (
    applicant_close,
    applicant_create,
    assembly_vote_record,
    development_reminder_send,
    development_step_record,
    probation_cancel,
    probation_extend,
)
from members.actions.dues import (
    dues_assess,
    dues_monthly_amount,
    dues_payment_record,
    dues_payment_void,
    dues_reduction_decide,
    dues_reduction_request,
    dues_reminder_send,
    monthly_income_record,
)
from members.actions.imports import (
    import_files_purge,
    import_job_commit,
    import_job_commit_start,
    import_job_create,
    import_job_fail,
    import_job_validate,
    member_export_record,
)
from members.actions.mobility import (
    activity_card_create,
    activity_card_end,
    lost_contact_approve,
    lost_contact_close,
    lost_contact_flag,
    lost_contact_propose,
    lost_contact_sweep,
    member_contact_touch,
    report_in_record,
    report_in_reminders_send,
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
from members.actions.transfers import (
    transfer_accept,
    transfer_alerts_send,
    transfer_cancel,
    transfer_complete,
    transfer_create,
    transfer_expire,
    transfer_issue,
    transfer_reject,
    transfer_return_receipt,
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
__all__ += [
    "activity_card_create",
    "activity_card_end",
    "lost_contact_approve",
    "lost_contact_close",
    "lost_contact_flag",
    "lost_contact_propose",
    "lost_contact_sweep",
    "member_contact_touch",
    "report_in_record",
    "report_in_reminders_send",
    "transfer_accept",
    "transfer_alerts_send",
    "transfer_cancel",
    "transfer_complete",
    "transfer_create",
    "transfer_expire",
    "transfer_issue",
    "transfer_reject",
    "transfer_return_receipt",
]
__all__ += [
    "applicant_close",
    "applicant_create",
    "assembly_vote_record",
    "development_reminder_send",
    "development_step_record",
    "dues_assess",
    "dues_monthly_amount",
    "dues_payment_record",
    "dues_payment_void",
    "dues_reduction_decide",
    "dues_reduction_request",
    "dues_reminder_send",
    "monthly_income_record",
    "probation_cancel",
    "probation_extend",
]
