"""Dues pages: member dues, forms with errors in place, arrears list, yearly report and its XLSX."""

import datetime
import re
from decimal import Decimal
from html import unescape
from http import HTTPStatus
from io import BytesIO

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from branches.choices import Role
from core.models import AuditEntry
from members.actions import dues_assess, dues_payment_record
from members.models import DuesPayment
from members.views_dues import ArrearsListView
from tests.members.dev_helpers import seeded
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
THIS_MONTH = timezone.localdate().replace(day=1)
#: Session, user, role grants, the `?branch=` lookup, the page of members, their paid months, unread notifications.
ARREARS_PAGE_QUERIES = 7


@pytest.fixture(autouse=True)
def _seed(db):
    seeded()


@pytest.fixture
def branch(branch_tree):
    return branch_tree["station_a"]


@pytest.fixture
def secretary(branch, role_at):
    return role_at(branch, Role.SECRETARY)


@pytest.fixture
def member(branch, secretary):
    member = MemberFactory(branch=branch, joined_on=datetime.date(2015, 7, 1))
    dues_assess(actor=secretary, member=member, year=THIS_MONTH.year, base_kind="salary", base_amount=Decimal("4000"))
    return member


def test_member_dues_page_scoped(client, member, secretary, branch_tree, role_at):
    client.force_login(secretary)
    response = client.get(reverse("members:dues_member", kwargs={"pk": member.pk}))
    assert response.status_code == HTTPStatus.OK
    assert "40.00" in response.content.decode()
    client.force_login(role_at(branch_tree["station_b"], Role.SECRETARY))
    assert client.get(reverse("members:dues_member", kwargs={"pk": member.pk})).status_code == 404


def test_assess_page(client, member, secretary):
    client.force_login(secretary)
    url = reverse("members:dues_assess", kwargs={"pk": member.pk})
    response = client.post(url, {"year": THIS_MONTH.year, "base_kind": "salary", "base_amount": "-1"})
    assert response.status_code == HTTPStatus.OK
    assert "cannot be negative" in response.content.decode()
    response = client.post(url, {"year": THIS_MONTH.year, "base_kind": "salary", "base_amount": "12000"})
    assert response.status_code == HTTPStatus.FOUND
    assert member.dues_assessments.get(year=THIS_MONTH.year).monthly_amount == Decimal("240.00")


def test_payment_page_refuses_period_already_paid(client, member, secretary, branch):
    client.force_login(secretary)
    url = reverse("members:dues_pay", kwargs={"pk": member.pk})
    month = THIS_MONTH.strftime("%Y-%m")
    data = {
        "period_from": month,
        "period_to": month,
        "amount": "40.00",
        "method": "cash",
        "receipt_number": "A1",
        "paid_on": timezone.localdate().isoformat(),
        "branch": branch.pk,
    }
    assert client.get(url).status_code == HTTPStatus.OK
    assert client.post(url, data).status_code == HTTPStatus.FOUND
    response = client.post(url, {**data, "receipt_number": "A2"})
    assert response.status_code == HTTPStatus.OK
    assert "Already paid" in response.content.decode()
    response = client.post(url, {**data, "amount": "-3", "period_from": "2000-01", "period_to": "2000-01"})
    assert "more than zero" in response.content.decode()
    assert DuesPayment.objects.count() == 1


def test_arrears_page(client, member, secretary):
    client.force_login(secretary)
    response = client.get(reverse("members:dues_arrears"))
    assert response.status_code == HTTPStatus.OK
    assert member.name in response.content.decode()


def test_arrears_page_narrows_to_a_branch_in_scope(client, member, branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    client.force_login(officer)
    url = reverse("members:dues_arrears")

    inside = client.get(url, {"branch": branch_tree["station_a"].pk})
    sibling = client.get(url, {"branch": branch_tree["station_b"].pk})
    outside = client.get(url, {"branch": branch_tree["building"].pk})

    assert member.name in inside.content.decode()
    assert member.name not in sibling.content.decode()
    assert outside.status_code == HTTPStatus.NOT_FOUND
    assert client.get(url, {"branch": "not-a-uuid"}).status_code == HTTPStatus.NOT_FOUND


def test_reduction_request_and_upper_decision(client, member, secretary, branch_tree, role_at):
    client.force_login(secretary)
    url = reverse("members:dues_reduce", kwargs={"pk": member.pk, "year": THIS_MONTH.year})
    assert client.post(url, {"reduced_amount": "5", "reason": "Illness"}).status_code == HTTPStatus.FOUND
    decide = reverse("members:dues_decide", kwargs={"pk": member.pk, "year": THIS_MONTH.year})
    client.post(decide, {"decision": "approve"})
    assert member.dues_assessments.get().reduction_status == "pending"
    client.force_login(role_at(branch_tree["delivery"], Role.OFFICER))
    client.post(decide, {"decision": "approve"})
    assert member.dues_assessments.get().reduction_status == "approved"


def test_yearly_report_page_and_xlsx(client, member, secretary, branch):
    dues_payment_record(
        actor=secretary,
        member=member,
        period_from=THIS_MONTH,
        period_to=THIS_MONTH,
        amount=Decimal("40.00"),
        method="cash",
        receipt_number="R1",
    )
    client.force_login(secretary)
    url = reverse("members:dues_report")
    response = client.get(url, {"branch": branch.pk, "year": THIS_MONTH.year})
    assert response.status_code == HTTPStatus.OK
    assert member.name in response.content.decode()
    response = client.get(url, {"branch": branch.pk, "year": THIS_MONTH.year, "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert (member.name, 1, 40.0) in rows
    assert AuditEntry.objects.filter(action="members.dues.report_exported").exists()


def test_report_of_branch_outside_scope_is_404(client, member, branch_tree, role_at):
    client.force_login(role_at(branch_tree["station_b"], Role.SECRETARY))
    response = client.get(reverse("members:dues_report"), {"branch": branch_tree["station_a"].pk})
    assert response.status_code == 404


#
# Arrears page: bands, keyset pages, scope, queries
#
def _listed(html: str) -> list[str]:
    """Member ids in the arrears table, in page order (names repeat in the factories; ids don't)."""
    table = html.split('id="arrears-table"')[1].split("</table>")[0] if 'id="arrears-table"' in html else ""
    return re.findall(r'href="/members/([0-9a-f-]{36})/dues/"', table)


def _never_paid(branch, n: int) -> list:
    return [MemberFactory(branch=branch, joined_on=datetime.date(2015, 7, 1)) for _ in range(n)]


def test_arrears_page_band_and_minimum_filters(client, member, secretary, branch):
    month = THIS_MONTH - relativedelta(months=1)
    recent = MemberFactory(branch=branch, joined_on=month)  # 1 month unpaid: owing
    client.force_login(secretary)
    url = reverse("members:dues_arrears")

    assert set(_listed(client.get(url).content.decode())) == {str(member.pk), str(recent.pk)}
    assert _listed(client.get(url, {"band": "owing"}).content.decode()) == [str(recent.pk)]
    assert _listed(client.get(url, {"band": "over_limit"}).content.decode()) == [str(member.pk)]
    assert _listed(client.get(url, {"band": "warned"}).content.decode()) == []
    assert _listed(client.get(url, {"minimum": "2"}).content.decode()) == [str(member.pk)]
    assert _listed(client.get(url, {"band": "owing", "minimum": "2"}).content.decode()) == []


def test_arrears_page_rejects_bad_filters_clearly(client, member, secretary):
    client.force_login(secretary)
    url = reverse("members:dues_arrears")
    for params in ({"band": "late"}, {"minimum": "0"}, {"minimum": "25"}, {"minimum": "many"}):
        response = client.get(url, params)
        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        assert 'class="errorlist"' in html, params
        assert _listed(html) == [], params
        assert 'id="arrears-empty"' not in html


def test_arrears_page_walks_every_row_once(client, secretary, branch, monkeypatch):
    members = _never_paid(branch, 7)
    monkeypatch.setattr(ArrearsListView, "per_page", 3)
    client.force_login(secretary)
    url = reverse("members:dues_arrears") + "?band=over_limit"
    seen, pages = [], 0
    while url:
        html = client.get(url).content.decode()
        seen += _listed(html)
        pages += 1
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = reverse("members:dues_arrears") + unescape(found.group(1)) if found else None
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == {str(m.pk) for m in members}


def test_arrears_page_bad_cursor_shows_the_first_page(client, secretary, branch, monkeypatch):
    _never_paid(branch, 3)
    monkeypatch.setattr(ArrearsListView, "per_page", 2)
    client.force_login(secretary)
    response = client.get(reverse("members:dues_arrears"), {"cursor": "not-a-cursor"})
    assert response.status_code == HTTPStatus.OK
    assert len(_listed(response.content.decode())) == 2
    assert 'id="arrears-page-next"' in response.content.decode()


def test_arrears_page_scope(client, member, branch_tree, role_at):
    sibling = _never_paid(branch_tree["station_b"], 1)[0]
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY))
    url = reverse("members:dues_arrears")
    assert _listed(client.get(url).content.decode()) == [str(member.pk)]
    assert str(sibling.pk) not in client.get(url).content.decode()
    assert client.get(url, {"branch": branch_tree["station_b"].pk}).status_code == HTTPStatus.NOT_FOUND
    assert client.get(url, {"branch": branch_tree["delivery"].pk}).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("count", [3, 30])
def test_arrears_page_queries_do_not_grow_with_rows(client, secretary, branch, django_assert_num_queries, count):
    _never_paid(branch, count)
    client.force_login(secretary)
    url = reverse("members:dues_arrears")
    client.get(url, {"branch": branch.pk})  # session and grants warm
    with django_assert_num_queries(ARREARS_PAGE_QUERIES):
        response = client.get(url, {"branch": branch.pk, "band": "over_limit"})
    assert len(_listed(response.content.decode())) == count
