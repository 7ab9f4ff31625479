"""Shared set-up for the appraisal tests: members with login accounts and rounds in each state."""

import datetime

from django.utils import timezone

from members.actions import appraisal as appraisal_actions
from members.models import AppraisalSubject
from members.models.appraisal import AppraisalGrade
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory


def member_with_user(branch, **kwargs):
    """A member of `branch` linked to a fresh login account."""
    return MemberFactory(branch=branch, user=UserFactory(), **kwargs)


def make_round(branch, *, year=None, open_it=True, actor=None, **kwargs):
    today = timezone.localdate()
    data = {
        "year": year or today.year,
        "self_assessment_due": today + datetime.timedelta(days=7),
        "rating_due": today + datetime.timedelta(days=14),
        **kwargs,
    }
    appraisal_round = appraisal_actions.appraisal_round_create(actor=actor, branch=branch, **data)
    if open_it:
        appraisal_round = appraisal_actions.appraisal_round_open(actor=actor, appraisal_round=appraisal_round)
    return appraisal_round


def subject_of(appraisal_round, member) -> AppraisalSubject:
    return AppraisalSubject.objects.get(round=appraisal_round, member=member)


#: excellent, qualified, basically qualified, unqualified: short names for the tests' tables
GRADES = (
    AppraisalGrade.EXCELLENT,
    AppraisalGrade.QUALIFIED,
    AppraisalGrade.BASICALLY_QUALIFIED,
    AppraisalGrade.UNQUALIFIED,
)
