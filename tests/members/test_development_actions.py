"""The development pipeline's rules: order, age, votes, admission, probation, temporary branches, audit."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from branches.choices import Role
from core.exceptions import Conflict
from core.models import AuditEntry
from members.actions import (
    affiliation_add,
    applicant_close,
    applicant_create,
    assembly_vote_record,
    development_step_record,
    probation_cancel,
    probation_extend,
)
from members.models import Applicant, AssemblyVote, DevelopmentInterval, DevelopmentStep, Member
from members.models.development import STEP_ORDER, ApplicantStatus, DevelopmentStage, StepCode
from tests.members.dev_helpers import CLEAN_PATH, D, new_applicant, seeded, vote, voters, walk
from tests.members.factories import MemberFactory, make_citizen_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seed(db):
    seeded()


@pytest.fixture
def branch(branch_tree):
    return branch_tree["station_a"]


@pytest.fixture
def secretary(branch, role_at):
    return role_at(branch, Role.SECRETARY)


def test_step_codes_are_the_25_steps_in_order():
    assert len(STEP_ORDER) == 25
    assert STEP_ORDER[0] == StepCode.APPLICATION_SUBMITTED
    assert STEP_ORDER[14] == StepCode.ADMISSION_VOTE
    assert STEP_ORDER[-1] == StepCode.ARCHIVED


def test_applicant_create_records_step_one_and_is_no_member(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch)
    assert applicant.stage == DevelopmentStage.APPLICANT
    assert list(applicant.steps.values_list("code", flat=True)) == [StepCode.APPLICATION_SUBMITTED]
    assert applicant.citizen_id_masked.startswith("1101")
    assert "1995" not in applicant.citizen_id_cipher
    assert not Member.objects.exists()
    assert AuditEntry.objects.filter(action="members.applicant.created", object_id=str(applicant.pk)).exists()


def test_applicant_create_refuses_under_18(branch, secretary):
    with pytest.raises(ValidationError) as exc:
        new_applicant(actor=secretary, branch=branch, birth=D(2004, 2, 1), applied_on=D(2022, 1, 31))
    assert "applied_on" in exc.value.message_dict
    assert not Applicant.objects.exists()


def test_applicant_create_accepts_18th_birthday(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch, birth=D(2004, 1, 31), applied_on=D(2022, 1, 31))
    assert applicant.pk


def test_applicant_create_refuses_temporary_branch(branch_tree, role_at):
    from branches.actions import branch_create
    from branches.choices import BranchKind

    temporary = branch_create(
        actor=None,
        parent=branch_tree["delivery"],
        name="Project",
        kind=BranchKind.BRANCH,
        basis="platform",
        is_temporary=True,
    )
    secretary = role_at(temporary, Role.SECRETARY)
    with pytest.raises(ValidationError) as exc:
        new_applicant(actor=secretary, branch=temporary)
    assert "branch" in exc.value.message_dict


def test_applicant_create_refuses_a_member_and_a_second_open_application(branch, secretary):
    member = MemberFactory(branch=branch)
    with pytest.raises(ValidationError, match="already a party member"):
        applicant_create(
            actor=secretary, branch=branch, name="x", citizen_id=member.citizen_id, applied_on=D(2022, 1, 1)
        )
    new_applicant(actor=secretary, branch=branch, n=7)
    with pytest.raises(ValidationError, match="already on the way"):
        new_applicant(actor=secretary, branch=branch, n=7)


def test_applicant_create_outside_scope_is_404_and_organiser_403(branch_tree, role_at):
    outsider = role_at(branch_tree["station_b"], Role.SECRETARY)
    with pytest.raises(Http404):
        new_applicant(actor=outsider, branch=branch_tree["station_a"])
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        new_applicant(actor=organiser, branch=branch_tree["station_a"])


def test_step_refuses_activist_before_talk(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch)
    with pytest.raises(ValidationError) as exc:
        development_step_record(
            actor=secretary, applicant=applicant, code=StepCode.ACTIVIST_CHOSEN, done_on=D(2022, 2, 1)
        )
    assert "code" in exc.value.message_dict
    assert applicant.steps.count() == 1


def test_step_refuses_probation_before_development_target(branch, secretary):
    voters(branch)
    applicant = walk(
        actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="mentors_assigned"
    )
    for code in (StepCode.COMMITTEE_REVIEW, StepCode.ADMISSION_APPROVED, StepCode.OATH):
        with pytest.raises(ValidationError):
            development_step_record(actor=secretary, applicant=applicant, code=code, done_on=D(2023, 6, 1))
    with pytest.raises(ValidationError):
        vote(actor=secretary, applicant=applicant, held_on=D(2023, 6, 1))
    assert not AssemblyVote.objects.exists()


def test_step_refuses_a_date_before_its_prerequisite(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch)
    with pytest.raises(ValidationError) as exc:
        development_step_record(actor=secretary, applicant=applicant, code=StepCode.TALK_HELD, done_on=D(2022, 1, 1))
    assert "done_on" in exc.value.message_dict


def test_step_refuses_future_dates_and_repeats(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch)
    with pytest.raises(ValidationError):
        development_step_record(
            actor=secretary,
            applicant=applicant,
            code=StepCode.TALK_HELD,
            done_on=timezone.localdate() + datetime.timedelta(1),
        )
    development_step_record(actor=secretary, applicant=applicant, code=StepCode.TALK_HELD, done_on=D(2022, 1, 20))
    with pytest.raises(ValidationError, match="already been recorded"):
        development_step_record(actor=secretary, applicant=applicant, code=StepCode.TALK_HELD, done_on=D(2022, 1, 21))


def test_step_reviews_repeat(branch, secretary):
    applicant = walk(actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="activist_filed")
    for day in (D(2022, 6, 1), D(2022, 11, 1)):
        development_step_record(actor=secretary, applicant=applicant, code=StepCode.ACTIVIST_REVIEWED, done_on=day)
    assert applicant.steps.filter(code=StepCode.ACTIVIST_REVIEWED).count() == 2


def test_step_refuses_vote_steps_and_keeps_documents(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch)
    document = SimpleUploadedFile("talk.pdf", b"%PDF-1.4 talk", content_type="application/pdf")
    step = development_step_record(
        actor=secretary,
        applicant=applicant,
        code=StepCode.TALK_HELD,
        done_on=D(2022, 1, 20),
        actor_name="王书记",
        notes="Talked at the station",
        documents=[document],
    )
    assert step.recorded_by == secretary
    assert step.actor_name == "王书记"
    assert step.documents.get().size == len(b"%PDF-1.4 talk")
    walk(actor=secretary, applicant=applicant, until="application_form", path=CLEAN_PATH[1:])
    with pytest.raises(ValidationError, match="vote form"):
        development_step_record(
            actor=secretary, applicant=applicant, code=StepCode.ADMISSION_VOTE, done_on=D(2023, 6, 1)
        )


def test_step_refuses_document_of_wrong_type_or_too_large(branch, secretary, settings):
    applicant = new_applicant(actor=secretary, branch=branch)
    bad = SimpleUploadedFile("talk.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ValidationError) as exc:
        development_step_record(
            actor=secretary, applicant=applicant, code=StepCode.TALK_HELD, done_on=D(2022, 1, 20), documents=[bad]
        )
    assert "documents" in exc.value.message_dict
    settings.DEVELOPMENT_DOCUMENT_MAX_BYTES = 10
    big = SimpleUploadedFile("talk.pdf", b"x" * 11, content_type="application/pdf")
    with pytest.raises(ValidationError):
        development_step_record(
            actor=secretary, applicant=applicant, code=StepCode.TALK_HELD, done_on=D(2022, 1, 20), documents=[big]
        )
    assert not DevelopmentStep.objects.filter(code=StepCode.TALK_HELD).exists()


#
# Votes
#
@pytest.fixture
def ready(branch, secretary):
    voters(branch, 5)
    return walk(actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="application_form")


def _vote(secretary, applicant, **counts):
    data = {"attendance": 5, "yes": 5, "no": 0, "abstain": 0, "adopted": True, **counts}
    return assembly_vote_record(
        actor=secretary, applicant=applicant, purpose="admission", held_on=D(2023, 6, 1), **data
    )


def test_vote_refuses_without_quorum(ready, secretary):
    with pytest.raises(ValidationError) as exc:
        _vote(secretary, ready, attendance=2, yes=2, adopted=False)
    assert "attendance" in exc.value.message_dict
    assert not AssemblyVote.objects.exists()
    assert not ready.steps.filter(code=StepCode.ADMISSION_VOTE).exists()


def test_vote_quorum_is_more_than_half_of_entitled(ready, secretary):
    vote_ = _vote(secretary, ready, attendance=3, yes=3)
    assert vote_.entitled == 5
    assert vote_.adopted


def test_vote_refuses_adopted_without_majority_of_entitled(ready, secretary):
    # 4 present, 2 yes: a majority of those present voting, but not of the 5 entitled.
    with pytest.raises(ValidationError) as exc:
        _vote(secretary, ready, attendance=4, yes=2, no=1, abstain=1)
    assert "adopted" in exc.value.message_dict
    assert not AssemblyVote.objects.exists()


def test_vote_refuses_not_adopted_with_majority(ready, secretary):
    with pytest.raises(ValidationError):
        _vote(secretary, ready, adopted=False)


def test_vote_rejected_is_recorded_without_step(ready, secretary):
    vote_ = _vote(secretary, ready, attendance=5, yes=2, no=3, adopted=False)
    assert not vote_.adopted
    assert not ready.steps.filter(code=StepCode.ADMISSION_VOTE).exists()


def test_vote_refuses_more_ballots_than_present_and_more_present_than_entitled(ready, secretary):
    with pytest.raises(ValidationError):
        _vote(secretary, ready, attendance=4, yes=4, no=1)
    with pytest.raises(ValidationError):
        _vote(secretary, ready, attendance=6, yes=6)
    with pytest.raises(ValidationError):
        _vote(secretary, ready, no=-1)


def test_vote_counts_only_voting_members_on_the_date(ready, branch, branch_tree, secretary):
    """Probationary members, members joined later, and affiliated members do not count as entitled."""
    MemberFactory(branch=branch, category="probationary", joined_on=D(2023, 1, 1))
    MemberFactory(branch=branch, joined_on=D(2023, 7, 1))
    visitor = MemberFactory(branch=branch_tree["station_b"])
    affiliation_add(actor=None, member=visitor, branch=branch, kind="host", started_on=D(2020, 1, 1))
    vote_ = _vote(secretary, ready, attendance=3, yes=3)
    assert vote_.entitled == 5


#
# Admission, probation, full membership
#
def test_admission_approval_creates_probationary_member(ready, secretary):
    applicant = walk(actor=secretary, applicant=ready, until="admission_approved", path=CLEAN_PATH[14:])
    member = applicant.member
    assert member.category == "probationary"
    assert member.joined_on == D(2023, 6, 1)
    assert member.branch == applicant.branch
    assert member.citizen_id == applicant.citizen_id
    assert applicant.status == ApplicantStatus.PROBATION
    assert applicant.probation_ends_on == D(2024, 6, 1)
    assert applicant.stage == DevelopmentStage.PROBATIONARY


def test_probation_length_comes_from_the_interval_table(ready, secretary):
    DevelopmentInterval.objects.filter(code="probation").update(months=18)
    applicant = walk(actor=secretary, applicant=ready, until="admission_approved", path=CLEAN_PATH[14:])
    assert applicant.probation_ends_on == D(2024, 12, 1)


def test_full_membership_refused_before_probation_ends(ready, secretary):
    applicant = walk(actor=secretary, applicant=ready, until="full_application", path=CLEAN_PATH[14:])
    with pytest.raises(ValidationError) as exc:
        vote(actor=secretary, applicant=applicant, held_on=D(2024, 5, 31), purpose="full")
    assert "done_on" in exc.value.message_dict
    assert applicant.member.category == "probationary"


def test_full_approval_converts_member(ready, secretary):
    applicant = walk(actor=secretary, applicant=ready, until="archived", path=CLEAN_PATH[14:])
    member = Member.objects.get(pk=applicant.member_id)
    assert member.category == "full"
    assert member.full_member_on == D(2024, 6, 1)
    assert applicant.status == ApplicantStatus.FULL
    assert applicant.stage == DevelopmentStage.FULL
    with pytest.raises(Conflict):
        development_step_record(
            actor=secretary, applicant=applicant, code=StepCode.PROBATION_REVIEWED, done_on=D(2024, 8, 1)
        )


def test_probation_extend_once_within_6_to_12_months(ready, secretary):
    applicant = walk(actor=secretary, applicant=ready, until="admission_approved", path=CLEAN_PATH[14:])
    for months in (5, 13):
        with pytest.raises(ValidationError):
            probation_extend(actor=secretary, applicant=applicant, months=months, reason="Needs more time")
    applicant = probation_extend(actor=secretary, applicant=applicant, months=6, reason="Needs more time")
    assert applicant.probation_ends_on == D(2024, 12, 1)
    with pytest.raises(ValidationError, match="only once"):
        probation_extend(actor=secretary, applicant=applicant, months=6, reason="Again")
    # Full membership now waits for the extended end.
    walk(actor=secretary, applicant=applicant, until="full_application", path=CLEAN_PATH[17:])
    with pytest.raises(ValidationError):
        vote(actor=secretary, applicant=applicant, held_on=D(2024, 6, 5), purpose="full")


def test_probation_extend_refused_before_admission(ready, secretary):
    with pytest.raises(Conflict):
        probation_extend(actor=secretary, applicant=ready, months=6, reason="x")


def test_probation_cancel_removes_member(ready, secretary):
    applicant = walk(actor=secretary, applicant=ready, until="admission_approved", path=CLEAN_PATH[14:])
    applicant = probation_cancel(actor=secretary, applicant=applicant, decided_on=D(2024, 1, 10), reason="Unfit")
    assert applicant.status == ApplicantStatus.CANCELLED
    assert Member.objects.get(pk=applicant.member_id).status == "removed"
    assert AuditEntry.objects.filter(action="members.applicant.probation_cancelled").exists()
    with pytest.raises(Conflict):
        development_step_record(actor=secretary, applicant=applicant, code=StepCode.OATH, done_on=D(2024, 2, 1))


def test_applicant_close(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch)
    with pytest.raises(ValidationError):
        applicant_close(actor=secretary, applicant=applicant, decided_on=D(2022, 2, 1), reason=" ")
    applicant = applicant_close(actor=secretary, applicant=applicant, decided_on=D(2022, 2, 1), reason="Withdrew")
    assert applicant.status == ApplicantStatus.CLOSED
    # The person may apply again later.
    again = new_applicant(actor=secretary, branch=branch, applied_on=D(2022, 3, 1))
    assert again.pk != applicant.pk


def test_step_on_branch_made_temporary_is_refused(branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch)
    branch.is_temporary = True
    branch.save()
    applicant.refresh_from_db()
    with pytest.raises(ValidationError):
        development_step_record(actor=secretary, applicant=applicant, code=StepCode.TALK_HELD, done_on=D(2022, 1, 20))


def test_applicant_citizen_id_differs_from_members():
    assert make_citizen_id(1, birth=D(1995, 3, 1)) != make_citizen_id(1)
