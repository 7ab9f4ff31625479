import datetime
import zoneinfo
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from branches.choices import Role
from core.exceptions import Conflict
from core.models import Notification
from services import actions
from services.choices import CASE_TRANSITIONS, CaseStatus
from services.models import Case, CaseBreach, CaseType, Referral, SlaPolicy, Worker
from services.tasks import breaches_sweep
from services.worktime import add_working_seconds, working_seconds_between
from tests.members.factories import make_citizen_id
from tests.services.factories import make_case, make_worker

pytestmark = pytest.mark.django_db

SH = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def _walk_to(case, status, actor):
    """Bring a case to `status` through the allowed actions."""
    steps = {
        CaseStatus.NEW: [],
        CaseStatus.ASSIGNED: ["assign"],
        CaseStatus.IN_PROGRESS: ["assign", "start"],
        CaseStatus.WAITING_WORKER: ["assign", "start", "wait_worker"],
        CaseStatus.WAITING_PARTNER: ["assign", "start", "wait_partner"],
        CaseStatus.RESOLVED: ["assign", "start", "resolve"],
        CaseStatus.CLOSED: ["assign", "start", "resolve", "close"],
    }[status]
    for step in steps:
        case = _do(step, case, actor)
    return case


def _do(step, case, actor):
    if step == "assign":
        return actions.case_assign(actor=actor, case=case, assignee=actor)
    if step == "start":
        return actions.case_start(actor=actor, case=case)
    if step in ("wait", "wait_worker"):
        return actions.case_wait(actor=actor, case=case, on=CaseStatus.WAITING_WORKER)
    if step == "wait_partner":
        return actions.case_wait(actor=actor, case=case, on=CaseStatus.WAITING_PARTNER)
    if step == "resume":
        return actions.case_resume(actor=actor, case=case)
    if step == "resolve":
        return actions.case_resolve(actor=actor, case=case, summary="Wages paid")
    if step == "close":
        return actions.case_close(actor=actor, case=case)
    if step == "reopen":
        return actions.case_reopen(actor=actor, case=case)
    raise AssertionError(step)


@pytest.mark.parametrize("status", CaseStatus.values)
@pytest.mark.parametrize("action", list(CASE_TRANSITIONS))
def test_case_transitions_every_forbidden_one_conflicts(branch_tree, caseworker, status, action):
    case = _walk_to(make_case(branch_tree["station_a"]), status, caseworker)
    assert case.status == status
    if status in CASE_TRANSITIONS[action]:
        _do(action, case, caseworker)  # allowed: no error
    else:
        with pytest.raises(Conflict):
            _do(action, case, caseworker)
        assert Case.objects.get(pk=case.pk).status == status


def test_case_reopen_refused_after_thirty_days(branch_tree, caseworker):
    case = _walk_to(make_case(branch_tree["station_a"]), CaseStatus.RESOLVED, caseworker)
    Case.objects.filter(pk=case.pk).update(resolved_at=case.resolved_at - datetime.timedelta(days=31))
    with pytest.raises(Conflict):
        actions.case_reopen(actor=caseworker, case=case)


def test_case_assign_refuses_person_without_scope(branch_tree, caseworker, role_at):
    outsider = role_at(branch_tree["station_b"], Role.CASEWORKER)
    case = make_case(branch_tree["station_a"])
    with pytest.raises(ValidationError):
        actions.case_assign(actor=caseworker, case=case, assignee=outsider)


#
# Working time
#
def test_worktime_skips_national_day_holiday_2025():
    # Tue 30 Sep 2025 17:00; 1 Oct – 8 Oct 2025 are public holidays; Thu 9 Oct is the next working day.
    assert add_working_seconds(at(2025, 9, 30, 17), 4 * 3600, {}) == at(2025, 10, 9, 12)


def test_worktime_counts_make_up_working_day_2025():
    # Sat 11 Oct 2025 is a make-up working day (调休): 1 h on 30 Sep + 9 h on 9 Oct + 9 h on 10 Oct + 5 h.
    assert add_working_seconds(at(2025, 9, 30, 17), 24 * 3600, {}) == at(2025, 10, 11, 14)


def test_worktime_between_over_holiday_is_one_hour():
    assert working_seconds_between(at(2025, 9, 30, 17), at(2025, 10, 9, 9), {}) == 3600


def test_worktime_outside_library_range_uses_weekdays_and_overrides():
    # 2030 is beyond chinese_calendar: Mon–Fri, plus the admin's override (a holiday on Tue 1 Oct 2030).
    monday = at(2030, 9, 30, 17)
    assert add_working_seconds(monday, 2 * 3600, {}) == at(2030, 10, 1, 10)
    assert add_working_seconds(monday, 2 * 3600, {datetime.date(2030, 10, 1): False}) == at(2030, 10, 2, 10)


def test_case_open_deadlines_in_working_time(branch_tree, wage):
    SlaPolicy.objects.create(case_type=wage, priority="normal", first_response_hours=4, resolution_hours=24)
    with mock.patch("django.utils.timezone.now", return_value=at(2025, 9, 30, 17)):
        case = make_case(branch_tree["station_a"])
    assert case.first_response_due == at(2025, 10, 9, 12)
    assert case.resolution_due == at(2025, 10, 11, 14)


def test_case_waiting_pauses_the_clock(branch_tree, caseworker, wage):
    SlaPolicy.objects.create(case_type=wage, priority="normal", first_response_hours=2, resolution_hours=8)
    with mock.patch("django.utils.timezone.now", return_value=at(2025, 11, 3, 9)):  # Monday
        case = make_case(branch_tree["station_a"])
        case = actions.case_assign(actor=caseworker, case=case, assignee=caseworker)
        case = actions.case_start(actor=caseworker, case=case)
    assert case.resolution_due == at(2025, 11, 3, 17)
    with mock.patch("django.utils.timezone.now", return_value=at(2025, 11, 3, 10)):
        case = actions.case_wait(actor=caseworker, case=case, on=CaseStatus.WAITING_WORKER)
    # two working days later the worker answers: 10:00 Mon → 10:00 Wed is 18 working hours paused
    with mock.patch("django.utils.timezone.now", return_value=at(2025, 11, 5, 10)):
        assert actions.breaches_detect() == []  # no breach while waiting, though 17:00 Mon has passed
        case = actions.case_resume(actor=caseworker, case=case)
    assert case.paused_seconds == 18 * 3600
    assert case.resolution_due == at(2025, 11, 5, 17)


#
# Breaches and escalation
#
def test_breach_recorded_once_and_escalated_once(branch_tree, role_at, wage, django_capture_on_commit_callbacks):
    upper = role_at(branch_tree["delivery"], Role.CASEWORKER)
    SlaPolicy.objects.create(case_type=wage, priority="normal", first_response_hours=1, resolution_hours=2)
    with mock.patch("django.utils.timezone.now", return_value=at(2025, 11, 3, 9)):
        case = make_case(branch_tree["station_a"])
    with mock.patch("django.utils.timezone.now", return_value=at(2025, 11, 3, 15)):
        with django_capture_on_commit_callbacks(execute=True):
            breaches_sweep()
        with django_capture_on_commit_callbacks(execute=True):
            breaches_sweep()
    assert set(CaseBreach.objects.filter(case=case).values_list("kind", flat=True)) == {"first_response", "resolution"}
    assert len(mail.outbox) == 2  # one per breach, not per sweep
    assert all(m.to == [upper.email] for m in mail.outbox)
    assert Notification.objects.filter(recipient=upper, kind="services.breach").count() == 2


def test_breach_stays_recorded_after_resolution(branch_tree, caseworker, wage):
    SlaPolicy.objects.create(case_type=wage, priority="normal", first_response_hours=1, resolution_hours=2)
    with mock.patch("django.utils.timezone.now", return_value=at(2025, 11, 3, 9)):
        case = make_case(branch_tree["station_a"])
        case = actions.case_assign(actor=caseworker, case=case, assignee=caseworker)
    with mock.patch("django.utils.timezone.now", return_value=at(2025, 11, 4, 9)):
        case = actions.case_start(actor=caseworker, case=case)
        case = actions.case_resolve(actor=caseworker, case=case, summary="Done")
    assert set(case.breaches.values_list("kind", flat=True)) == {"first_response", "resolution"}


#
# Workers
#
def test_worker_create_refuses_same_phone(branch_tree):
    make_worker(branch_tree["station_a"], phone="13912345678")
    with pytest.raises(ValidationError) as exc:
        make_worker(branch_tree["station_b"], phone="139 1234 5678")
    assert "phone" in exc.value.message_dict


def test_worker_phone_masked_and_found_by_hash(branch_tree):
    worker = make_worker(branch_tree["station_a"], phone="13912345678")
    assert worker.phone_masked == "139****5678"
    assert "13912345678" not in worker.phone_cipher
    assert actions.worker_find(phone="13912345678") == worker


def test_worker_merge_keeps_every_case(branch_tree, caseworker):
    keep = make_worker(branch_tree["station_a"])
    number = make_citizen_id(7)
    drop = make_worker(branch_tree["station_a"], citizen_id=number)
    cases = [make_case(branch_tree["station_a"], worker=w) for w in (keep, drop, drop)]
    merged = actions.worker_merge(actor=caseworker, keep=keep, drop=drop)
    assert set(Case.objects.filter(worker=merged).values_list("pk", flat=True)) == {c.pk for c in cases}
    assert not Worker.objects.filter(pk=drop.pk).exists()
    assert merged.citizen_id == number


#
# Referrals, attachments, rating
#
def test_hazard_report_referred_to_street_office(branch_tree):
    case = make_case(branch_tree["station_a"], case_type=CaseType.objects.get(code="hazard_report"))
    referral = Referral.objects.get(case=case)
    assert referral.partner_kind == "street_office"


def test_case_attach_refuses_executable_named_jpg(branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    upload = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + b"\x00" * 100, content_type="image/jpeg")
    with pytest.raises(ValidationError):
        actions.case_attach(actor=caseworker, case=case, upload=upload)


def test_case_attach_refuses_oversized(branch_tree, caseworker, settings):
    settings.SERVICES_ATTACHMENT_MAX_BYTES = 100
    case = make_case(branch_tree["station_a"])
    upload = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff" + b"\x00" * 200)
    with pytest.raises(ValidationError):
        actions.case_attach(actor=caseworker, case=case, upload=upload)


def test_case_attach_accepts_real_jpeg(branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    upload = SimpleUploadedFile("photo.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 200)
    event = actions.case_attach(actor=caseworker, case=case, upload=upload)
    assert event.content_type == "image/jpeg"


def test_case_rate_once_and_only_when_resolved(branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    with pytest.raises(Conflict):
        actions.case_rate(case=case, rating=5)
    case = _walk_to(case, CaseStatus.RESOLVED, caseworker)
    actions.case_rate(case=case, rating=4, comment="Thanks")
    with pytest.raises(Conflict):
        actions.case_rate(case=case, rating=1)
    assert Case.objects.get(pk=case.pk).rating == 4
