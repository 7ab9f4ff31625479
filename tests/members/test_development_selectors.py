"""Interval warnings, the "due soon" list, and development reminders sent exactly once."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from branches.choices import Role
from core.models import Notification
from members.actions import development_reminder_send, development_step_record
from members.models import DevelopmentInterval, DevelopmentReminderLog
from members.models.development import StepCode
from members.selectors_development import (
    applicant_warnings,
    development_due,
    development_reminders_due,
)
from members.tasks import development_reminders_sweep
from tests.members.dev_helpers import CLEAN_PATH, D, new_applicant, seeded, voters, walk

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _seed(db):
    seeded()


@pytest.fixture
def branch(branch_tree):
    return branch_tree["station_a"]


@pytest.fixture
def secretary(branch, role_at):
    return role_at(branch, Role.SECRETARY)


def test_clean_path_has_no_warnings(branch, secretary):
    voters(branch)
    applicant = walk(actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="archived")
    assert applicant_warnings(applicant) == []


def test_warns_late_talk(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch)
    development_step_record(actor=secretary, applicant=applicant, code=StepCode.TALK_HELD, done_on=D(2022, 3, 1))
    assert any("talk" in w for w in applicant_warnings(applicant))


def test_talk_interval_is_editable(branch, secretary):
    DevelopmentInterval.objects.filter(code="talk_within").update(months=3)
    applicant = new_applicant(actor=secretary, branch=branch)
    development_step_record(actor=secretary, applicant=applicant, code=StepCode.TALK_HELD, done_on=D(2022, 3, 1))
    assert applicant_warnings(applicant) == []


def test_warns_target_after_less_than_a_year_and_missing_reviews(branch, secretary):
    path = [
        (StepCode.TALK_HELD, D(2022, 1, 20)),
        (StepCode.ACTIVIST_CHOSEN, D(2022, 3, 1)),
        (StepCode.ACTIVIST_FILED, D(2022, 3, 5)),
        (StepCode.MENTORS_ASSIGNED, D(2022, 3, 5)),
        (StepCode.TARGET_CHOSEN, D(2022, 10, 1)),
    ]
    applicant = walk(
        actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="target_chosen", path=path
    )
    warnings = applicant_warnings(applicant)
    assert any("less than a year" in w for w in warnings)
    assert any("between reviews" in w for w in warnings)


def test_warns_late_approval_and_probation_over(branch, secretary):
    voters(branch)
    path = [(c, d) for c, d in CLEAN_PATH if c != StepCode.ADMISSION_APPROVED]
    applicant = walk(
        actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="upper_talk", path=path
    )
    assert any("overdue" in w for w in applicant_warnings(applicant))
    development_step_record(
        actor=secretary, applicant=applicant, code=StepCode.ADMISSION_APPROVED, done_on=D(2023, 10, 1)
    )
    applicant.refresh_from_db()
    warnings = applicant_warnings(applicant)
    assert any("later than 3 months" in w for w in warnings)
    assert any("Probation ended" in w for w in warnings)


def test_due_list_has_talk_due_and_scope(branch, secretary, branch_tree, role_at):
    applicant = new_applicant(actor=secretary, branch=branch, applied_on=TODAY - datetime.timedelta(days=10))
    due = development_due(actor=secretary)
    assert [(d.applicant, d.kind) for d in due] == [(applicant, "talk")]
    assert due[0].due_on == applicant.applied_on + relativedelta(months=1)
    outsider = role_at(branch_tree["station_b"], Role.SECRETARY)
    assert development_due(actor=outsider) == []


def test_due_list_leaves_out_far_deadlines(branch, secretary):
    DevelopmentInterval.objects.filter(code="talk_within").update(months=6)
    new_applicant(actor=secretary, branch=branch, applied_on=TODAY)
    assert development_due(actor=secretary) == []


def test_due_list_probation_ending_and_review(branch, secretary):
    voters(branch)
    applicant = walk(actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="oath")
    kinds = {d.kind for d in development_due(actor=secretary)}
    assert {"probation_end", "review"} <= kinds
    assert applicant.member_id


def test_reminder_sent_once_and_rechecked(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch, applied_on=TODAY - datetime.timedelta(days=40))
    due = development_reminders_due()
    assert due == [(applicant.pk, "talk", applicant.applied_on + relativedelta(months=1))]
    _pk, kind, due_on = due[0]
    assert development_reminder_send(applicant_id=applicant.pk, kind=kind, due_on=due_on) == 1
    assert development_reminder_send(applicant_id=applicant.pk, kind=kind, due_on=due_on) == 0
    assert Notification.objects.filter(recipient=secretary, kind="members.development_due").count() == 1
    assert DevelopmentReminderLog.objects.count() == 1


def test_reminder_not_sent_once_step_done(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch, applied_on=TODAY - datetime.timedelta(days=40))
    (_pk, kind, due_on) = development_reminders_due()[0]
    development_step_record(actor=secretary, applicant=applicant, code=StepCode.TALK_HELD, done_on=TODAY)
    assert development_reminder_send(applicant_id=applicant.pk, kind=kind, due_on=due_on) == 0
    assert not Notification.objects.exists()


def test_reminder_sweep_task_sends_through_the_queue(branch, secretary):
    new_applicant(actor=secretary, branch=branch, applied_on=TODAY - datetime.timedelta(days=40))
    assert development_reminders_sweep() == 1
    assert development_reminders_sweep() == 1  # still due, but the log keeps it from going out again
    assert Notification.objects.filter(kind="members.development_due").count() == 1
