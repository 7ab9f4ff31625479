"""Reads of notices (党务公开): the managing side's list, a member's notices, the public list, read receipts.

Who sees what:
- managers (officers, secretaries: "notices.view") see every notice of the branches in their scope, in any
  state, with its read count;
- a member sees the published notices, inside their window, of their formal branch and of each branch
  above it (a committee's notice speaks to its whole subtree), whatever the audience;
- everybody, without logging in, sees the published public notices inside their window.
Each list costs a fixed number of queries, whatever its length.
"""

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import User
from members.choices import CURRENT_STATUSES
from members.models import Member, Notice, NoticeAttachment, NoticeRead
from members.models.notices import NoticeAudience, NoticeStatus


def _attachments() -> Prefetch:
    return Prefetch("attachments", queryset=NoticeAttachment.objects.order_by("uploaded_at", "id"))


def _read_count() -> Coalesce:
    """Receipts of a notice, as a correlated subquery (one query for the whole page, no GROUP BY)."""
    receipts = (
        NoticeRead.objects.filter(notice_id=OuterRef("pk"))
        .order_by()
        .values("notice_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(receipts, output_field=IntegerField()), 0)


#
# The managing side
#
def notice_list(*, actor, perm: str = "notices.view") -> QuerySet[Notice]:
    """Notices of branches in the actor's scope, any state, with `read_count`; attachments prefetched."""
    return (
        Notice.objects.for_actor(actor, perm)
        .select_related("branch", "published_by")
        .prefetch_related(_attachments())
        .annotate(read_count=_read_count())
    )


def notice_get(*, actor, pk, perm: str = "notices.view") -> Notice:
    """One notice in the actor's scope; Notice.DoesNotExist otherwise (a 404 for the caller)."""
    return notice_list(actor=actor, perm=perm).get(pk=pk)


#
# Members
#
def member_notice_scope(*, member: Member) -> QuerySet[Notice]:
    """Notices addressed to `member` in any state: those of the formal branch and of every branch above it.

    Drafts are left out (they do not exist for readers); withdrawn and out-of-window ones are kept, so a
    page can say which of the two it is. Use `.visible_at()` for what may be shown.
    """
    return Notice.objects.filter(branch_id__in=member.branch.ancestor_ids()).exclude(status=NoticeStatus.DRAFT)


def member_notice_list(*, member: Member, user=None, when=None) -> QuerySet[Notice]:
    """What `member` may read now, newest first, with `is_read` for `user` (the member's account by default)."""
    user_id = getattr(user, "pk", None) or member.user_id
    read = NoticeRead.objects.filter(notice_id=OuterRef("pk"), user_id=user_id)
    return (
        member_notice_scope(member=member)
        .visible_at(when)
        .select_related("branch")
        .prefetch_related(_attachments())
        .annotate(is_read=Exists(read))
        .order_by("-publish_from", "-id")
    )


def member_unread_count(*, member: Member, user=None) -> int:
    """How many notices `member` may read now and has not read (one COUNT)."""
    return member_notice_list(member=member, user=user).filter(is_read=False).count()


#
# The public
#
def public_notice_scope() -> QuerySet[Notice]:
    """Public notices in any state but draft (see `member_notice_scope` for why)."""
    return Notice.objects.filter(audience=NoticeAudience.PUBLIC).exclude(status=NoticeStatus.DRAFT)


def public_notice_list(*, when=None) -> QuerySet[Notice]:
    """Public notices inside their window, newest first; no login needed."""
    return (
        public_notice_scope()
        .visible_at(when)
        .select_related("branch")
        .prefetch_related(_attachments())
        .order_by("-publish_from", "-id")
    )


#
# Audience and read receipts
#
def notice_audience_members(*, notice: Notice) -> QuerySet[Member]:
    """Members a notice speaks to: those who still belong to a branch in its owner's subtree.

    For a public notice too: its own subtree's members are told of it as well.
    """
    return Member.objects.filter(branch__path__startswith=notice.branch.path, status__in=CURRENT_STATUSES)


def notice_audience_users(*, notice: Notice) -> QuerySet:
    """Accounts of the audience members (members without an account cannot be told in the app)."""
    member_users = notice_audience_members(notice=notice).filter(user__isnull=False).values("user_id")
    return User.objects.filter(pk__in=member_users, is_active=True)


def notice_read_summary(*, notice: Notice) -> dict:
    """{"audience": members addressed, "read": of them, how many have read it, "unread": the rest}; two COUNTs."""
    audience = notice_audience_members(notice=notice)
    total = audience.count()
    read = audience.filter(Q(user__notice_reads__notice=notice)).count()
    return {"audience": total, "read": read, "unread": total - read}


def notice_unread_members(*, notice: Notice) -> QuerySet[Member]:
    """Audience members who have not read the notice (no account counts as not read); page it with keyset."""
    read_by = NoticeRead.objects.filter(notice=notice, user_id=OuterRef("user_id"))
    return notice_audience_members(notice=notice).select_related("branch").filter(~Exists(read_by))


def notice_readers(*, notice: Notice) -> QuerySet[NoticeRead]:
    """Receipts of a notice, newest first, with the reader."""
    return NoticeRead.objects.filter(notice=notice).select_related("user").order_by("-read_at", "-id")


#
# The announcement sweep
#
def notices_due_announcement(*, when=None) -> list:
    """Ids of published notices whose window is open and whose audience has not been told yet."""
    when = when or timezone.now()
    return list(Notice.objects.visible_at(when).filter(announced_at__isnull=True).values_list("pk", flat=True))
