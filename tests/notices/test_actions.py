import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from openpyxl import load_workbook

from branches.choices import Role
from core.exceptions import Conflict
from core.models import AuditEntry, ChangeRecord, Notification
from members.actions import dues_assess, dues_payment_record
from members.actions.notices import (
    notice_attachment_add,
    notice_mark_read,
    notice_publish,
    notice_publish_dues,
    notice_update,
    notice_withdraw,
)
from members.models import Notice, NoticeRead
from members.models.notices import NoticeAudience, NoticeCategory, NoticeStatus
from tests.members.factories import MemberFactory
from tests.notices.factories import NoticeFactory, exe_upload, move_window, pdf_upload, published_notice

pytestmark = pytest.mark.django_db


def _audit(notice, action):
    return AuditEntry.objects.filter(object_id=str(notice.pk), action=action)


#
# Drafts and the window
#
def test_notice_create_is_a_draft_owned_by_the_branch(branch_tree, secretary):
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary, title="  Decision  ")
    assert notice.status == NoticeStatus.DRAFT
    assert notice.title == "Decision"
    assert notice.version == 1
    assert ChangeRecord.objects.filter(resource="notice", object_id=notice.pk).count() == 1
    assert _audit(notice, "members.notice.created").exists()


def test_notice_create_refuses_a_window_that_ends_before_it_starts(branch_tree, secretary):
    start = timezone.now() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError) as exc:
        NoticeFactory(
            branch=branch_tree["station_a"],
            actor=secretary,
            publish_from=start,
            publish_until=start - datetime.timedelta(hours=1),
        )
    assert "publish_until" in exc.value.message_dict
    assert not Notice.objects.exists()


def test_notice_create_refuses_a_window_of_no_length(branch_tree, secretary):
    start = timezone.now() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError) as exc:
        NoticeFactory(branch=branch_tree["station_a"], actor=secretary, publish_from=start, publish_until=start)
    assert "publish_until" in exc.value.message_dict


def test_notice_window_constraint_holds_in_the_database(branch_tree):
    notice = NoticeFactory(branch=branch_tree["station_a"])
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(publish_until=notice.publish_from - datetime.timedelta(days=1))


def test_notice_create_refuses_bad_choices_and_empty_title(branch_tree, secretary):
    with pytest.raises(ValidationError) as exc:
        NoticeFactory(branch=branch_tree["station_a"], actor=secretary, title=" ", category="gossip")
    assert {"title", "category"} <= set(exc.value.message_dict)


def test_notice_create_outside_scope_is_404_and_without_change_perm_403(branch_tree, secretary, role_at):
    with pytest.raises(Http404):
        NoticeFactory(branch=branch_tree["building"], actor=secretary)
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)
    with pytest.raises(Http404):  # organisers have no notices.view either
        NoticeFactory(branch=branch_tree["station_a"], actor=organiser)


def test_dues_publication_cannot_be_public(branch_tree, secretary):
    with pytest.raises(ValidationError) as exc:
        NoticeFactory(
            branch=branch_tree["station_a"],
            actor=secretary,
            category=NoticeCategory.DUES_PUBLICATION,
            audience=NoticeAudience.PUBLIC,
        )
    assert "audience" in exc.value.message_dict


def test_notice_update_changes_a_draft_only(branch_tree, secretary):
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    notice = notice_update(actor=secretary, notice=notice, title="New title", audience=NoticeAudience.PUBLIC)
    assert (notice.title, notice.audience, notice.version) == ("New title", "public", 2)
    assert _audit(notice, "members.notice.updated").exists()
    notice_publish(actor=secretary, notice=notice)
    with pytest.raises(Conflict):
        notice_update(actor=secretary, notice=notice, title="Too late")


def test_notice_update_window_error_names_the_field(branch_tree, secretary):
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    with pytest.raises(ValidationError) as exc:
        notice_update(
            actor=secretary, notice=notice, publish_until=notice.publish_from - datetime.timedelta(minutes=1)
        )
    assert list(exc.value.message_dict) == ["publish_until"]


#
# Publishing and withdrawal
#
def test_notice_publish_opens_it_and_tells_the_subtree_once(
    branch_tree, secretary, member_a, member_b, member_building, django_capture_on_commit_callbacks
):
    notice = NoticeFactory(branch=branch_tree["delivery"], actor=secretary)
    with django_capture_on_commit_callbacks(execute=True):
        notice = notice_publish(actor=secretary, notice=notice)
    assert notice.status == NoticeStatus.PUBLISHED
    assert notice.published_by == secretary
    assert notice.published_at is not None
    assert _audit(notice, "members.notice.published").exists()
    told = set(Notification.objects.filter(kind="members.notice.published").values_list("recipient_id", flat=True))
    assert told == {member_a.user_id, member_b.user_id}  # the committee's subtree, not the building branch
    notice.refresh_from_db()
    assert notice.announced_at is not None
    with pytest.raises(Conflict):
        notice_publish(actor=secretary, notice=notice)


def test_notice_publish_with_a_future_window_waits_for_the_sweep(
    branch_tree, secretary, member_a, django_capture_on_commit_callbacks
):
    start = timezone.now() + datetime.timedelta(days=3)
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary, publish_from=start)
    with django_capture_on_commit_callbacks(execute=True):
        notice_publish(actor=secretary, notice=notice)
    assert not Notification.objects.exists()
    notice.refresh_from_db()
    assert notice.announced_at is None


def test_notice_publish_refuses_a_window_already_over(branch_tree, secretary):
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    move_window(notice, start_days=-5, end_days=-1)
    with pytest.raises(ValidationError) as exc:
        notice_publish(actor=secretary, notice=notice)
    assert "publish_until" in exc.value.message_dict
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.DRAFT


def test_notice_publish_by_an_outsider_is_refused(branch_tree, secretary, role_at):
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    organiser = role_at(branch_tree["delivery"], Role.SECRETARY)
    clerk = role_at(branch_tree["building"], Role.SECRETARY)
    with pytest.raises(Http404):
        notice_publish(actor=clerk, notice=notice)
    notice_publish(actor=organiser, notice=notice)  # a secretary above may


def test_notice_publish_by_a_viewer_without_change_is_403(branch_tree, secretary, role_at, monkeypatch):
    from branches import permissions

    viewer = role_at(branch_tree["station_a"], Role.ORGANISER)
    monkeypatch.setitem(
        permissions.ROLE_PERMISSIONS, Role.ORGANISER, permissions.ROLE_PERMISSIONS[Role.ORGANISER] | {"notices.view"}
    )
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    with pytest.raises(PermissionDenied):
        notice_publish(actor=viewer, notice=notice)


def test_notice_withdraw_hides_it_and_is_audited(branch_tree, secretary):
    notice = published_notice(branch=branch_tree["station_a"], actor=secretary)
    notice = notice_withdraw(actor=secretary, notice=notice, reason="Wrong date")
    assert notice.status == NoticeStatus.WITHDRAWN
    assert notice.window_state() == "withdrawn"
    assert not Notice.objects.visible_at().filter(pk=notice.pk).exists()
    entry = _audit(notice, "members.notice.withdrawn").get()
    assert entry.data == {"reason": "Wrong date"}
    with pytest.raises(Conflict):
        notice_withdraw(actor=secretary, notice=notice)


def test_notice_withdraw_refuses_a_draft(branch_tree, secretary):
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    with pytest.raises(Conflict):
        notice_withdraw(actor=secretary, notice=notice)


#
# Read receipts
#
def test_notice_mark_read_twice_keeps_one_receipt(branch_tree, secretary, member_a):
    notice = published_notice(branch=branch_tree["station_a"], actor=secretary)
    first = notice_mark_read(user=member_a.user, notice=notice)
    second = notice_mark_read(user=member_a.user, notice=notice)
    assert first.pk == second.pk
    assert first.read_at == second.read_at
    assert NoticeRead.objects.filter(notice=notice).count() == 1


def test_notice_mark_read_outside_the_window_is_refused(branch_tree, secretary, member_a):
    notice = published_notice(branch=branch_tree["station_a"], actor=secretary)
    move_window(notice, start_days=-3, end_days=-1)
    with pytest.raises(Conflict):
        notice_mark_read(user=member_a.user, notice=notice)
    assert not NoticeRead.objects.exists()


#
# Attachments
#
def test_notice_attachment_add_checks_content_not_name(branch_tree, secretary):
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    attachment = notice_attachment_add(actor=secretary, notice=notice, upload=pdf_upload())
    assert (attachment.name, attachment.content_type) == ("decision.pdf", "application/pdf")
    assert attachment.size > 0
    notice.refresh_from_db()
    assert notice.version == 2  # attachments are part of the synced record
    with pytest.raises(ValidationError) as exc:
        notice_attachment_add(actor=secretary, notice=notice, upload=exe_upload())
    assert "file" in exc.value.message_dict
    assert notice.attachments.count() == 1


def test_notice_attachment_add_refuses_a_name_that_disagrees_and_too_large(branch_tree, secretary, settings):
    notice = NoticeFactory(branch=branch_tree["station_a"], actor=secretary)
    with pytest.raises(ValidationError):
        notice_attachment_add(actor=secretary, notice=notice, upload=pdf_upload("photo.png"))
    settings.NOTICES_ATTACHMENT_MAX_BYTES = 16
    with pytest.raises(ValidationError) as exc:
        notice_attachment_add(actor=secretary, notice=notice, upload=pdf_upload())
    assert "MB" in exc.value.message_dict["file"][0]


#
# The yearly dues publication
#
def test_notice_publish_dues_builds_a_members_draft_from_the_report(branch_tree, secretary):
    branch = branch_tree["station_a"]
    payer = MemberFactory(branch=branch, name="陈静")
    MemberFactory(branch=branch, name="=HYPERLINK")
    MemberFactory(branch=branch_tree["station_b"], name="刘洋")  # another branch: not in the publication
    year = timezone.localdate().year - 1
    dues_assess(actor=secretary, member=payer, year=year, base_kind="salary", base_amount=Decimal("1000"))
    dues_payment_record(
        actor=secretary,
        member=payer,
        period_from=datetime.date(year, 11, 1),
        period_to=datetime.date(year, 12, 1),
        amount=Decimal("10.00"),
        method="cash",
        receipt_number="R-1",
        paid_on=datetime.date(year, 12, 20),
        note="two months",
    )
    notice = notice_publish_dues(actor=secretary, branch=branch, year=year)
    assert notice.status == NoticeStatus.DRAFT
    assert notice.category == NoticeCategory.DUES_PUBLICATION
    assert notice.audience == NoticeAudience.MEMBERS
    assert str(year) in notice.title
    assert "陈静\t2\t10.00" in notice.body
    assert "刘洋" not in notice.body
    attachment = notice.attachments.get()
    assert attachment.name == f"dues-{year}.xlsx"
    assert attachment.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    with attachment.file.open("rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read())).active
    rows = [tuple(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert ("陈静", 2, 10.0) in rows
    assert ("'=HYPERLINK", 0, 0.0) in rows  # a formula-looking name is made inert
    assert rows[-1][1:] == (2, 10.0)
    assert _audit(notice, "members.notice.dues_prepared").exists()


def test_notice_publish_dues_refuses_future_years_and_temporary_branches(branch_tree, secretary):
    from branches.actions import branch_create

    with pytest.raises(ValidationError) as exc:
        notice_publish_dues(actor=secretary, branch=branch_tree["station_a"], year=timezone.localdate().year + 1)
    assert "year" in exc.value.message_dict
    temporary = branch_create(
        actor=None,
        parent=branch_tree["delivery"],
        name="Project branch",
        kind="branch",
        basis="platform",
        is_temporary=True,
    )
    with pytest.raises(ValidationError) as exc:
        notice_publish_dues(actor=secretary, branch=temporary, year=timezone.localdate().year)
    assert "branch" in exc.value.message_dict
    assert not Notice.objects.exists()
