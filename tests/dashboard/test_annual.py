"""A branch's annual summary: figures agree with the apps' own selectors, year errors, scope, export, query count."""

import datetime
from decimal import Decimal
from http import HTTPStatus
from io import BytesIO

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from activities import compliance, study
from activities.actions import activity_mark_held, attendance_mark
from branches.choices import Role
from config.dashboard.annual import annual_summary
from core.models import AuditEntry
from members.actions import dues_assess, dues_payment_record
from members.actions.transfers import transfer_accept, transfer_create, transfer_issue
from members.selectors_dues import dues_arrears, dues_collected_total
from services.actions import case_assign, case_rate, case_resolve, case_start, station_visit_record
from services.selectors import case_report
from tests.activities.factories import ActivityFactory
from tests.members.factories import MemberFactory
from tests.services.factories import make_case, make_station

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year
LAST_YEAR_JOIN = datetime.date(YEAR - 1, 6, 1)


@pytest.fixture
def officer(branch_tree, role_at):
    return role_at(branch_tree["district"], Role.OFFICER)


@pytest.fixture
def secretary(branch_tree, role_at):
    return role_at(branch_tree["delivery"], Role.SECRETARY)


@pytest.fixture
def year_data(branch_tree, officer):
    """delivery's subtree (station A and B) with members, a transfer out to the building branch, dues,
    a held meeting with attendance, a resolved and rated case, a station with a visit."""
    a, b, building = branch_tree["station_a"], branch_tree["station_b"], branch_tree["building"]
    full_a = [MemberFactory(branch=a) for _ in range(3)]
    MemberFactory(branch=a, category="probationary", joined_on=TODAY.replace(month=1, day=2))
    MemberFactory(branch=b, category="full", joined_on=LAST_YEAR_JOIN, full_member_on=TODAY.replace(month=1, day=3))
    [MemberFactory(branch=building) for _ in range(2)]

    leaver = full_a[0]
    transfer = transfer_create(actor=officer, member=leaver, to_branch=building, reason="Moved")
    transfer = transfer_issue(actor=officer, transfer=transfer)
    transfer_accept(actor=officer, transfer=transfer)

    month = TODAY.replace(day=1) - datetime.timedelta(days=1)
    month = month.replace(day=1)
    dues_assess(actor=officer, member=full_a[1], year=month.year, base_kind="salary", base_amount=Decimal("2500"))
    dues_payment_record(
        actor=officer,
        member=full_a[1],
        period_from=month,
        period_to=month,
        amount=Decimal("12.50"),
        method="cash",
        receipt_number="R-1",
    )

    meeting = ActivityFactory(
        branch=a,
        kind="branch_assembly",
        starts_at=timezone.now() - datetime.timedelta(days=2),
        ends_at=timezone.now() - datetime.timedelta(days=2) + datetime.timedelta(hours=2),
    )
    activity_mark_held(actor=officer, activity=meeting)
    attendance_mark(actor=officer, activity=meeting, member=full_a[1])

    case = make_case(a)
    case = case_assign(actor=officer, case=case, assignee=officer)
    case = case_start(actor=officer, case=case)
    case = case_resolve(actor=officer, case=case, summary="Wages paid")
    case_rate(case=case, rating=4)
    make_case(building)
    station = make_station(a, actor=officer)
    station_visit_record(actor=officer, station=station, purpose="rest")
    return {"leaver": leaver, "payer": full_a[1]}


def test_annual_summary_members_follow_transfers_and_categories(branch_tree, secretary, year_data):
    summary = annual_summary(actor=secretary, branch=branch_tree["delivery"], year=YEAR)
    members = summary.facts["members"]
    # start: three full at A (with the leaver), B's member still probationary; end: leaver gone, B's made full
    assert members["start"] == {"full": 3, "probationary": 1, "total": 4}
    assert members["end"] == {"full": 3, "probationary": 1, "total": 4}
    assert members["transferred_out"] == 1
    assert members["transferred_in"] == 0
    assert members["made_full"] == 1


def test_annual_summary_receiving_side_counts_transfer_in(branch_tree, officer, year_data):
    summary = annual_summary(actor=officer, branch=branch_tree["building"], year=YEAR)
    members = summary.facts["members"]
    assert members["start"]["total"] == 2
    assert members["end"]["total"] == 3
    assert members["transferred_in"] == 1
    assert members["transferred_out"] == 0


def test_annual_summary_earlier_year_counts_only_members_joined_by_then(branch_tree, secretary, year_data):
    summary = annual_summary(actor=secretary, branch=branch_tree["delivery"], year=YEAR - 1)
    members = summary.facts["members"]
    assert members["end"] == {"full": 3, "probationary": 1, "total": 4}
    assert members["start"] == {"full": 3, "probationary": 0, "total": 3}
    assert members["transferred_out"] == 0


def test_annual_summary_agrees_with_app_selectors(branch_tree, secretary, year_data):
    delivery = branch_tree["delivery"]
    summary = annual_summary(actor=secretary, branch=delivery, year=YEAR)
    facts = summary.facts

    collected = sum(dues_collected_total(branch=b, year=YEAR) for b in (delivery, *delivery.children.all()))
    assert facts["dues"]["collected"] == collected == Decimal("12.50")
    reference = min(datetime.date(YEAR + 1, 1, 1), TODAY)
    for months in (1, 3, 6):
        expected = len(dues_arrears(actor=secretary, branch=delivery, today=reference, minimum=months))
        assert facts["dues"][f"arrears_{months}"] == expected

    rows = study.branch_study_hours(branch=delivery, year=YEAR)
    assert facts["study"]["members"] == len(rows)
    assert facts["study"]["met"] == sum(1 for r in rows if r.met)
    assert facts["study"]["hours"] == sum((r.hours for r in rows), Decimal(0))
    assert facts["study"]["hours"] > 0

    grids, _total = compliance.compliance_subtree(branch=delivery, year=YEAR)
    required = sum(len(g.periods) for g in grids)
    assert sum(r["required"] for r in facts["compliance"]["by_kind"].values()) == required
    assert facts["compliance"]["held"] == 1

    report = case_report(actor=secretary, year=YEAR)  # the secretary's services scope is exactly the subtree
    assert facts["cases"]["opened"] == report["total"] == 1
    assert facts["cases"]["rating_count"] == report["rating_count"] == 1
    assert facts["cases"]["rating_avg"] == report["rating_avg"]
    assert facts["cases"]["resolved"] == 1
    assert facts["stations"] == {"stations": 1, "visits": 1}
    assert [t.key for t in summary.tables] == ["members", "lost_contact", "compliance", "study", "dues", "services"]


def test_annual_summary_leaves_out_sections_the_role_does_not_cover(branch_tree, role_at, year_data):
    caseworker = role_at(branch_tree["delivery"], Role.CASEWORKER)
    summary = annual_summary(actor=caseworker, branch=branch_tree["delivery"], year=YEAR)
    assert [t.key for t in summary.tables] == ["services"]


def test_annual_page_shows_sections(client, branch_tree, secretary, year_data):
    client.force_login(secretary)
    response = client.get(reverse("reports:annual"), {"branch": branch_tree["delivery"].pk, "year": YEAR})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'id="annual-members"' in html
    assert 'id="annual-services"' in html
    assert branch_tree["delivery"].name in html


def test_annual_page_defaults_to_top_of_scope_and_this_year(client, branch_tree, secretary):
    client.force_login(secretary)
    response = client.get(reverse("reports:annual"))
    assert response.status_code == HTTPStatus.OK
    assert response.context["summary"].branch == branch_tree["delivery"]
    assert response.context["summary"].year == YEAR


def test_annual_page_future_year_is_a_clear_error(client, branch_tree, secretary):
    client.force_login(secretary)
    response = client.get(reverse("reports:annual"), {"branch": branch_tree["delivery"].pk, "year": YEAR + 1})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["summary"] is None
    assert "has not begun yet" in response.content.decode()


def test_annual_page_year_before_founding_is_a_clear_error(client, branch_tree, secretary):
    delivery = branch_tree["delivery"]
    delivery.founded_on = datetime.date(2020, 5, 1)
    delivery.save(update_fields=["founded_on"])
    client.force_login(secretary)
    response = client.get(reverse("reports:annual"), {"branch": delivery.pk, "year": 2019})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "was founded in 2020" in response.content.decode()
    assert client.get(reverse("reports:annual"), {"branch": delivery.pk, "year": 2020}).status_code == 200


def test_annual_page_bad_year_is_a_clear_error(client, branch_tree, secretary):
    client.force_login(secretary)
    response = client.get(reverse("reports:annual"), {"branch": branch_tree["delivery"].pk, "year": "soon"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["form"].errors["year"]


def test_annual_page_outside_scope_is_404(client, branch_tree, secretary):
    client.force_login(secretary)
    for wanted in (branch_tree["building"].pk, branch_tree["district"].pk, "not-a-uuid"):
        response = client.get(reverse("reports:annual"), {"branch": wanted, "year": YEAR})
        assert response.status_code == HTTPStatus.NOT_FOUND
        response = client.get(reverse("reports:annual_xlsx"), {"branch": wanted, "year": YEAR})
        assert response.status_code == HTTPStatus.NOT_FOUND


def test_annual_page_without_any_role_is_404(client, user):
    client.force_login(user)
    assert client.get(reverse("reports:annual")).status_code == HTTPStatus.NOT_FOUND


def test_annual_xlsx_has_one_sheet_per_section_and_is_audited(client, branch_tree, secretary, year_data):
    delivery = branch_tree["delivery"]
    client.force_login(secretary)
    response = client.get(reverse("reports:annual_xlsx"), {"branch": delivery.pk, "year": YEAR})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"] == f'attachment; filename="annual-summary-{YEAR}.xlsx"'
    book = openpyxl.load_workbook(BytesIO(response.content))
    summary = annual_summary(actor=secretary, branch=delivery, year=YEAR)
    assert book.sheetnames == [t.title for t in summary.tables]
    members = book["Members"]
    values = [list(r) for r in members.iter_rows(values_only=True)]
    header = values.index(["Figure", "Full members", "Probationary members", "Total"])
    assert values[header + 1] == ["At the start of the year", 3, 1, 4]
    entry = AuditEntry.objects.get(action="dashboard.annual.exported")
    assert entry.actor == secretary
    assert entry.object_id == str(delivery.pk)
    assert entry.data["year"] == YEAR


def test_annual_xlsx_future_year_is_a_clear_error(client, branch_tree, secretary):
    client.force_login(secretary)
    response = client.get(reverse("reports:annual_xlsx"), {"branch": branch_tree["delivery"].pk, "year": YEAR + 1})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "has not begun yet" in response.content.decode()
    assert not AuditEntry.objects.filter(action="dashboard.annual.exported").exists()


def test_annual_summary_query_count_does_not_grow_with_members(
    branch_tree, secretary, year_data, django_assert_num_queries
):
    delivery = branch_tree["delivery"]
    annual_summary(actor=secretary, branch=delivery, year=YEAR)  # grants cached, rules read once
    with django_assert_num_queries(QUERIES):
        annual_summary(actor=secretary, branch=delivery, year=YEAR)
    for _ in range(5):
        MemberFactory(branch=branch_tree["station_b"])
    with django_assert_num_queries(QUERIES):
        summary = annual_summary(actor=secretary, branch=delivery, year=YEAR)
    assert summary.facts["members"]["end"]["total"] == 9


#: members 2 + flows 3 + lost contact 2 + compliance 3 + study 2 + dues 2 + cases 1 + stations 2
QUERIES = 17
