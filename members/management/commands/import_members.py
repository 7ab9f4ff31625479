"""Import members from a CSV or XLSX file, as the import page does, and print the report.

    manage.py import_members FILE [--branch-id UUID] [--mode all-or-nothing|valid-only] [--dry-run]

Runs as the system (the whole tree is in scope) in this process, whatever the file's size. The rows
are checked first and every bad row printed with its reason; `--dry-run` stops there. Otherwise the
rows are written in one transaction: with `all-or-nothing` (the default) nothing is written if any
row is bad, with `valid-only` the good rows are. The import is audited like one made on the page.
Exits with an error status when nothing could be imported.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from branches.models import Branch
from members import actions
from members.choices import ImportMode, ImportStatus
from members.importing import ImportCheck, ImportFileError, detect_format

_MODES = {"all-or-nothing": ImportMode.ALL_OR_NOTHING, "valid-only": ImportMode.VALID_ONLY}


class Command(BaseCommand):
    help = "Import members from a CSV or XLSX file (the import page's template); prints every bad row."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of a .csv or .xlsx file with the template's columns.")
        parser.add_argument("--branch-id", help="Organisation for the rows that name none.")
        parser.add_argument("--mode", choices=sorted(_MODES), default="all-or-nothing")
        parser.add_argument("--dry-run", action="store_true", help="Check and report only; write nothing.")

    def handle(self, *args, file: str, branch_id: str | None, mode: str, dry_run: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        data = path.read_bytes()
        branch = self._branch(branch_id)
        try:
            if dry_run:
                check = ImportCheck(data, detect_format(data, path.name), actor=None, default_branch=branch).run()
                self._report(check.rows_total, check.rows_valid, check.report())
                self.stdout.write("Dry run: nothing was written.")
                return
            job = actions.import_job_create(
                actor=None, data=data, filename=path.name, default_branch=branch, keep_file=False
            )
        except ImportFileError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        job = actions.import_job_validate(job=job, data=data)
        if job.status == ImportStatus.FAILED:
            raise CommandError(job.error)
        self._report(job.rows_total, job.rows_valid, job.row_errors)
        job = actions.import_job_commit_start(actor=None, job=job, mode=_MODES[mode])
        job = actions.import_job_commit(job=job, data=data)
        if job.status != ImportStatus.DONE:
            raise CommandError(job.error)
        self.stdout.write(self.style.SUCCESS(f"Imported {job.rows_created} members (import {job.pk})."))

    def _branch(self, branch_id: str | None) -> Branch | None:
        if not branch_id:
            return None
        try:
            return Branch.objects.get(pk=branch_id)
        except (Branch.DoesNotExist, ValidationError, ValueError):
            raise CommandError(f"No organisation with id {branch_id}.") from None

    def _report(self, total: int, valid: int, row_errors: list) -> None:
        self.stdout.write(f"Rows: {total}, valid: {valid}, bad: {total - valid}")
        for number, errors in row_errors:
            for column, message in errors:
                self.stdout.write(f"  row {number}" + (f", {column}" if column else "") + f": {message}")
