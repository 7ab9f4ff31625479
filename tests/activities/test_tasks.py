import datetime

import pytest
from django.utils import timezone

from activities import actions, tasks
from activities.models import Activity

pytestmark = pytest.mark.django_db


def test_series_extend_task_creates_missing_occurrences(branch_tree, settings):
    settings.ACTIVITIES_SERIES_HORIZON_DAYS = 10
    series = actions.series_create(
        actor=None,
        branch=branch_tree["station_a"],
        rrule="FREQ=DAILY;COUNT=30",
        starts_on=timezone.localdate() + datetime.timedelta(days=1),
        start_time=datetime.time(9),
        duration_minutes=30,
        title="Daily briefing",
        mode="online",
        online_link="https://meet.example.com/d",
    )
    before = series.occurrences.count()
    settings.ACTIVITIES_SERIES_HORIZON_DAYS = 20

    created = tasks.series_extend.delay().get()

    assert created == 10
    assert Activity.objects.count() == before + 10
    assert tasks.series_extend.delay().get() == 0
