import datetime
import uuid
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from members.filters import MemberFilter
from members.models import Member, Platform
from members.selectors import member_list
from tests.branches.factories import UnitFactory
from tests.members.factories import MemberFactory, make_citizen_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(branch_tree):
    meituan, sf = Platform.objects.get(code="meituan"), Platform.objects.get(code="sf")
    unit = UnitFactory(branch=branch_tree["station_a"])
    return {
        "zhang": MemberFactory(
            branch=branch_tree["station_a"],
            name="张三",
            phone="13812345678",
            citizen_id=make_citizen_id(1),
            occupation="delivery_rider",
            platforms=[meituan, sf],
            unit=unit,
        ),
        "zhao": MemberFactory(
            branch=branch_tree["station_b"],
            name="赵六",
            phone="13900002222",
            citizen_id=make_citizen_id(2),
            occupation="courier",
            platforms=[sf],
            category="probationary",
        ),
        "wang": MemberFactory(
            branch=branch_tree["building"], name="王五", phone="", citizen_id=make_citizen_id(3), status="reserved"
        ),
        "unit": unit,
    }


def _names(data, *, allow_citizen_id=False) -> list[str]:
    filterset = MemberFilter(data, queryset=member_list(actor=None), allow_citizen_id=allow_citizen_id)
    assert filterset.is_valid(), filterset.errors
    return sorted(m.name for m in filterset.qs)


def _errors(data) -> dict:
    filterset = MemberFilter(data, queryset=Member.objects.all())
    assert not filterset.is_valid()
    return filterset.errors


@pytest.fixture(autouse=True)
def _admin_sees_all(monkeypatch):
    """member_list(actor=None) would see nothing; these tests look at the filters, not the scope."""
    monkeypatch.setattr("branches.permissions.scope_paths", lambda user, perm: None)


def test_member_filter_search_by_pinyin_initials_and_full_pinyin(people):
    assert _names({"search": "zs"}) == ["张三"]
    assert _names({"search": "zhangsan"}) == ["张三"]
    assert _names({"search": "Zhang San"}) == ["张三"]
    assert _names({"search": "zh"}) == ["张三", "赵六"]
    assert _names({"search": "张"}) == ["张三"]
    assert _names({"pinyin": "ws"}) == []
    assert _names({"pinyin": "ww"}) == ["王五"]


def test_member_filter_search_by_last_digits(people):
    assert _names({"search": "5678"}) == ["张三"]
    assert _names({"search": "2222"}) == ["赵六"]
    assert _names({"phone_last4": "78"}) == ["张三"]
    tail = make_citizen_id(3)[-4:]
    assert _names({"citizen_id_last4": tail}) == ["王五"]
    assert _names({"search": tail}) == ["王五"]


def test_member_filter_exact_citizen_id_only_from_a_body(people):
    assert _names({"citizen_id": make_citizen_id(2)}, allow_citizen_id=True) == ["赵六"]
    assert _names({"citizen_id": make_citizen_id(99)}, allow_citizen_id=True) == []
    for data in ({"citizen_id": make_citizen_id(2)}, {"search": make_citizen_id(2)}):
        errors = _errors(data)
        assert make_citizen_id(2) not in str(errors)
        assert "URL" in str(errors)


def test_member_filter_branch_subtree(people, branch_tree):
    assert _names({"branch": str(branch_tree["delivery"].pk)}) == ["张三", "赵六"]
    assert _names({"branch": str(branch_tree["building"].pk)}) == ["王五"]
    assert _names({"branch": str(branch_tree["district"].pk)}) == ["张三", "王五", "赵六"]
    assert _names({"branch": str(uuid.uuid4())}) == []
    assert _errors({"branch": "not-a-uuid"}) != {}


def test_member_filter_by_choices_unit_and_platform(people):
    assert _names({"occupation": ["courier", "delivery_rider"]}) == ["张三", "赵六"]
    assert _names({"category": "probationary"}) == ["赵六"]
    assert _names({"status": ["reserved"]}) == ["王五"]
    assert _names({"unit": str(people["unit"].pk)}) == ["张三"]
    assert _names({"platform": "sf"}) == ["张三", "赵六"]
    assert _names({"platform": "meituan,sf"}) == ["张三", "赵六"]  # each member once
    assert _names({"platform": "didi"}) == []
    assert "occupation" in _errors({"occupation": ["astronaut"]})


def test_member_filter_voting_and_updated_since(people):
    assert _names({"voting": "true"}) == ["张三"]
    assert _names({"voting": "false"}) == ["王五", "赵六"]
    Member.objects.filter(pk=people["zhao"].pk).update(updated_at=timezone.now() + datetime.timedelta(hours=1))
    since = (timezone.now() + datetime.timedelta(minutes=30)).isoformat()
    assert _names({"updated_since": since}) == ["赵六"]


#
# Birth-date range (the dashboard's age bands link with it)
#
@pytest.fixture
def births(branch_tree):
    """Members born on the day before, the first day, the last day and the day after 1990-03-01..1990-03-31."""
    days = {
        "before": datetime.date(1990, 2, 28),
        "first": datetime.date(1990, 3, 1),
        "last": datetime.date(1990, 3, 31),
        "after": datetime.date(1990, 4, 1),
    }
    return {
        key: MemberFactory(branch=branch_tree["station_a"], name=key, citizen_id=make_citizen_id(100 + i, birth=day))
        for i, (key, day) in enumerate(days.items())
    }


def test_member_filter_born_range_includes_both_ends(births):
    assert {m.birth_date for m in births.values()} == {
        datetime.date(1990, 2, 28),
        datetime.date(1990, 3, 1),
        datetime.date(1990, 3, 31),
        datetime.date(1990, 4, 1),
    }
    assert _names({"born_from": "1990-03-01", "born_until": "1990-03-31"}) == ["first", "last"]
    assert _names({"born_from": "1990-03-31"}) == ["after", "last"]
    assert _names({"born_until": "1990-03-01"}) == ["before", "first"]
    assert _names({"born_from": "1990-04-02"}) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"born_from": "1990-02-30"}, "born_from"),
        ({"born_until": "last year"}, "born_until"),
        ({"born_from": "1990-13-01", "born_until": "1990-01-01"}, "born_from"),
    ],
)
def test_member_filter_bad_birth_dates_are_errors(params, field):
    assert field in _errors(params)


def test_member_api_bad_birth_date_is_400_naming_the_filter(births, api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["station_a"], "secretary"))
    url = reverse("api:member-list")
    response = api_client.get(url, {"born_from": "1990-02-30"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == ["born_from"]
    ok = api_client.get(url, {"born_from": "1990-03-01", "born_until": "1990-03-31"})
    assert ok.status_code == HTTPStatus.OK
    assert sorted(row["name"] for row in ok.json()["results"]) == ["first", "last"]


def test_member_list_page_bad_birth_date_is_a_form_error(births, client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["station_a"], "secretary"))
    response = client.get(reverse("members:member_list"), {"born_until": "1990-02-30"})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'data-filter="born_until"' in html
    assert "Enter a valid date." in html
    listed = client.get(reverse("members:member_list"), {"born_from": "1990-03-01", "born_until": "1990-03-31"})
    html = listed.content.decode()
    assert str(births["first"].pk) in html
    assert str(births["last"].pk) in html
    assert str(births["before"].pk) not in html
    assert str(births["after"].pk) not in html
    # the page offers the range as date inputs, filled with what was asked
    assert 'type="date" name="born_from" value="1990-03-01"' in html
