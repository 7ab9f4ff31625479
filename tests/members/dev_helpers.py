"""Shared set-up of the development and dues tests: seeded tables, a branch with voting members, a walk."""

import datetime

from members.actions import applicant_create, assembly_vote_record, development_step_record
from members.models.development import StepCode
from tests.members.factories import MemberFactory, make_citizen_id

D = datetime.date

#: A development that keeps every interval rule, step by step (vote steps are recorded by a vote).
CLEAN_PATH = [
    (StepCode.TALK_HELD, D(2022, 1, 20)),
    (StepCode.ACTIVIST_CHOSEN, D(2022, 3, 1)),
    (StepCode.ACTIVIST_FILED, D(2022, 3, 5)),
    (StepCode.MENTORS_ASSIGNED, D(2022, 3, 5)),
    (StepCode.ACTIVIST_REVIEWED, D(2022, 8, 1)),
    (StepCode.ACTIVIST_REVIEWED, D(2023, 1, 20)),
    (StepCode.TARGET_CHOSEN, D(2023, 3, 10)),
    (StepCode.TARGET_FILED, D(2023, 3, 15)),
    (StepCode.SPONSORS_ASSIGNED, D(2023, 3, 15)),
    (StepCode.POLITICAL_REVIEW, D(2023, 4, 1)),
    (StepCode.SHORT_TRAINING, D(2023, 4, 10)),
    (StepCode.COMMITTEE_REVIEW, D(2023, 5, 1)),
    (StepCode.UPPER_PREREVIEW, D(2023, 5, 10)),
    (StepCode.APPLICATION_FORM, D(2023, 5, 15)),
    (StepCode.ADMISSION_VOTE, D(2023, 6, 1)),
    (StepCode.UPPER_TALK, D(2023, 6, 10)),
    (StepCode.ADMISSION_APPROVED, D(2023, 7, 1)),
    (StepCode.ADMISSION_FILED, D(2023, 7, 5)),
    (StepCode.ASSIGNED_TO_GROUP, D(2023, 7, 5)),
    (StepCode.OATH, D(2023, 7, 10)),
    (StepCode.PROBATION_REVIEWED, D(2023, 11, 20)),
    (StepCode.PROBATION_REVIEWED, D(2024, 5, 1)),
    (StepCode.FULL_APPLICATION, D(2024, 5, 10)),
    (StepCode.FULL_VOTE, D(2024, 6, 5)),
    (StepCode.FULL_APPROVED, D(2024, 7, 1)),
    (StepCode.ARCHIVED, D(2024, 7, 10)),
]


def seeded(apps_module=None) -> None:
    from django.apps import apps

    from members.seeds import seed_development, seed_dues

    seed_development(apps, None)
    seed_dues(apps, None)


def voters(branch, n: int = 5) -> list:
    """`n` full members of `branch` who may vote (joined 2015)."""
    return [MemberFactory(branch=branch) for _i in range(n)]


APPLIED_ON = D(2022, 1, 10)
BORN = D(1995, 3, 1)


def new_applicant(*, actor, branch, n: int = 1, applied_on=APPLIED_ON, birth=BORN, **kwargs):
    return applicant_create(
        actor=actor,
        branch=branch,
        name=kwargs.pop("name", "陈新"),
        citizen_id=make_citizen_id(n, birth=birth),
        applied_on=applied_on,
        **kwargs,
    )


def vote(*, actor, applicant, held_on, purpose="admission", entitled=5):
    """An adopted vote with everyone present and everyone in favour."""
    return assembly_vote_record(
        actor=actor,
        applicant=applicant,
        purpose=purpose,
        held_on=held_on,
        attendance=entitled,
        yes=entitled,
        no=0,
        abstain=0,
        adopted=True,
    )


def walk(*, actor, applicant, until: str, path=CLEAN_PATH, entitled: int = 5):
    """Record the steps of `path` up to and including `until`."""
    for code, day in path:
        if code == StepCode.ADMISSION_VOTE:
            vote(actor=actor, applicant=applicant, held_on=day, entitled=entitled)
        elif code == StepCode.FULL_VOTE:
            vote(actor=actor, applicant=applicant, held_on=day, purpose="full", entitled=entitled)
        else:
            development_step_record(actor=actor, applicant=applicant, code=code, done_on=day)
        if code == until:
            break
    applicant.refresh_from_db()
    return applicant
