"""Celery entry points of the members app: the two steps of a large import, and the daily clean-up.

Each task takes a job id, loads the job and calls one action; the actions record any failure on the
job itself (the page shows it), so a task never needs a retry: running one twice does nothing more,
since each step first claims the job in the state it expects.
"""

import logging

from celery import shared_task

from members import actions
from members.models import ImportJob

logger = logging.getLogger(__name__)


def _job(job_id: str) -> ImportJob | None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("Member import %s: no such job", job_id)
    return job


@shared_task
def import_validate(job_id: str) -> str | None:
    """Step 1 of a large import: check every row, with progress on the job."""
    job = _job(job_id)
    return actions.import_job_validate(job=job).status if job else None


@shared_task
def import_commit(job_id: str) -> str | None:
    """Step 2 of a large import: write the rows in one transaction, with progress on the job."""
    job = _job(job_id)
    return actions.import_job_commit(job=job).status if job else None


@shared_task
def import_files_purge() -> int:
    """Daily sweep (beat): end imports left unfinished for a day and delete their files."""
    return actions.import_files_purge()
