"""The appraisal read API: /api/v1/appraisal-rounds/ (scope as the secretary pages, results only once closed)."""

import datetime
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.choices import Role
from branches.permissions import clear_scope_cache
from members.actions import appraisal as appraisal_actions
from members.models.appraisal import AppraisalStatus
from tests.appraisal.helpers import GRADES, make_round, member_with_user, subject_of

pytestmark = pytest.mark.django_db

E, Q, B, U = GRADES
LIST = reverse("api:appraisal-round-list")


def _detail(appraisal_round) -> str:
    return reverse("api:appraisal-round-detail", kwargs={"pk": appraisal_round.pk})


def _closed_round(branch, members, *, year=None, grades=None):
    """A round of `branch` over `members` in which each member rated the next one, then graded and closed."""
    appraisal_round = make_round(branch, year=year)
    for index, member in enumerate(members[:-1]):
        ratee = subject_of(appraisal_round, members[index + 1])
        appraisal_actions.appraisal_rate(
            actor=member.user, appraisal_round=appraisal_round, ratings={ratee.pk: GRADES[index % 3]}
        )
    appraisal_actions.appraisal_rating_close(actor=None, appraisal_round=appraisal_round)
    for index, member in enumerate(members):
        appraisal_actions.appraisal_grade(
            actor=None, appraisal_round=appraisal_round, member=member, grade=(grades or {}).get(index, Q)
        )
    return appraisal_actions.appraisal_round_close(actor=None, appraisal_round=appraisal_round)


#
# Access and scope
#
def test_appraisal_round_list_is_scoped_to_members_change(api_client, branch_tree, secretary, three):
    member_with_user(branch_tree["station_b"])
    mine = make_round(branch_tree["station_a"])
    sibling = make_round(branch_tree["station_b"])
    api_client.force_authenticate(secretary)

    response = api_client.get(LIST)

    assert response.status_code == HTTPStatus.OK
    assert [row["id"] for row in response.json()["results"]] == [str(mine.pk)]
    assert api_client.get(_detail(sibling)).json()["code"] == "not_found"
    assert api_client.get(_detail(sibling)).status_code == HTTPStatus.NOT_FOUND
    assert api_client.get(_detail(mine)).status_code == HTTPStatus.OK


def test_appraisal_round_api_refuses_roles_without_members_change(api_client, branch_tree, role_at, three):
    appraisal_round = make_round(branch_tree["station_a"])
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)  # reads members, may not appraise them
    api_client.force_authenticate(organiser)
    assert api_client.get(LIST).status_code == HTTPStatus.FORBIDDEN
    assert api_client.get(_detail(appraisal_round)).status_code == HTTPStatus.FORBIDDEN

    api_client.force_authenticate(three[0].user)  # an appraised member: their own page, not the API
    assert api_client.get(LIST).json()["code"] == "permission_denied"


def test_appraisal_round_api_needs_authentication(api_client):
    response = api_client.get(LIST)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["code"] == "not_authenticated"


def test_appraisal_round_detail_malformed_id_is_404(api_client, secretary):
    api_client.force_authenticate(secretary)
    assert api_client.get(reverse("api:appraisal-round-detail", kwargs={"pk": "nope"})).status_code == 404


#
# Representation
#
def test_appraisal_round_open_shows_counts_but_no_grades(api_client, branch, secretary, three):
    appraisal_round = make_round(branch)
    appraisal_actions.appraisal_self_assess(actor=three[0].user, appraisal_round=appraisal_round, text="Did my part.")
    appraisal_actions.appraisal_rate(
        actor=three[0].user, appraisal_round=appraisal_round, ratings={subject_of(appraisal_round, three[1]).pk: E}
    )
    api_client.force_authenticate(secretary)

    response = api_client.get(_detail(appraisal_round))

    assert response.status_code == HTTPStatus.OK
    assert response["ETag"] == f'W/"{appraisal_round.version}"'
    data = response.json()
    assert data["status"] == AppraisalStatus.OPEN
    assert data["appraised_count"] == 3
    assert data["self_assessments_submitted"] == 1
    assert data["graded_count"] == 0
    assert data["results"] is None


def test_appraisal_round_grades_hidden_until_closed(api_client, branch, secretary, three):
    appraisal_round = make_round(branch)
    appraisal_actions.appraisal_rating_close(actor=secretary, appraisal_round=appraisal_round)
    for member in three:
        appraisal_actions.appraisal_grade(actor=secretary, appraisal_round=appraisal_round, member=member, grade=E)
    api_client.force_authenticate(secretary)

    response = api_client.get(_detail(appraisal_round))

    data = response.json()
    assert data["status"] == AppraisalStatus.RATING_CLOSED
    assert data["graded_count"] == 3  # how many, not which grade
    assert data["results"] is None
    assert f'"{E.value}"' not in response.content.decode()


def test_appraisal_round_closed_full_payload(api_client, branch, secretary, three):
    appraisal_round = _closed_round(branch, three, grades={0: E})
    api_client.force_authenticate(secretary)

    data = api_client.get(_detail(appraisal_round)).json()

    appraisal_round.refresh_from_db()
    first, second, third = sorted(three, key=lambda m: (m.name_pinyin, m.name, subject_of(appraisal_round, m).pk))
    ratings_of = {three[1].pk: E, three[2].pk: Q}  # three[0] rated three[1] E, three[1] rated three[2] Q

    def counts(member):
        grade = ratings_of.get(member.pk)
        return {g.value: int(g == grade) for g in GRADES}

    def final(member):
        return E.value if member == three[0] else Q.value

    assert data == {
        "id": str(appraisal_round.pk),
        "version": appraisal_round.version,
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
        "branch": str(branch.pk),
        "external_ref": None,
        "year": appraisal_round.year,
        "status": "closed",
        "self_assessment_due": appraisal_round.self_assessment_due.isoformat(),
        "rating_due": appraisal_round.rating_due.isoformat(),
        "excellent_cap_percent": appraisal_round.excellent_cap_percent,
        "opened_at": data["opened_at"],
        "closed_at": data["closed_at"],
        "appraised_count": 3,
        "self_assessments_submitted": 0,
        "graded_count": 3,
        "results": [
            {"member": str(m.pk), "name": m.name, "final_grade": final(m), "peer_ratings": counts(m)}
            for m in (first, second, third)
        ],
    }
    assert datetime.datetime.fromisoformat(data["closed_at"]) == appraisal_round.closed_at


def test_appraisal_round_never_shows_raters(api_client, branch, secretary, three):
    appraisal_round = _closed_round(branch, three)
    api_client.force_authenticate(secretary)

    text = api_client.get(_detail(appraisal_round)).content.decode()
    listed = api_client.get(LIST).content.decode()

    for subject in appraisal_round.subjects.all():  # a rater is a subject: its id appears nowhere
        assert str(subject.pk) not in text
        assert str(subject.pk) not in listed
    for rating in appraisal_round.ratings.all():
        assert str(rating.pk) not in text
    assert "rater" not in text
    assert "rater" not in listed


#
# Filters
#
def test_appraisal_round_list_filters(api_client, branch_tree, role_at, three):
    member_with_user(branch_tree["station_b"])
    officer = role_at(branch_tree["district"], Role.OFFICER)
    a_2024 = make_round(branch_tree["station_a"], year=2024, open_it=False)
    a_now = make_round(branch_tree["station_a"])
    b_now = make_round(branch_tree["station_b"])
    api_client.force_authenticate(officer)

    def ids(**params):
        response = api_client.get(LIST, params)
        assert response.status_code == HTTPStatus.OK, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {str(a_2024.pk), str(a_now.pk), str(b_now.pk)}
    assert ids(branch=branch_tree["station_b"].pk) == {str(b_now.pk)}
    assert ids(branch=branch_tree["delivery"].pk) == {str(a_2024.pk), str(a_now.pk), str(b_now.pk)}
    assert ids(year=2024) == {str(a_2024.pk)}
    assert ids(status="draft") == {str(a_2024.pk)}
    assert ids(updated_since=b_now.updated_at.isoformat()) == {str(b_now.pk)}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "finished"}, "status"), ({"year": "soon"}, "year"), ({"branch": "x"}, "branch")],
)
def test_appraisal_round_list_rejects_bad_filters(api_client, secretary, params, field):
    api_client.force_authenticate(secretary)
    response = api_client.get(LIST, params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]


#
# Query counts
#
def test_appraisal_round_list_query_count_does_not_grow_with_rounds(api_client, branch, secretary, three):
    api_client.force_authenticate(secretary)
    _closed_round(branch, three, year=2020)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(LIST).status_code == HTTPStatus.OK
    _closed_round(branch, three, year=2021)
    for year in range(2022, 2025):
        make_round(branch, year=year)
    clear_scope_cache(secretary)  # force_authenticate keeps the user object: read its grants again, as at first

    with CaptureQueriesContext(connection) as many:
        response = api_client.get(LIST)

    assert len(response.json()["results"]) == 5
    assert len(many) == len(few)


def test_appraisal_round_query_count_does_not_grow_with_members(
    api_client, branch_tree, role_at, django_assert_num_queries
):
    officer = role_at(branch_tree["district"], Role.OFFICER)
    api_client.force_authenticate(officer)
    small = [member_with_user(branch_tree["station_a"]) for _ in range(3)]
    large = [member_with_user(branch_tree["station_b"]) for _ in range(30)]
    small_round = _closed_round(branch_tree["station_a"], small)
    large_round = _closed_round(branch_tree["station_b"], large)
    with CaptureQueriesContext(connection) as few:
        assert len(api_client.get(_detail(small_round)).json()["results"]) == 3
    clear_scope_cache(officer)  # force_authenticate keeps the user object: read its grants again, as at first

    with django_assert_num_queries(len(few)):
        assert len(api_client.get(_detail(large_round)).json()["results"]) == 30
