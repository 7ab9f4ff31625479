import pytest

from core.models import Notification
from members import tasks
from members.models import Notice
from tests.notices.factories import move_window, published_notice

pytestmark = pytest.mark.django_db


def test_sweep_announces_a_notice_once_its_window_opens_and_only_once(
    branch_tree, secretary, member_a, member_b, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notice = published_notice(branch=branch_tree["station_a"], actor=secretary)
    assert Notification.objects.filter(kind="members.notice.published").count() == 1  # told on publish
    later = move_window(published_notice(branch=branch_tree["delivery"], actor=secretary), start_days=1)
    Notice.objects.filter(pk=later.pk).update(announced_at=None)
    assert tasks.notices_announce_sweep() == 0  # not open yet; the first one was told already
    move_window(later, start_days=-0.01)
    assert tasks.notices_announce_sweep() == 1
    assert tasks.notices_announce_sweep() == 0
    told = Notification.objects.filter(kind="members.notice.published", url__contains=str(later.pk))
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted([member_a.user_id, member_b.user_id])
    assert tasks.notice_announce(str(later.pk)) == 0  # a late duplicate task sends nothing
    assert Notification.objects.filter(url__contains=str(notice.pk)).count() == 1


def test_sweep_skips_withdrawn_and_expired_notices(branch_tree, secretary, member_a):
    from members.actions.notices import notice_withdraw

    gone = published_notice(branch=branch_tree["station_a"], actor=secretary)
    Notice.objects.filter(pk=gone.pk).update(announced_at=None)
    notice_withdraw(actor=secretary, notice=gone)
    expired = published_notice(branch=branch_tree["station_a"], actor=secretary)
    Notice.objects.filter(pk=expired.pk).update(announced_at=None)
    move_window(expired, start_days=-3, end_days=-1)
    assert tasks.notices_announce_sweep() == 0
    assert not Notification.objects.exists()
