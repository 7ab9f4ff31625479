import pytest

from members.actions.notices import notice_mark_read, notice_withdraw
from members.models.notices import NoticeAudience
from members.selectors_notices import (
    member_notice_list,
    member_unread_count,
    notice_list,
    notice_read_summary,
    notice_unread_members,
    public_notice_list,
)
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory
from tests.notices.factories import NoticeFactory, move_window, published_notice

pytestmark = pytest.mark.django_db


def test_member_sees_own_branch_and_ancestors_not_siblings(branch_tree, secretary, member_a):
    own = published_notice(branch=branch_tree["station_a"], actor=secretary)
    committee = published_notice(branch=branch_tree["delivery"], actor=secretary)
    top = published_notice(branch=branch_tree["district"])
    sibling = published_notice(branch=branch_tree["station_b"], actor=secretary)
    other = published_notice(branch=branch_tree["building"])
    NoticeFactory(branch=branch_tree["station_a"], actor=secretary)  # a draft
    seen = set(member_notice_list(member=member_a).values_list("pk", flat=True))
    assert seen == {own.pk, committee.pk, top.pk}
    assert sibling.pk not in seen
    assert other.pk not in seen


def test_member_list_leaves_out_notices_outside_their_window(branch_tree, secretary, member_a):
    shown = published_notice(branch=branch_tree["station_a"], actor=secretary)
    expired = move_window(
        published_notice(branch=branch_tree["station_a"], actor=secretary), start_days=-5, end_days=-1
    )
    pending = move_window(published_notice(branch=branch_tree["station_a"], actor=secretary), start_days=2)
    withdrawn = notice_withdraw(
        actor=secretary, notice=published_notice(branch=branch_tree["station_a"], actor=secretary)
    )
    seen = set(member_notice_list(member=member_a).values_list("pk", flat=True))
    assert seen == {shown.pk}
    assert not {expired.pk, pending.pk, withdrawn.pk} & seen


def test_member_list_marks_read_and_counts_unread(branch_tree, secretary, member_a):
    first = published_notice(branch=branch_tree["station_a"], actor=secretary)
    published_notice(branch=branch_tree["delivery"], actor=secretary)
    notice_mark_read(user=member_a.user, notice=first)
    marks = dict(member_notice_list(member=member_a).values_list("pk", "is_read"))
    assert marks[first.pk] is True
    assert sorted(marks.values()) == [False, True]
    assert member_unread_count(member=member_a) == 1


def test_public_list_only_public_notices_inside_their_window(branch_tree, secretary):
    public = published_notice(branch=branch_tree["station_a"], actor=secretary, audience=NoticeAudience.PUBLIC)
    published_notice(branch=branch_tree["station_a"], actor=secretary)  # members only
    move_window(
        published_notice(branch=branch_tree["station_b"], actor=secretary, audience=NoticeAudience.PUBLIC),
        start_days=-4,
        end_days=-2,
    )
    NoticeFactory(branch=branch_tree["station_a"], actor=secretary, audience=NoticeAudience.PUBLIC)  # draft
    assert list(public_notice_list().values_list("pk", flat=True)) == [public.pk]


def test_manage_list_is_scoped_and_counts_reads(branch_tree, secretary, member_a, role_at):
    inside = published_notice(branch=branch_tree["station_a"], actor=secretary)
    outside = published_notice(branch=branch_tree["building"])
    notice_mark_read(user=member_a.user, notice=inside)
    rows = {n.pk: n.read_count for n in notice_list(actor=secretary)}
    assert rows == {inside.pk: 1}
    assert outside.pk not in rows


def test_read_summary_and_unread_members(branch_tree, secretary, member_a):
    no_account = MemberFactory(branch=branch_tree["station_b"])
    reader = MemberFactory(branch=branch_tree["station_b"], user=UserFactory())
    MemberFactory(branch=branch_tree["building"])  # outside the subtree
    notice = published_notice(branch=branch_tree["delivery"], actor=secretary)
    notice_mark_read(user=reader.user, notice=notice)
    assert notice_read_summary(notice=notice) == {"audience": 3, "read": 1, "unread": 2}
    assert set(notice_unread_members(notice=notice).values_list("pk", flat=True)) == {member_a.pk, no_account.pk}
