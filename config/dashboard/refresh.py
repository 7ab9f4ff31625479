"""Recompute the dashboard's stored figures (members.BranchStat) of every app at once.

Each app counts its own dimensions with set-based GROUP BY queries over its whole table; the counts are
then rolled up the tree and swapped in one transaction. Idempotent: running it twice writes the same rows.
Besides the member-sized `BranchStat` rows: 三会一课 compliance (`activities.ComplianceStat`) and cases per
day (`services.CaseDayStat`) of every subtree of several organisations, so the page at the top of a large
tree reads stored rows instead of grouping a year of activities and cases.
Called by the beat task `config.dashboard.tasks.dashboard_stats_refresh` and `manage.py refresh_stats`.
"""

import datetime

from django.utils import timezone

from activities.stats import STUDY_DIMENSIONS, compliance_stats_write, study_stats_count
from members.stats import MEMBER_DIMENSIONS, branch_stats_write, member_stats_count
from services.stats import case_stats_write


def stats_refresh(*, today: datetime.date | None = None) -> int:
    """Recount every stored figure as of `today` (default: today); returns the number of rows written."""
    today = today or timezone.localdate()
    counts = {**member_stats_count(today=today), **study_stats_count(today=today)}
    refreshed_at = timezone.now()
    written = branch_stats_write(
        counts=counts, dimensions=MEMBER_DIMENSIONS + STUDY_DIMENSIONS, refreshed_at=refreshed_at
    )
    written += compliance_stats_write(today=today, refreshed_at=refreshed_at)
    return written + case_stats_write(refreshed_at=refreshed_at)
