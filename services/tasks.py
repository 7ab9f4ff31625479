"""Celery entry points of the services app."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from services import actions
from services.models import CaseBreach, FollowUp


@shared_task
def breaches_sweep() -> int:
    """Beat: record missed deadlines, then escalate every breach not yet escalated (one task each)."""
    actions.breaches_detect()
    pending = list(CaseBreach.objects.filter(notified_at__isnull=True).values_list("pk", flat=True))
    for pk in pending:
        transaction.on_commit(lambda pk=pk: breach_escalate.delay(breach_id=pk))
    return len(pending)


@shared_task
def breach_escalate(breach_id: int) -> bool:
    return actions.breach_escalate(breach_id=breach_id)


@shared_task
def follow_ups_remind() -> int:
    """Beat: one reminder task per follow-up that fell due and was not reminded yet."""
    due = list(
        FollowUp.objects.filter(
            due_on__lte=timezone.localdate(), done_at__isnull=True, reminded_at__isnull=True
        ).values_list("pk", flat=True)
    )
    for pk in due:
        transaction.on_commit(lambda pk=pk: follow_up_remind.delay(follow_up_id=pk))
    return len(due)


@shared_task
def follow_up_remind(follow_up_id: int) -> bool:
    return actions.follow_up_remind(follow_up_id=follow_up_id)
