"""Writes of member imports and exports: the import job's life, the bulk insert, and their audit entries.

An import runs in two steps, each an action here, run in the request for small files and by a Celery
task (members/tasks.py) for large ones:
1. `import_job_validate`: check every row (members/importing.py) and store the report of bad rows;
2. `import_job_commit`: check again (the database may have changed since) and write, in ONE
   transaction, every row (ALL_OR_NOTHING: nothing at all if a row is bad) or only the good ones
   (VALID_ONLY). Members are inserted in batches with every computed column (ciphertexts, keyed hash,
   masks, pinyin) filled in Python, platform links and change records in bulk, the branch counters
   adjusted once per branch at the end, and one audit entry for the whole import.
A failure anywhere in step 2 rolls back everything it wrote; the job then says why, and the file is
deleted. Uploaded files are kept encrypted under a random name until the job ends.
"""

import datetime
import logging
import uuid

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.actions import branch_member_counts_adjust
from branches.permissions import has_perm_anywhere
from core.audit import audit_record
from core.exceptions import Conflict
from core.models import ChangeRecord
from members import crypto, importing
from members.actions.records import _count_state
from members.choices import IMPORT_RUNNING_STATUSES, ImportMode, ImportStatus
from members.importing import ImportCheck, ImportFileError, inspect_file
from members.models import ImportJob, Member

logger = logging.getLogger(__name__)

#: Folder of the default storage that holds uploaded files while their import runs.
STORAGE_DIR = "member-imports"
#: Rows deleted per statement when taking back rows found repeated later in the file.
_DELETE_CHUNK = 500


class _Refused(Exception):
    """All-or-nothing import with bad rows: roll back, report them."""


#
# Helpers
#
def _actor(job: ImportJob):
    """Who the import runs for: None (the system) for a command's job, else the uploader."""
    if job.by_system:
        return None
    if job.created_by is None:
        raise PermissionDenied(_("The account that uploaded this file no longer exists."))
    return job.created_by


def _update(job: ImportJob, **fields) -> None:
    """Save some fields of the job at once (outside a transaction, the page sees them at once)."""
    fields["updated_at"] = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def _read_file(job: ImportJob) -> bytes:
    if not job.file_name:
        raise ImportFileError(_("The uploaded file is no longer kept (imports expire after a day). Upload it again."))
    try:
        with default_storage.open(job.file_name, "rb") as handle:
            return crypto.decrypt_bytes(handle.read())
    except FileNotFoundError:
        raise ImportFileError(
            _("The uploaded file is no longer kept (imports expire after a day). Upload it again.")
        ) from None


def _drop_file(job: ImportJob) -> None:
    if job.file_name:
        default_storage.delete(job.file_name)
        _update(job, file_name="")


def _language(job: ImportJob) -> str | None:
    return job.language or None


class _Progress:
    """Writes the rows done where the page can read them while the import runs.

    During the commit the job's own connection is inside the import's transaction, so an UPDATE through
    it would stay invisible until the end (and vanish on a rollback). On PostgreSQL a second connection
    in autocommit mode writes the figure instead; SQLite allows one writer at a time, so there the page
    shows the bar without a figure until the end.
    """

    def __init__(self, job: ImportJob, estimate: int):
        self.job = job
        self.estimate = estimate
        self._side = None

    def __call__(self, rows_done: int) -> None:
        total = max(self.estimate, rows_done)
        if not connection.in_atomic_block:
            _update(self.job, rows_done=rows_done, rows_total=total)
            return
        if connection.vendor != "postgresql":
            return
        if self._side is None:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        table = connection.ops.quote_name(ImportJob._meta.db_table)
        with self._side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_done = %s, rows_total = %s, updated_at = %s WHERE id = %s",
                [rows_done, total, timezone.now(), self.job.pk],
            )

    def close(self) -> None:
        if self._side is not None:
            self._side.close()


#
# Jobs
#
def import_job_create(
    *, actor, data: bytes, filename: str, default_branch=None, language: str = "", keep_file: bool = True
) -> ImportJob:
    """Start an import: check the file's shape (format, encoding, column names), then keep it.

    Raises ImportFileError for a file that cannot be imported at all (nothing is stored then), and
    PermissionDenied / Http404 for a user who may not write members (there). `actor=None` is a command
    (the upload size limit does not apply to it).
    The file is stored encrypted under a random name; its own name is not kept (it may hold anything).
    """
    if actor is not None and not has_perm_anywhere(actor, "members.change"):
        raise PermissionDenied(_("You may not import members."))
    if default_branch is not None:
        from members.permissions import require_member_scope

        require_member_scope(actor, "members.change", default_branch)
    file_format, estimated_rows = inspect_file(
        data, filename, default_branch=default_branch is not None, size_limit=actor is not None
    )
    stored = ""
    if keep_file:
        stored = default_storage.save(f"{STORAGE_DIR}/{uuid.uuid4().hex}", ContentFile(crypto.encrypt_bytes(data)))
    return ImportJob.objects.create(
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        by_system=actor is None,
        file_name=stored,
        file_format=file_format,
        file_size=len(data),
        default_branch=default_branch,
        language=language or translation.get_language() or "",
        rows_total=estimated_rows or 0,
    )


def import_job_fail(*, job: ImportJob, error: str, **fields) -> ImportJob:
    """End a job as failed, with the reason the page shows; its file is deleted."""
    _update(job, status=ImportStatus.FAILED, error=str(error), finished_at=timezone.now(), **fields)
    _drop_file(job)
    return job


def import_job_validate(*, job: ImportJob, data: bytes | None = None) -> ImportJob:
    """Step 1, the preview: check every row and keep the report; writes no member.

    Runs only for a pending job (a second run of the same task does nothing). `data` is the file's
    content when the caller has it (the command), else it is read from storage.
    """
    if not ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PENDING).update(
        status=ImportStatus.VALIDATING, rows_done=0, updated_at=timezone.now()
    ):
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    with translation.override(_language(job)):
        try:
            data = _read_file(job) if data is None else data
            check = ImportCheck(data, job.file_format, actor=_actor(job), default_branch=job.default_branch)
            check.run(on_progress=_Progress(job, check.estimated_rows or job.rows_total))
        except (ImportFileError, PermissionDenied) as exc:
            return import_job_fail(job=job, error=" ".join(getattr(exc, "messages", [str(exc)])))
        except Exception:
            logger.exception("Member import %s: checking the file failed", job.pk)
            return import_job_fail(job=job, error=_("The file could not be checked because of an internal error."))
        _update(
            job,
            status=ImportStatus.VALIDATED,
            rows_total=check.rows_total,
            rows_done=check.rows_total,
            rows_valid=check.rows_valid,
            rows_invalid=check.rows_invalid,
            row_errors=check.report(),
            error="",
        )
    return job


def import_job_commit_start(*, actor, job: ImportJob, mode: str) -> ImportJob:
    """The user's choice after the preview: claim the job for writing (once; a second click is a conflict)."""
    if mode not in ImportMode.values:
        raise Conflict(_("Choose how to import: all rows or only the valid ones."))
    if not job.by_system and (actor is None or job.created_by_id != actor.pk):
        raise PermissionDenied(_("Only the person who uploaded the file can import it."))
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATED).update(
        status=ImportStatus.COMMITTING, mode=mode, rows_done=0, updated_at=timezone.now()
    )
    job.refresh_from_db()
    if not claimed:
        raise Conflict(_("This import has already been started or has ended."))
    return job


def import_job_commit(*, job: ImportJob, data: bytes | None = None) -> ImportJob:
    """Step 2: check the rows again and write them in one transaction (see the module docstring).

    Returns the job, done or failed; a failed job has written nothing, and its page says why.
    """
    job.refresh_from_db()
    if job.status != ImportStatus.COMMITTING:
        return job
    with translation.override(_language(job)):
        progress = _Progress(job, job.rows_total)
        try:
            actor = _actor(job)
            data = _read_file(job) if data is None else data
            with transaction.atomic():
                check = _write(job=job, actor=actor, data=data, progress=progress)
        except _Refused as refused:
            check = refused.args[0]
            return _commit_failed(
                job,
                _("Nothing was imported: %(count)s rows are not valid, and you chose all or nothing.")
                % {"count": check.rows_invalid},
                check=check,
            )
        except (ImportFileError, PermissionDenied) as exc:
            return _commit_failed(job, " ".join(getattr(exc, "messages", [str(exc)])))
        except IntegrityError:
            logger.exception("Member import %s: the database refused a row", job.pk)
            return _commit_failed(
                job,
                _(
                    "Nothing was imported: a record with one of these ID numbers or references was saved "
                    "meanwhile. Upload the file again to check it."
                ),
            )
        except Exception:
            logger.exception("Member import %s: writing failed", job.pk)
            return _commit_failed(job, _("Nothing was imported because of an internal error."))
        finally:
            progress.close()
    _drop_file(job)
    return job


def _commit_failed(job: ImportJob, error: str, *, check: ImportCheck | None = None) -> ImportJob:
    """After the rollback: the job says why, and the attempt goes to the audit log."""
    job.refresh_from_db()
    fields = {}
    if check is not None:
        fields = {
            "rows_total": check.rows_total,
            "rows_done": check.rows_total,
            "rows_valid": check.rows_valid,
            "rows_invalid": check.rows_invalid,
            "row_errors": check.report(),
        }
    import_job_fail(job=job, error=error, rows_created=0, **fields)
    actor = None if job.by_system else job.created_by
    audit_record(
        actor=actor,
        obj=job,
        action="members.importjob.failed",
        data={"mode": job.mode, "rows": job.rows_total, "invalid": job.rows_invalid, "created": 0},
    )
    return job


def _insert(rows: list, now) -> None:
    """One batch of checked rows: members, their platform links and their change records."""
    members = [row.member for row in rows]
    for member in members:
        member.version = 1
        member.created_at = member.updated_at = now
    Member.objects.bulk_create(members, batch_size=importing.BATCH_SIZE)
    through = Member.platforms.through
    links = [through(member_id=row.member.pk, platform_id=p.pk) for row in rows for p in row.platforms]
    if links:
        through.objects.bulk_create(links, batch_size=importing.BATCH_SIZE)
    ChangeRecord.write_many(members)


def _write(*, job: ImportJob, actor, data: bytes, progress) -> ImportCheck:
    """The body of the commit's transaction; raises _Refused to roll back an all-or-nothing import."""
    check = ImportCheck(data, job.file_format, actor=actor, default_branch=job.default_branch)
    all_or_nothing = job.mode == ImportMode.ALL_OR_NOTHING
    written: dict[int, tuple] = {}  # row number -> (member id, what it adds to branch counters)
    now = timezone.now()
    for batch in check.batches(size=importing.BATCH_SIZE, on_progress=progress):
        if all_or_nothing and check.row_errors:
            continue  # nothing will be kept: only finish checking, for the report
        _insert(batch, now)
        for row in batch:
            written[row.number] = (row.member.pk, _count_state(row.member))
    if all_or_nothing and check.row_errors:
        raise _Refused(check)
    # Rows found repeated further down the file after they were written: take them back. Nothing but
    # their platform links can point at rows inserted in this very transaction, so a plain DELETE does
    # (Django's cascade collector would visit every model that may reference a member).
    taken_back = [written.pop(number)[0] for number in sorted(check.retracted) if number in written]
    for start in range(0, len(taken_back), _DELETE_CHUNK):
        chunk = taken_back[start : start + _DELETE_CHUNK]
        ChangeRecord.objects.filter(resource=Member.sync_type, object_id__in=chunk).delete()
        Member.platforms.through.objects.filter(member_id__in=chunk).delete()
        Member.all_objects.filter(pk__in=chunk)._raw_delete(connection.alias)
    deltas: dict = {}
    for _pk, state in written.values():
        if state is not None:
            branch_id, members, full_members = state
            current = deltas.get(branch_id, (0, 0))
            deltas[branch_id] = (current[0] + members, current[1] + full_members)
    branch_member_counts_adjust(deltas=deltas)
    job.status = ImportStatus.DONE
    job.rows_total = job.rows_done = check.rows_total
    job.rows_valid, job.rows_invalid = check.rows_valid, check.rows_invalid
    job.rows_created = len(written)
    job.row_errors = check.report()
    job.error = ""
    job.finished_at = job.updated_at = timezone.now()
    job.save()
    audit_record(
        actor=actor,
        obj=job,
        action="members.importjob.committed",
        data={
            "mode": job.mode,
            "format": job.file_format,
            "rows": job.rows_total,
            "valid": job.rows_valid,
            "invalid": job.rows_invalid,
            "created": job.rows_created,
            "branches": len(deltas),
        },
    )
    return check


def import_files_purge(*, older_than=None) -> int:
    """Fail imports left unfinished for a day (never committed, or their worker died) and delete their files.

    Returns how many jobs were ended. Run daily by Celery beat (members.tasks.import_files_purge).
    """
    cutoff = timezone.now() - (older_than or datetime.timedelta(days=1))
    stale = ImportJob.objects.filter(
        updated_at__lt=cutoff, status__in=[*IMPORT_RUNNING_STATUSES, ImportStatus.VALIDATED]
    )
    count = 0
    for job in stale:
        with translation.override(_language(job)):
            import_job_fail(job=job, error=_("This import expired: it was not finished within a day."))
        count += 1
    for job in ImportJob.objects.filter(updated_at__lt=cutoff).exclude(file_name=""):
        _drop_file(job)
    return count


#
# Exports
#
def member_export_record(*, actor, file_format: str, filters: dict, rows: int, full_rows: int) -> None:
    """Audit one export of the member list: who, with which filters, how many rows, masked or in full.

    The entry hangs on the exporting user (an export is not about one record).
    """
    audit_record(
        actor=actor,
        obj=actor,
        action="members.member.exported",
        data={
            "format": file_format,
            "filters": filters,
            "rows": rows,
            "full_rows": full_rows,
            "masked": full_rows == 0,
        },
    )
