"""A double submit on PostgreSQL: two requests casting the same member's ballot at once record one ballot.

Needs real concurrent transactions (threads with their own connections), which SQLite's single writer
cannot show; CI runs it on PostgreSQL.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from members.actions import votes as vote_actions
from members.models import SecretBallot, SecretBallotChoice, VoteParticipation
from tests.votes.helpers import cast, open_vote, option, voters

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"),
]

ATTEMPTS = 4


def test_simultaneous_submits_cast_one_ballot(branch_tree):
    a = branch_tree["station_a"]
    member, _other = voters(a, 2)
    vote = open_vote(a, secret=True)
    choices = [option(vote, "for")]
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def submit():
        try:
            barrier.wait(timeout=30)
            vote_actions.vote_cast(actor=member.user, vote=vote, choices=choices)
            outcomes.append("cast")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes.count("cast") == 1
    assert outcomes.count("You have already voted in this vote; a ballot cannot be changed.") == ATTEMPTS - 1
    assert VoteParticipation.objects.filter(vote=vote).count() == 1
    assert SecretBallot.objects.filter(vote=vote).count() == 1
    assert SecretBallotChoice.objects.filter(ballot__vote=vote).count() == 1


def _xmins(sql: str, vote) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [vote.pk])
        return [row[0] for row in cursor.fetchall()]


def test_secret_ballots_share_no_transaction_id_with_their_voters(branch_tree):
    """Each row records its writing transaction (xmin); the ballots must not keep their voter's."""
    a = branch_tree["station_a"]
    voting = voters(a, 3)
    vote = open_vote(a, secret=True)
    for member, key in zip(voting, ["for", "against", "for"], strict=True):
        cast(member, vote, key)

    participations = set(_xmins("SELECT xmin::text FROM members_voteparticipation WHERE vote_id = %s", vote))
    ballots = _xmins("SELECT xmin::text FROM members_secretballot WHERE vote_id = %s", vote)
    choices = _xmins(
        "SELECT c.xmin::text FROM members_secretballotchoice c JOIN members_secretballot b ON b.id = c.ballot_id "
        "WHERE b.vote_id = %s",
        vote,
    )

    assert len(participations) == 3
    # every ballot and choice was last written by the newest cast, so only the last voter shares an id with them
    assert len(set(ballots)) == 1
    assert set(choices) == set(ballots)
