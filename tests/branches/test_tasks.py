import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core import mail
from django.utils import timezone

from branches import actions, tasks
from branches.choices import Role
from branches.models import TermReminderLog
from config.celery_app import app
from tests.branches.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_term_reminders_send_task_runs_the_sweep_for_today(branch_tree):
    today = timezone.localdate()
    # A 3-year term that ends exactly six months from today: the first reminder is due today.
    elected_on = today + relativedelta(months=6) - relativedelta(years=3)
    station = actions.branch_update(actor=None, branch=branch_tree["station_a"], elected_on=elected_on)
    assert station.term_expires_on == today + relativedelta(months=6)
    secretary = UserFactory()
    actions.role_grant(actor=None, user=secretary, role=Role.SECRETARY, branch=station)

    result = tasks.term_reminders_send.delay()

    assert result.get() == 1
    assert [m.to for m in mail.outbox] == [[secretary.email]]
    assert TermReminderLog.objects.get().stage == "-6m"
    assert tasks.term_reminders_send.delay().get() == 0


def test_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()  # runs the autodiscovery the worker and beat run at start
    assert settings.CELERY_BEAT_SCHEDULE
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


def test_beat_runs_term_reminders_daily():
    schedule = settings.CELERY_BEAT_SCHEDULE["branches-term-reminders"]["schedule"]
    # One run a day: the crontab fires at a single hour and minute, every day of every month.
    assert len(schedule.hour) == 1
    assert len(schedule.minute) == 1
    assert len(schedule.day_of_week) == 7
    assert len(schedule.day_of_month) == 31
