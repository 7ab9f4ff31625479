"""Actions of stations (visits, wishes) and hardship aid, and the follow-up, referral and spam-review actions."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from branches.choices import Role
from core.exceptions import Conflict
from core.models import Notification
from services import actions
from services.choices import AidStatus, WishStatus
from services.models import Case, CaseEvent, FollowUp, HardshipAid, Referral, StationVisit
from services.selectors import aid_totals
from services.tasks import follow_ups_remind
from tests.services.factories import make_case, make_station, make_worker

pytestmark = pytest.mark.django_db


#
# Stations
#
def test_station_create_refuses_unknown_amenity_and_half_coordinates(branch_tree, caseworker):
    with pytest.raises(ValidationError) as exc:
        make_station(branch_tree["station_a"], actor=caseworker, amenities=["jacuzzi"])
    assert "amenities" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        make_station(branch_tree["station_a"], actor=caseworker, latitude=Decimal("39.9"))
    assert "longitude" in exc.value.error_dict


def test_station_update_to_branch_outside_scope_is_404(branch_tree, caseworker):
    station = make_station(branch_tree["station_a"], actor=caseworker)
    with pytest.raises(Http404):
        actions.station_update(actor=caseworker, station=station, branch=branch_tree["station_b"])
    station.refresh_from_db()
    assert station.branch == branch_tree["station_a"]


def test_station_visit_record_counts(branch_tree, caseworker):
    station = make_station(branch_tree["station_a"])
    actions.station_visit_record(actor=caseworker, station=station, purpose="Charging")
    visit = StationVisit.objects.get()
    assert (visit.station, visit.purpose, visit.recorded_by) == (station, "Charging", caseworker)


def test_station_visit_record_refused_outside_scope(branch_tree, caseworker):
    station = make_station(branch_tree["station_b"])
    with pytest.raises(Http404):
        actions.station_visit_record(actor=caseworker, station=station)
    assert not StationVisit.objects.exists()


def test_wish_posted_claimed_fulfilled(branch_tree, caseworker):
    station = make_station(branch_tree["station_a"])
    wish = actions.wish_post(actor=caseworker, station=station, title="A winter coat")
    assert wish.status == WishStatus.POSTED
    wish = actions.wish_claim(actor=caseworker, wish=wish, claimed_by="  Volunteer Li ")
    assert (wish.status, wish.claimed_by) == (WishStatus.CLAIMED, "Volunteer Li")
    assert wish.claimed_at is not None
    wish = actions.wish_fulfil(actor=caseworker, wish=wish)
    assert wish.status == WishStatus.FULFILLED
    assert wish.fulfilled_at is not None


def test_wish_fulfil_before_claim_conflicts(branch_tree, caseworker):
    wish = actions.wish_post(actor=caseworker, station=make_station(branch_tree["station_a"]), title="Shoes")
    with pytest.raises(Conflict):
        actions.wish_fulfil(actor=caseworker, wish=wish)
    wish.refresh_from_db()
    assert wish.status == WishStatus.POSTED


def test_wish_claim_twice_conflicts_and_keeps_first_helper(branch_tree, caseworker):
    wish = actions.wish_post(actor=caseworker, station=make_station(branch_tree["station_a"]), title="Shoes")
    actions.wish_claim(actor=caseworker, wish=wish, claimed_by="First")
    with pytest.raises(Conflict):
        actions.wish_claim(actor=caseworker, wish=wish, claimed_by="Second")
    wish.refresh_from_db()
    assert wish.claimed_by == "First"


def test_wish_claim_needs_a_name(branch_tree, caseworker):
    wish = actions.wish_post(actor=caseworker, station=make_station(branch_tree["station_a"]), title="Shoes")
    with pytest.raises(ValidationError):
        actions.wish_claim(actor=caseworker, wish=wish, claimed_by="   ")
    wish.refresh_from_db()
    assert wish.status == WishStatus.POSTED


def test_station_delete_hides_it(branch_tree, caseworker):
    from services.models import Station

    station = make_station(branch_tree["station_a"])
    actions.station_delete(actor=caseworker, station=station)
    assert not Station.objects.filter(pk=station.pk).exists()
    assert Station.all_objects.get(pk=station.pk).deleted_at is not None


#
# Workers
#
def test_worker_delete_refused_with_cases(branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    with pytest.raises(Conflict):
        actions.worker_delete(actor=caseworker, worker=case.worker)
    case.worker.refresh_from_db()
    assert case.worker.deleted_at is None


def test_worker_update_moves_branch_within_scope_only(branch_tree, role_at):
    user = role_at(branch_tree["delivery"], Role.CASEWORKER)
    worker = make_worker(branch_tree["station_a"])
    worker = actions.worker_update(actor=user, worker=worker, branch=branch_tree["station_b"], name="Moved")
    assert (worker.branch, worker.name) == (branch_tree["station_b"], "Moved")
    with pytest.raises(Http404):
        actions.worker_update(actor=user, worker=worker, branch=branch_tree["building"])


#
# Hardship aid
#
def _aid(branch, actor, amount="500.00", **kwargs):
    kwargs.setdefault("worker", make_worker(branch))
    return actions.aid_create(
        actor=actor,
        branch=branch,
        kind="living",
        amount=Decimal(amount),
        granted_on=kwargs.pop("granted_on", datetime.date(2025, 3, 1)),
        **kwargs,
    )


def test_aid_create_pending_for_worker(branch_tree, caseworker):
    aid = _aid(branch_tree["station_a"], caseworker)
    assert aid.status == AidStatus.PENDING
    assert aid.created_by == caseworker


def test_aid_create_refuses_non_positive_amount(branch_tree, caseworker):
    with pytest.raises(ValidationError):
        _aid(branch_tree["station_a"], caseworker, amount="0")
    assert not HardshipAid.objects.exists()


def test_aid_decide_caseworker_may_not_approve(branch_tree, caseworker, role_at):
    aid = _aid(branch_tree["station_a"], role_at(branch_tree["station_a"], Role.CASEWORKER))
    with pytest.raises(PermissionDenied):
        actions.aid_decide(actor=caseworker, aid=aid, approve=True)
    aid.refresh_from_db()
    assert aid.status == AidStatus.PENDING


def test_aid_decide_officer_approves_once(branch_tree, caseworker, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    aid = _aid(branch_tree["station_a"], caseworker)
    aid = actions.aid_decide(actor=officer, aid=aid, approve=True)
    assert (aid.status, aid.approved_by) == (AidStatus.APPROVED, officer)
    with pytest.raises(Conflict):
        actions.aid_decide(actor=officer, aid=aid, approve=False)


def test_aid_decide_proposer_cannot_approve_own(branch_tree, role_at):
    officer = role_at(branch_tree["station_a"], Role.OFFICER)
    aid = _aid(branch_tree["station_a"], officer)
    with pytest.raises(PermissionDenied):
        actions.aid_decide(actor=officer, aid=aid, approve=True)


def test_aid_decide_officer_of_sibling_branch_gets_404(branch_tree, caseworker, role_at):
    officer = role_at(branch_tree["station_b"], Role.OFFICER)
    aid = _aid(branch_tree["station_a"], caseworker)
    with pytest.raises(Http404):
        actions.aid_decide(actor=officer, aid=aid, approve=True)


def test_aid_totals_per_branch_and_year_count_approved_only(branch_tree, role_at):
    officer = role_at(branch_tree["district"], Role.OFFICER)
    a_worker = role_at(branch_tree["station_a"], Role.CASEWORKER)
    b_worker = role_at(branch_tree["station_b"], Role.CASEWORKER)
    approve = [
        _aid(branch_tree["station_a"], a_worker, "100.00", granted_on=datetime.date(2025, 2, 1)),
        _aid(branch_tree["station_a"], a_worker, "250.50", granted_on=datetime.date(2025, 11, 1)),
        _aid(branch_tree["station_a"], a_worker, "70.00", granted_on=datetime.date(2024, 6, 1)),
        _aid(branch_tree["station_b"], b_worker, "300.00", granted_on=datetime.date(2025, 5, 1)),
    ]
    for aid in approve:
        actions.aid_decide(actor=officer, aid=aid, approve=True)
    actions.aid_decide(actor=officer, aid=_aid(branch_tree["station_a"], a_worker, "999.00"), approve=False)
    _aid(branch_tree["station_a"], a_worker, "888.00")  # pending
    rows = [(r["branch__name"], r["year"], r["total"], r["grants"]) for r in aid_totals(actor=officer)]
    assert rows == [
        ("Station A branch", 2025, Decimal("350.50"), 2),
        ("Station B branch", 2025, Decimal("300.00"), 1),
        ("Station A branch", 2024, Decimal("70.00"), 1),
    ]
    assert [r["branch__name"] for r in aid_totals(actor=a_worker)] == ["Station A branch", "Station A branch"]


#
# Referrals
#
def test_referral_status_sent_accepted_done(branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    referral = actions.referral_create(
        actor=caseworker, case=case, partner_kind="legal_aid", partner_name="District legal aid"
    )
    referral = actions.referral_set_status(actor=caseworker, referral=referral, status="accepted", note="Took it")
    referral = actions.referral_set_status(actor=caseworker, referral=referral, status="done")
    assert referral.status == "done"
    assert referral.note == "Took it"
    statuses = [e.data["status"] for e in CaseEvent.objects.filter(case=case, kind="referral").order_by("at")]
    assert statuses == ["sent", "accepted", "done"]


def test_referral_status_bad_transition_conflicts(branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    referral = actions.referral_create(actor=caseworker, case=case, partner_kind="union", partner_name="Union")
    with pytest.raises(Conflict):
        actions.referral_set_status(actor=caseworker, referral=referral, status="done")
    actions.referral_set_status(actor=caseworker, referral=referral, status="declined")
    with pytest.raises(Conflict):
        actions.referral_set_status(actor=caseworker, referral=referral, status="accepted")
    assert Referral.objects.get().status == "declined"


#
# Spam review (public requests without a station go to the top branch)
#
@pytest.fixture
def top_caseworker(branch_tree, role_at):
    return role_at(branch_tree["district"], Role.CASEWORKER)


def test_spam_review_genuine_starts_the_clock(branch_tree, top_caseworker, wage):
    case = actions.intake_submit(case_type=wage, description="Help", phone="13912345670", spam_reasons=["too_fast"])
    assert case.suspected_spam
    assert case.resolution_due is None
    before = timezone.now()
    case = actions.case_spam_review(actor=top_caseworker, case=case, genuine=True)
    assert not case.suspected_spam
    assert case.opened_at >= before
    assert case.first_response_due > case.opened_at
    assert case.resolution_due >= case.first_response_due
    with pytest.raises(Conflict):
        actions.case_spam_review(actor=top_caseworker, case=case, genuine=True)


def test_spam_review_delete_hides_case(branch_tree, top_caseworker, wage):
    case = actions.intake_submit(case_type=wage, description="Buy", phone="13912345671", spam_reasons=["honeypot"])
    actions.case_spam_review(actor=top_caseworker, case=case, genuine=False)
    assert not Case.objects.filter(pk=case.pk).exists()
    assert Case.all_objects.get(pk=case.pk).deleted_at is not None


def test_spam_suspect_cannot_be_started_before_review(branch_tree, top_caseworker, wage):
    case = actions.intake_submit(case_type=wage, description="Help", phone="13912345672", spam_reasons=["honeypot"])
    case = actions.case_assign(actor=top_caseworker, case=case, assignee=top_caseworker)
    with pytest.raises(Conflict):
        actions.case_start(actor=top_caseworker, case=case)


#
# Follow-ups
#
def test_follow_up_reminder_task_once(branch_tree, caseworker, settings, django_capture_on_commit_callbacks):
    settings.SERVICES_FOLLOW_UP_DAYS = 0
    caseworker.email = "cw@example.org"
    caseworker.save()
    case = make_case(branch_tree["station_a"])
    case = actions.case_assign(actor=caseworker, case=case, assignee=caseworker)
    case = actions.case_start(actor=caseworker, case=case)
    actions.case_resolve(actor=caseworker, case=case, summary="Paid")
    follow_up = FollowUp.objects.get(case=case)
    assert follow_up.due_on == timezone.localdate()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            follow_ups_remind()
    follow_up.refresh_from_db()
    assert follow_up.reminded_at is not None
    assert Notification.objects.filter(recipient=caseworker, kind="services.follow_up").count() == 1
    assert len(mail.outbox) == 1
    assert case.tracking_code in mail.outbox[0].subject


def test_follow_up_not_due_yet_not_reminded(branch_tree, caseworker, django_capture_on_commit_callbacks):
    case = make_case(branch_tree["station_a"])
    case = actions.case_assign(actor=caseworker, case=case, assignee=caseworker)
    case = actions.case_start(actor=caseworker, case=case)
    actions.case_resolve(actor=caseworker, case=case, summary="Paid")
    with django_capture_on_commit_callbacks(execute=True):
        assert follow_ups_remind() == 0
    assert FollowUp.objects.get().reminded_at is None


def test_follow_up_done_once(branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    follow_up = FollowUp.objects.create(case=case, due_on=timezone.localdate())
    actions.follow_up_done(actor=caseworker, follow_up=follow_up, note="Called, all fine")
    with pytest.raises(Conflict):
        actions.follow_up_done(actor=caseworker, follow_up=follow_up)
    assert CaseEvent.objects.filter(case=case, body="Called, all fine").exists()
