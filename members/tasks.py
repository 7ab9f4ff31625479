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


#
# Transfers, mobile and lost-contact members (issue 4, parts 2–4): daily sweeps, each alert sent once
#
@shared_task
def transfer_alerts_send() -> int:
    """Daily (beat): expire letters past their validity, then alert about expiring, expired and receipt-less ones."""
    return actions.transfer_alerts_send()


@shared_task
def report_in_reminders_send() -> int:
    """Daily (beat): remind home branches of mobile members who have not reported in this year."""
    return actions.report_in_reminders_send()


@shared_task
def lost_contact_sweep() -> int:
    """Daily (beat): warnings at three months, flags at six, removals falling due."""
    return actions.lost_contact_sweep()


#
# Development and dues (issue 4, parts 1, 5 and 7): daily sweeps queue one send per item; each is sent once
#
@shared_task
def development_reminders_sweep() -> int:
    """Daily (beat): queue a reminder for every development deadline due soon or overdue."""
    from members.selectors_development import development_reminders_due

    due = development_reminders_due()
    for applicant_id, kind, due_on in due:
        development_reminder_send.delay(str(applicant_id), kind, due_on.isoformat())
    return len(due)


@shared_task
def development_reminder_send(applicant_id: str, kind: str, due_on: str) -> int:
    """Send one development deadline reminder (checked again, and claimed, by the action)."""
    import datetime

    return actions.development_reminder_send(
        applicant_id=applicant_id, kind=kind, due_on=datetime.date.fromisoformat(due_on)
    )


@shared_task
def dues_reminders_sweep() -> int:
    """Daily (beat): queue an arrears warning for every member at 3 or 5 consecutive unpaid months."""
    from members.selectors_dues import dues_reminders_due

    due = dues_reminders_due()
    for start in range(0, len(due), DUES_REMINDER_BATCH):
        dues_reminders_send.delay([str(pk) for pk in due[start : start + DUES_REMINDER_BATCH]])
    return len(due)


#: members per queued task: at 1,000,000 members ~140,000 are in a warning stage on a given day (most already
#: warned, which the action sees from its log), so one task each would flood the broker
DUES_REMINDER_BATCH = 500


@shared_task
def dues_reminders_send(member_ids: list[str]) -> int:
    """Send a batch of members' arrears warnings, one member at a time through the action (which computes
    the arrears again and claims each log row, so a batch retried after a failure sends nothing twice)."""
    return sum(actions.dues_reminder_send(member_id=member_id) for member_id in member_ids)


@shared_task
def dues_reminder_send(member_id: str) -> int:
    """Send one member's arrears warning (kept for tasks queued before batching)."""
    return actions.dues_reminder_send(member_id=member_id)


#
# Notices (党务公开): each notice's audience is told once, when its window opens
#
@shared_task
def notices_announce_sweep() -> int:
    """Every few minutes (beat): queue the announcement of each published notice whose window has opened."""
    from members.selectors_notices import notices_due_announcement

    due = notices_due_announcement()
    for notice_id in due:
        notice_announce.delay(str(notice_id))
    return len(due)


@shared_task
def notice_announce(notice_id: str) -> int:
    """Tell one notice's audience (claimed by the action, so it is sent once)."""
    from members.actions.notices import notice_announce as notice_announce_action

    return notice_announce_action(notice_id=notice_id)


#
# Branch votes: close every vote whose time is up, recording "no quorum" when so
#
@shared_task
def votes_close_sweep() -> int:
    """Every few minutes (beat): queue the close of each open vote whose closing time has passed."""
    from members.selectors_votes import votes_due_to_close

    due = votes_due_to_close()
    for vote_id in due:
        vote_close_due.delay(str(vote_id))
    return len(due)


@shared_task
def vote_close_due(vote_id: str) -> str | None:
    """Close one vote whose time is up and record its result (a vote closed meanwhile is left alone)."""
    from members.actions.votes import votes_close_due

    vote = votes_close_due(vote_id=vote_id)
    return vote.outcome if vote else None
