import datetime
import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.choices import Role
from core.models import Notification
from members.actions import appraisal as appraisal_actions
from members.models import AppraisalRound, PeerRating
from members.models.appraisal import AppraisalStatus
from tests.appraisal.helpers import GRADES, make_round, member_with_user, subject_of
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

E, Q, B, U = GRADES


def _table(html: str) -> str:
    return re.search(r'<table id="subject-table".*?</table>', html, re.S).group(0)


def _row(html: str, subject) -> str:
    return re.search(rf'<tr id="subject-{subject.pk}".*?</tr>', html, re.S).group(0)


#
# Secretary: rounds list
#
def test_round_list_is_scoped(client, branch_tree, secretary):
    member_with_user(branch_tree["station_a"])
    member_with_user(branch_tree["station_b"])
    mine = make_round(branch_tree["station_a"])
    sibling = make_round(branch_tree["station_b"])
    client.force_login(secretary)
    response = client.get(reverse("appraisal:round_list"))
    assert response.status_code == HTTPStatus.OK
    assert f'id="round-{mine.pk}"' in response.text
    assert f'id="round-{sibling.pk}"' not in response.text
    assert client.get(reverse("appraisal:round_detail", args=[sibling.pk])).status_code == HTTPStatus.NOT_FOUND
    grade_url = reverse("appraisal:subject_grade", args=[sibling.pk, sibling.subjects.get().pk])
    assert client.post(grade_url, {}).status_code == HTTPStatus.NOT_FOUND
    close_url = reverse("appraisal:round_action", args=[sibling.pk, "close"])
    assert client.post(close_url).status_code == HTTPStatus.NOT_FOUND


def test_round_list_query_count_does_not_grow(client, branch_tree, role_at, django_assert_num_queries):
    officer = role_at(branch_tree["district"], Role.OFFICER)
    client.force_login(officer)
    member_with_user(branch_tree["station_a"])
    make_round(branch_tree["station_a"], year=2020)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("appraisal:round_list")).status_code == HTTPStatus.OK
    for year in range(2021, 2026):
        make_round(branch_tree["station_a"], year=year)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("appraisal:round_list"))
    assert response.text.count('<tr id="round-') == 6


def test_round_list_sends_members_without_scope_to_their_own_page(client, three):
    client.force_login(three[0].user)
    response = client.get(reverse("appraisal:round_list"))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("appraisal:my_list")
    assert client.get(reverse("appraisal:round_create")).status_code == HTTPStatus.FORBIDDEN


#
# Secretary: open a round
#
def _form(branch, **overrides):
    today = timezone.localdate()
    return {
        "branch": str(branch.pk),
        "year": today.year,
        "self_assessment_due": (today + datetime.timedelta(days=7)).isoformat(),
        "rating_due": (today + datetime.timedelta(days=14)).isoformat(),
        "excellent_cap_percent": 30,
        "note": "",
        **overrides,
    }


def test_round_create_page_opens_a_round(client, branch, secretary, three, django_capture_on_commit_callbacks):
    client.force_login(secretary)
    assert client.get(reverse("appraisal:round_create")).status_code == HTTPStatus.OK
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("appraisal:round_create"), {**_form(branch), "open": "1"})
    appraisal_round = AppraisalRound.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("appraisal:round_detail", args=[appraisal_round.pk])
    assert appraisal_round.status == AppraisalStatus.OPEN
    assert appraisal_round.subjects.count() == 3
    assert Notification.objects.filter(kind="members.appraisal.opened").count() == 3


def test_round_create_page_draft_and_duplicate_year(client, branch, secretary, three):
    client.force_login(secretary)
    client.post(reverse("appraisal:round_create"), {**_form(branch), "draft": "1"})
    assert AppraisalRound.objects.get().status == AppraisalStatus.DRAFT
    response = client.post(reverse("appraisal:round_create"), {**_form(branch), "open": "1"})
    assert response.status_code == HTTPStatus.OK
    assert "already has an appraisal round for this year" in response.text
    assert AppraisalRound.objects.count() == 1


def test_round_create_page_failed_opening_leaves_no_draft(client, branch, secretary):
    client.force_login(secretary)
    response = client.post(reverse("appraisal:round_create"), {**_form(branch), "open": "1"})
    assert response.status_code == HTTPStatus.OK
    assert "no members in normal standing" in response.text
    assert not AppraisalRound.objects.exists()


def test_round_create_page_refuses_a_branch_outside_scope(client, branch_tree, secretary):
    client.force_login(secretary)
    response = client.post(reverse("appraisal:round_create"), {**_form(branch_tree["station_b"]), "open": "1"})
    assert response.status_code == HTTPStatus.OK
    assert "field-branch" in response.text
    assert "has-error" in response.text
    assert not AppraisalRound.objects.exists()


#
# Secretary: the round sheet
#
def _round_with_members(branch, count):
    for _ in range(count):
        MemberFactory(branch=branch)
    raters = [member_with_user(branch) for _ in range(2)]
    appraisal_round = make_round(branch)
    subjects = list(appraisal_round.subjects.all())
    for rater in raters:
        me = subject_of(appraisal_round, rater)
        appraisal_actions.appraisal_rate(
            actor=rater.user, appraisal_round=appraisal_round, ratings={s.pk: Q for s in subjects if s != me}
        )
    appraisal_actions.appraisal_self_assess(actor=raters[0].user, appraisal_round=appraisal_round, text="Did well.")
    return appraisal_actions.appraisal_rating_close(actor=None, appraisal_round=appraisal_round)


def test_round_detail_query_count_does_not_grow_with_members(client, branch_tree, role_at, django_assert_num_queries):
    small = _round_with_members(branch_tree["station_a"], 1)  # 3 members appraised
    large = _round_with_members(branch_tree["station_b"], 28)  # 30 members appraised
    officer = role_at(branch_tree["district"], Role.OFFICER)
    client.force_login(officer)
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("appraisal:round_detail", args=[small.pk]))
    assert response.text.count('class="appraisal-row"') == 3
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("appraisal:round_detail", args=[large.pk]))
    assert response.text.count('class="appraisal-row"') == 30
    assert len(few.captured_queries) <= 8


def test_round_detail_shows_counts_and_self_assessment(client, branch, secretary, three):
    appraisal_round = make_round(branch)
    a, b, c = three
    target = subject_of(appraisal_round, c)
    appraisal_actions.appraisal_rate(actor=a.user, appraisal_round=appraisal_round, ratings={target.pk: E})
    appraisal_actions.appraisal_rate(actor=b.user, appraisal_round=appraisal_round, ratings={target.pk: U})
    appraisal_actions.appraisal_self_assess(actor=c.user, appraisal_round=appraisal_round, text="I led the station.")
    client.force_login(secretary)
    response = client.get(reverse("appraisal:round_detail", args=[appraisal_round.pk]))
    row = _row(response.text, target)
    assert '<td class="appraisal-count" data-grade="excellent">1</td>' in row
    assert '<td class="appraisal-count" data-grade="unqualified">1</td>' in row
    assert '<td class="appraisal-count" data-grade="qualified">0</td>' in row
    assert "I led the station." in row
    assert 'id="rater-count">2<' in response.text


def test_round_detail_never_tells_who_rated_whom(client, branch, secretary, three):
    """The sheet with A's rating of C is the same as with B's: nothing on the page depends on the rater."""
    appraisal_round = make_round(branch)
    a, b, c = three
    target = subject_of(appraisal_round, c).pk
    client.force_login(secretary)
    url = reverse("appraisal:round_detail", args=[appraisal_round.pk])
    appraisal_actions.appraisal_rate(actor=a.user, appraisal_round=appraisal_round, ratings={target: E})
    by_a = client.get(url).text
    PeerRating.objects.all().delete()
    appraisal_actions.appraisal_rate(actor=b.user, appraisal_round=appraisal_round, ratings={target: E})
    by_b = client.get(url).text
    assert _table(by_a) == _table(by_b)
    rating = PeerRating.objects.get()
    assert str(rating.pk) not in by_b


def test_grade_by_htmx_returns_the_row_and_the_summary(client, branch, secretary, three):
    appraisal_round = make_round(branch)
    appraisal_actions.appraisal_rating_close(actor=secretary, appraisal_round=appraisal_round)
    subject = subject_of(appraisal_round, three[0])
    client.force_login(secretary)
    url = reverse("appraisal:subject_grade", args=[appraisal_round.pk, subject.pk])
    prefix = f"g{subject.pk.hex}"
    response = client.post(url, {f"{prefix}-grade": E, f"{prefix}-reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    assert response.text.lstrip().startswith(f'<tr id="subject-{subject.pk}"')
    assert 'hx-swap-oob="true"' in response.text
    assert 'id="excellent-cap-warning"' in response.text  # 1 of 3 is over 30 %
    subject.refresh_from_db()
    assert subject.final_grade == E


def test_grade_unqualified_without_reason_shows_the_error(client, branch, secretary, three):
    appraisal_round = make_round(branch)
    appraisal_actions.appraisal_rating_close(actor=secretary, appraisal_round=appraisal_round)
    subject = subject_of(appraisal_round, three[0])
    client.force_login(secretary)
    url = reverse("appraisal:subject_grade", args=[appraisal_round.pk, subject.pk])
    prefix = f"g{subject.pk.hex}"
    response = client.post(url, {f"{prefix}-grade": U, f"{prefix}-reason": ""}, HTTP_HX_REQUEST="true")
    assert "Give a written reason" in response.text
    subject.refresh_from_db()
    assert subject.final_grade == ""
    # Without htmx: back to the sheet with the message.
    response = client.post(url, {f"{prefix}-grade": U, f"{prefix}-reason": ""}, follow=True)
    assert "Give a written reason" in response.text


def test_round_actions_end_rating_and_close(client, branch, secretary, three):
    appraisal_round = make_round(branch)
    client.force_login(secretary)
    client.post(reverse("appraisal:round_action", args=[appraisal_round.pk, "end-rating"]))
    appraisal_round.refresh_from_db()
    assert appraisal_round.status == AppraisalStatus.RATING_CLOSED
    response = client.post(reverse("appraisal:round_action", args=[appraisal_round.pk, "close"]), follow=True)
    assert "3 members have no final grade yet" in response.text
    for member in three:
        appraisal_actions.appraisal_grade(actor=secretary, appraisal_round=appraisal_round, member=member, grade=Q)
    client.post(reverse("appraisal:round_action", args=[appraisal_round.pk, "close"]))
    appraisal_round.refresh_from_db()
    assert appraisal_round.status == AppraisalStatus.CLOSED
    assert client.post(reverse("appraisal:round_action", args=[appraisal_round.pk, "nope"])).status_code == 404


#
# Member pages
#
def test_my_list_shows_open_rounds_and_final_grade_only_once_closed(client, branch, secretary, three):
    make_round(branch, actor=secretary, year=2025, open_it=False)  # a draft is not shown
    appraisal_round = make_round(branch, actor=secretary)
    me = three[0]
    client.force_login(me.user)
    response = client.get(reverse("appraisal:my_list"))
    assert response.text.count('id="my-round-') == 1
    assert f'id="my-round-{appraisal_round.pk}"' in response.text

    appraisal_actions.appraisal_rating_close(actor=secretary, appraisal_round=appraisal_round)
    for member in three:
        appraisal_actions.appraisal_grade(
            actor=secretary, appraisal_round=appraisal_round, member=member, grade=E if member == me else Q
        )
    page = client.get(reverse("appraisal:my_round", args=[appraisal_round.pk])).text
    assert 'id="my-final-grade"' not in page  # graded, but not yet closed
    appraisal_actions.appraisal_round_close(actor=secretary, appraisal_round=appraisal_round)
    page = client.get(reverse("appraisal:my_round", args=[appraisal_round.pk])).text
    assert 'id="my-final-grade"' in page
    assert "Excellent" in page
    assert "Excellent" in client.get(reverse("appraisal:my_list")).text


def test_my_round_self_assessment_form(client, branch, three):
    appraisal_round = make_round(branch)
    me = three[0]
    client.force_login(me.user)
    url = reverse("appraisal:my_round", args=[appraisal_round.pk])
    page = client.get(url).text
    assert 'id="self-assessment-form"' in page
    assert 'id="rating-sheet-link"' in page
    response = client.post(url, {"self_assessment": "I studied 40 hours."})
    assert response.status_code == HTTPStatus.FOUND
    assert subject_of(appraisal_round, me).self_assessment == "I studied 40 hours."
    response = client.post(url, {"self_assessment": ""})
    assert response.status_code == HTTPStatus.OK
    assert "errorlist" in response.text

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    AppraisalRound.objects.filter(pk=appraisal_round.pk).update(self_assessment_due=yesterday)
    page = client.get(url).text
    assert 'id="self-assessment-form"' not in page
    assert "I studied 40 hours." in page
    response = client.post(url, {"self_assessment": "late edit"})
    assert "deadline" in response.text
    assert subject_of(appraisal_round, me).self_assessment == "I studied 40 hours."


def test_my_pages_are_404_for_rounds_i_am_not_in(client, branch_tree, three):
    member_with_user(branch_tree["station_b"])
    other = make_round(branch_tree["station_b"])
    client.force_login(three[0].user)
    assert client.get(reverse("appraisal:my_round", args=[other.pk])).status_code == HTTPStatus.NOT_FOUND
    assert client.get(reverse("appraisal:rating_sheet", args=[other.pk])).status_code == HTTPStatus.NOT_FOUND


def test_rating_sheet_saves_all_rows_in_one_post(client, branch, three, django_assert_max_num_queries):
    appraisal_round = make_round(branch)
    me, a, b = three
    sa, sb = subject_of(appraisal_round, a), subject_of(appraisal_round, b)
    client.force_login(me.user)
    url = reverse("appraisal:rating_sheet", args=[appraisal_round.pk])
    page = client.get(url).text
    assert f'id="rate-{sa.pk}"' in page
    assert f'id="rate-{sb.pk}"' in page
    assert f'id="rate-{subject_of(appraisal_round, me).pk}"' not in page  # nobody rates themself
    assert page.count('type="radio"') == 8
    response = client.post(url, {f"r-{sa.pk}": E, f"r-{sb.pk}": B})
    assert response.status_code == HTTPStatus.FOUND
    rows = dict(PeerRating.objects.values_list("ratee_id", "grade"))
    assert rows == {sa.pk: E, sb.pk: B}
    # Changed in a second POST: still one rating per pair; the sheet shows the choices made.
    client.post(url, {f"r-{sa.pk}": Q})
    assert dict(PeerRating.objects.values_list("ratee_id", "grade")) == {sa.pk: Q, sb.pk: B}
    page = client.get(url).text
    assert re.search(rf'name="r-{sa.pk}" value="qualified"[^>]*checked', page)


def test_rating_sheet_after_deadline_shows_the_error(client, branch, three):
    appraisal_round = make_round(branch)
    me, a = three[0], three[1]
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    AppraisalRound.objects.filter(pk=appraisal_round.pk).update(self_assessment_due=yesterday, rating_due=yesterday)
    client.force_login(me.user)
    url = reverse("appraisal:rating_sheet", args=[appraisal_round.pk])
    assert 'id="rating-closed"' in client.get(url).text
    response = client.post(url, {f"r-{subject_of(appraisal_round, a).pk}": E})
    assert response.status_code == HTTPStatus.OK
    assert "rating deadline" in response.text
    assert not PeerRating.objects.exists()


def test_rating_sheet_rejects_a_made_up_grade(client, branch, three):
    appraisal_round = make_round(branch)
    me, a = three[0], three[1]
    client.force_login(me.user)
    url = reverse("appraisal:rating_sheet", args=[appraisal_round.pk])
    response = client.post(url, {f"r-{subject_of(appraisal_round, a).pk}": "superb"})
    assert response.status_code == HTTPStatus.OK
    assert "errorlist" in response.text
    assert not PeerRating.objects.exists()
