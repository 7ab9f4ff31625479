"""Celery entry points of core."""

import logging

from celery import shared_task

from core.api.feed import sync_records_purge as sync_records_purge_action

logger = logging.getLogger(__name__)


@shared_task
def sync_records_purge() -> None:
    """Daily: forget change records past the feed's retention window and idempotency keys past 24 hours."""
    changes, keys = sync_records_purge_action()
    logger.info("purged %d change records and %d idempotency records", changes, keys)
