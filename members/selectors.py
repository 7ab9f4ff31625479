"""Reads of member records. Every query that serves a person starts from the actor's scope."""

import datetime

from django.db.models import Prefetch

from branches.models import Branch
from core.models import AuditEntry
from members import crypto
from members.models import Affiliation, ImportJob, Member, Platform
from members.validators import normalize_citizen_id


def member_list(*, actor, perm: str = "members.view"):
    """Members whose formal branch is in the actor's scope, ready for lists (no query per row).

    The formal branch is joined (its path decides who may see full values), platforms and open and
    past affiliations are prefetched: three queries for a page, whatever its size.
    """
    return (
        Member.objects.for_actor(actor, perm)
        .select_related("branch")
        .prefetch_related(
            Prefetch("platforms", queryset=Platform.objects.order_by("position", "code")),
            Prefetch("affiliations", queryset=Affiliation.objects.order_by("started_on", "created_at")),
        )
    )


def member_get(*, actor, pk, perm: str = "members.view") -> Member:
    """One member in the actor's scope; Member.DoesNotExist otherwise (a 404 for the caller)."""
    return member_list(actor=actor, perm=perm).get(pk=pk)


def member_find_by_citizen_id(*, actor, citizen_id: str):
    """Members in scope with exactly this ID number, found by its keyed hash (at most one is live)."""
    digest = crypto.lookup_hash(normalize_citizen_id(citizen_id))
    return member_list(actor=actor).filter(citizen_id_hash=digest)


def member_of_user(*, user) -> Member | None:
    """The member record linked to a login account, for the member's own page."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.select_related("branch", "unit").filter(user_id=user.pk).first()


def voting_members(*, branch: Branch, on_date: datetime.date | None = None):
    """Members who may vote at `branch` on `on_date` (for quorums and ballots).

    Formal branch only, so affiliated members never count; full members in normal standing, not
    under 留党察看 (see MemberQuerySet.voting).
    """
    return Member.objects.filter(branch=branch).voting(on_date)


def affiliation_list(*, member: Member):
    return member.affiliations.select_related("branch").order_by("started_on", "created_at")


def platform_list():
    return Platform.objects.order_by("position", "code")


#: Audit actions that record a look at a member, not a change; the history of changes leaves them out.
VIEW_ACTIONS = ("members.member.id_viewed",)


def member_history(*, member: Member):
    """Audit entries about `member` (changes, affiliations), for the history on the member's page.

    The caller orders and pages it (newest first); entries hold masked values only (see members/actions.py).
    """
    return (
        AuditEntry.objects.filter(object_type=Member._meta.label_lower, object_id=str(member.pk))
        .exclude(action__in=VIEW_ACTIONS)
        .select_related("actor")
    )


#
# Import jobs
#
def import_job_list(*, actor):
    """The user's own member imports, newest first (an upload is seen only by who made it)."""
    if not getattr(actor, "is_authenticated", False):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by_id=actor.pk, by_system=False).select_related("default_branch")
