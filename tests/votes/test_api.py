from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.choices import Role
from members.actions import votes as vote_actions
from tests.votes.helpers import cast, draft_vote, open_vote, time_passes, voter, voters

pytestmark = pytest.mark.django_db

LIST_QUERIES = 3  # the member record, the page of votes (ballots counted in it), the options


def _ids(response) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def test_vote_api_scope(api_client, branch_tree, role_at):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    voters(a, 1)
    voters(b, 1)
    mine, draft, sibling = open_vote(a), draft_vote(a), open_vote(b)
    api_client.force_authenticate(role_at(a, Role.SECRETARY))
    response = api_client.get(reverse("api:vote-list"))
    assert response.status_code == HTTPStatus.OK
    assert _ids(response) == {str(mine.pk), str(draft.pk)}
    assert api_client.get(reverse("api:vote-detail", args=[sibling.pk])).status_code == HTTPStatus.NOT_FOUND
    detail = api_client.get(reverse("api:vote-detail", args=[mine.pk]))
    assert detail.status_code == HTTPStatus.OK
    assert detail["ETag"] == f'W/"{detail.json()["version"]}"'


def test_vote_api_members_see_their_branch_open_and_closed_votes(api_client, branch_tree):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    me = voter(a)
    voters(b, 1)
    mine, draft, sibling = open_vote(a), draft_vote(a), open_vote(b)
    api_client.force_authenticate(me.user)
    assert _ids(api_client.get(reverse("api:vote-list"))) == {str(mine.pk)}
    for vote in (draft, sibling):
        assert api_client.get(reverse("api:vote-detail", args=[vote.pk])).status_code == HTTPStatus.NOT_FOUND


def test_vote_api_open_vote_shows_the_count_only(api_client, branch_tree, role_at):
    a = branch_tree["station_a"]
    members = voters(a, 3)
    vote = open_vote(a, secret=True)
    cast(members[0], vote, "for")
    api_client.force_authenticate(role_at(a, Role.SECRETARY))
    data = api_client.get(reverse("api:vote-detail", args=[vote.pk])).json()
    assert data["status"] == "open"
    assert data["ballots_count"] == 1
    assert data["result"] is None
    assert [o["code"] for o in data["options"]] == ["for", "against", "abstain"]
    assert set(data["options"][0]) == {"id", "label", "code", "position"}
    assert str(members[0].pk) not in str(data)


def test_vote_api_closed_vote_has_the_recorded_result(api_client, branch_tree):
    a = branch_tree["station_a"]
    me, other, _third = voters(a, 3)
    vote = open_vote(
        a, kind="election", seats=1, candidates=["张三", "李四"], secret=True, quorum_rule="more_than_half"
    )
    cast(me, vote, "张三")
    cast(other, vote, "张三")
    vote_actions.vote_close(actor=None, vote=vote)
    api_client.force_authenticate(me.user)
    data = api_client.get(reverse("api:vote-detail", args=[vote.pk])).json()
    result = data["result"]
    assert (result["outcome"], result["eligible_count"], result["ballots_cast"]) == ("passed", 3, 2)
    assert result["closed_automatically"] is True
    tallies = [(t["label"], t["votes"], t["elected"]) for t in result["tallies"]]
    assert tallies == [("张三", 2, True), ("李四", 0, False)]
    for member in (me, other):
        assert str(member.pk) not in str(data)


def test_vote_api_list_query_count_does_not_grow(api_client, branch_tree, role_at, django_assert_num_queries):
    a = branch_tree["station_a"]
    voters(a, 2)
    api_client.force_authenticate(role_at(branch_tree["district"], Role.OFFICER))
    open_vote(a)
    api_client.get(reverse("api:vote-list"))  # the forced user object keeps its role grants from here on
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(reverse("api:vote-list")).status_code == HTTPStatus.OK
    for _ in range(3):
        vote = open_vote(a, kind="election", candidates=["张三", "李四"])
        vote_actions.vote_close(actor=None, vote=time_passes(vote))  # closed: the result is serialised too
    draft_vote(a)
    with django_assert_num_queries(len(few.captured_queries)):
        response = api_client.get(reverse("api:vote-list"))
    assert len(response.json()["results"]) == 5
    assert len(few.captured_queries) == LIST_QUERIES


def test_vote_api_needs_authentication(api_client):
    assert api_client.get(reverse("api:vote-list")).status_code == HTTPStatus.UNAUTHORIZED
