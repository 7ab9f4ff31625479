"""Helpers of the vote tests: voters with accounts, and votes drafted and opened through the actions."""

import datetime

from django.utils import timezone

from members.actions import votes as vote_actions
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory


def voter(branch, **fields):
    """A member with a login account (full member in normal standing unless told otherwise)."""
    return MemberFactory(branch=branch, user=UserFactory(), **fields)


def voters(branch, n: int) -> list:
    return [voter(branch) for _ in range(n)]


def draft_vote(branch, *, kind="decision", secret=False, seats=1, candidates=None, actor=None, **extra):
    now = timezone.now()
    return vote_actions.vote_create(
        actor=actor,
        branch=branch,
        kind=kind,
        title=extra.pop("title", "Approve the station's yearly plan"),
        opens_at=extra.pop("opens_at", now - datetime.timedelta(minutes=5)),
        closes_at=extra.pop("closes_at", now + datetime.timedelta(days=2)),
        secret=secret,
        seats=seats,
        candidates=candidates,
        **extra,
    )


def open_vote(branch, **kwargs):
    return vote_actions.vote_open(actor=None, vote=draft_vote(branch, **kwargs))


def option(vote, key):
    """An option by decision code ("for") or by candidate label."""
    for o in vote.options.all():
        if key in (o.code, o.label):
            return o
    raise LookupError(key)


def cast(member, vote, *keys):
    vote_actions.vote_cast(actor=member.user, vote=vote, choices=[option(vote, k) for k in keys])


def time_passes(vote, *, minutes_ago: int = 1):
    """Move the vote's closing time into the past (its opening with it, keeping closes_at > opens_at)."""
    from members.models import Vote

    now = timezone.now()
    Vote.objects.filter(pk=vote.pk).update(
        opens_at=now - datetime.timedelta(days=1), closes_at=now - datetime.timedelta(minutes=minutes_ago)
    )
    vote.refresh_from_db()
    return vote
