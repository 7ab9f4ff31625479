"""Staff pages of the services app: stations, wishes, visits, aid, opening and editing cases, reports."""

import datetime
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from branches.choices import Role
from services import actions
from services.choices import AidStatus, WishStatus
from services.models import Case, CaseBreach, CaseEvent, CaseType, HardshipAid, Station, StationVisit, Wish, Worker
from tests.services.factories import make_case, make_station, make_worker

pytestmark = pytest.mark.django_db


def _station_data(branch, **extra):
    data = {
        "branch": branch.pk,
        "name": "Warm station",
        "address": "8 Rider Road",
        "latitude": "39.904200",
        "longitude": "116.407400",
        "hours": "8:00–22:00",
        "amenities": ["water", "charging"],
        "contact_name": "Li",
        "contact_phone": "010-1234567",
        "is_active": "on",
    }
    data.update(extra)
    return data


#
# Navigation
#
def test_services_nav_links_on_inbox(client, caseworker):
    client.force_login(caseworker)
    body = client.get(reverse("services:case_list")).content.decode()
    for name in ("services:case_list", "services:station_list", "services:aid_list", "services:reports"):
        assert f'href="{reverse(name)}"' in body
    assert 'id="nav-services"' in body


#
# Stations
#
def test_station_create_page_saves_amenities_hours_coordinates(client, branch_tree, caseworker):
    client.force_login(caseworker)
    response = client.post(reverse("services:station_create"), _station_data(branch_tree["station_a"]))
    station = Station.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("services:station_detail", args=[station.pk])
    assert station.amenities == ["water", "charging"]
    assert (station.latitude, station.longitude) == (Decimal("39.904200"), Decimal("116.407400"))
    assert station.hours == "8:00–22:00"


def test_station_create_page_half_coordinates_error_in_place(client, branch_tree, caseworker):
    client.force_login(caseworker)
    response = client.post(reverse("services:station_create"), _station_data(branch_tree["station_a"], longitude=""))
    assert response.status_code == HTTPStatus.OK
    assert "Give both coordinates or neither." in response.content.decode()
    assert not Station.objects.exists()


def test_station_create_page_offers_only_branches_in_scope(client, branch_tree, caseworker):
    client.force_login(caseworker)
    response = client.post(reverse("services:station_create"), _station_data(branch_tree["station_b"]))
    assert response.status_code == HTTPStatus.OK
    assert "branch" in response.context["form"].errors
    assert not Station.objects.exists()


def test_station_create_page_refused_to_reader(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY))
    assert client.get(reverse("services:station_create")).status_code == HTTPStatus.FORBIDDEN


def test_station_edit_page_changes_and_errors_leave_it_unchanged(client, branch_tree, caseworker):
    station = make_station(branch_tree["station_a"], name="Old name")
    client.force_login(caseworker)
    url = reverse("services:station_edit", args=[station.pk])
    assert client.get(url).status_code == HTTPStatus.OK
    client.post(url, _station_data(branch_tree["station_a"], name="New name", amenities=["wifi"]))
    station.refresh_from_db()
    assert (station.name, station.amenities) == ("New name", ["wifi"])
    response = client.post(url, _station_data(branch_tree["station_a"], name="Broken", latitude="120"))
    assert response.status_code == HTTPStatus.OK
    station.refresh_from_db()
    assert station.name == "New name"


def test_station_edit_page_outside_scope_404(client, branch_tree, caseworker):
    station = make_station(branch_tree["station_b"])
    client.force_login(caseworker)
    assert client.get(reverse("services:station_edit", args=[station.pk])).status_code == HTTPStatus.NOT_FOUND
    assert client.get(reverse("services:station_detail", args=[station.pk])).status_code == HTTPStatus.NOT_FOUND


def test_station_page_records_visit(client, branch_tree, caseworker):
    station = make_station(branch_tree["station_a"])
    client.force_login(caseworker)
    client.post(reverse("services:station_visit", args=[station.pk]), {"purpose": "Rest"})
    assert StationVisit.objects.get().purpose == "Rest"
    body = client.get(reverse("services:station_detail", args=[station.pk])).content.decode()
    assert "1 (1 in the last 30 days)" in body


def test_station_visit_outside_scope_404(client, branch_tree, caseworker):
    station = make_station(branch_tree["station_b"])
    client.force_login(caseworker)
    response = client.post(reverse("services:station_visit", args=[station.pk]), {"purpose": "Rest"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not StationVisit.objects.exists()


def test_station_page_wish_post_claim_fulfil(client, branch_tree, caseworker):
    station = make_station(branch_tree["station_a"])
    client.force_login(caseworker)
    client.post(reverse("services:wish_post", args=[station.pk]), {"title": "Rain cape"})
    wish = Wish.objects.get()
    client.post(reverse("services:wish_claim", args=[station.pk, wish.pk]), {"claimed_by": "Bank volunteers"})
    client.post(reverse("services:wish_fulfil", args=[station.pk, wish.pk]))
    wish.refresh_from_db()
    assert (wish.status, wish.claimed_by) == (WishStatus.FULFILLED, "Bank volunteers")


def test_station_page_wish_errors_in_place(client, branch_tree, caseworker):
    station = make_station(branch_tree["station_a"])
    client.force_login(caseworker)
    response = client.post(reverse("services:wish_post", args=[station.pk]), {"title": ""})
    assert response.status_code == HTTPStatus.OK
    assert response.context["wish_form"].errors
    assert not Wish.objects.exists()
    wish = actions.wish_post(actor=caseworker, station=station, title="Rain cape")
    response = client.post(reverse("services:wish_fulfil", args=[station.pk, wish.pk]))
    assert "Only a claimed wish can be marked fulfilled." in response.content.decode()
    response = client.post(reverse("services:wish_claim", args=[station.pk, wish.pk]), {"claimed_by": ""})
    assert 'id="claim-errors"' in response.content.decode()
    wish.refresh_from_db()
    assert wish.status == WishStatus.POSTED


def test_station_list_query_count_pinned(client, branch_tree, caseworker, django_assert_num_queries):
    for _ in range(3):
        make_station(branch_tree["station_a"])
    make_station(branch_tree["station_b"], name="Sibling station")
    client.force_login(caseworker)
    client.get(reverse("services:station_list"))
    with django_assert_num_queries(5):  # session, user, role grants, stations (scope as a subquery), notifications
        response = client.get(reverse("services:station_list"))
    assert len(response.context["stations"]) == 3
    assert "Sibling station" not in response.content.decode()


def test_station_detail_query_count_pinned(client, branch_tree, caseworker, django_assert_num_queries):
    station = make_station(branch_tree["station_a"])
    for n in range(3):
        actions.wish_post(actor=caseworker, station=station, title=f"Wish {n}")
        actions.station_visit_record(actor=caseworker, station=station)
    client.force_login(caseworker)
    client.get(reverse("services:station_detail", args=[station.pk]))
    # session, user, role grants, station, visit counts, wishes, notifications
    with django_assert_num_queries(7):
        client.get(reverse("services:station_detail", args=[station.pk]))


#
# Hardship aid
#
def _aid_data(branch, **extra):
    data = {
        "branch": branch.pk,
        "phone": "13912340000",
        "kind": "medical",
        "amount": "800.00",
        "granted_on": "2025-04-01",
        "reason": "Hospital bill",
    }
    data.update(extra)
    return data


def test_aid_create_page_finds_worker_by_phone(client, branch_tree, caseworker):
    worker = make_worker(branch_tree["station_a"], phone="13912340000")
    client.force_login(caseworker)
    response = client.post(reverse("services:aid_create"), _aid_data(branch_tree["station_a"]))
    assert response.status_code == HTTPStatus.FOUND
    aid = HardshipAid.objects.get()
    assert (aid.worker, aid.amount, aid.status) == (worker, Decimal("800.00"), AidStatus.PENDING)


def test_aid_create_page_unknown_or_foreign_phone_error_in_place(client, branch_tree, caseworker):
    make_worker(branch_tree["station_b"], phone="13912340000")
    client.force_login(caseworker)
    response = client.post(reverse("services:aid_create"), _aid_data(branch_tree["station_a"]))
    assert response.status_code == HTTPStatus.OK
    assert "No worker with this phone number" in response.content.decode()
    assert not HardshipAid.objects.exists()


def test_aid_approve_page_officer_only(client, branch_tree, caseworker, role_at):
    worker = make_worker(branch_tree["station_a"])
    aid = actions.aid_create(
        actor=caseworker,
        branch=branch_tree["station_a"],
        worker=worker,
        kind="living",
        amount=Decimal("300"),
        granted_on=datetime.date(2025, 1, 10),
    )
    other_caseworker = role_at(branch_tree["station_a"], Role.CASEWORKER)
    client.force_login(other_caseworker)
    url = reverse("services:aid_decide", args=[aid.pk])
    assert 'name="approve"' not in client.get(reverse("services:aid_list")).content.decode()
    assert client.post(url, {"approve": "1"}).status_code == HTTPStatus.FORBIDDEN
    aid.refresh_from_db()
    assert aid.status == AidStatus.PENDING
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    client.force_login(officer)
    assert 'name="approve"' in client.get(reverse("services:aid_list")).content.decode()
    client.post(url, {"approve": "1"})
    aid.refresh_from_db()
    assert (aid.status, aid.approved_by) == (AidStatus.APPROVED, officer)
    body = client.get(reverse("services:aid_list")).content.decode()
    assert "300.00" in body


def test_aid_decide_outside_scope_404(client, branch_tree, caseworker, role_at):
    aid = actions.aid_create(
        actor=caseworker,
        branch=branch_tree["station_a"],
        worker=make_worker(branch_tree["station_a"]),
        kind="living",
        amount=Decimal("300"),
        granted_on=datetime.date(2025, 1, 10),
    )
    client.force_login(role_at(branch_tree["station_b"], Role.OFFICER))
    assert client.post(reverse("services:aid_decide", args=[aid.pk]), {"approve": "1"}).status_code == 404


def test_aid_list_query_count_pinned(client, branch_tree, caseworker, django_assert_num_queries):
    for _ in range(3):
        actions.aid_create(
            actor=caseworker,
            branch=branch_tree["station_a"],
            worker=make_worker(branch_tree["station_a"]),
            kind="living",
            amount=Decimal("100"),
            granted_on=datetime.date(2025, 1, 10),
        )
    client.force_login(caseworker)
    client.get(reverse("services:aid_list"))
    # session, user, role grants, the page, the yearly totals, notifications
    with django_assert_num_queries(6):
        response = client.get(reverse("services:aid_list"))
    assert len(response.context["page"].object_list) == 3


#
# Opening and editing cases
#
def _case_data(branch, wage, **extra):
    data = {
        "branch": branch.pk,
        "phone": "13912345678",
        "name": "Wang Fang",
        "case_type": wage.pk,
        "description": "Wages unpaid since March",
        "channel": "phone",
        "priority": "high",
    }
    data.update(extra)
    return data


def test_case_create_page_finds_known_worker_by_phone(client, branch_tree, caseworker, wage):
    worker = make_worker(branch_tree["station_a"], phone="13912345678")
    client.force_login(caseworker)
    response = client.post(reverse("services:case_create"), _case_data(branch_tree["station_a"], wage))
    case = Case.objects.get()
    assert response["Location"] == reverse("services:case_detail", args=[case.pk])
    assert (case.worker, case.priority, case.channel) == (worker, "high", "phone")
    assert Worker.objects.count() == 1


def test_case_create_page_new_phone_creates_worker(client, branch_tree, caseworker, wage):
    client.force_login(caseworker)
    client.post(reverse("services:case_create"), _case_data(branch_tree["station_a"], wage))
    case = Case.objects.get()
    assert (case.worker.name, case.worker.phone) == ("Wang Fang", "13912345678")
    assert case.worker.branch == branch_tree["station_a"]


def test_case_create_page_phone_of_foreign_worker_error_nothing_saved(client, branch_tree, caseworker, wage):
    make_worker(branch_tree["station_b"], phone="13912345678")
    client.force_login(caseworker)
    response = client.post(reverse("services:case_create"), _case_data(branch_tree["station_a"], wage))
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["phone"]
    assert not Case.objects.exists()
    assert Worker.objects.count() == 1


def test_case_create_page_invalid_phone_error_in_place(client, branch_tree, caseworker, wage):
    client.force_login(caseworker)
    response = client.post(reverse("services:case_create"), _case_data(branch_tree["station_a"], wage, phone="12"))
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["phone"]
    assert not Case.objects.exists()
    assert not Worker.objects.exists()


def test_case_create_page_for_worker_by_id(client, branch_tree, caseworker, wage):
    worker = make_worker(branch_tree["station_a"])
    client.force_login(caseworker)
    url = reverse("services:case_create") + f"?worker={worker.pk}"
    assert "phone" not in client.get(url).context["form"].fields
    data = _case_data(branch_tree["station_a"], wage, worker=str(worker.pk))
    del data["phone"]
    client.post(reverse("services:case_create"), data)
    assert Case.objects.get().worker == worker


def test_case_create_page_worker_outside_scope_404(client, branch_tree, caseworker):
    worker = make_worker(branch_tree["station_b"])
    client.force_login(caseworker)
    url = reverse("services:case_create") + f"?worker={worker.pk}"
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_case_edit_page_changes_type_and_priority_on_timeline(client, branch_tree, caseworker, wage):
    case = make_case(branch_tree["station_a"])
    injury = CaseType.objects.get(code="occupational_injury")
    client.force_login(caseworker)
    url = reverse("services:case_edit", args=[case.pk])
    client.post(url, {"case_type": injury.pk, "priority": "urgent"})
    case.refresh_from_db()
    assert (case.case_type, case.priority) == (injury, "urgent")
    changed = {e.data["field"] for e in CaseEvent.objects.filter(case=case, kind="field")}
    assert changed == {"case_type", "priority"}
    response = client.post(url, {"case_type": wage.pk, "priority": "nonsense"})
    assert response.status_code == HTTPStatus.OK
    case.refresh_from_db()
    assert case.case_type == injury


def test_case_edit_page_outside_scope_404(client, branch_tree, caseworker):
    case = make_case(branch_tree["station_b"])
    client.force_login(caseworker)
    assert client.get(reverse("services:case_edit", args=[case.pk])).status_code == HTTPStatus.NOT_FOUND


def test_case_page_referral_status_change(client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    referral = actions.referral_create(actor=caseworker, case=case, partner_kind="mediation", partner_name="Court")
    client.force_login(caseworker)
    url = reverse("services:case_action", args=[case.pk, "referral"])
    client.post(url, {"referral": referral.pk, "status": "accepted", "note": ""})
    referral.refresh_from_db()
    assert referral.status == "accepted"
    response = client.post(url, {"referral": referral.pk, "status": "sent"}, follow=True)
    assert "This referral cannot move to that status." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "accepted"


def test_case_page_spam_review_genuine_and_delete(client, branch_tree, role_at, wage):
    user = role_at(branch_tree["district"], Role.CASEWORKER)
    real = actions.intake_submit(case_type=wage, description="Help", phone="13912345673", spam_reasons=["too_fast"])
    junk = actions.intake_submit(case_type=wage, description="Ads", phone="13912345674", spam_reasons=["honeypot"])
    client.force_login(user)
    review = client.get(reverse("services:case_list") + "?tab=review").content.decode()
    assert real.tracking_code in review
    assert junk.tracking_code in review
    client.post(reverse("services:case_action", args=[real.pk, "review"]), {"genuine": "1"})
    response = client.post(reverse("services:case_action", args=[junk.pk, "review"]), {"genuine": "0"})
    assert response["Location"] == reverse("services:case_list")
    real.refresh_from_db()
    assert not real.suspected_spam
    assert real.resolution_due is not None
    assert not Case.objects.filter(pk=junk.pk).exists()
    assert client.get(reverse("services:case_detail", args=[junk.pk])).status_code == HTTPStatus.NOT_FOUND


#
# Worker page
#
def test_worker_page_masked_and_reveal_audited(client, branch_tree, caseworker):
    from core.models import AuditEntry

    worker = make_worker(branch_tree["station_a"], phone="13912345678")
    make_case(branch_tree["station_a"], worker=worker)
    client.force_login(caseworker)
    url = reverse("services:worker_detail", args=[worker.pk])
    body = client.get(url).content.decode()
    assert "139****5678" in body
    assert "13912345678" not in body
    assert "13912345678" in client.post(url, {"reveal": "1"}).content.decode()
    assert AuditEntry.objects.filter(action="services.worker.revealed").count() == 1


def test_worker_page_outside_scope_404(client, branch_tree, caseworker):
    worker = make_worker(branch_tree["station_b"])
    client.force_login(caseworker)
    assert client.get(reverse("services:worker_detail", args=[worker.pk])).status_code == HTTPStatus.NOT_FOUND


def test_worker_page_reader_cannot_reveal(client, branch_tree, role_at):
    worker = make_worker(branch_tree["station_a"], phone="13912345678")
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY))
    url = reverse("services:worker_detail", args=[worker.pk])
    assert client.get(url).status_code == HTTPStatus.OK
    assert client.post(url, {"reveal": "1"}).status_code == HTTPStatus.FORBIDDEN


#
# Inbox query counts
#
@pytest.mark.parametrize("tab", ["mine", "unassigned", "due_soon", "breached", "review"])
def test_case_inbox_query_count_constant(client, branch_tree, caseworker, tab, settings, django_assert_num_queries):
    """Each tab costs the same with 2 or 7 rows: session, user, role grants, the page, breaches, notifications."""
    settings.SERVICES_DUE_SOON_HOURS = 24 * 365

    def add_cases(n):
        for _ in range(n):
            case = make_case(branch_tree["station_a"])
            if tab == "mine":
                actions.case_assign(actor=caseworker, case=case, assignee=caseworker)
            elif tab == "breached":
                CaseBreach.objects.create(case=case, kind="resolution", due_at=timezone.now())
            elif tab == "review":
                Case.objects.filter(pk=case.pk).update(suspected_spam=True)

    client.force_login(caseworker)
    add_cases(2)
    with django_assert_num_queries(6):
        response = client.get(reverse("services:case_list"), {"tab": tab})
    assert len(response.context["page"].object_list) == 2
    add_cases(5)
    with django_assert_num_queries(6):
        response = client.get(reverse("services:case_list"), {"tab": tab})
    assert len(response.context["page"].object_list) == 7
