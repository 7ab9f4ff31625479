import datetime
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches import actions as branch_actions
from branches.choices import BranchKind, Role
from members.actions import votes as vote_actions
from members.models import NamedBallot, SecretBallot, Vote, VoteParticipation
from members.models.votes import VoteOutcome, VoteStatus
from tests.votes.helpers import cast, draft_vote, open_vote, option, time_passes, voter, voters

pytestmark = pytest.mark.django_db

LIST_QUERIES = 7  # session, user, role grants, member record, the page of votes, unread badge, …
MINE_QUERIES = 6


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


#
# The secretary's pages
#
def test_vote_list_scope(client, branch_tree, role_at):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    voters(a, 1)
    voters(b, 1)
    mine, sibling = draft_vote(a, title="Ours"), open_vote(b, title="Theirs")
    client.force_login(role_at(a, Role.SECRETARY))
    response = client.get(reverse("votes:vote_list"))
    assert response.status_code == HTTPStatus.OK
    assert f'id="vote-{mine.pk}"' in response.text
    assert f'id="vote-{sibling.pk}"' not in response.text
    for name in ("vote_detail", "vote_ballot", "vote_result"):
        assert client.get(reverse(f"votes:{name}", args=[sibling.pk])).status_code == HTTPStatus.NOT_FOUND
    close_url = reverse("votes:vote_action", args=[sibling.pk, "close"])
    assert client.post(close_url).status_code == HTTPStatus.NOT_FOUND
    sibling.refresh_from_db()
    assert sibling.status == VoteStatus.OPEN


def test_vote_list_query_count_does_not_grow(client, branch_tree, role_at, django_assert_num_queries):
    a = branch_tree["station_a"]
    voters(a, 2)
    client.force_login(role_at(branch_tree["district"], Role.OFFICER))
    open_vote(a)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("votes:vote_list")).status_code == HTTPStatus.OK
    for _ in range(4):
        open_vote(a, kind="election", candidates=["张三", "李四"])
    draft_vote(a)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("votes:vote_list"))
    assert response.text.count('class="vote-row"') == 6
    assert len(few.captured_queries) == LIST_QUERIES


def test_vote_list_sends_plain_members_to_their_votes(client, branch_tree):
    member = voter(branch_tree["station_a"])
    client.force_login(member.user)
    response = client.get(reverse("votes:vote_list"))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("votes:vote_mine")


def test_vote_create_page_drafts_an_election(client, branch_tree, role_at):
    a = branch_tree["station_a"]
    client.force_login(role_at(a, Role.SECRETARY))
    now = timezone.now()
    response = client.post(
        reverse("votes:vote_create"),
        {
            "branch": a.pk,
            "kind": "election",
            "title": "Committee election",
            "seats": 2,
            "candidates": "张三\n李四\n\n王五\n",
            "opens_at": _local(now),
            "closes_at": _local(now + datetime.timedelta(days=1)),
            "secret": "on",
        },
    )
    vote = Vote.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("votes:vote_detail", args=[vote.pk])
    assert (vote.kind, vote.seats, vote.secret, vote.status) == ("election", 2, True, "draft")
    assert [o.label for o in vote.options.order_by("position")] == ["张三", "李四", "王五"]
    page = client.get(response.url)
    assert 'id="vote-open-submit"' in page.text
    assert 'id="vote-close-submit"' not in page.text


def test_vote_create_page_shows_the_rules_errors(client, branch_tree, role_at):
    temporary = branch_actions.branch_create(
        actor=None, parent=branch_tree["delivery"], name="Project branch", kind=BranchKind.BRANCH, is_temporary=True
    )
    client.force_login(role_at(temporary, Role.SECRETARY))
    now = timezone.now()
    data = {
        "branch": temporary.pk,
        "kind": "election",
        "title": "Election",
        "seats": 1,
        "candidates": "张三",
        "opens_at": _local(now),
        "closes_at": _local(now + datetime.timedelta(days=1)),
    }
    response = client.post(reverse("votes:vote_create"), data)
    assert response.status_code == HTTPStatus.OK
    assert "A temporary branch cannot hold elections." in response.text
    response = client.post(reverse("votes:vote_create"), {**data, "kind": "decision", "candidates": ""})
    assert response.status_code == HTTPStatus.FOUND
    ordinary = branch_tree["station_a"]
    client.force_login(role_at(ordinary, Role.SECRETARY))
    response = client.post(reverse("votes:vote_create"), {**data, "branch": ordinary.pk, "seats": 2})
    assert "There are fewer candidates (1) than seats (2)." in response.text
    assert 'id="id_candidates_errors"' in response.text


def test_vote_create_page_needs_the_permission(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["station_a"], Role.ORGANISER))
    assert client.get(reverse("votes:vote_create")).status_code == HTTPStatus.FORBIDDEN


def test_vote_detail_open_and_close_buttons(client, branch_tree, role_at):
    a = branch_tree["station_a"]
    members = voters(a, 4)
    client.force_login(role_at(a, Role.SECRETARY))
    vote = draft_vote(a)
    response = client.post(reverse("votes:vote_action", args=[vote.pk, "open"]), follow=True)
    assert "The vote is open" in response.text
    vote.refresh_from_db()
    assert vote.status == VoteStatus.OPEN
    assert '<dd id="vote-roll-size">4</dd>' in response.text
    cast(members[0], vote, "for")
    # Closing early without a quorum: refused, with the reason.
    response = client.post(reverse("votes:vote_action", args=[vote.pk, "close"]), follow=True)
    assert "No quorum yet: 1 of 4 members have voted and 3 are needed." in response.text
    vote.refresh_from_db()
    assert vote.status == VoteStatus.OPEN
    for m in members[1:3]:
        cast(m, vote, "for")
    response = client.post(reverse("votes:vote_action", args=[vote.pk, "close"]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("votes:vote_result", args=[vote.pk])
    assert 'data-outcome="passed"' in response.text


def test_vote_action_unknown_is_404(client, branch_tree, role_at):
    a = branch_tree["station_a"]
    client.force_login(role_at(a, Role.SECRETARY))
    vote = draft_vote(a)
    assert client.post(reverse("votes:vote_action", args=[vote.pk, "delete"])).status_code == HTTPStatus.NOT_FOUND


#
# The member's pages
#
def test_my_votes_scope_and_state(client, branch_tree):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    me, other = voter(a), voter(a)
    voters(b, 1)
    open_mine, done = open_vote(a, title="Open"), open_vote(a, title="Done")
    cast(me, done, "for")
    cast(other, done, "for")
    vote_actions.vote_close(actor=None, vote=done)
    draft, sibling = draft_vote(a, title="Draft"), open_vote(b, title="Sibling")
    client.force_login(me.user)
    response = client.get(reverse("votes:vote_mine"))
    assert response.status_code == HTTPStatus.OK
    assert f'id="vote-mine-{open_mine.pk}"' in response.text
    assert f'id="vote-mine-{done.pk}"' in response.text
    assert f'id="vote-mine-{draft.pk}"' not in response.text
    assert f'id="vote-mine-{sibling.pk}"' not in response.text
    assert reverse("votes:vote_ballot", args=[open_mine.pk]) in response.text
    assert reverse("votes:vote_result", args=[done.pk]) in response.text
    for pk in (draft.pk, sibling.pk):
        assert client.get(reverse("votes:vote_ballot", args=[pk])).status_code == HTTPStatus.NOT_FOUND
        assert client.get(reverse("votes:vote_result", args=[pk])).status_code == HTTPStatus.NOT_FOUND
    assert client.get(reverse("votes:vote_detail", args=[open_mine.pk])).status_code == HTTPStatus.NOT_FOUND


def test_my_votes_query_count_does_not_grow(client, branch_tree, django_assert_num_queries):
    a = branch_tree["station_a"]
    me = voter(a)
    client.force_login(me.user)
    open_vote(a)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("votes:vote_mine")).status_code == HTTPStatus.OK
    for _ in range(4):
        vote = open_vote(a, secret=True)
        cast(me, vote, "for")
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("votes:vote_mine"))
    assert response.text.count('class="card vote-card"') == 5
    assert len(few.captured_queries) == MINE_QUERIES


def test_my_votes_without_member_record(client, user):
    client.force_login(user)
    response = client.get(reverse("votes:vote_mine"))
    assert 'id="vote-mine-no-member"' in response.text


def test_ballot_page_casts_a_named_vote_and_echoes_it(client, branch_tree):
    a = branch_tree["station_a"]
    me, _other = voters(a, 2)
    vote = open_vote(a)
    client.force_login(me.user)
    page = client.get(reverse("votes:vote_ballot", args=[vote.pk]))
    assert 'id="ballot-form"' in page.text
    assert 'type="radio"' in page.text
    response = client.post(
        reverse("votes:vote_ballot", args=[vote.pk]), {"choices": str(option(vote, "for").pk)}, follow=True
    )
    assert "Your vote is recorded." in response.text
    assert 'id="vote-my-choices"' in response.text
    assert 'id="ballot-form"' not in response.text
    assert NamedBallot.objects.get(vote=vote).member == me


def test_ballot_page_secret_vote_does_not_echo_the_choice(client, branch_tree):
    a = branch_tree["station_a"]
    me, _other = voters(a, 2)
    vote = open_vote(a, kind="election", seats=2, candidates=["候选人甲", "候选人乙", "候选人丙"], secret=True)
    client.force_login(me.user)
    assert 'type="checkbox"' in client.get(reverse("votes:vote_ballot", args=[vote.pk])).text
    chosen = [str(option(vote, "候选人甲").pk), str(option(vote, "候选人丙").pk)]
    response = client.post(reverse("votes:vote_ballot", args=[vote.pk]), {"choices": chosen}, follow=True)
    assert "Your vote is recorded." in response.text
    assert "your choice is not linked to you" in response.text
    assert 'id="vote-my-choices"' not in response.text
    # The page names the candidates nowhere once voted (only the title and the receipt).
    assert "候选人甲" not in response.text
    assert SecretBallot.objects.filter(vote=vote).count() == 1


def test_ballot_page_refuses_a_second_vote_and_too_many_choices(client, branch_tree):
    a = branch_tree["station_a"]
    me, _other = voters(a, 2)
    election = open_vote(a, kind="election", seats=1, candidates=["甲", "乙"])
    client.force_login(me.user)
    url = reverse("votes:vote_ballot", args=[election.pk])
    both = [str(option(election, "甲").pk), str(option(election, "乙").pk)]
    response = client.post(url, {"choices": both})
    assert response.status_code == HTTPStatus.OK
    assert "Choose only one answer." not in response.text
    assert "Choose at most 1 candidates (2 chosen)." in response.text
    response = client.post(url, {})
    assert "Choose before you submit your ballot." in response.text
    client.post(url, {"choices": both[:1]})
    response = client.post(url, {"choices": both[1:]})
    assert "You have already voted in this vote; a ballot cannot be changed." in response.text
    assert "Your vote is recorded." in response.text  # the receipt of the first ballot, and no form
    assert VoteParticipation.objects.filter(vote=election).count() == 1


def test_ballot_page_tells_a_probationary_member_why(client, branch_tree):
    a = branch_tree["station_a"]
    voters(a, 1)
    probationary = voter(a, category="probationary")
    vote = open_vote(a)
    client.force_login(probationary.user)
    response = client.get(reverse("votes:vote_ballot", args=[vote.pk]))
    assert "Probationary members have no vote; only full members vote." in response.text
    assert 'id="ballot-form"' not in response.text
    response = client.post(reverse("votes:vote_ballot", args=[vote.pk]), {"choices": str(option(vote, "for").pk)})
    assert "Probationary members have no vote" in response.text
    assert not VoteParticipation.objects.exists()


def test_result_page_hides_tallies_until_closed(client, branch_tree):
    a = branch_tree["station_a"]
    me, other, third = voters(a, 3)
    vote = open_vote(a)
    cast(me, vote, "for")
    client.force_login(me.user)
    response = client.get(reverse("votes:vote_result", args=[vote.pk]))
    assert 'id="vote-result-pending"' in response.text
    assert "1 ballot cast so far." in response.text
    assert 'id="vote-tally"' not in response.text
    cast(other, vote, "against")
    vote_actions.vote_close(actor=None, vote=time_passes(vote))
    response = client.get(reverse("votes:vote_result", args=[vote.pk]))
    assert 'data-outcome="failed"' in response.text
    assert '<dd id="result-eligible">3</dd>' in response.text
    assert '<dd id="result-cast">2 (67%)</dd>' in response.text
    assert "automatically, at its closing time" in response.text
    assert response.text.count('class="tally-row"') == 3


def test_result_page_no_quorum(client, branch_tree):
    a = branch_tree["station_a"]
    me, *_rest = voters(a, 3)
    vote = open_vote(a)
    cast(me, vote, "for")
    vote = vote_actions.vote_close(actor=None, vote=time_passes(vote))
    assert vote.outcome == VoteOutcome.NO_QUORUM
    client.force_login(me.user)
    response = client.get(reverse("votes:vote_result", args=[vote.pk]))
    assert 'data-outcome="no_quorum"' in response.text
    assert "not reached: the vote is void" in response.text
