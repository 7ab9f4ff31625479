from http import HTTPStatus

import pytest
from django.urls import reverse

from branches.choices import Role
from members.actions.notices import notice_attachment_add, notice_mark_read
from members.models.notices import NoticeAudience
from tests.notices.factories import PDF_BYTES, NoticeFactory, move_window, pdf_upload, published_notice

pytestmark = pytest.mark.django_db

LIST = "api:notice-list"


def _detail(notice):
    return reverse("api:notice-detail", kwargs={"pk": notice.pk})


def test_staff_list_is_scoped_with_read_count_and_attachments(api_client, branch_tree, secretary, member_a):
    inside = published_notice(branch=branch_tree["station_a"], actor=secretary)
    draft = NoticeFactory(branch=branch_tree["delivery"], actor=secretary)
    outside = published_notice(branch=branch_tree["building"])
    file = notice_attachment_add(actor=secretary, notice=inside, upload=pdf_upload())
    notice_mark_read(user=member_a.user, notice=inside)
    api_client.force_authenticate(secretary)
    response = api_client.get(reverse(LIST))
    assert response.status_code == HTTPStatus.OK
    rows = {r["id"]: r for r in response.json()["results"]}
    assert set(rows) == {str(inside.pk), str(draft.pk)}
    row = rows[str(inside.pk)]
    assert row["read_count"] == 1
    assert row["branch"] == str(branch_tree["station_a"].pk)
    assert row["status"] == "published"
    assert row["audience"] == "members"
    assert row["category"] == "decision"
    assert row["version"] == 3  # created, published, attachment
    [attachment] = row["attachments"]
    assert attachment["name"] == "decision.pdf"
    assert attachment["size"] == len(PDF_BYTES)
    download = api_client.get(attachment["url"])
    assert download.status_code == HTTPStatus.OK
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert api_client.get(_detail(outside)).status_code == HTTPStatus.NOT_FOUND
    other_file = notice_attachment_add(actor=None, notice=outside, upload=pdf_upload())
    url = reverse("api:notice-attachment", kwargs={"pk": outside.pk, "attachment_pk": other_file.pk})
    assert api_client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert file.pk != other_file.pk


def test_sibling_secretary_sees_none_of_the_other_branch(api_client, branch_tree, secretary, role_at):
    notice = published_notice(branch=branch_tree["station_a"], actor=secretary)
    sibling = role_at(branch_tree["station_b"], Role.SECRETARY)
    api_client.force_authenticate(sibling)
    assert api_client.get(reverse(LIST)).json()["results"] == []
    response = api_client.get(_detail(notice))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "not_found"


def test_member_sees_only_open_notices_of_their_branches(api_client, branch_tree, secretary, member_a):
    own = published_notice(branch=branch_tree["station_a"], actor=secretary)
    above = published_notice(branch=branch_tree["delivery"], actor=secretary, audience=NoticeAudience.PUBLIC)
    sibling = published_notice(branch=branch_tree["station_b"], actor=secretary)
    expired = move_window(
        published_notice(branch=branch_tree["station_a"], actor=secretary), start_days=-3, end_days=-1
    )
    draft = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    api_client.force_authenticate(member_a.user)
    results = api_client.get(reverse(LIST)).json()["results"]
    assert {r["id"] for r in results} == {str(own.pk), str(above.pk)}
    assert all(r["read_count"] is None for r in results)
    for hidden in (sibling, expired, draft):
        assert api_client.get(_detail(hidden)).status_code == HTTPStatus.NOT_FOUND


def test_user_without_role_or_member_record_is_403(api_client, user):
    api_client.force_authenticate(user)
    response = api_client.get(reverse(LIST))
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_anonymous_is_401(api_client):
    assert api_client.get(reverse(LIST)).status_code == HTTPStatus.UNAUTHORIZED


def test_filters_by_status_and_branch_subtree(api_client, branch_tree, secretary):
    published = published_notice(branch=branch_tree["station_a"], actor=secretary)
    draft = NoticeFactory(branch=branch_tree["station_b"], actor=secretary)
    api_client.force_authenticate(secretary)
    ids = [r["id"] for r in api_client.get(reverse(LIST), {"status": "draft"}).json()["results"]]
    assert ids == [str(draft.pk)]
    ids = [r["id"] for r in api_client.get(reverse(LIST), {"branch": branch_tree["station_a"].pk}).json()["results"]]
    assert ids == [str(published.pk)]
    response = api_client.get(reverse(LIST), {"status": "bogus"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "status" in response.json()["errors"]


def test_list_query_count_is_the_same_for_one_and_many_rows(
    api_client, branch_tree, secretary, member_a, django_assert_num_queries
):
    notice = published_notice(branch=branch_tree["station_a"], actor=secretary)
    notice_attachment_add(actor=secretary, notice=notice, upload=pdf_upload())
    api_client.force_authenticate(secretary)
    api_client.get(reverse(LIST))  # the role grants are read once per user object
    with django_assert_num_queries(2):  # notices (scope and read count in the query), attachments
        response = api_client.get(reverse(LIST))
    assert len(response.json()["results"]) == 1
    for _i in range(6):
        other = published_notice(branch=branch_tree["delivery"], actor=secretary)
        notice_attachment_add(actor=secretary, notice=other, upload=pdf_upload())
        notice_mark_read(user=member_a.user, notice=other)
    with django_assert_num_queries(2):
        response = api_client.get(reverse(LIST))
    assert len(response.json()["results"]) == 7


def test_member_list_query_count_is_the_same_for_one_and_many_rows(
    api_client, branch_tree, secretary, member_a, django_assert_num_queries
):
    published_notice(branch=branch_tree["station_a"], actor=secretary)
    api_client.force_authenticate(member_a.user)
    api_client.get(reverse(LIST))
    # grants (cached), member lookup in the permission and in the queryset, notices, attachments
    with django_assert_num_queries(4):
        response = api_client.get(reverse(LIST))
    assert len(response.json()["results"]) == 1
    for _i in range(5):
        published_notice(branch=branch_tree["delivery"], actor=secretary)
    with django_assert_num_queries(4):
        response = api_client.get(reverse(LIST))
    assert len(response.json()["results"]) == 6


def test_attachment_with_a_malformed_id_is_404(api_client, branch_tree, secretary):
    notice = published_notice(branch=branch_tree["station_a"], actor=secretary)
    api_client.force_authenticate(secretary)
    url = reverse("api:notice-attachment", kwargs={"pk": notice.pk, "attachment_pk": "-" * 36})
    response = api_client.get(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "not_found"
