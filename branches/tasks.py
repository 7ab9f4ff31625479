"""Celery entry points of the branches app."""

from celery import shared_task

from branches import actions


@shared_task
def term_reminders_send() -> int:
    """Daily sweep (beat): send the term-expiry reminders that are due."""
    return actions.term_reminders_send()
