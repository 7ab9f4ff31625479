import datetime
import logging
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEntry
from members.models import Member, Platform
from tests.branches.factories import UnitFactory
from tests.members.factories import MemberFactory, make_citizen_id, with_wrong_check_digit

pytestmark = pytest.mark.django_db

LIST = reverse("api:member-list")
LOOKUP = reverse("api:member-lookup")


def detail(member) -> str:
    return reverse("api:member-detail", kwargs={"pk": member.pk})


def _payload(formal_branch, n=0, /, **overrides) -> dict:
    data = {
        "branch": str(formal_branch.pk),
        "name": "张三",
        "citizen_id": make_citizen_id(n, birth=datetime.date(1991, 2, 3)),
        "phone": "13812345678",
        "category": "full",
        "joined_on": "2015-07-01",
        "full_member_on": "2016-07-01",
        "occupation": "delivery_rider",
        "platforms": ["meituan", "eleme"],
    }
    data.update(overrides)
    return data


@pytest.fixture
def secretary(branch_tree, role_at):
    return role_at(branch_tree["station_a"], "secretary")


@pytest.fixture
def client_as(api_client):
    def login(user):
        api_client.force_authenticate(user)
        return api_client

    return login


#
# Reads
#
def test_member_list_scope_sibling_absent_and_detail_404(branch_tree, secretary, client_as):
    mine = MemberFactory(branch=branch_tree["station_a"])
    sibling = MemberFactory(branch=branch_tree["station_b"])
    client = client_as(secretary)
    response = client.get(LIST)
    assert response.status_code == HTTPStatus.OK
    assert [r["id"] for r in response.json()["results"]] == [str(mine.pk)]
    assert client.get(detail(sibling)).status_code == HTTPStatus.NOT_FOUND
    assert client.patch(detail(sibling), {"name": "x"}, format="json").status_code == HTTPStatus.NOT_FOUND
    assert client.delete(detail(sibling)).status_code == HTTPStatus.NOT_FOUND


def test_member_list_branch_filter_is_a_subtree(branch_tree, role_at, client_as):
    officer = role_at(branch_tree["district"], "officer")
    a = MemberFactory(branch=branch_tree["station_a"])
    b = MemberFactory(branch=branch_tree["station_b"])
    MemberFactory(branch=branch_tree["building"])
    response = client_as(officer).get(LIST, {"branch": str(branch_tree["delivery"].pk)})
    assert {r["id"] for r in response.json()["results"]} == {str(a.pk), str(b.pk)}


def _count_list_queries(client, user) -> int:
    client.force_authenticate(type(user).objects.get(pk=user.pk))  # a fresh user: no cached role grants
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST)
    assert response.status_code == HTTPStatus.OK
    return len(ctx.captured_queries)


def test_member_list_query_count_does_not_grow_with_rows(branch_tree, secretary, client_as):
    meituan = Platform.objects.get(code="meituan")
    unit = UnitFactory(branch=branch_tree["station_a"])
    for _ in range(10):
        member = MemberFactory(branch=branch_tree["station_a"], platforms=[meituan], unit=unit)
    client = client_as(secretary)
    few = _count_list_queries(client, secretary)
    for n in range(190):
        MemberFactory(branch=branch_tree["station_a"], citizen_id=make_citizen_id(1000 + n), platforms=[meituan])
    from members.actions import affiliation_add

    affiliation_add(
        actor=None,
        member=member,
        branch=branch_tree["building"],
        kind="building",
        started_on=datetime.date(2024, 1, 1),
    )
    assert Member.objects.count() == 200
    assert _count_list_queries(client, secretary) == few
    # grants, page, platforms, affiliations, one INSERT for the audit of the full views
    assert few == 5


def test_member_list_masks_for_organiser_and_shows_full_to_secretary_with_audit(
    branch_tree, secretary, role_at, client_as
):
    number = make_citizen_id(31)
    member = MemberFactory(branch=branch_tree["station_a"], citizen_id=number, phone="13812345678")
    organiser = role_at(branch_tree["station_a"], "organiser")

    row = client_as(organiser).get(LIST).json()["results"][0]
    assert row["citizen_id"] == number[:6] + "********" + number[-4:]
    assert row["phone"] == "138****5678"
    assert row["sensitive_masked"] is True
    assert not AuditEntry.objects.filter(action="members.member.id_viewed").exists()

    row = client_as(secretary).get(LIST).json()["results"][0]
    assert (row["citizen_id"], row["phone"], row["sensitive_masked"]) == (number, "13812345678", False)
    response = client_as(secretary).get(detail(member))
    assert response.json()["citizen_id"] == number
    views = AuditEntry.objects.filter(action="members.member.id_viewed", object_id=str(member.pk))
    assert views.count() == 2
    assert {v.actor_id for v in views} == {secretary.pk}
    assert number not in str([v.data for v in views])


def test_member_detail_representation(branch_tree, secretary, client_as):
    member = MemberFactory(
        branch=branch_tree["station_a"],
        name="李四",
        category="probationary",
        platforms=[Platform.objects.get(code="sf")],
    )
    response = client_as(secretary).get(detail(member))
    assert response.status_code == HTTPStatus.OK
    assert response["ETag"] == 'W/"1"'
    body = response.json()
    assert body["branch"] == str(branch_tree["station_a"].pk)
    assert (body["name"], body["name_pinyin"], body["name_initials"]) == ("李四", "lisi", "ls")
    assert body["platforms"] == ["sf"]
    assert body["category"] == "probationary"
    assert body["has_voting_rights"] is False
    assert body["affiliations"] == []
    assert "citizen_id_hash" not in body
    assert "citizen_id_cipher" not in body


def test_member_list_refuses_citizen_id_in_url(branch_tree, secretary, client_as):
    number = make_citizen_id(3)
    MemberFactory(branch=branch_tree["station_a"], citizen_id=number)
    client = client_as(secretary)
    for params in ({"search": number}, {"citizen_id": number}):
        response = client.get(LIST, params)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert number not in response.content.decode()


def test_member_lookup_by_full_id_in_body(branch_tree, secretary, role_at, client_as):
    number = make_citizen_id(4)
    member = MemberFactory(branch=branch_tree["station_a"], citizen_id=number)
    MemberFactory(branch=branch_tree["station_b"], citizen_id=make_citizen_id(5))
    response = client_as(secretary).post(LOOKUP, {"citizen_id": number.lower()}, format="json")
    assert response.status_code == HTTPStatus.OK
    assert [r["id"] for r in response.json()["results"]] == [str(member.pk)]
    outside = client_as(secretary).post(LOOKUP, {"citizen_id": make_citizen_id(5)}, format="json")
    assert outside.json() == {"results": []}
    organiser = role_at(branch_tree["station_a"], "organiser")
    masked = client_as(organiser).post(LOOKUP, {"citizen_id": number}, format="json")
    assert masked.status_code == HTTPStatus.OK
    assert masked.json()["results"][0]["sensitive_masked"] is True


def test_member_api_needs_login_and_role(branch_tree, user, client_as, api_client):
    assert api_client.get(LIST).status_code == HTTPStatus.UNAUTHORIZED
    assert client_as(user).get(LIST).status_code == HTTPStatus.FORBIDDEN


#
# Writes
#
def test_member_create_returns_record_with_etag(branch_tree, secretary, client_as):
    response = client_as(secretary).post(LIST, _payload(branch_tree["station_a"]), format="json")
    assert response.status_code == HTTPStatus.CREATED, response.json()
    body = response.json()
    assert response["ETag"] == 'W/"1"'
    assert response["Location"].endswith(detail(Member.objects.get()))
    assert (body["sex"], body["birth_date"]) == ("male", "1991-02-03")
    assert body["platforms"] == ["meituan", "eleme"]
    assert body["citizen_id"] == make_citizen_id(0, birth=datetime.date(1991, 2, 3))


def test_member_create_outside_scope_is_400_on_branch(branch_tree, secretary, client_as):
    response = client_as(secretary).post(LIST, _payload(branch_tree["station_b"]), format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["branch"]


def test_member_create_organiser_is_403(branch_tree, role_at, client_as):
    organiser = role_at(branch_tree["station_a"], "organiser")
    response = client_as(organiser).post(LIST, _payload(branch_tree["station_a"]), format="json")
    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"citizen_id": with_wrong_check_digit(make_citizen_id(0))}, "citizen_id"),
        ({"citizen_id": "11010119901332001" + "0"}, "citizen_id"),
        ({"category": "probationary"}, "full_member_on"),  # probationary with a full-member date
        ({"joined_on": "yesterday"}, "joined_on"),
        ({"joined_on": 20150701}, "joined_on"),
        ({"name": {"first": "x"}}, "name"),
        ({"platforms": "meituan"}, "platforms"),
        ({"platforms": ["nowhere"]}, "platforms"),
        ({"lost_contact": "perhaps"}, "lost_contact"),
        ({"category": "voting"}, "category"),
        ({"branch": "not-a-uuid"}, "branch"),
        ({"phone": "12345"}, "phone"),
        ({"sex": "female"}, "sex"),
        ({"birth_date": "1991-02-04"}, "birth_date"),
    ],
)
def test_member_create_bad_input_is_400_naming_the_field(branch_tree, secretary, client_as, overrides, field):
    payload = _payload(branch_tree["station_a"], **overrides)
    response = client_as(secretary).post(LIST, payload, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"]
    assert not Member.objects.exists()


def test_member_create_impossible_birth_date_in_id(branch_tree, secretary, client_as):
    from stdnum.cn import ric

    body17 = "11010119900230001"  # 30 February
    number = body17 + ric.calc_check_digit(body17 + "0")
    response = client_as(secretary).post(LIST, _payload(branch_tree["station_a"], citizen_id=number), format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "birth date" in response.json()["errors"]["citizen_id"][0]
    assert number not in response.content.decode()


def test_member_bad_or_duplicate_id_never_in_logs_or_errors(branch_tree, secretary, client_as, caplog):
    existing = make_citizen_id(50)
    MemberFactory(branch=branch_tree["station_b"], citizen_id=existing)
    bad = with_wrong_check_digit(make_citizen_id(51))
    client = client_as(secretary)
    with caplog.at_level(logging.DEBUG):
        duplicate = client.post(LIST, _payload(branch_tree["station_a"], citizen_id=existing), format="json")
        wrong = client.post(LIST, _payload(branch_tree["station_a"], citizen_id=bad), format="json")
    assert duplicate.status_code == wrong.status_code == HTTPStatus.BAD_REQUEST
    assert list(duplicate.json()["errors"]) == ["citizen_id"]
    assert "already exists" in duplicate.json()["errors"]["citizen_id"][0]
    assert caplog.records  # the 400s were logged, without the numbers
    for number in (existing, bad):
        assert number not in duplicate.content.decode() + wrong.content.decode()
        assert number not in caplog.text
        assert number[:-1] not in caplog.text
    sensitive = [existing, bad]
    for entry in AuditEntry.objects.all():
        assert not any(n in str((entry.before, entry.after, entry.data)) for n in sensitive)


def test_member_create_keeps_markup_in_name_as_text(branch_tree, secretary, client_as):
    name = '<script>alert("x")</script>'
    response = client_as(secretary).post(LIST, _payload(branch_tree["station_a"], name=name), format="json")
    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["name"] == name
    assert Member.objects.get().name == name


def test_member_patch_with_if_match(branch_tree, secretary, client_as):
    member = MemberFactory(branch=branch_tree["station_a"])
    client = client_as(secretary)
    stale = client.patch(detail(member), {"address": "x"}, format="json", HTTP_IF_MATCH='W/"7"')
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert stale.json()["current"]["version"] == 1
    ok = client.patch(
        detail(member), {"address": "Room 5", "platforms": ["didi"]}, format="json", HTTP_IF_MATCH='W/"1"'
    )
    assert ok.status_code == HTTPStatus.OK, ok.json()
    assert ok["ETag"] == 'W/"2"'
    assert (ok.json()["address"], ok.json()["platforms"]) == ("Room 5", ["didi"])


def test_member_put_requires_the_core_fields(branch_tree, secretary, client_as):
    member = MemberFactory(branch=branch_tree["station_a"])
    client = client_as(secretary)
    response = client.put(detail(member), {"name": "王五"}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert {"branch", "citizen_id", "category", "joined_on"} <= set(response.json()["errors"])
    payload = _payload(branch_tree["station_a"], citizen_id=member.citizen_id, name="王五")
    del payload["full_member_on"]
    response = client.put(detail(member), payload, format="json")
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["name"] == "王五"


def test_member_patch_duplicate_id_is_400(branch_tree, secretary, client_as):
    first = MemberFactory(branch=branch_tree["station_a"])
    second = MemberFactory(branch=branch_tree["station_a"])
    response = client_as(secretary).patch(detail(second), {"citizen_id": first.citizen_id}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["citizen_id"]
    assert first.citizen_id not in response.content.decode()


def test_member_delete_is_soft(branch_tree, secretary, client_as):
    member = MemberFactory(branch=branch_tree["station_a"])
    client = client_as(secretary)
    assert client.delete(detail(member)).status_code == HTTPStatus.NO_CONTENT
    assert client.get(detail(member)).status_code == HTTPStatus.NOT_FOUND
    assert client.get(LIST).json()["results"] == []
    assert Member.all_objects.filter(pk=member.pk).exists()


def test_member_affiliation_actions(branch_tree, secretary, client_as):
    member = MemberFactory(branch=branch_tree["station_a"])
    client = client_as(secretary)
    url = reverse("api:member-add-affiliation", kwargs={"pk": member.pk})
    response = client.post(
        url, {"branch": str(branch_tree["building"].pk), "kind": "building", "started_on": "2024-01-01"}, format="json"
    )
    assert response.status_code == HTTPStatus.OK, response.json()
    (affiliation,) = response.json()["affiliations"]
    assert (affiliation["branch"], affiliation["kind"], affiliation["ended_on"]) == (
        str(branch_tree["building"].pk),
        "building",
        None,
    )
    formal = client.post(
        url,
        {"branch": str(branch_tree["station_a"].pk), "kind": "functional", "started_on": "2024-01-01"},
        format="json",
    )
    assert formal.status_code == HTTPStatus.BAD_REQUEST
    end_url = reverse("api:member-end-affiliation", kwargs={"pk": member.pk})
    ended = client.post(end_url, {"affiliation": affiliation["id"], "ended_on": "2024-05-01"}, format="json")
    assert ended.status_code == HTTPStatus.OK
    assert ended.json()["affiliations"][0]["ended_on"] == "2024-05-01"
    again = client.post(end_url, {"affiliation": affiliation["id"]}, format="json")
    assert again.status_code == HTTPStatus.CONFLICT


def test_member_endpoints_in_schema(secretary, client_as):
    response = client_as(secretary).get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == HTTPStatus.OK
    paths = response.json()["paths"]
    assert "/api/v1/members/" in paths
    assert "/api/v1/members/lookup/" in paths
    assert "412" in paths["/api/v1/members/{id}/"]["patch"]["responses"]
