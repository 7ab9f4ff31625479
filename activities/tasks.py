"""Celery entry points of the activities app."""

import datetime
import logging

from celery import shared_task
from django.utils import timezone

from activities import actions, compliance, reminders
from activities.models import ActivitySeries

logger = logging.getLogger(__name__)


@shared_task
def series_extend() -> int:
    """Daily sweep (beat): create the occurrences of every unfinished series up to the horizon."""
    created = 0
    now = timezone.now()
    for pk in ActivitySeries.objects.values_list("pk", flat=True).order_by("pk"):
        series = ActivitySeries.objects.get(pk=pk)
        try:
            created += len(actions.series_extend(series=series, now=now))
        except Exception:  # one broken series must not stop the others
            logger.exception("Could not extend activity series %s", pk)
    return created


@shared_task
def reminders_sweep() -> int:
    """Every minute (beat): queue one task per due reminder batch (see activities/reminders.py)."""
    due = reminders.reminders_due()
    for batch in due:
        reminder_batch_send.delay(
            activity_id=str(batch.activity_id), offset=batch.offset, starts_at=batch.starts_at.isoformat()
        )
    return len(due)


@shared_task
def reminder_batch_send(*, activity_id: str, offset: int, starts_at: str) -> int:
    """Send one reminder batch; safe to run twice or alongside another worker (the send log decides)."""
    return reminders.reminder_batch_send(
        activity_id=activity_id, offset=offset, starts_at=datetime.datetime.fromisoformat(starts_at)
    )


@shared_task
def compliance_reminders() -> int:
    """Daily (beat): remind secretaries of required meetings still missing near the end of a period."""
    return compliance.compliance_reminders_send()
