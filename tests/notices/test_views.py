import datetime
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.choices import Role
from core.models import AuditEntry
from members.actions.notices import notice_attachment_add, notice_withdraw
from members.models import Notice, NoticeRead
from members.models.notices import NoticeAudience, NoticeStatus
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory
from tests.notices.factories import (
    PDF_BYTES,
    NoticeFactory,
    exe_upload,
    move_window,
    pdf_upload,
    published_notice,
)

pytestmark = pytest.mark.django_db


def _local(dt: datetime.datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


#
# Members
#
def test_member_sees_notice_and_opening_it_marks_it_read(client, branch_tree, secretary, member_a):
    notice = published_notice(
        branch=branch_tree["delivery"], actor=secretary, body="<script>alert(1)</script>\n\nSecond"
    )
    client.force_login(member_a.user)
    response = client.get(reverse("notices:notice_mine"))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert notice.title in html
    assert "notice-unread" in html
    response = client.get(reverse("notices:notice_detail", kwargs={"pk": notice.pk}))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "&lt;script&gt;" in html
    assert "<script>alert" not in html
    assert "<p>Second</p>" in html
    assert NoticeRead.objects.filter(notice=notice, user=member_a.user).count() == 1
    client.get(reverse("notices:notice_detail", kwargs={"pk": notice.pk}))
    assert NoticeRead.objects.filter(notice=notice).count() == 1
    assert "notice-unread" not in client.get(reverse("notices:notice_mine")).content.decode()


def test_outsider_member_gets_a_plain_404(client, branch_tree, secretary, member_b):
    notice = published_notice(branch=branch_tree["station_a"], actor=secretary)
    client.force_login(member_b.user)
    response = client.get(reverse("notices:notice_detail", kwargs={"pk": notice.pk}))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "notice-unavailable" not in response.content.decode()
    assert notice.title not in client.get(reverse("notices:notice_mine")).content.decode()


def test_draft_is_a_plain_404_for_members(client, branch_tree, secretary, member_a):
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    client.force_login(member_a.user)
    response = client.get(reverse("notices:notice_detail", kwargs={"pk": notice.pk}))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "notice-unavailable" not in response.content.decode()


@pytest.mark.parametrize(
    ("window", "status", "state", "phrase"),
    [
        ({"start_days": 2}, HTTPStatus.NOT_FOUND, "pending", "not shown yet"),
        ({"start_days": -3, "end_days": -1}, HTTPStatus.GONE, "expired", "has expired"),
        (None, HTTPStatus.GONE, "withdrawn", "withdrawn"),
    ],
)
def test_notice_outside_its_window_says_which(client, branch_tree, secretary, member_a, window, status, state, phrase):
    notice = published_notice(branch=branch_tree["station_a"], actor=secretary, audience=NoticeAudience.PUBLIC)
    if window is None:
        notice_withdraw(actor=secretary, notice=notice)
    else:
        move_window(notice, **window)
    client.force_login(member_a.user)
    response = client.get(reverse("notices:notice_detail", kwargs={"pk": notice.pk}))
    assert response.status_code == status
    html = response.content.decode()
    assert f'data-state="{state}"' in html
    assert phrase in html
    assert notice.body.splitlines()[0] not in html  # never the content
    assert not NoticeRead.objects.exists()
    client.logout()
    response = client.get(reverse("public_notices:notice_detail", kwargs={"pk": notice.pk}))
    assert response.status_code == status
    assert f'data-state="{state}"' in response.content.decode()
    # The secretary still reaches it on the managing page.
    client.force_login(secretary)
    assert client.get(reverse("notices:notice_manage", kwargs={"pk": notice.pk})).status_code == HTTPStatus.OK


def test_member_without_record_sees_a_note(client, user):
    client.force_login(user)
    response = client.get(reverse("notices:notice_mine"))
    assert response.status_code == HTTPStatus.OK
    assert "my-notices-no-member" in response.content.decode()


def test_my_notices_query_count_does_not_grow(client, branch_tree, secretary, member_a, django_assert_num_queries):
    published_notice(branch=branch_tree["station_a"], actor=secretary)
    client.force_login(member_a.user)
    client.get(reverse("notices:notice_mine"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("notices:notice_mine"))
    for _i in range(4):
        notice = published_notice(branch=branch_tree["delivery"], actor=secretary)
        notice_attachment_add(actor=secretary, notice=notice, upload=pdf_upload())
    with django_assert_num_queries(len(one)):
        response = client.get(reverse("notices:notice_mine"))
    assert response.content.decode().count('class="notice-item') == 5


#
# The public
#
def test_public_page_without_login_shows_only_public_notices_in_window(client, branch_tree, secretary):
    public = published_notice(branch=branch_tree["station_a"], actor=secretary, audience=NoticeAudience.PUBLIC)
    members_only = published_notice(branch=branch_tree["station_a"], actor=secretary, title="Members only")
    expired = move_window(
        published_notice(branch=branch_tree["station_b"], actor=secretary, audience=NoticeAudience.PUBLIC),
        start_days=-3,
        end_days=-1,
    )
    response = client.get(reverse("public_notices:notice_list"))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert public.title in html
    assert members_only.title not in html
    assert expired.title not in html
    assert client.get(reverse("public_notices:notice_detail", kwargs={"pk": public.pk})).status_code == 200
    response = client.get(reverse("public_notices:notice_detail", kwargs={"pk": members_only.pk}))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "notice-unavailable" not in response.content.decode()


def test_public_list_query_count_does_not_grow(client, branch_tree, secretary, django_assert_num_queries):
    published_notice(branch=branch_tree["station_a"], actor=secretary, audience=NoticeAudience.PUBLIC)
    with django_assert_num_queries(2):  # notices with their branch, attachments
        client.get(reverse("public_notices:notice_list"))
    for _i in range(5):
        published_notice(branch=branch_tree["station_b"], actor=secretary, audience=NoticeAudience.PUBLIC)
    with django_assert_num_queries(2):
        client.get(reverse("public_notices:notice_list"))


def test_attachments_downloadable_by_who_may_see_the_notice(client, branch_tree, secretary, member_a, member_b):
    public = published_notice(branch=branch_tree["station_a"], actor=secretary, audience=NoticeAudience.PUBLIC)
    private = published_notice(branch=branch_tree["station_a"], actor=secretary)
    public_file = notice_attachment_add(actor=secretary, notice=public, upload=pdf_upload())
    private_file = notice_attachment_add(actor=secretary, notice=private, upload=pdf_upload())
    url = reverse("public_notices:notice_attachment", kwargs={"pk": public.pk, "attachment_pk": public_file.pk})
    page = client.get(reverse("public_notices:notice_detail", kwargs={"pk": public.pk})).content.decode()
    assert f'href="{url}"' in page  # the public page links its files through the public route
    assert f'href="{reverse("public_notices:notice_list")}"' in page
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["X-Content-Type-Options"] == "nosniff"
    # A members' notice's file is not on the public side, whatever the ids.
    url = reverse("public_notices:notice_attachment", kwargs={"pk": private.pk, "attachment_pk": private_file.pk})
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    private_url = reverse("notices:notice_attachment", kwargs={"pk": private.pk, "attachment_pk": private_file.pk})
    client.force_login(member_a.user)
    assert client.get(private_url).status_code == HTTPStatus.OK
    client.force_login(member_b.user)
    assert client.get(private_url).status_code == HTTPStatus.NOT_FOUND


#
# The managing side
#
def test_secretary_creates_attaches_and_publishes(client, branch_tree, secretary, member_a):
    client.force_login(secretary)
    assert client.get(reverse("notices:notice_create")).status_code == HTTPStatus.OK
    start = timezone.now() - datetime.timedelta(minutes=5)
    response = client.post(
        reverse("notices:notice_create"),
        {
            "branch": branch_tree["station_a"].pk,
            "title": "Branch assembly decision",
            "body": "Adopted.",
            "category": "decision",
            "audience": "members",
            "publish_from": _local(start),
            "publish_until": "",
        },
    )
    notice = Notice.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("notices:notice_manage", kwargs={"pk": notice.pk})
    attach = reverse("notices:notice_attach", kwargs={"pk": notice.pk})
    client.post(attach, {"file": pdf_upload()})
    assert notice.attachments.count() == 1
    response = client.post(attach, {"file": exe_upload()}, follow=True)
    assert "cannot be attached" in response.content.decode()
    assert notice.attachments.count() == 1
    client.post(reverse("notices:notice_publish", kwargs={"pk": notice.pk}))
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PUBLISHED
    response = client.get(reverse("notices:notice_manage", kwargs={"pk": notice.pk}))
    assert "notice-read-summary" in response.content.decode()
    assert member_a.name in response.content.decode()  # not read yet
    client.post(reverse("notices:notice_withdraw", kwargs={"pk": notice.pk}), {"reason": "Typo"})
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.WITHDRAWN
    assert AuditEntry.objects.filter(object_id=str(notice.pk), action="members.notice.withdrawn").exists()


def test_window_ending_before_it_starts_is_a_field_error(client, branch_tree, secretary):
    client.force_login(secretary)
    start = timezone.now() + datetime.timedelta(days=1)
    response = client.post(
        reverse("notices:notice_create"),
        {
            "branch": branch_tree["station_a"].pk,
            "title": "Decision",
            "category": "decision",
            "audience": "members",
            "publish_from": _local(start),
            "publish_until": _local(start - datetime.timedelta(hours=2)),
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "id_publish_until_errors" in response.content.decode()
    assert not Notice.objects.exists()


def test_manage_list_scope_filters_and_query_count(client, branch_tree, secretary, role_at, django_assert_num_queries):
    inside = published_notice(branch=branch_tree["station_a"], actor=secretary)
    draft = NoticeFactory(branch=branch_tree["station_b"], actor=secretary, category="other")
    outside = published_notice(branch=branch_tree["building"])
    client.force_login(secretary)
    url = reverse("notices:notice_list")
    html = client.get(url).content.decode()
    assert inside.title in html
    assert draft.title in html
    assert outside.title not in html
    html = client.get(url, {"status": "draft"}).content.decode()
    assert draft.title in html
    assert inside.title not in html
    html = client.get(url, {"category": "other"}).content.decode()
    assert draft.title in html
    assert inside.title not in html
    html = client.get(url, {"branch": branch_tree["station_a"].pk}).content.decode()
    assert inside.title in html
    assert draft.title not in html
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for _i in range(5):
        notice_attachment_add(
            actor=secretary, notice=NoticeFactory(branch=branch_tree["station_a"]), upload=pdf_upload()
        )
    with django_assert_num_queries(len(before)):
        client.get(url)
    manage = reverse("notices:notice_manage", kwargs={"pk": outside.pk})
    assert client.get(manage).status_code == HTTPStatus.NOT_FOUND
    assert client.post(reverse("notices:notice_publish", kwargs={"pk": outside.pk})).status_code == 404


def test_member_without_role_cannot_manage(client, member_a):
    client.force_login(member_a.user)
    assert client.get(reverse("notices:notice_list")).status_code == HTTPStatus.FORBIDDEN
    assert client.get(reverse("notices:notice_create")).status_code == HTTPStatus.FORBIDDEN


def test_dues_report_button_prepares_the_dues_publication(client, branch_tree, secretary):
    MemberFactory(branch=branch_tree["station_a"])
    client.force_login(secretary)
    year = timezone.localdate().year
    report = client.get(reverse("members:dues_report"), {"branch": branch_tree["station_a"].pk, "year": year})
    assert "dues-publish-form" in report.content.decode()
    response = client.post(reverse("notices:dues_publication"), {"branch": branch_tree["station_a"].pk, "year": year})
    notice = Notice.objects.get()
    assert response["Location"] == reverse("notices:notice_manage", kwargs={"pk": notice.pk})
    assert notice.category == "dues_publication"
    assert notice.attachments.count() == 1
    client.force_login(UserFactory())  # no role anywhere
    response = client.post(reverse("notices:dues_publication"), {"branch": branch_tree["station_a"].pk, "year": year})
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_organiser_is_refused_the_dues_publication_of_a_branch_they_cannot_manage(client, branch_tree, role_at):
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)
    client.force_login(organiser)
    response = client.post(reverse("notices:dues_publication"), {"branch": branch_tree["station_a"].pk, "year": 2024})
    assert response.status_code == HTTPStatus.NOT_FOUND
