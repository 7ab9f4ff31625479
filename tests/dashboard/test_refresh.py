"""The stored figures: refreshed by a command and a beat task, idempotent, and replaced as the data changes."""

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from activities.models import ComplianceStat
from config.dashboard.refresh import stats_refresh
from config.dashboard.tasks import dashboard_stats_refresh
from members.models import BranchStat, Member
from members.stats import branch_stats
from services.models import CaseDayStat

pytestmark = pytest.mark.django_db


def _rows():
    return sorted(BranchStat.objects.values_list("branch_id", "dimension", "key", "value"))


def _stored_rows() -> int:
    """Every row the refresh writes: member figures, compliance and cases of the subtrees."""
    return BranchStat.objects.count() + ComplianceStat.objects.count() + CaseDayStat.objects.count()


def test_refresh_is_idempotent(world):
    written = stats_refresh()
    first = _rows()
    assert written == _stored_rows() > len(first) > 0
    assert stats_refresh() == written
    assert _rows() == first


def test_refresh_replaces_figures_after_changes(world):
    stats_refresh()
    tree = world["tree"]
    Member.objects.filter(pk=world["members"]["b1"].pk).update(status="deceased")
    stats_refresh()
    figures, _ = branch_stats(branch=tree["delivery"])
    assert figures["members"] == {"total": 2}
    assert "ride_hailing_driver" not in figures["occupation"]
    station_b, _ = branch_stats(branch=tree["station_b"])
    assert "members" not in station_b  # no current member left: no rows, not stale ones
    assert not BranchStat.objects.filter(value=0).exists()


def test_refresh_stats_command_counts_and_reports(world, capsys):
    call_command("refresh_stats")
    assert "Dashboard figures refreshed" in capsys.readouterr().out
    figures, as_of = branch_stats(branch=world["tree"]["district"])
    assert figures["members"] == {"total": 4}
    assert as_of is not None
    call_command("refresh_stats", "--date", world["today"].isoformat())
    assert branch_stats(branch=world["tree"]["district"])[0] == figures


def test_refresh_stats_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="--date"):
        call_command("refresh_stats", "--date", "2026-13-01")


def test_refresh_task_runs_and_is_scheduled_every_15_minutes(world):
    assert dashboard_stats_refresh.delay().get() == _stored_rows() > BranchStat.objects.count() > 0
    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-stats-refresh"]
    assert entry["task"] == dashboard_stats_refresh.name == "config.dashboard.tasks.dashboard_stats_refresh"
    assert "config.dashboard.tasks" in settings.CELERY_IMPORTS
    assert entry["schedule"].minute == set(range(0, 60, 15))


def test_refresh_with_no_members_writes_no_member_figures(branch_tree):
    stats_refresh()
    assert not BranchStat.objects.exists()
    assert branch_stats(branch=branch_tree["district"]) == ({}, None)
    # Compliance and cases: only the markers of the subtrees of several organisations (nothing was held or opened).
    assert not ComplianceStat.objects.filter(period_start__isnull=False).exists()
    assert not CaseDayStat.objects.filter(day__isnull=False).exists()
