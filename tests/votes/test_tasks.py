import pytest
from django.conf import settings

from core.models import AuditEntry, Notification
from members import tasks
from members.models.votes import VoteOutcome, VoteStatus
from tests.votes.helpers import cast, open_vote, time_passes, voters

pytestmark = pytest.mark.django_db


def test_votes_close_sweep_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["members-votes-close-sweep"]
    assert entry["task"] == "members.tasks.votes_close_sweep"


def test_votes_close_sweep_closes_due_votes_with_no_quorum(branch_tree, django_capture_on_commit_callbacks):
    a = branch_tree["station_a"]
    members = voters(a, 4)
    due = open_vote(a, title="Due")
    cast(members[0], due, "for")
    due = time_passes(due)
    running = open_vote(a, title="Running")

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.votes_close_sweep.delay().get() == 1

    due.refresh_from_db()
    running.refresh_from_db()
    assert due.status == VoteStatus.CLOSED
    assert due.outcome == VoteOutcome.NO_QUORUM
    assert (due.eligible_count, due.ballots_cast) == (4, 1)
    assert due.closed_by is None
    assert running.status == VoteStatus.OPEN
    entry = AuditEntry.objects.get(action="members.vote.closed")
    assert entry.actor is None
    assert entry.data["automatic"] is True
    assert Notification.objects.filter(kind="members.vote.result").count() == 4
    # A second sweep finds nothing left to close.
    assert tasks.votes_close_sweep.delay().get() == 0


def test_votes_close_sweep_records_a_passed_vote(branch_tree):
    a = branch_tree["station_a"]
    members = voters(a, 3)
    vote = open_vote(a)
    for m in members[:2]:
        cast(m, vote, "for")
    time_passes(vote)
    tasks.votes_close_sweep.delay().get()
    vote.refresh_from_db()
    assert vote.outcome == VoteOutcome.PASSED


def test_vote_close_due_leaves_a_vote_closed_meanwhile_alone(branch_tree):
    a = branch_tree["station_a"]
    voters(a, 1)
    vote = open_vote(a)
    assert tasks.vote_close_due.delay(str(vote.pk)).get() is None  # not due yet
    time_passes(vote)
    assert tasks.vote_close_due.delay(str(vote.pk)).get() == VoteOutcome.NO_QUORUM
    assert tasks.vote_close_due.delay(str(vote.pk)).get() is None
