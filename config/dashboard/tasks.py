"""Celery entry point of the dashboard: the beat task that refreshes the stored figures.

Not an app, so Celery learns of this module through CELERY_IMPORTS (config/settings/base.py).
"""

import logging

from celery import shared_task

from config.dashboard.refresh import stats_refresh

logger = logging.getLogger(__name__)


@shared_task
def dashboard_stats_refresh() -> int:
    """Recount the dashboard's member-sized figures (every 15 minutes)."""
    rows = stats_refresh()
    logger.info("Dashboard figures refreshed: %s rows", rows)
    return rows
